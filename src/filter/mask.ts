/**
 * A checked filter (./check.ts) evaluated over the in-memory columns (./columns.ts): one byte per
 * row, 1 = the row's document matches. Computed once per search and read by the dense scan
 * (src/search/scan.ts) and the BM25 scoring (src/lexical/lexical-index.ts), so both return the
 * exact top k among the matching documents.
 */
import type { FilterNode, FieldTest } from './check.js';
import { BOOL, NUM, STR, type FieldColumn, type FieldColumns } from './columns.js';

function fieldMask(t: FieldTest, col: FieldColumn, rows: number): Uint8Array {
  const out = new Uint8Array(rows);
  const n = Math.min(rows, col.kinds.length);
  const ranged = t.gt !== undefined || t.gte !== undefined || t.lt !== undefined || t.lte !== undefined;
  // Allowed values by kind: string codes as a lookup table, numbers as a set, booleans by 0/1.
  const strOk = new Uint8Array(col.dict.size);
  const boolOk = new Uint8Array(2);
  let numOk: Set<number> | undefined;
  if (t.values) {
    numOk = new Set();
    for (const v of t.values) {
      if (typeof v === 'string') {
        const c = col.dict.get(v);
        if (c !== undefined) strOk[c] = 1;
      } else if (typeof v === 'number') numOk.add(v);
      else boolOk[v ? 1 : 0] = 1;
    }
  } else if (!ranged) {
    strOk.fill(1);
    boolOk.fill(1);
  }
  if (ranged) {
    strOk.fill(0);
    boolOk.fill(0);
  }
  // Stored numbers are finite, so the infinite defaults always hold.
  const gt = t.gt ?? -Infinity;
  const gte = t.gte ?? -Infinity;
  const lt = t.lt ?? Infinity;
  const lte = t.lte ?? Infinity;
  const { kinds, nums, codes } = col;
  for (let r = 0; r < n; r++) {
    const k = kinds[r];
    if (k === STR) out[r] = strOk[codes[r]];
    else if (k === NUM) {
      const v = nums[r];
      const inRange = v > gt && v >= gte && v < lt && v <= lte;
      out[r] = inRange && (numOk === undefined || numOk.has(v)) ? 1 : 0;
    } else if (k === BOOL) out[r] = boolOk[nums[r]];
  }
  return out;
}

function evaluate(node: FilterNode, cols: FieldColumns, rows: number): Uint8Array {
  if (node.op === 'field') return fieldMask(node, cols.columns.get(node.field)!, rows);
  const out = new Uint8Array(rows);
  if (node.op === 'and') {
    out.fill(1);
    for (const c of node.of) {
      const m = evaluate(c, cols, rows);
      for (let r = 0; r < rows; r++) out[r] &= m[r];
    }
  } else {
    for (const c of node.of) {
      const m = evaluate(c, cols, rows);
      for (let r = 0; r < rows; r++) out[r] |= m[r];
    }
  }
  return out;
}

/** The rows [0, rows) whose document matches `filter` (rows without values match no field condition). */
export function filterMask(filter: FilterNode, cols: FieldColumns, rows: number): Uint8Array {
  return evaluate(filter, cols, rows);
}
