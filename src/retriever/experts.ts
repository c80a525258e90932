/**
 * The expert registry and the pilot library: which experts exist (stored records), which are
 * loaded in the encoder this session, their pilot embeddings, and the pilot builder's state.
 * Routing only ever sees the pilots of loaded experts (routable()).
 *
 * Only where an adapter came from is stored, and only when it is a URL/path/Hub id string;
 * such experts are re-added on open(). An adapter given as in-memory files must be passed
 * again after a reload; until then its pilots stay stored but routing skips it.
 */
import { RouterRetrieverError } from '../boundary/errors.js';
import type { EncoderApi } from '../boundary/encoder-api.js';
import { docText, validateDocs } from '../doc.js';
import { DenseCorpus } from '../eval/dense.js';
import { scoreQueries } from '../eval/query-scores.js';
import { centroid } from '../router/kmeans.js';
import type { FusionSetting } from '../hybrid/fusion-json.js';
import { buildAbstainRule, withExpertGains, withoutExpert, type AbstainRule } from '../router/abstain.js';
import { checkExpertName, readLibraryFile, writeLibraryFile, type PilotExtras } from '../router/library-file.js';
import { exportPilotLibrary, parsePilotLibrary } from '../router/pilot-json.js';
import {
  addExpert as addToState,
  buildPilotLibrary as buildState,
  pilotsOf,
  removeExpert as removeFromState,
} from '../router/pilots.js';
import type { PilotLibraryState, PilotWeighting } from '../router/pilot-state.js';
import type { ExpertSpec, ModelSpec, OpenOptions, PilotDomain, PilotLibraryJson, PilotSource } from '../types.js';
import { nameRecord } from '../records.js';
import { rowsOf, type PilotLibrary } from '../vectors.js';
import type { RetrieverStore } from './store.js';

export interface BuildPilotOptions {
  /** Centroids per (expert, domain) group (default 1, the paper). */
  k?: number;
  seed?: number;
  /** Ranking depth for the per-query nDCG@10 (default 100). */
  depth?: number;
  /**
   * How an expert's groups count (see src/router/pilot-state.ts): 'gain' (default) = one pilot per
   * expert, its group centroids weighted by the nDCG@10 their queries gain with it over the mean
   * expert; 'none' = the paper (every group centroid is a pilot); 'size' = weighted by group size.
   * Chosen on training queries only: bench/results/routing-selection.md (the paper's pilots route
   * 9-20 % of test queries to their domain's expert, gain-weighted ones 91 %).
   */
  weighting?: PilotWeighting;
  /**
   * The abstention rule built with the library (src/router/abstain.ts): k neighbours and the
   * gain over the base needed to leave it (defaults 50 and 0.02, selected on training queries),
   * or false for none (every query then goes to an expert, as in the paper).
   */
  abstain?: { k?: number; minGain?: number } | false;
}

export interface ExpertsDeps {
  encoder: Pick<EncoderApi, 'addExpert' | 'removeExpert' | 'embedQueries' | 'embedDocuments'>;
  store: Pick<
    RetrieverStore,
    | 'putExpert'
    | 'getExperts'
    | 'deleteExpert'
    | 'putPilots'
    | 'getPilots'
    | 'getPilotState'
    | 'getPilotExtras'
    | 'loadAll'
    | 'meta'
  >;
  dim: number;
  /** Called after every committed change (cross-tab notice). */
  changed: () => void;
}

interface ExpertState {
  /** Registered in the encoder (adapter loaded) in this session. */
  loaded: boolean;
  source?: string;
}

/** A training domain of the last buildPilotLibrary(), kept to score experts added later. */
interface DomainData {
  name: string;
  texts: string[];
  qrels: Map<string, number>[];
  corpus: DenseCorpus;
  depth: number;
  /** The base encoder's per-query nDCG@10 (an added expert's gains are measured against it). */
  baseScores: Float64Array;
}

function isExpertSpec(x: ModelSpec | ExpertSpec): x is ExpertSpec {
  return typeof x === 'object' && x !== null && 'adapter' in x;
}

