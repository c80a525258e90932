import { RouterRetrieverError } from '../boundary/errors.js';
import { checkVector } from '../vectors.js';
import { TopK } from './heap.js';
import { QUERY_BIAS, codeSum, quantizeQueryU7, quantizeVector } from './int8.js';
import { dot, dotRowsInt8 } from './kernel.js';
import { maskedRuns, scanAll, scanSliced, validateQuery, type RowScanner, type SliceOptions } from './scan.js';
import type { Hit, VectorChunk, VectorIndex } from './types.js';
import { instantiateDotsU7, wasmSimdSupported, type DotsFn, type U7Variant } from './wasm-kernel.js';
import { WasmRows } from './wasm-memory.js';

export interface Int8IndexSearchOptions extends SliceOptions {
  /** int8 candidates rescored exactly (default max(10*k, 100)). */
  candidates?: number;
  /**
   * The float32 vector of a row, for exact rescoring (e.g. read back from the store).
   * Default: the rows kept with `floatBlock`; without either the int8 scores are returned.
   */
  rescore?: (row: number, id: string) => Float32Array | undefined;
}

export interface Int8IndexOptions {
  /** 'auto' (default): WASM SIMD when supported and dim % 32 == 0; 'wasm' requires it; 'js' forces JS. */
  backend?: 'auto' | 'wasm' | 'js';
  /** The WASM kernel build (default: 'relaxed' where relaxedDotSupported(), else 'plain'); same results. */
  kernel?: U7Variant;
  /**
   * Keep the float32 rows too, `floatBlock` rows per array (the store's chunk size), for the
   * exact rescoring of the int8 candidates: the scan reads 4x fewer bytes, memory use is 1.25x
   * the float32 size. The SDK's int8 mode uses this.
   */
  floatBlock?: number;
}

const BLOCK = 1024;

/**
 * int8 index for large collections: per-vector symmetric codes (see ./int8.ts),
 * 4x less memory than float32. Scan then exact rescoring of the best candidates.
 * WASM SIMD backend (dim % 32 == 0): the query is quantized too, to 7 bits (per-query
 * scale, codes in [-63, 63], see quantizeQueryU7) and stored biased by +64 in [1, 127],
 * the operand range of relaxed SIMD's int8 dot product. The kernel (dots_u7, relaxed
 * or plain build, identical results) returns the exact int32 q_biased . codes, and
 * q . codes = that - 64 * sum(codes) with the row's code sum kept beside its scale.
 * The JS backend uses the float32 query against the codes. Rescoring makes both exact
 * for the final top-k.
 */
export class Int8Index implements VectorIndex {
  readonly dim: number;
  readonly dtype = 'int8' as const;
  readonly backend: 'wasm-simd' | 'js';
  private ids: (string | null)[] = [];
  private scales = new Float32Array(0);
  /** Sum of each row's codes (for the query bias correction). */
  private sums = new Int32Array(0);
  private codes: Int8Array;
  private capacity = 0;
  private wasm?: WasmRows;
  private dotsI8?: DotsFn;
  /** float32 rows for rescoring (with options.floatBlock), `floatBlock` rows per array. */
  private readonly floats: Float32Array[] = [];
  private readonly floatBlock: number;
  private out64 = new Float64Array(BLOCK);
  /** Which dots_u7 build the WASM backend runs ('relaxed' SIMD or 'plain' SIMD); 'js' without WASM. */
  readonly kernel: U7Variant | 'js' = 'js';

