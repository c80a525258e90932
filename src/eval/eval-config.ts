/** The evaluation's configuration, hooks and output (src/eval/run-eval.ts). */
import type { FusionMethod } from '../hybrid/fusion.js';
import type { AbstainRule } from '../router/abstain.js';
import type { PilotWeighting } from '../router/pilots.js';
import type { PilotLibrary } from '../vectors.js';
import type { Bm25Profile } from './bm25.js';
import type { DenseBackend } from './dense.js';
import type { Runs } from './runs.js';
import type { ResultJson } from './table.js';

export interface RunEvalConfig {
  /** Resolved rows (see {@link resolveMethodList}). */
  methods: readonly string[];
  /** Registered experts, in tie-break order. */
  experts: readonly string[];
  /** Experts the routers and oracles choose among (default: all `experts`). */
  routeExperts?: readonly string[];
  /** Scored qrels split (default 'test'). */
  split?: string;
  /** Split the pilot library and DatasetRouter use (default 'train'). */
  pilotSplit?: string;
  /** 'auto' (default): hash-split domains without train qrels when a dense row runs. */
  hashSplit?: 'auto' | 'always' | 'never';
  /** Documents kept per query (default 100; one more is fetched when identical ids are dropped). */
  k?: number;
  /** BM25 configuration (default 'plain', see ./bm25.ts BM25_PROFILES). */
  bm25Profile?: Bm25Profile;
  /** BEIR: drop a retrieved document whose id equals the query id (default true). */
  ignoreIdenticalIds?: boolean;
  /** Use this pilot library for router-mean / router-max instead of building one. */
  pilotLibrary?: PilotLibrary | null;
  /**
   * The abstention rule of the `router` row and of hybrid-router (the given library's
   * "_abstain"). Absent: built from the pilot queries when the pilot library is built too, or
   * when `router` is asked for; a given library without one routes hybrid-router by router-mean.
   */
  abstain?: AbstainRule | null;
  /** k and minGain of a rule built here (defaults: src/router/abstain.ts). */
  abstainBuild?: { k?: number; minGain?: number };
  /** Centroids per (expert, domain) group (default 1, the paper's). */
  pilotK?: number;
  /** Queries on which every expert scores the same: 'first' expert (the paper) or 'skip'. */
  pilotUninformative?: 'first' | 'skip';
  /** How an expert's pilots are weighted (src/router/pilots.ts): 'gain' (default), 'size' or 'none' (the paper). */
  pilotWeighting?: PilotWeighting;
  /**
   * Fusion of the hybrid rows: method (default convex) and lexical weight (hybrid-router; with
   * baseWeight, hybrid-base uses that one, as search() does for a query left on the base);
   * weight null or absent = learned per row on the pilot queries (./hybrid-rows.ts).
   */
  fusion?: { method?: FusionMethod; weight?: number | null; baseWeight?: number };
  /** Keep each row's ranking of every scored query (RunEvalOutput.runs, for TREC run files). */
  keepRuns?: boolean;
  /** DatasetRouter training queries kept per domain (default 100). */
  datasetRouterPerDomain?: number;
  /** Extra fields for the JSON's meta. */
  meta?: Record<string, unknown>;
}

export interface RunEvalHooks {
  log?: (line: string) => void;
  /** Base-encoder corpus embeddings (Node: the on-disk cache). Default: backend.embedDocuments. */
  embedCorpus?: (dataset: string, ids: string[], texts: string[], backend: DenseBackend) => Promise<Float32Array>;
}

export interface RoutingRecord {
  dataset: string;
  query_id: string;
  method: string;
  expert: string;
  scores?: Record<string, number>;
  /** Every routing expert that reaches the best nDCG@10 for this query (InstanceOracle). */
  oracle_best: string[];
  ndcg_at_10: number;
}

export interface RunEvalOutput {
  result: ResultJson;
  markdown: string;
  routing: RoutingRecord[];
  /** The pilot library router-mean / router-max used (built or given), else null. */
  pilotLibrary: PilotLibrary | null;
  /** The abstention rule `router` / hybrid-router used (built or given), else null. */
  abstain: AbstainRule | null;
  /** With keepRuns: method -> dataset -> query id -> ranking (./runs.ts). */
  runs?: Runs;
}