export class ExpertRegistry {
  private readonly experts = new Map<string, ExpertState>();
  private pilots: PilotLibrary = new Map();
  private state: PilotLibraryState | undefined;
  /** What came with the pilot library ("_fusion", "_abstain"), kept with it. */
  private extras: PilotExtras = {};
  private domains: DomainData[] = [];

  constructor(private readonly deps: ExpertsDeps) {}

  /** Restores experts and pilots from the store, then registers the experts and pilot library given. */
  async restore(options: Pick<OpenOptions, 'experts' | 'pilotLibrary'>): Promise<void> {
    await this.reloadPilots();
    const given = options.experts ?? {};
    for (const rec of await this.deps.store.getExperts()) {
      this.experts.set(rec.name, { loaded: false, source: rec.source });
      if (rec.name in given) continue;
      if (typeof rec.source === 'string') {
        await this.deps.encoder.addExpert(rec.name, rec.source);
        this.experts.get(rec.name)!.loaded = true;
      }
    }
    for (const [name, spec] of Object.entries(given)) {
      await this.add(name, isExpertSpec(spec) ? spec.adapter : spec, isExpertSpec(spec) ? spec.pilots : undefined);
    }
    if (options.pilotLibrary !== undefined) await this.importLibrary(await loadPilotJson(options.pilotLibrary));
  }

  /** Re-reads the pilots (another tab changed them). */
  async reloadPilots(): Promise<void> {
    this.pilots = await this.deps.store.getPilots();
    this.state = await this.deps.store.getPilotState<PilotLibraryState>();
    this.extras = await this.deps.store.getPilotExtras();
  }

  /** The pilot library's fusion setting, if it carried one. */
  fusion(): FusionSetting | undefined {
    return this.extras.fusion;
  }

  /** The pilot library's abstention rule, if it has one. */
  abstainRule(): AbstainRule | undefined {
    return this.extras.abstain;
  }

  isLoaded(name: string): boolean {
    return this.experts.get(name)?.loaded === true;
  }

  loaded(): string[] {
    return [...this.experts].filter(([, s]) => s.loaded).map(([n]) => n);
  }

  names(): string[] {
    return [...this.experts.keys()];
  }

  list(): { name: string; loaded: boolean; source?: string; pilots: number }[] {
    return [...this.experts].map(([name, s]) => ({
      name,
      loaded: s.loaded,
      source: s.source,
      pilots: this.pilots.get(name)?.length ?? 0,
    }));
  }

  /** The pilot library restricted to experts whose adapter is loaded. */
  routable(): PilotLibrary {
    const out: PilotLibrary = new Map();
    for (const [e, list] of this.pilots) if (list.length > 0 && this.isLoaded(e)) out.set(e, list);
    return out;
  }

  /** Why some pilots are not routed to (their expert has no loaded adapter), or null when all are. */
  unroutedWarning(): string | null {
    const names = [...this.pilots.keys()].filter((e) => (this.pilots.get(e)?.length ?? 0) > 0 && !this.isLoaded(e));
    if (names.length === 0) return null;
    return (
      `the pilot library has ${names.map((n) => `"${n}"`).join(', ')} but no adapter is loaded for ${names.length > 1 ? 'them' : 'it'}: ` +
      `queries are not routed there. Pass the adapters as open({ experts: { name: url } }) (the widget: experts="name=url,...").`
    );
  }

