/**
 * What the evaluation's routers route with: the pilot library and the abstention rule, each
 * given (a pilot library file and its "_abstain") or built from the pilot (training) queries:
 * their base-encoder embeddings and every encoder's nDCG@10 on them.
 */
import { buildAbstainRule, type AbstainRule } from '../router/abstain.js';
import { buildPilotLibrary, pilotsOf, type PilotBuildOptions } from '../router/pilots.js';
import type { PilotLibrary } from '../vectors.js';

/** A dataset's pilot queries as the builders need them. */
export interface PilotQueries {
  name: string;
  pilotIds: readonly string[];
  pilotSource: string | null;
  basePilot: Float32Array | null;
  pilotNdcg: Map<string, Float64Array>;
  basePilotNdcg: Float64Array | null;
}

export function resolveRouting(p: {
  given: PilotLibrary | null;
  givenRule: AbstainRule | null;
  needPilots: boolean;
  buildRule: boolean;
  usable: readonly PilotQueries[];
  routeExperts: readonly string[];
  dim: number;
  pilotBuild: PilotBuildOptions;
  abstainBuild?: { k?: number; minGain?: number };
  log: (line: string) => void;
}): { pilots: PilotLibrary | null; rule: AbstainRule | null } {
  const { usable, dim, log } = p;
  const queryEmbeddings = (s: PilotQueries) => s.pilotIds.map((_, i) => s.basePilot!.slice(i * dim, (i + 1) * dim));
  let pilots: PilotLibrary | null = null;
  if (p.needPilots && p.given) {
    pilots = p.given;
    log(`pilot library: given (${[...p.given].map(([e, l]) => `${e} ${l.length}`).join(', ')})`);
  } else if (p.needPilots) {
    const domains = usable.map((s) => ({ name: s.name, queryEmbeddings: queryEmbeddings(s), scores: s.pilotNdcg }));
    pilots = pilotsOf(buildPilotLibrary(p.routeExperts, domains, p.pilotBuild));
    log(
      `pilot library: built from ${usable.map((s) => `${s.name} (${s.pilotIds.length}, ${s.pilotSource})`).join(', ')}; pilots per expert: ${[...pilots].map(([e, l]) => `${e} ${l.length}`).join(', ')}`,
    );
  }
  let rule = p.givenRule;
  if (p.buildRule) {
    const domains = usable
      .filter((s) => s.basePilotNdcg)
      .map((s) => ({ queryEmbeddings: queryEmbeddings(s), baseScores: s.basePilotNdcg!, scores: s.pilotNdcg }));
    rule = buildAbstainRule(p.routeExperts, domains, p.abstainBuild);
    log(`abstention rule: built from ${rule.scales.length} pilot queries (k ${rule.k}, minGain ${rule.minGain})`);
  } else if (rule) {
    log(`abstention rule: given (${rule.scales.length} training queries, k ${rule.k}, minGain ${rule.minGain})`);
  }
  return { pilots, rule };
}
