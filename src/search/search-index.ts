import { RouterRetrieverError } from '../boundary/errors.js';
import { checkVector } from '../vectors.js';
import { TopK } from './heap.js';
import { dotRows } from './kernel.js';
import { maskedRuns, scanAll, scanSliced, validateQuery, type RowScanner, type SliceOptions } from './scan.js';
import type { Hit, VectorChunk, VectorIndex } from './types.js';
import { instantiateDots, wasmSimdSupported, type DotsFn } from './wasm-kernel.js';
import { WasmRows } from './wasm-memory.js';

export interface SearchIndexOptions {
  /**
   * 'auto' (default): the WASM SIMD kernel when the runtime supports it and dim is a
   * multiple of 16, else the unrolled JS kernel. 'wasm' requires it; 'js' forces JS.
   */
  backend?: 'auto' | 'wasm' | 'js';
}

export type IndexSearchOptions = SliceOptions;

const BLOCK = 1024;

/**
 * An in-memory, searchable copy of a collection's vectors: one contiguous
 * row-major float32 array (row = store slot), with ids (null = free slot).
 * With the WASM SIMD backend the array lives in a WebAssembly.Memory so the
 * kernel reads it in place (≈3x faster than the unrolled JS kernel, ≈6x
 * faster than a naive loop at 768-d; see bench/search.ts). Scores are float32
 * sums there (float64 in JS), so the two backends may differ in the last bits;
 * each is deterministic, and ties are broken by id ascending in both.
 */
export class SearchIndex implements VectorIndex {
  readonly dim: number;
  readonly dtype = 'float32' as const;
  readonly backend: 'wasm-simd' | 'js';
  private ids: (string | null)[] = [];
  private capacity = 0;
  private vecs: Float32Array;
  private wasm?: WasmRows;
  private dots?: DotsFn;
  private out64 = new Float64Array(BLOCK);

  constructor(dim: number, options: SearchIndexOptions = {}) {
    if (!Number.isInteger(dim) || dim < 1)
      throw new RouterRetrieverError('INVALID_INPUT', `dim must be a positive integer, got ${dim}.`);
    this.dim = dim;
    const want = options.backend ?? 'auto';
    const canWasm = dim % 16 === 0 && wasmSimdSupported();
    if (want === 'wasm' && !canWasm) {
      throw new RouterRetrieverError(
        'BACKEND',
        `The WASM SIMD kernel needs WebAssembly SIMD and a dim that is a multiple of 16 (got ${dim}).`,
      );
    }
    this.backend = want !== 'js' && canWasm ? 'wasm-simd' : 'js';
    if (this.backend === 'wasm-simd') {
      this.wasm = new WasmRows(dim * 4, BLOCK * 4, dim * 4, "use int8 search or the 'js' backend");
      this.dots = instantiateDots(this.wasm.memory);
      this.capacity = this.wasm.capacity;
      this.vecs = new Float32Array(this.wasm.memory.buffer, this.wasm.vPtr, this.capacity * dim);
    } else {
      this.vecs = new Float32Array(0);
    }
  }

  /** Builds an index from chunks (e.g. CollectionStore.loadAll()); rows are concatenated in order. */
  static fromChunks(chunks: readonly VectorChunk[], dim?: number, options: SearchIndexOptions = {}): SearchIndex {
    const d = dim ?? chunks[0]?.dim;
    if (d === undefined)
      throw new RouterRetrieverError('INVALID_INPUT', 'fromChunks needs a dim when there are no chunks.');
    const index = new SearchIndex(d, options);
    const total = chunks.reduce((s, c) => s + c.ids.length, 0);
    index.reserve(total);
    let row = 0;
    for (const c of chunks) {
      if (c.dim !== d) throw new RouterRetrieverError('INVALID_INPUT', `A chunk has dim ${c.dim}, expected ${d}.`);
      index.vecs.set(c.vectors.subarray(0, c.ids.length * d), row * d);
      for (const id of c.ids) index.ids.push(id ?? null);
      row += c.ids.length;
    }
    return index;
  }