  constructor(dim: number, options: Int8IndexOptions = {}) {
    if (!Number.isInteger(dim) || dim < 1)
      throw new RouterRetrieverError('INVALID_INPUT', `dim must be a positive integer, got ${dim}.`);
    this.dim = dim;
    const can = dim % 32 === 0 && wasmSimdSupported();
    if (options.backend === 'wasm' && !can) {
      throw new RouterRetrieverError(
        'BACKEND',
        `The int8 WASM SIMD kernel needs WebAssembly SIMD and dim % 32 == 0 (got ${dim}).`,
      );
    }
    this.backend = options.backend !== 'js' && can ? 'wasm-simd' : 'js';
    this.floatBlock = options.floatBlock ?? 0;
    if (!Number.isInteger(this.floatBlock) || this.floatBlock < 0) {
      throw new RouterRetrieverError(
        'INVALID_INPUT',
        `floatBlock must be a non-negative integer, got ${this.floatBlock}.`,
      );
    }
    if (this.backend === 'wasm-simd') {
      this.wasm = new WasmRows(3 * dim, BLOCK * 4, dim, ''); // query: dim bytes, then the same as int16
      const k = instantiateDotsU7(this.wasm.memory, dim, options.kernel);
      this.dotsI8 = k.fn;
      this.kernel = k.variant;
      this.capacity = this.wasm.capacity;
      this.codes = new Int8Array(this.wasm.memory.buffer, this.wasm.vPtr, this.capacity * dim);
    } else {
      this.codes = new Int8Array(0);
    }
    this.scales = new Float32Array(this.capacity);
    this.sums = new Int32Array(this.capacity);
  }

  /** Quantizes float chunks (rows concatenated in order). */
  static fromChunks(chunks: readonly VectorChunk[], dim?: number, options: Int8IndexOptions = {}): Int8Index {
    const d = dim ?? chunks[0]?.dim;
    if (d === undefined)
      throw new RouterRetrieverError('INVALID_INPUT', 'fromChunks needs a dim when there are no chunks.');
    const index = new Int8Index(d, options);
    index.reserve(chunks.reduce((s, c) => s + c.ids.length, 0));
    for (const c of chunks) {
      for (let r = 0; r < c.ids.length; r++) {
        const row = index.ids.length;
        index.ids.push(c.ids[r] ?? null);
        index.scales[row] = quantizeVector(c.vectors, index.codes, row * d, r * d, d);
        index.sums[row] = codeSum(index.codes, row * d, d);
        if (index.floatBlock > 0) index.keepFloat(row, c.ids[r] ?? null, c.vectors.subarray(r * d, (r + 1) * d));
      }
    }
    return index;
  }

  get rows(): number {
    return this.ids.length;
  }

  reserve(rows: number): void {
    if (rows <= this.capacity) return;
    const dim = this.dim;
    if (this.wasm) {
      this.wasm.reserve(rows);
      this.capacity = this.wasm.capacity;
      this.codes = new Int8Array(this.wasm.memory.buffer, this.wasm.vPtr, this.capacity * dim);
    } else {
      const cap = Math.max(rows, Math.ceil(this.capacity * 1.5));
      const next = new Int8Array(cap * dim);
      next.set(this.codes);
      this.codes = next;
      this.capacity = cap;
    }
    const s = new Float32Array(this.capacity);
    s.set(this.scales.subarray(0, Math.min(this.scales.length, this.capacity)));
    this.scales = s;
    const sums = new Int32Array(this.capacity);
    sums.set(this.sums.subarray(0, Math.min(this.sums.length, this.capacity)));
    this.sums = sums;
  }

  /** Writes (quantizes) row `row`, or frees it with id null. */
  setRow(row: number, id: string | null, vector?: Float32Array): void {
    if (!Number.isInteger(row) || row < 0) throw new RouterRetrieverError('INVALID_INPUT', `Bad row ${row}.`);
    if (id !== null) checkVector(vector, this.dim, `The vector of row ${row}`);
    this.reserve(row + 1);
    while (this.ids.length <= row) this.ids.push(null);
    this.ids[row] = id;
    if (id !== null) {
      this.scales[row] = quantizeVector(vector!, this.codes, row * this.dim, 0, this.dim);
      this.sums[row] = codeSum(this.codes, row * this.dim, this.dim);
    } else {
      this.codes.fill(0, row * this.dim, (row + 1) * this.dim);
      this.scales[row] = 0;
      this.sums[row] = 0;
    }
    if (this.floatBlock > 0) this.keepFloat(row, id, vector);
  }

  private keepFloat(row: number, id: string | null, vector: Float32Array | undefined): void {
    const b = Math.floor(row / this.floatBlock);
    while (this.floats.length <= b) this.floats.push(new Float32Array(this.floatBlock * this.dim));
    const off = (row % this.floatBlock) * this.dim;
    if (id !== null && vector) this.floats[b].set(vector, off);
    else this.floats[b].fill(0, off, off + this.dim);
  }

  private keptFloat = (row: number): Float32Array => {
    const off = (row % this.floatBlock) * this.dim;
    return this.floats[Math.floor(row / this.floatBlock)].subarray(off, off + this.dim);
  };

