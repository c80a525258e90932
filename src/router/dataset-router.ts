import { nameRecord } from '../records.js';
import { RouterRetrieverError } from '../boundary/errors.js';
import { sampleIndices } from './random.js';
import type { RouteResult } from './route.js';
import { checkVector, dot64 } from '../vectors.js';

export interface DatasetRouterDomain {
  name: string;
  /** The expert that serves this domain. */
  expert: string;
  /** Base-encoder embeddings of the domain's training queries. */
  queryEmbeddings: readonly Float32Array[];
}

export interface DatasetRouterOptions {
  /** Training queries kept per domain (default 100, as the paper). */
  perDomain?: number;
  /** Seed of the per-domain sample (default 0); domain i uses seed + i. */
  seed?: number;
}

/**
 * The paper's DatasetRouter baseline: keep `perDomain` training queries per domain
 * (a deterministic seeded sample, or all when fewer), and send a query to the
 * expert of the domain of its nearest instance by dot product. Ties go to the
 * first instance (domain order, then sampled order).
 */
export class DatasetRouter {
  readonly instances: { domain: string; expert: string; embedding: Float32Array }[];

  constructor(domains: readonly DatasetRouterDomain[], options: DatasetRouterOptions = {}) {
    const perDomain = options.perDomain ?? 100;
    if (!Number.isInteger(perDomain) || perDomain < 1) {
      throw new RouterRetrieverError('INVALID_INPUT', `perDomain must be a positive integer, got ${perDomain}.`);
    }
    if (domains.length === 0)
      throw new RouterRetrieverError('INVALID_INPUT', 'DatasetRouter needs at least one domain.');
    const dim = domains[0].queryEmbeddings[0]?.length;
    this.instances = [];
    domains.forEach((d, di) => {
      if (d.queryEmbeddings.length === 0)
        throw new RouterRetrieverError('INVALID_INPUT', `Domain "${d.name}" has no training queries.`);
      for (const i of sampleIndices(d.queryEmbeddings.length, perDomain, (options.seed ?? 0) + di)) {
        this.instances.push({
          domain: d.name,
          expert: d.expert,
          embedding: checkVector(d.queryEmbeddings[i], dim, `Query embedding ${i} of domain "${d.name}"`),
        });
      }
    });
  }

  /** The nearest instance's expert; scores = per expert, its best instance similarity. */
  route(query: Float32Array): RouteResult & { domain: string } {
    checkVector(query, this.instances[0].embedding.length, 'The query embedding');
    let best = -1;
    let bestScore = -Infinity;
    const scores = nameRecord<number>();
    this.instances.forEach((inst, i) => {
      const s = dot64(query, inst.embedding);
      if (!(inst.expert in scores) || s > scores[inst.expert]) scores[inst.expert] = s;
      if (best < 0 || s > bestScore) {
        best = i;
        bestScore = s;
      }
    });
    const inst = this.instances[best];
    return { expert: inst.expert, domain: inst.domain, scores };
  }
}