  /** Loads the adapter, stores the record and computes the expert's pilots (given, from queries, or scored on this session's domains). */
  async add(name: string, adapter: ModelSpec, source: PilotSource | undefined): Promise<void> {
    checkExpertName(name);
    const { encoder, store, dim } = this.deps;
    if (this.isLoaded(name)) await encoder.removeExpert(name).catch(() => undefined);
    const info = await encoder.addExpert(name, adapter);
    const src = typeof adapter === 'string' ? adapter : undefined;
    await store.putExpert({
      name,
      source: src,
      config: { r: info.r, lora_alpha: info.alpha, target_modules: info.targets },
    });
    this.experts.set(name, { loaded: true, source: src });
    if (source) {
      const next: PilotLibrary = new Map(this.pilots);
      next.set(name, await this.pilotsFrom(name, source));
      // Hand-given pilots: the builder state (if any) no longer describes the library, and the
      // abstention rule has no gains for this expert (it could never choose it): both are dropped.
      await this.save(next, undefined, { fusion: this.extras.fusion });
    } else if (this.state && this.domains.length > 0 && !this.state.experts.includes(name)) {
      const scores = nameRecord<Float64Array>();
      for (const d of this.domains)
        scores[d.name] = scoreQueries(d.corpus, rowsOf(await encoder.embedQueries(d.texts, name), dim), d.qrels, {
          depth: d.depth,
        });
      const { state } = addToState(this.state, name, scores);
      // The rule's rows are the build's domains in order: the new expert's gains extend it.
      const rule = this.extras.abstain;
      const gains = this.domains.flatMap((d) => Array.from(scores[d.name], (s, i) => s - d.baseScores[i]));
      const abstain = rule && gains.length === rule.scales.length ? withExpertGains(rule, name, gains) : undefined;
      await this.save(pilotsOf(state), state, { fusion: this.extras.fusion, abstain });
    }
  }

  private async pilotsFrom(name: string, source: PilotSource): Promise<Float32Array[]> {
    if ('pilotEmbeddings' in source) {
      const list = parsePilotLibrary({ [name]: source.pilotEmbeddings }, { dim: this.deps.dim }).get(name)!;
      if (list.length === 0)
        throw new RouterRetrieverError('INVALID_INPUT', `pilotEmbeddings of expert "${name}" is empty.`);
      return list;
    }
    if ('pilotQueries' in source) {
      const qs = source.pilotQueries;
      if (!Array.isArray(qs) || qs.length === 0 || qs.some((q) => typeof q !== 'string')) {
        throw new RouterRetrieverError(
          'INVALID_INPUT',
          `pilotQueries of expert "${name}" must be a non-empty array of strings.`,
        );
      }
      return [centroid(rowsOf(await this.deps.encoder.embedQueries(qs, null), this.deps.dim))];
    }
    throw new RouterRetrieverError('INVALID_INPUT', 'pilots must be { pilotQueries } or { pilotEmbeddings }.');
  }

  async remove(name: string): Promise<void> {
    const st = this.experts.get(name);
    if (!st && !this.pilots.has(name))
      throw new RouterRetrieverError('NOT_FOUND', `No expert named "${name}".`, { expert: name });
    if (st?.loaded) await this.deps.encoder.removeExpert(name).catch(() => undefined);
    await this.deps.store.deleteExpert(name);
    this.experts.delete(name);
    let state = this.state;
    if (state?.experts.includes(name))
      state = state.experts.length > 1 ? removeFromState(state, name).state : undefined;
    const next: PilotLibrary = new Map(this.pilots);
    next.delete(name);
    const abstain = this.extras.abstain && withoutExpert(this.extras.abstain, name);
    await this.save(next, state, { fusion: this.extras.fusion, abstain });
  }

  /** Stores the library with its extras (default: the current ones). */
  private async save(
    lib: PilotLibrary,
    state: PilotLibraryState | undefined,
    extras: PilotExtras = this.extras,
  ): Promise<void> {
    await this.deps.store.putPilots(lib, state, extras);
    this.pilots = lib;
    this.state = state;
    this.extras = extras;
    this.deps.changed();
  }

  /** Checks a buildPilotLibrary() call before anything runs. */
  checkBuild(domains: PilotDomain[]): void {
    if (!Array.isArray(domains) || domains.length === 0)
      throw new RouterRetrieverError('INVALID_INPUT', 'buildPilotLibrary() needs at least one domain.');
    if (this.loaded().length === 0)
      throw new RouterRetrieverError(
        'INVALID_INPUT',
        'buildPilotLibrary() needs at least one loaded expert (addExpert first).',
      );
  }

