/**
 * Retrieval metrics with trec_eval semantics (pytrec_eval, as BEIR uses it).
 *
 * What is reproduced, from trec_eval 9.x/10.0 (form_res_rels.c, m_ndcg_cut.c,
 * m_recall.c, m_recip_rank.c):
 *
 * - Ordering. trec_eval ignores the ranks a run gives and re-sorts every query's
 *   results by score DESCENDING, breaking ties by document id DESCENDING in
 *   strcmp (byte) order: `comp_sim_docno` returns strcmp(doc2, doc1). So among
 *   equal scores, "b" ranks above "a" and "10" above "1". {@link compareTrec}
 *   implements this (UTF-8 byte order == Unicode code point order).
 * - nDCG@k (`ndcg_cut.k`). Gain = the qrels relevance value itself (linear, not
 *   2^rel - 1); documents not in the qrels and rel <= 0 give 0. DCG@k = sum over
 *   ranks r = 1..k of gain_r / log2(r + 1). Ideal DCG@k is built from ALL judged
 *   documents of the query with rel > 0 (retrieved or not, even ids that are not
 *   in the corpus), sorted by rel descending, truncated at k. nDCG = DCG / IDCG.
 * - Recall@k (`recall.k`): relevant (rel >= 1) documents in the top k divided by
 *   all relevant judged documents of the query.
 * - MRR@k: 1 / rank of the first relevant (rel >= 1) document within the top k,
 *   else 0 (trec_eval's recip_rank cut at k; BEIR computes it the same way).
 * - BEIR's `ignore_identical_ids` (default on in BEIR, matters for ArguAna): a
 *   retrieved document whose id equals the query id is dropped BEFORE ranking.
 *   Option {@link EvalOptions.ignoreIdenticalIds}, default true.
 *
 * Which queries enter the mean:
 * - Only queries present in the qrels are evaluated (trec_eval and BEIR alike).
 * - A query that has qrels but no relevant (rel > 0) document: trec_eval/pytrec_eval
 *   would score it 0 and count it; the SDK follows the rule and excludes it
 *   by default (`noRelevant: 'exclude'`); `noRelevant: 'zero'` gives the exact
 *   pytrec_eval mean. (No BEIR folder under ../shared/data has such a query, so the
 *   two agree there.)
 * - A judged query with an empty ranking scores 0 on every metric and is counted
 *   (trec_eval's `-c`; BEIR always retrieves something, so this matches BEIR).
 */

/** queryId -> (docId -> relevance). Relevance values are integers as in qrels files. */
export type Qrels = Map<string, Map<string, number>>;

/** One query's retrieved documents. Order is irrelevant: metrics re-sort by trec_eval rules. */
export interface Ranking {
  ids: readonly string[];
  scores: ArrayLike<number>;
}

export interface QueryMetrics {
  ndcg_at_10: number;
  recall_at_100: number;
  mrr_at_10: number;
}

export const METRIC_KEYS = ['ndcg_at_10', 'recall_at_100', 'mrr_at_10'] as const;
export type MetricKey = (typeof METRIC_KEYS)[number];

export interface EvalOptions {
  /** Drop a retrieved document whose id equals the query id (BEIR). Default true. */
  ignoreIdenticalIds?: boolean;
  /** Queries with qrels but no relevant document: excluded (default) or scored 0. */
  noRelevant?: 'exclude' | 'zero';
}

/** Compare two strings in code point order (= strcmp on their UTF-8 bytes). */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (0xD800-0xDFFF) encode code points above 0xFFFF: they sort after
    // every BMP character, though UTF-16 puts them below 0xE000-0xFFFF.
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

/** trec_eval order: score descending, then document id descending (strcmp). */
export function compareTrec(scoreA: number, idA: string, scoreB: number, idB: string): number {
  if (scoreA > scoreB) return -1;
  if (scoreA < scoreB) return 1;
  return compareCodePoints(idB, idA);
}

/** Indices of `ranking` in trec_eval order, optionally without the query's own id. */
export function trecOrder(ranking: Ranking, dropId?: string): number[] {
  const idx: number[] = [];
  for (let i = 0; i < ranking.ids.length; i++) if (ranking.ids[i] !== dropId) idx.push(i);
  const { ids, scores } = ranking;
  idx.sort((a, b) => compareTrec(scores[a], ids[a], scores[b], ids[b]));
  return idx;
}

