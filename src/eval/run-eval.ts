/**
 * The evaluation core: the paper's table on parsed BEIR datasets, with the SDK's own
 * encoder (a {@link DenseBackend} over EncoderEngine or EncoderClient), src/search's
 * exact SearchIndex and src/router's pilot library, routeMean/routeMax and DatasetRouter.
 *
 * Pure and environment-free: tools/eval/cli.ts (Node: files, disk cache) and the browser
 * bench page (bench/pages/eval-bench.ts: fetch, worker encoder) both call
 * {@link runEvaluation}, so they compute the same numbers with the same code.
 *
 * Protocol
 * - Scored queries: the `split` qrels (default test). Where a dataset has no
 *   qrels/train.tsv and pilot queries are needed (hashSplit 'auto': a pilot library or a
 *   DatasetRouter is built, or a fusion weight learned), its test qrels are split by
 *   src/eval/splits.ts and only the "test" half is scored, by every row. With a given pilot
 *   library (and fusion weight) every judged query is scored.
 * - Pilot library and DatasetRouter: built from the `pilotSplit` queries only (default
 *   train; the even hash half where there is no train file). Per training query, each
 *   expert's nDCG@10 retrieving from that domain's corpus (same search and metric as the
 *   table, queries without relevant documents scoring 0) picks the query's best expert;
 *   src/router's buildPilotLibrary groups and averages. A given library (the authors'
 *   JSON, parsePilotLibrary) replaces the built one for router-mean / router-max.
 * - DatasetRouter: 100 seeded training queries per domain; a domain is served by the
 *   expert of the same name if there is one, else by its best expert on the pilot split.
 * - Routers embed a query with the base encoder, route, and score the chosen expert's
 *   retrieval (identical to that expert's own row for the query).
 * - Oracles: over the routing experts (default: all experts), see ./table.ts.
 */
import { RouterRetrieverError } from '../boundary/errors.js';
import type { AbstainRule } from '../router/abstain.js';
import { routeMean, type PilotLibrary } from '../router/route.js';
import type { DatasetRouter } from '../router/dataset-router.js';
import { buildDatasetRouter } from './dataset-router-rows.js';
import { docText, qrelsWithQueries, type BeirDataset } from './beir.js';
import { BM25_PROFILES, Bm25Index } from './bm25.js';
import { DenseCorpus, type DenseBackend } from './dense.js';
import { scoreQueries } from './query-scores.js';
import { evaluateQuery, type QueryMetrics, type Qrels } from './metrics.js';
import { ROUTER_METHODS, isHybrid, isOracle } from './methods.js';
import { computeHybridRows, RankingStore } from './hybrid-rows.js';
import { abstainDecide, computeRouterRows } from './router-rows.js';
import { resolveRouting } from './routing-state.js';
import { collectRuns } from './runs.js';
import { resolveSplit } from './splits.js';
import {
  buildResultJson,
  datasetOracle,
  formatMarkdownTable,
  formatRoutingTable,
  instanceOracle,
  type MethodScores,
  type PerQueryScores,
  type RoutingAccuracy,
} from './table.js';

export type { RoutingRecord, RunEvalConfig, RunEvalHooks, RunEvalOutput } from './eval-config.js';
import type { RoutingRecord, RunEvalConfig, RunEvalHooks, RunEvalOutput } from './eval-config.js';
export { ROUTER_METHODS, ORACLE_METHODS, HYBRID_METHODS, resolveMethodList, type RouterMethod } from './methods.js';

function bad(msg: string): never {
  throw new RouterRetrieverError('INVALID_INPUT', msg);
}

interface DatasetState {
  name: string;
  testIds: string[];
  pilotIds: string[];
  /** Base-encoder embeddings of the test queries, row-major. */
  baseTest: Float32Array | null;
  /** Base-encoder embeddings of the pilot queries, row-major. */
  basePilot: Float32Array | null;
  /** expert -> pilot-query nDCG@10 aligned with pilotIds. */
  pilotNdcg: Map<string, Float64Array>;
  /** The base encoder's pilot-query nDCG@10 (when an abstention rule is built). */
  basePilotNdcg: Float64Array | null;
  pilotSource: string | null;
  testQrels: Qrels;
  pilotQrels: Qrels;
}

const rowOf = (flat: Float32Array, i: number, dim: number) => flat.slice(i * dim, (i + 1) * dim);