  /** The paper's pilot library over the LOADED experts (see RouterRetriever.buildPilotLibrary). */
  async build(domains: PilotDomain[], options: BuildPilotOptions): Promise<PilotLibraryJson> {
    const { encoder, store, dim } = this.deps;
    const experts = this.loaded();
    const depth = options.depth ?? 100;
    const data: DomainData[] = [];
    const inputs = [];
    let collection: DenseCorpus | undefined;
    for (const d of domains) {
      if (typeof d?.name !== 'string' || d.name === '')
        throw new RouterRetrieverError('INVALID_INPUT', 'Every domain needs a name.');
      if (!Array.isArray(d.queries) || d.queries.length === 0)
        throw new RouterRetrieverError('INVALID_INPUT', `Domain "${d.name}" has no training queries.`);
      d.queries.forEach((q, i) => {
        if (typeof q?.text !== 'string' || typeof q.relevant !== 'object' || q.relevant === null) {
          throw new RouterRetrieverError(
            'INVALID_INPUT',
            `Query ${i} of domain "${d.name}" needs { text, relevant: { docId: grade } }.`,
          );
        }
      });
      let corpus: DenseCorpus;
      if (d.corpus) {
        validateDocs(d.corpus);
        corpus = new DenseCorpus(
          d.corpus.map((x) => x.id),
          await encoder.embedDocuments(d.corpus.map(docText)),
          dim,
        );
      } else {
        collection ??= new DenseCorpus(await store.loadAll(), dim);
        corpus = collection;
      }
      const texts = d.queries.map((q) => q.text);
      const qrels = d.queries.map((q) => new Map(Object.entries(q.relevant).filter(([, g]) => g > 0)));
      const base = rowsOf(await encoder.embedQueries(texts, null), dim);
      const scores = nameRecord<Float64Array>();
      for (const e of experts)
        scores[e] = scoreQueries(corpus, rowsOf(await encoder.embedQueries(texts, e), dim), qrels, { depth });
      const baseScores = scoreQueries(corpus, base, qrels, { depth });
      inputs.push({ name: d.name, queryEmbeddings: base, scores, baseScores });
      data.push({ name: d.name, texts, qrels, corpus, depth, baseScores });
    }
    const state = buildState(experts, inputs, {
      k: options.k,
      seed: options.seed,
      weighting: options.weighting ?? 'gain',
    });
    const pilots = pilotsOf(state);
    if (![...pilots.values()].some((list) => list.length > 0)) {
      throw new RouterRetrieverError(
        'INVALID_INPUT',
        `No training query separates the experts (${experts.join(', ')} score the same on every query), so there is no pilot to route by; the library was not changed. Add training queries that some expert answers better, load a second expert, or pass { weighting: 'none' } for the paper's unweighted pilots.`,
      );
    }
    const abstain = options.abstain === false ? undefined : buildAbstainRule(experts, inputs, options.abstain);
    this.domains = data;
    await this.save(pilots, state, { fusion: this.extras.fusion, abstain });
    return this.exportLibrary();
  }

  /** The authors' JSON shape, with "_fusion" and "_abstain" when the library carries them. */
  exportLibrary(): PilotLibraryJson {
    return writeLibraryFile(JSON.parse(exportPilotLibrary(this.pilots)) as PilotLibraryJson, this.extras);
  }

  /** Replaces the library and its extras with the file's "_fusion" and "_abstain" (absent: none). */
  async importLibrary(json: PilotLibraryJson | string): Promise<void> {
    const { pilots, ...extras } = readLibraryFile(json, this.deps.dim);
    await this.save(parsePilotLibrary(pilots, { dim: this.deps.dim }), undefined, extras);
  }
}

/** A pilot library given inline (object or JSON text) or as a URL to fetch. */
export async function loadPilotJson(src: PilotLibraryJson | string): Promise<PilotLibraryJson | string> {
  if (typeof src !== 'string' || src.trimStart().startsWith('{')) return src;
  let res: Response;
  try {
    res = await fetch(src);
  } catch (e) {
    throw new RouterRetrieverError('NETWORK', `Could not fetch the pilot library ${src}: ${(e as Error).message}`);
  }
  if (!res.ok)
    throw new RouterRetrieverError('FILE_NOT_FOUND', `Could not fetch the pilot library ${src}: HTTP ${res.status}.`);
  return res.text();
}