  /** Number of rows (slots), including free ones. */
  get rows(): number {
    return this.ids.length;
  }

  /** Number of live vectors. */
  get size(): number {
    let n = 0;
    for (const id of this.ids) if (id !== null) n++;
    return n;
  }

  /** Makes room for `rows` rows. */
  reserve(rows: number): void {
    if (rows <= this.capacity) return;
    const dim = this.dim;
    if (this.wasm) {
      this.wasm.reserve(rows);
      this.capacity = this.wasm.capacity;
      this.vecs = new Float32Array(this.wasm.memory.buffer, this.wasm.vPtr, this.capacity * dim);
    } else {
      const cap = Math.max(rows, Math.ceil(this.capacity * 1.5));
      const next = new Float32Array(cap * dim);
      next.set(this.vecs);
      this.vecs = next;
      this.capacity = cap;
    }
  }

  /** Writes row `row` (a store slot): a vector and its id, or id null to free it. */
  setRow(row: number, id: string | null, vector?: Float32Array): void {
    if (!Number.isInteger(row) || row < 0) throw new RouterRetrieverError('INVALID_INPUT', `Bad row ${row}.`);
    if (id !== null) checkVector(vector, this.dim, `The vector of row ${row}`);
    this.reserve(row + 1);
    while (this.ids.length <= row) this.ids.push(null);
    this.ids[row] = id;
    if (vector && id !== null) this.vecs.set(vector, row * this.dim);
    else this.vecs.fill(0, row * this.dim, (row + 1) * this.dim);
  }

  /** The driver's view of one search: the query goes into the kernel's buffer, scores into `heap` (rows of `mask` only). */
  private scanner(query: Float32Array, heap: TopK, mask?: Uint8Array): RowScanner {
    const dim = this.dim;
    const ids = this.ids;
    const out64 = this.out64;
    const score = (r0: number, r1: number) => {
      if (this.dots && this.wasm) {
        const w = this.wasm;
        this.dots(w.qPtr, w.vPtr + r0 * dim * 4, dim, r1 - r0, w.outPtr);
        const out = new Float32Array(w.memory.buffer, w.outPtr, r1 - r0);
        for (let i = 0; i < out.length; i++) out64[i] = out[i];
      } else {
        dotRows(query, this.vecs.subarray(r0 * dim, r1 * dim), dim, 0, r1 - r0, out64);
      }
      let thr = heap.threshold;
      for (let r = r0; r < r1; r++) {
        const s = out64[r - r0];
        if (s < thr) continue;
        const id = ids[r];
        if (id === null || (mask !== undefined && mask[r] !== 1)) continue;
        heap.push(s, id);
        thr = heap.threshold;
      }
    };
    return {
      rows: ids.length,
      begin: () => {
        if (this.wasm) new Float32Array(this.wasm.memory.buffer, this.wasm.qPtr, dim).set(query);
      },
      feed: (r0, r1) => maskedRuns(mask, r0, r1, score),
    };
  }

  /** Exact top-k by dot product (synchronous), among the rows of options.mask if given. Ties by id ascending. */
  search(query: Float32Array, k: number, options: { mask?: Uint8Array } = {}): Hit[] {
    validateQuery(query, this.dim, k);
    if (k === 0) return [];
    const heap = new TopK(k);
    scanAll(this.scanner(query, heap, options.mask), BLOCK);
    return heap.sorted();
  }

  /** Same results as search(), in slices of < sliceMs (default 8 ms) with yields between them. */
  async searchAsync(query: Float32Array, k: number, options: IndexSearchOptions = {}): Promise<Hit[]> {
    validateQuery(query, this.dim, k);
    if (k === 0) return [];
    const heap = new TopK(k);
    await scanSliced(this.scanner(query, heap, options.mask), BLOCK, options);
    return heap.sorted();
  }
}
