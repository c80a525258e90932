/**
 * The filterable fields of a collection in memory, one typed column per field with rows = store
 * slots (like the vector and BM25 indexes): a kind per row (none, string, number, boolean), the
 * number (booleans as 0/1) and a string's code in the field's dictionary. ./mask.ts reads them.
 */
import type { Doc } from '../doc.js';
import type { FilterScalar } from '../types.js';
import { type FieldSchema, fieldValue } from './fields.js';

export const NONE = 0;
export const STR = 1;
export const NUM = 2;
export const BOOL = 3;

export class FieldColumn {
  kinds = new Uint8Array(0);
  nums = new Float64Array(0);
  codes = new Int32Array(0);
  /** String -> code (append-only: a code stays valid while the column lives). */
  readonly dict = new Map<string, number>();

  grow(rows: number): void {
    if (rows <= this.kinds.length) return;
    const cap = Math.max(rows, this.kinds.length * 2, 64);
    const k = new Uint8Array(cap);
    k.set(this.kinds);
    const n = new Float64Array(cap);
    n.set(this.nums);
    const c = new Int32Array(cap);
    c.set(this.codes);
    this.kinds = k;
    this.nums = n;
    this.codes = c;
  }

  set(row: number, v: FilterScalar | null): void {
    this.grow(row + 1);
    if (typeof v === 'string') {
      let code = this.dict.get(v);
      if (code === undefined) {
        code = this.dict.size;
        this.dict.set(v, code);
      }
      this.kinds[row] = STR;
      this.codes[row] = code;
    } else if (typeof v === 'number') {
      this.kinds[row] = NUM;
      this.nums[row] = v;
    } else if (typeof v === 'boolean') {
      this.kinds[row] = BOOL;
      this.nums[row] = v ? 1 : 0;
    } else this.kinds[row] = NONE;
  }
}

export class FieldColumns {
  readonly columns = new Map<string, FieldColumn>();

  constructor(readonly schema: FieldSchema) {
    for (const f of Object.keys(schema)) this.columns.set(f, new FieldColumn());
  }

  /** Columns from stored values (field -> value per slot, as src/store/fields.ts reads them). */
  static load(schema: FieldSchema, stored: Readonly<Record<string, readonly (FilterScalar | null)[]>>): FieldColumns {
    const c = new FieldColumns(schema);
    for (const [f, col] of c.columns) {
      const values = stored[f] ?? [];
      col.grow(values.length);
      values.forEach((v, row) => col.set(row, v));
    }
    return c;
  }

  /** Sets a row from a document's metadata (values of another type count as none), or clears it. */
  setRow(row: number, metadata: Doc['metadata'] | null): void {
    for (const [f, col] of this.columns) col.set(row, metadata ? fieldValue(metadata, f, this.schema[f]) : null);
  }
}
