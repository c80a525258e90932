/**
 * DatasetRouter for the evaluation: a domain is served by the expert of the same name if there
 * is one, else by its best expert (mean nDCG@10) on the pilot split; 100 seeded training
 * queries per domain (the paper's baseline).
 */
import { DatasetRouter } from '../router/dataset-router.js';

export interface DatasetRouterDomain {
  name: string;
  pilotIds: readonly string[];
  /** Base-encoder pilot query embeddings, row-major. */
  basePilot: Float32Array | null;
  /** expert -> pilot-query nDCG@10. */
  pilotNdcg: ReadonlyMap<string, Float64Array>;
}

export function buildDatasetRouter(
  usable: readonly DatasetRouterDomain[],
  routeExperts: readonly string[],
  dim: number,
  perDomain: number,
  log: (line: string) => void,
): { router: DatasetRouter; experts: Record<string, string> } {
  const experts: Record<string, string> = {};
  for (const s of usable) {
    let e = routeExperts.includes(s.name) ? s.name : null;
    if (!e) {
      let best = -Infinity;
      for (const x of routeExperts) {
        const nd = s.pilotNdcg.get(x)!;
        const mean = nd.reduce((a, b) => a + b, 0) / nd.length;
        if (mean > best) [best, e] = [mean, x];
      }
    }
    experts[s.name] = e!;
  }
  const pairs = Object.entries(experts).map(([d, e]) => `${d}->${e}`);
  log(`dataset-router: domain -> expert ${pairs.join(', ')} (same name, else best on the pilot split)`);
  const router = new DatasetRouter(
    usable.map((s) => ({
      name: s.name,
      expert: experts[s.name],
      queryEmbeddings: s.pilotIds.map((_, i) => s.basePilot!.slice(i * dim, (i + 1) * dim)),
    })),
    { perDomain, seed: 0 },
  );
  return { router, experts };
}
