import { RouterRetrieverError } from '../boundary/errors.js';
import { TopK } from './heap.js';
import type { Int8Chunk } from './int8.js';
import { QUERY_BIAS, codeSum, quantizeQueryU7, quantizeVector } from './int8.js';
import { dot, dotRowsInt8 } from './kernel.js';
import { validateQuery, yieldToEventLoop } from './topk.js';
import type { Hit, VectorChunk } from './types.js';
import { instantiateDotsU7, wasmSimdSupported, type DotsFn, type U7Variant } from './wasm-kernel.js';

export interface Int8IndexSearchOptions {
  /** int8 candidates rescored exactly (default max(10*k, 100)). */
  candidates?: number;
  /**
   * The float32 vector of a row, for exact rescoring (e.g. from the float chunks
   * kept in memory or read back from the store). Without it the int8 scores are returned.
   */
  rescore?: (row: number, id: string) => Float32Array | undefined;
  /** Async only. */
  sliceMs?: number;
  signal?: AbortSignal;
}

export interface Int8IndexOptions {
  /** 'auto' (default): WASM SIMD when supported and dim % 32 == 0; 'wasm' requires it; 'js' forces JS. */
  backend?: 'auto' | 'wasm' | 'js';
  /** The WASM kernel build (default: 'relaxed' where relaxedDotSupported(), else 'plain'); same results. */
  kernel?: U7Variant;
}

const BLOCK = 1024;
const PAGE = 65536;

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
export class Int8Index {
  readonly dim: number;
  readonly backend: 'wasm-simd' | 'js';
  private ids: (string | null)[] = [];
  private scales = new Float32Array(0);
  /** Sum of each row's codes (for the query bias correction). */
  private sums = new Int32Array(0);
  private codes: Int8Array;
  private capacity = 0;
  private memory?: WebAssembly.Memory;
  private dotsI8?: DotsFn;
  private qPtr = 0;
  private outPtr = 0;
  private vPtr = 0;
  private out64 = new Float64Array(BLOCK);
  private qf: Float32Array<ArrayBufferLike> = new Float32Array(0);
  private qScale = 1;
  /** Which dots_u7 build the WASM backend runs ('relaxed' SIMD or 'plain' SIMD); 'js' without WASM. */
  readonly kernel: U7Variant | 'js' = 'js';

  constructor(dim: number, options: Int8IndexOptions = {}) {
    if (!Number.isInteger(dim) || dim < 1) throw new RouterRetrieverError('INVALID_INPUT', `dim must be a positive integer, got ${dim}.`);
    this.dim = dim;
    const can = dim % 32 === 0 && wasmSimdSupported();
    if (options.backend === 'wasm' && !can) {
      throw new RouterRetrieverError('BACKEND', `The int8 WASM SIMD kernel needs WebAssembly SIMD and dim % 32 == 0 (got ${dim}).`);
    }
    this.backend = options.backend !== 'js' && can ? 'wasm-simd' : 'js';
    if (this.backend === 'wasm-simd') {
      this.outPtr = Math.ceil((3 * dim) / 16) * 16; // query: dim bytes, then the same as int16
      this.vPtr = this.outPtr + BLOCK * 4;
      this.memory = new WebAssembly.Memory({ initial: Math.ceil(this.vPtr / PAGE) + 1 });
      const k = instantiateDotsU7(this.memory, dim, options.kernel);
      this.dotsI8 = k.fn;
      this.kernel = k.variant;
      this.capacity = Math.floor((this.memory.buffer.byteLength - this.vPtr) / dim);
      this.codes = new Int8Array(this.memory.buffer, this.vPtr, this.capacity * dim);
    } else {
      this.codes = new Int8Array(0);
    }
    this.scales = new Float32Array(this.capacity);
    this.sums = new Int32Array(this.capacity);
  }

  /** Quantizes float chunks (rows concatenated in order). */
  static fromChunks(chunks: readonly VectorChunk[], dim?: number, options: Int8IndexOptions = {}): Int8Index {
    const d = dim ?? chunks[0]?.dim;
    if (d === undefined) throw new RouterRetrieverError('INVALID_INPUT', 'fromChunks needs a dim when there are no chunks.');
    const index = new Int8Index(d, options);
    index.reserve(chunks.reduce((s, c) => s + c.ids.length, 0));
    for (const c of chunks) {
      for (let r = 0; r < c.ids.length; r++) {
        const row = index.ids.length;
        index.ids.push(c.ids[r] ?? null);
        index.scales[row] = quantizeVector(c.vectors, index.codes, row * d, r * d, d);
        index.sums[row] = codeSum(index.codes, row * d, d);
      }
    }
    return index;
  }

  /** Takes already quantized chunks (e.g. from quantizeChunk). */
  static fromInt8Chunks(chunks: readonly Int8Chunk[], options: Int8IndexOptions = {}): Int8Index {
    const d = chunks[0]?.dim;
    if (d === undefined) throw new RouterRetrieverError('INVALID_INPUT', 'fromInt8Chunks needs at least one chunk.');
    const index = new Int8Index(d, options);
    index.reserve(chunks.reduce((s, c) => s + c.ids.length, 0));
    for (const c of chunks) {
      const row = index.ids.length;
      index.codes.set(c.codes.subarray(0, c.ids.length * d), row * d);
      index.scales.set(c.scales.subarray(0, c.ids.length), row);
      for (let r = 0; r < c.ids.length; r++) index.sums[row + r] = codeSum(index.codes, (row + r) * d, d);
      for (const id of c.ids) index.ids.push(id ?? null);
    }
    return index;
  }

