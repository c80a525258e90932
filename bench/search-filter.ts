/**
 * Filtered dense search at one N, runtime-neutral (bench/search-browser.ts runs it in Chromium):
 * the same 768-d rows as bench/search-core.ts, a numeric field `bucket` uniform in [0, 1000), and
 * filters `bucket < t` for 50 %, 5 % and 0.1 % of the rows beside the unfiltered search. Each
 * query computes the mask (src/filter/mask.ts over the in-memory column) and scans with it; the
 * result is checked against the unfiltered ranking restricted to the matching rows.
 */
import { checkFilter } from '../src/filter/check.js';
import { FieldColumns } from '../src/filter/columns.js';
import { filterMask } from '../src/filter/mask.js';
import { mulberry32 as rng } from '../src/router/random.js';
import { SearchIndex } from '../src/search/index.js';
import { DIM, K, row, type BenchRow } from './search-core.js';

export const SELECTIVITIES = [1, 0.5, 0.05, 0.001];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export async function runFiltered(n: number, runtime: string): Promise<BenchRow[]> {
  const index = new SearchIndex(DIM);
  index.reserve(n);
  const v = new Float32Array(DIM);
  const schema = { bucket: 'number' } as const;
  const cols = new FieldColumns(schema);
  const r = rng(5);
  for (let i = 0; i < n; i++) {
    row(i, v);
    index.setRow(i, `d${i}`, v);
    cols.setRow(i, { bucket: Math.floor(r() * 1000) });
  }
  const qr = rng(99);
  const qs = Array.from({ length: 15 }, () => {
    const q = new Float32Array(DIM);
    row(Math.floor(qr() * n), q);
    for (let j = 0; j < DIM; j++) q[j] += (qr() - 0.5) * 0.5;
    return q;
  });
  const full = qs.map((q) => index.search(q, n));
  const out: BenchRow[] = [];
  let base = NaN;
  for (const sel of SELECTIVITIES) {
    const filter = sel < 1 ? checkFilter({ bucket: { lt: Math.round(sel * 1000) } }, schema)! : undefined;
    const run = (q: Float32Array) => {
      const t = performance.now();
      const mask = filter ? filterMask(filter, cols, index.rows) : undefined;
      const maskMs = performance.now() - t;
      return { hits: index.search(q, K, { mask }), maskMs, mask };
    };
    run(qs[0]);
    const ms: number[] = [];
    const maskMs: number[] = [];
    let exact = true;
    let matched = 0;
    qs.forEach((q, i) => {
      const t = performance.now();
      const res = run(q);
      ms.push(performance.now() - t);
      maskMs.push(res.maskMs);
      const want = full[i].filter((h) => !res.mask || res.mask[Number(h.id.slice(1))] === 1).slice(0, K);
      exact &&= JSON.stringify(want) === JSON.stringify(res.hits);
      matched = res.mask ? res.mask.reduce((a, b) => a + b, 0) : n;
    });
    const m = median(ms);
    if (sel === 1) base = m;
    out.push({
      n,
      dtype: 'float32',
      selectivity: sel,
      matched_rows: matched,
      ms_per_query: m,
      best_ms_per_query: Math.min(...ms),
      mask_ms: median(maskMs),
      vs_unfiltered: m / base,
      exact,
      naive_ms_per_query: NaN,
      floor_ms: NaN,
      recall_at_10: exact ? 1 : 0,
      backend: index.backend,
      runtime,
    });
  }
  return out;
}