/** Number of judged documents with rel > 0. */
export function numRelevant(judgments: ReadonlyMap<string, number>): number {
  let n = 0;
  for (const r of judgments.values()) if (r > 0) n++;
  return n;
}

/** DCG of the ideal ranking of all judged relevant documents, cut at k. */
export function idealDcg(judgments: ReadonlyMap<string, number>, k: number): number {
  const gains: number[] = [];
  for (const r of judgments.values()) if (r > 0) gains.push(r);
  gains.sort((a, b) => b - a);
  let idcg = 0;
  for (let i = 0; i < gains.length && i < k; i++) idcg += gains[i] / Math.log2(i + 2);
  return idcg;
}

/** nDCG@k of document ids already in rank order. */
export function ndcgAtK(ranked: readonly string[], judgments: ReadonlyMap<string, number>, k: number): number {
  const idcg = idealDcg(judgments, k);
  if (idcg <= 0) return 0;
  let dcg = 0;
  for (let i = 0; i < ranked.length && i < k; i++) {
    const g = judgments.get(ranked[i]) ?? 0;
    if (g > 0) dcg += g / Math.log2(i + 2);
  }
  return dcg / idcg;
}

/** Recall@k of document ids already in rank order (relevant = rel >= 1). */
export function recallAtK(ranked: readonly string[], judgments: ReadonlyMap<string, number>, k: number): number {
  const nRel = numRelevant(judgments);
  if (nRel === 0) return 0;
  let hit = 0;
  for (let i = 0; i < ranked.length && i < k; i++) if ((judgments.get(ranked[i]) ?? 0) > 0) hit++;
  return hit / nRel;
}

/** Reciprocal rank of the first relevant document within the top k, else 0. */
export function mrrAtK(ranked: readonly string[], judgments: ReadonlyMap<string, number>, k: number): number {
  for (let i = 0; i < ranked.length && i < k; i++) if ((judgments.get(ranked[i]) ?? 0) > 0) return 1 / (i + 1);
  return 0;
}

/**
 * All three metrics of one query. Returns null when the query is excluded (no
 * relevant judged document and `noRelevant` is 'exclude').
 */
export function evaluateQuery(
  queryId: string,
  ranking: Ranking | undefined,
  judgments: ReadonlyMap<string, number>,
  options: EvalOptions = {},
): QueryMetrics | null {
  if (numRelevant(judgments) === 0 && (options.noRelevant ?? 'exclude') === 'exclude') return null;
  if (!ranking) return { ndcg_at_10: 0, recall_at_100: 0, mrr_at_10: 0 };
  const drop = (options.ignoreIdenticalIds ?? true) ? queryId : undefined;
  const order = trecOrder(ranking, drop);
  const ranked = order.slice(0, 100).map((i) => ranking.ids[i]);
  return {
    ndcg_at_10: ndcgAtK(ranked, judgments, 10),
    recall_at_100: recallAtK(ranked, judgments, 100),
    mrr_at_10: mrrAtK(ranked, judgments, 10),
  };
}

export interface RunEvaluation {
  /** Per evaluated query, in qrels order. */
  perQuery: Map<string, QueryMetrics>;
  /** Arithmetic mean over evaluated queries (0 when none). */
  mean: QueryMetrics;
  /** Queries in the qrels that were left out (no relevant document). */
  excluded: string[];
}

/** Evaluate a run (queryId -> ranking) against qrels; every qrels query is considered. */
export function evaluateRun(run: ReadonlyMap<string, Ranking>, qrels: Qrels, options: EvalOptions = {}): RunEvaluation {
  const perQuery = new Map<string, QueryMetrics>();
  const excluded: string[] = [];
  for (const [qid, judgments] of qrels) {
    const m = evaluateQuery(qid, run.get(qid), judgments, options);
    if (m) perQuery.set(qid, m);
    else excluded.push(qid);
  }
  return { perQuery, mean: meanMetrics(perQuery.values()), excluded };
}

/** Mean of per-query metrics. */
export function meanMetrics(values: Iterable<QueryMetrics>): QueryMetrics {
  const sum: QueryMetrics = { ndcg_at_10: 0, recall_at_100: 0, mrr_at_10: 0 };
  let n = 0;
  for (const v of values) {
    for (const k of METRIC_KEYS) sum[k] += v[k];
    n++;
  }
  if (n > 0) for (const k of METRIC_KEYS) sum[k] /= n;
  return sum;
}