export async function runEvaluation(
  datasets: readonly BeirDataset[],
  backend: DenseBackend | null,
  config: RunEvalConfig,
  hooks: RunEvalHooks = {},
): Promise<RunEvalOutput> {
  const log = hooks.log ?? (() => {});
  const methods = [...config.methods];
  const experts = [...config.experts];
  const routeExperts = [...(config.routeExperts ?? experts)];
  for (const e of routeExperts) if (!experts.includes(e)) bad(`routing expert "${e}" is not a registered expert`);
  const split = config.split ?? 'test';
  const pilotSplit = config.pilotSplit ?? 'train';
  const pilotBuild = {
    k: config.pilotK ?? 1,
    uninformative: config.pilotUninformative ?? 'first',
    weighting: config.pilotWeighting ?? 'gain',
  } as const;
  const k = config.k ?? 100;
  const kSearch = k + (config.ignoreIdenticalIds === false ? 0 : 1);
  const bm25Profile = config.bm25Profile ?? 'plain';
  const evalOpts = { ignoreIdenticalIds: config.ignoreIdenticalIds ?? true };
  const denseMethods = methods.filter((m) => m !== 'bm25');
  const routers = ROUTER_METHODS.filter((r) => methods.includes(r));
  const hybrids = methods.filter(isHybrid);
  const fusionMethod = config.fusion?.method ?? 'convex';
  const fixedWeight = config.fusion?.weight ?? null;
  const learnFusion = hybrids.length > 0 && fixedWeight === null;
  // hybrid-router routes as the SDK does: the abstaining router when there is a rule, else router-mean.
  const needPilots =
    routers.some((r) => r === 'router-mean' || r === 'router-max') || hybrids.includes('hybrid-router');
  const rankings = new RankingStore();
  const keepRankings = hybrids.length > 0 || config.keepRuns === true;
  const given = config.pilotLibrary ?? null;
  const givenRule = config.abstain ?? null;
  const buildRule = !givenRule && (routers.includes('router') || (hybrids.includes('hybrid-router') && !given));
  if (denseMethods.length > 0 && !backend)
    throw new RouterRetrieverError('NOT_READY', `methods ${denseMethods.join(', ')} need an encoder`);
  if (given) {
    for (const e of given.keys())
      if (!routeExperts.includes(e))
        bad(`the pilot library has expert "${e}", which is not a routing expert (${routeExperts.join(', ')})`);
    const first = [...given.values()].find((l) => l.length > 0)?.[0];
    if (backend && first && first.length !== backend.dim)
      bad(`the pilot library has ${first.length}-d pilots but the model's embeddings are ${backend.dim}-d`);
  }
  const needPilotQueries = methods.includes('dataset-router') || (needPilots && !given) || learnFusion || buildRule;
  // A dataset without train qrels is halved only when its queries must also build something.
  const hashSplit = config.hashSplit === 'always' || ((config.hashSplit ?? 'auto') === 'auto' && needPilotQueries);
  const needBase = methods.includes('base') || routers.length > 0 || hybrids.length > 0;
  const expertRuns = new Set<string>(methods.filter((m) => m.startsWith('expert:')).map((m) => m.slice(7)));
  if (routers.length > 0 || methods.some(isOracle) || hybrids.includes('hybrid-router'))
    routeExperts.forEach((e) => expertRuns.add(e));
  const encoders: (string | null)[] = [...(needBase ? [null] : []), ...experts.filter((e) => expertRuns.has(e))];

  const names: string[] = [];
  const splits: Record<string, string> = {};
  const pilotSplits: Record<string, string> = {};
  const rows = new Map<string, PerQueryScores>(methods.map((m) => [m, new Map()]));
  const expertScores = new Map<string, PerQueryScores>(routeExperts.map((n) => [n, new Map()]));
  const baseScores: PerQueryScores = new Map();
  const states: DatasetState[] = [];
  const timings: Record<string, number> = {};
  const time = (key: string, ms: number) => (timings[key] = (timings[key] ?? 0) + ms);

  for (const ds of datasets) {
    if (names.includes(ds.name)) bad(`dataset ${ds.name} given twice`);
    names.push(ds.name);
    const s = resolveSplit(ds, split, hashSplit);
    const { qrels, missing } = qrelsWithQueries(s.qrels, ds.queries);
    splits[ds.name] = s.source;
    log(
      `${ds.name}: ${ds.corpus.length} docs, ${qrels.size} ${split} queries from ${s.source}` +
        (missing.length ? ` (${missing.length} qrels queries missing from queries.jsonl, skipped)` : ''),
    );
    const testIds = [...qrels.keys()];
    let pilotQrels: Qrels = new Map();
    let pilotSource: string | null = null;
    if (needPilotQueries) {
      const p = resolveSplit(ds, pilotSplit, true);
      pilotQrels = qrelsWithQueries(p.qrels, ds.queries).qrels;
      pilotSource = p.source;
      pilotSplits[ds.name] = p.source;
      const overlap = [...pilotQrels.keys()].filter((q) => qrels.has(q)).length;
      log(
        `${ds.name}: pilot queries: ${pilotQrels.size} from ${p.source}${p.hashed ? ' (no qrels/train.tsv: deterministic sha1 split, docs/SPLITS.md)' : ''}` +
          (overlap ? ` - WARNING: ${overlap} of them are also scored` : ''),
      );
    }
    const pilotIds = [...pilotQrels.keys()];
    const st: DatasetState = {
      name: ds.name,
      testIds,
      pilotIds,
      baseTest: null,
      basePilot: null,
      pilotNdcg: new Map(),
      basePilotNdcg: null,
      pilotSource,
      testQrels: qrels,
      pilotQrels,
    };

    if (methods.includes('bm25') || keepRankings) {
      const t0 = performance.now();
      const index = Bm25Index.build(ds.corpus, BM25_PROFILES[bm25Profile]);
      const scores = new Map<string, QueryMetrics>();
      for (const qid of testIds) {
        const ranking = index.search(ds.queries.get(qid)!.text, kSearch);
        if (keepRankings) rankings.set(ds.name, 'bm25', qid, ranking);
        const m = evaluateQuery(qid, ranking, qrels.get(qid)!, evalOpts);
        if (m) scores.set(qid, m);
      }
      if (learnFusion)
        for (const qid of pilotIds)
          rankings.set(ds.name, 'bm25', qid, index.search(ds.queries.get(qid)!.text, kSearch));
      if (methods.includes('bm25')) rows.get('bm25')!.set(ds.name, scores);
      const ms = performance.now() - t0;
      time('bm25_ms', ms);
      log(`  bm25 (${bm25Profile}): ${ms.toFixed(0)} ms`);
    }

    if (backend && encoders.length > 0) {
      const ids = ds.corpus.map((d) => d.id);
      const texts = ds.corpus.map(docText);
      let t0 = performance.now();
      const docEmb = hooks.embedCorpus
        ? await hooks.embedCorpus(ds.name, ids, texts, backend)
        : await backend.embedDocuments(texts);
      time('corpus_ms', performance.now() - t0);
      const corpus = new DenseCorpus(ids, docEmb, backend.dim);
      for (const enc of encoders) {
        t0 = performance.now();
        const withPilots = needPilotQueries && (enc === null || routeExperts.includes(enc));
        const qids = withPilots ? [...testIds, ...pilotIds] : testIds;
        const emb = await backend.embedQueries(
          qids.map((q) => ds.queries.get(q)!.text),
          enc,
        );
        const tEmb = performance.now() - t0;
        const scores = new Map<string, QueryMetrics>();
        const wantTest = enc !== null || methods.includes('base') || routers.includes('router') || keepRankings;
        const source = enc ?? 'base';
        if (wantTest) {
          testIds.forEach((qid, i) => {
            const ranking = corpus.search(rowOf(emb, i, backend.dim), kSearch);
            if (keepRankings) rankings.set(ds.name, source, qid, ranking);
            const m = evaluateQuery(qid, ranking, qrels.get(qid)!, evalOpts);
            if (m) scores.set(qid, m);
          });
        }
        if (learnFusion && withPilots) {
          pilotIds.forEach((qid, j) =>
            rankings.set(ds.name, source, qid, corpus.search(rowOf(emb, testIds.length + j, backend.dim), kSearch)),
          );
        }
        const pilotScores = () =>
          scoreQueries(
            corpus,
            pilotIds.map((_, j) => rowOf(emb, testIds.length + j, backend.dim)),
            pilotIds.map((qid) => pilotQrels.get(qid)!),
            { depth: k, queryIds: pilotIds, ...evalOpts },
          );
        if (enc === null) {
          if (methods.includes('base')) rows.get('base')!.set(ds.name, scores);
          baseScores.set(ds.name, scores);
          st.baseTest = emb.slice(0, testIds.length * backend.dim);
          if (withPilots) st.basePilot = emb.slice(testIds.length * backend.dim);
          if (withPilots && buildRule) st.basePilotNdcg = pilotScores();
        } else {
          expertScores.get(enc)?.set(ds.name, scores);
          rows.get(`expert:${enc}`)?.set(ds.name, scores);
          if (withPilots) st.pilotNdcg.set(enc, pilotScores());
        }
        const ms = performance.now() - t0;
        time('queries_ms', ms);
        log(
          `  ${enc === null ? 'base' : `expert:${enc}`}: ${qids.length} queries embedded in ${tEmb.toFixed(0)} ms, searched in ${(ms - tEmb).toFixed(0)} ms`,
        );
      }
    }
    states.push(st);
  }

  // Oracles over the routing experts.
  const inst = instanceOracle(expertScores);
  if (methods.includes('dataset-oracle')) {
    const d = datasetOracle(expertScores);
    rows.set('dataset-oracle', d.perQuery);
    log(`dataset-oracle picks: ${[...d.chosen].map(([ds, e]) => `${ds}->${e}`).join(', ')}`);
  }
  if (methods.includes('instance-oracle')) rows.set('instance-oracle', inst.perQuery);

  // Routers.
  const routing: RoutingRecord[] = [];
  let fusionMeta: Record<string, unknown> | undefined;
  const accuracies: RoutingAccuracy[] = [];
  let pilots: PilotLibrary | null = null;
  let rule: AbstainRule | null = givenRule;
  let datasetRouterMap: Record<string, string> | undefined;
  if ((routers.length > 0 || hybrids.length > 0) && backend) {
    const dim = backend.dim;
    const usable = states.filter((s) => s.pilotIds.length > 0 && s.basePilot);
    if (needPilotQueries) {
      for (const s of states)
        if (s.pilotIds.length === 0) log(`${s.name}: no pilot queries, left out of the pilot library / DatasetRouter`);
      if (usable.length === 0)
        throw new RouterRetrieverError(
          'NOT_FOUND',
          `no dataset has ${pilotSplit} queries for the pilot library / DatasetRouter`,
        );
    }
    ({ pilots, rule } = resolveRouting({
      given,
      givenRule,
      needPilots,
      buildRule,
      usable,
      routeExperts,
      dim,
      pilotBuild,
      abstainBuild: config.abstainBuild,
      log,
    }));
    let dsRouter: DatasetRouter | null = null;
    if (methods.includes('dataset-router')) {
      const built = buildDatasetRouter(usable, routeExperts, dim, config.datasetRouterPerDomain ?? 100, log);
      dsRouter = built.router;
      datasetRouterMap = built.experts;
    }
    const r = computeRouterRows({
      routers,
      states,
      dim,
      pilots,
      dsRouter,
      rule,
      routeExperts,
      scoresOf: (e) => (e === 'base' ? baseScores : expertScores.get(e)),
      oracleBest: inst.best,
    });
    for (const [m, perQuery] of r.rows) rows.set(m, perQuery);
    routing.push(...r.routing);
    accuracies.push(...r.accuracies);
    if (hybrids.length > 0) {
      const decide = rule
        ? abstainDecide(rule, routeExperts)
        : pilots
          ? (q: Float32Array) => routeMean(q, pilots!)
          : null;
      const h = computeHybridRows({
        states,
        route: decide && ((q) => decide(q).expert),
        dim,
        hybrids,
        method: fusionMethod,
        weight: fixedWeight,
        baseWeight: config.fusion?.baseWeight,
        rankings,
        k,
        evalOpts,
        log,
      });
      for (const [m, perQuery] of h.rows) rows.set(m, perQuery);
      fusionMeta = h.meta;
    }
  }

  const methodRows: MethodScores[] = methods.map((m) => ({ method: m, perQuery: rows.get(m)! }));
  const result = buildResultJson(names, methodRows, {
    splits,
    ...(accuracies.length ? { routing_accuracy: accuracies } : {}),
    meta: {
      split,
      pilot_split: needPilotQueries ? pilotSplit : undefined,
      pilot_splits: needPilotQueries ? pilotSplits : undefined,
      pilot_library: routers.some((r) => r !== 'dataset-router') ? (given ? 'given' : 'built') : undefined,
      abstain: rule
        ? { source: givenRule ? 'given' : 'built', k: rule.k, min_gain: rule.minGain, instances: rule.scales.length }
        : undefined,
      pilot_build: routers.some((r) => r !== 'dataset-router') && !given ? pilotBuild : undefined,
      dataset_router_experts: datasetRouterMap,
      bm25_profile: methods.includes('bm25') || hybrids.length > 0 ? bm25Profile : undefined,
      fusion: fusionMeta,
      model_fingerprint: backend?.fingerprint,
      experts,
      route_experts: routeExperts,
      k,
      ignore_identical_ids: evalOpts.ignoreIdenticalIds,
      timings_ms: Object.fromEntries(Object.entries(timings).map(([a, b]) => [a, Math.round(b)])),
      ...config.meta,
    },
  });
  const parts = [
    formatMarkdownTable(result, 'ndcg_at_10'),
    formatMarkdownTable(result, 'recall_at_100'),
    formatMarkdownTable(result, 'mrr_at_10'),
  ];
  const rt = formatRoutingTable(result);
  if (rt) parts.push(rt);
  const runs = config.keepRuns ? collectRuns({ methods, datasets: states, rankings, routing }) : undefined;
  return { result, markdown: parts.join('\n\n'), routing, pilotLibrary: pilots, abstain: rule, runs };
}
