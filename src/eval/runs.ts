/**
 * TREC run files of the evaluation rows, so anyone can check a number with trec_eval:
 * `qid Q0 docid rank score tag`, one file per row and dataset. Rows with a real ranking get one
 * (bm25, base, expert:<name>, the routers: the chosen expert's ranking, the hybrid rows: the
 * fused ranking); the oracles pick per query by the qrels and have none.
 */
import type { RankingStore } from './hybrid-rows.js';
import { isHybrid } from './methods.js';
import type { Ranking } from './metrics.js';

/** method -> dataset -> query id -> ranking. */
export type Runs = Map<string, Map<string, Map<string, Ranking>>>;

export function collectRuns(p: {
  methods: readonly string[];
  datasets: readonly { name: string; testIds: readonly string[] }[];
  rankings: RankingStore;
  /** Router decisions (method, dataset, query id -> expert), as in RunEvalOutput.routing. */
  routing: readonly { method: string; dataset: string; query_id: string; expert: string }[];
}): Runs {
  const routed = new Map<string, string>();
  for (const r of p.routing) routed.set(`${r.method}\u0000${r.dataset}\u0000${r.query_id}`, r.expert);
  const runs: Runs = new Map();
  for (const m of p.methods) {
    const byDataset = new Map<string, Map<string, Ranking>>();
    for (const ds of p.datasets) {
      const byQuery = new Map<string, Ranking>();
      for (const qid of ds.testIds) {
        let r: Ranking | undefined;
        // The hybrid rows keep their fused rankings under their own name (./hybrid-rows.ts).
        if (m === 'bm25' || m === 'base' || isHybrid(m)) r = p.rankings.get(ds.name, m, qid);
        else if (m.startsWith('expert:')) r = p.rankings.get(ds.name, m.slice(7), qid);
        else {
          const e = routed.get(`${m}\u0000${ds.name}\u0000${qid}`);
          if (e) r = p.rankings.get(ds.name, e, qid);
        }
        if (r) byQuery.set(qid, r);
      }
      if (byQuery.size > 0) byDataset.set(ds.name, byQuery);
    }
    if (byDataset.size > 0) runs.set(m, byDataset);
  }
  return runs;
}

/** One dataset's run of one row in TREC format, `k` documents per query (the query's own id dropped when asked). */
export function formatTrecRun(run: ReadonlyMap<string, Ranking>, tag: string, k: number, dropQueryId: boolean): string {
  const lines: string[] = [];
  for (const [qid, r] of run) {
    let rank = 0;
    for (let i = 0; i < r.ids.length && rank < k; i++) {
      if (dropQueryId && r.ids[i] === qid) continue;
      rank++;
      lines.push(`${qid} Q0 ${r.ids[i]} ${rank} ${Number(r.scores[i]).toFixed(6)} ${tag}`);
    }
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}