  /** The driver's view of one search: the (7-bit, in WASM) query into the kernel's buffer, candidates (rows of `mask` only) into `heap`. */
  private scanner(query: Float32Array, heap: TopK, mask?: Uint8Array): RowScanner {
    const dim = this.dim;
    const ids = this.ids;
    let qScale = 1;
    const score = (r0: number, r1: number) => {
      let thr = heap.threshold;
      const w = this.wasm;
      if (w && this.dotsI8) {
        // One pass: exact int32 q . codes -> approximate score -> candidate heap.
        this.dotsI8(w.qPtr, w.vPtr + r0 * dim, dim, r1 - r0, w.outPtr);
        const out = new Int32Array(w.memory.buffer, w.outPtr, r1 - r0);
        const scales = this.scales;
        const sums = this.sums;
        const bias = QUERY_BIAS;
        for (let i = 0; i < out.length; i++) {
          const r = r0 + i;
          const s = (out[i] - bias * sums[r]) * qScale * scales[r];
          if (s < thr || ids[r] === null || (mask !== undefined && mask[r] !== 1)) continue;
          heap.push(s, String(r)); // candidate key = row; rescoring restores ids
          thr = heap.threshold;
        }
        return;
      }
      const out64 = this.out64;
      dotRowsInt8(query, this.codes.subarray(r0 * dim, r1 * dim), dim, 0, r1 - r0, out64);
      for (let i = 0; i < r1 - r0; i++) out64[i] *= this.scales[r0 + i];
      for (let r = r0; r < r1; r++) {
        const s = out64[r - r0];
        if (s < thr) continue;
        if (ids[r] === null || (mask !== undefined && mask[r] !== 1)) continue;
        heap.push(s, String(r));
        thr = heap.threshold;
      }
    };
    return {
      rows: ids.length,
      begin: () => {
        const w = this.wasm;
        if (!w) return;
        const q = new Uint8Array(w.memory.buffer, w.qPtr, dim);
        qScale = quantizeQueryU7(query, q, dim);
        // Only the plain build reads the int16 copy of the query.
        if (this.kernel === 'plain') new Int16Array(w.memory.buffer, w.qPtr + dim, dim).set(q);
      },
      feed: (r0, r1) => maskedRuns(mask, r0, r1, score),
    };
  }

  private finish(query: Float32Array, cands: Hit[], k: number, opts: Int8IndexSearchOptions): Hit[] {
    const out = new TopK(k);
    for (const c of cands) {
      const row = Number(c.id);
      const id = this.ids[row]!;
      let score = c.score;
      const v = opts.rescore ? opts.rescore(row, id) : this.floatBlock > 0 ? this.keptFloat(row) : undefined;
      if (v) {
        if (v.length !== this.dim)
          throw new RouterRetrieverError('INVALID_INPUT', `rescore returned ${v.length} values, expected ${this.dim}.`);
        score = dot(query, v, 0, this.dim);
      }
      out.push(score, id);
    }
    return out.sorted();
  }

  private candidates(k: number, opts: Int8IndexSearchOptions): TopK {
    const n = opts.candidates ?? Math.max(10 * k, 100);
    if (!Number.isInteger(n) || n < k)
      throw new RouterRetrieverError('INVALID_INPUT', `candidates must be an integer >= k (${k}).`);
    return new TopK(n);
  }

  search(query: Float32Array, k: number, opts: Int8IndexSearchOptions = {}): Hit[] {
    validateQuery(query, this.dim, k);
    if (k === 0) return [];
    const heap = this.candidates(k, opts);
    scanAll(this.scanner(query, heap, opts.mask), BLOCK);
    return this.finish(query, heap.sorted(), k, opts);
  }

  /** Same results as search(), in slices of < sliceMs (default 8 ms) with yields between them. */
  async searchAsync(query: Float32Array, k: number, opts: Int8IndexSearchOptions = {}): Promise<Hit[]> {
    validateQuery(query, this.dim, k);
    if (k === 0) return [];
    const heap = this.candidates(k, opts);
    await scanSliced(this.scanner(query, heap, opts.mask), BLOCK, opts);
    return this.finish(query, heap.sorted(), k, opts);
  }
}