  get rows(): number {
    return this.ids.length;
  }

  reserve(rows: number): void {
    if (rows <= this.capacity) return;
    const dim = this.dim;
    const cap = Math.max(rows, Math.ceil(this.capacity * 1.5));
    if (this.memory) {
      const bytes = this.vPtr + cap * dim;
      const pages = Math.ceil(bytes / PAGE) - this.memory.buffer.byteLength / PAGE;
      try {
        if (pages > 0) this.memory.grow(pages);
      } catch {
        throw new RouterRetrieverError('BACKEND', `Cannot grow WebAssembly memory to ${(bytes / 2 ** 30).toFixed(2)} GiB.`, { neededBytes: bytes });
      }
      this.capacity = Math.floor((this.memory.buffer.byteLength - this.vPtr) / dim);
      this.codes = new Int8Array(this.memory.buffer, this.vPtr, this.capacity * dim);
    } else {
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
    if (id !== null && (!(vector instanceof Float32Array) || vector.length !== this.dim)) {
      throw new RouterRetrieverError('INVALID_INPUT', `setRow needs a Float32Array of ${this.dim} values.`);
    }
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
  }

  private begin(query: Float32Array, k: number): void {
    validateQuery(query, [{ dim: this.dim }], k);
    this.qf = query;
    if (this.memory) {
      const q = new Uint8Array(this.memory.buffer, this.qPtr, this.dim);
      this.qScale = quantizeQueryU7(query, q, this.dim);
      // Only the plain build reads the int16 copy of the query.
      if (this.kernel === 'plain') new Int16Array(this.memory.buffer, this.qPtr + this.dim, this.dim).set(q);
    }
  }

  private feed(r0: number, r1: number, heap: TopK): void {
    const dim = this.dim;
    const ids = this.ids;
    let thr = heap.threshold;
    if (this.memory && this.dotsI8) {
      // One pass: exact int32 q . codes -> approximate score -> candidate heap.
      this.dotsI8(this.qPtr, this.vPtr + r0 * dim, dim, r1 - r0, this.outPtr);
      const out = new Int32Array(this.memory.buffer, this.outPtr, r1 - r0);
      const qs = this.qScale;
      const scales = this.scales;
      const sums = this.sums;
      const bias = QUERY_BIAS;
      for (let i = 0; i < out.length; i++) {
        const r = r0 + i;
        const s = (out[i] - bias * sums[r]) * qs * scales[r];
        if (s < thr || ids[r] === null) continue;
        heap.push(s, String(r)); // candidate key = row; rescoring restores ids
        thr = heap.threshold;
      }
      return;
    }
    dotRowsInt8(this.qf, this.codes.subarray(r0 * dim, r1 * dim), dim, 0, r1 - r0, this.out64);
    for (let i = 0; i < r1 - r0; i++) this.out64[i] *= this.scales[r0 + i];
    for (let r = r0; r < r1; r++) {
      const s = this.out64[r - r0];
      if (s < thr) continue;
      if (ids[r] === null) continue;
      heap.push(s, String(r));
      thr = heap.threshold;
    }
  }

  private finish(query: Float32Array, cands: Hit[], k: number, opts: Int8IndexSearchOptions): Hit[] {
    const out = new TopK(k);
    for (const c of cands) {
      const row = Number(c.id);
      const id = this.ids[row]!;
      let score = c.score;
      const v = opts.rescore?.(row, id);
      if (v) {
        if (v.length !== this.dim) throw new RouterRetrieverError('INVALID_INPUT', `rescore returned ${v.length} values, expected ${this.dim}.`);
        score = dot(query, v, 0, this.dim);
      }
      out.push(score, id);
    }
    return out.sorted();
  }

  private candidates(k: number, opts: Int8IndexSearchOptions): TopK {
    const n = opts.candidates ?? Math.max(10 * k, 100);
    if (!Number.isInteger(n) || n < k) throw new RouterRetrieverError('INVALID_INPUT', `candidates must be an integer >= k (${k}).`);
    return new TopK(n);
  }

  search(query: Float32Array, k: number, opts: Int8IndexSearchOptions = {}): Hit[] {
    this.begin(query, k);
    if (k === 0) return [];
    const heap = this.candidates(k, opts);
    for (let r = 0; r < this.ids.length; r += BLOCK) this.feed(r, Math.min(r + BLOCK, this.ids.length), heap);
    return this.finish(query, heap.sorted(), k, opts);
  }

  async searchAsync(query: Float32Array, k: number, opts: Int8IndexSearchOptions = {}): Promise<Hit[]> {
    this.begin(query, k);
    if (k === 0) return [];
    const heap = this.candidates(k, opts);
    const sliceMs = opts.sliceMs ?? 8;
    let t0 = performance.now();
    for (let r = 0; r < this.ids.length; r += BLOCK) {
      if (performance.now() - t0 >= sliceMs) {
        await yieldToEventLoop();
        if (opts.signal?.aborted) throw new RouterRetrieverError('CANCELLED', 'The search was cancelled.');
        this.begin(query, k); // another search may have replaced the shared query buffer meanwhile
        t0 = performance.now();
      }
      this.feed(r, Math.min(r + BLOCK, this.ids.length), heap);
    }
    return this.finish(query, heap.sorted(), k, opts);
  }
}
