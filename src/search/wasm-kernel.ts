/**
 * Tiny hand-assembled WebAssembly SIMD modules (built below from readable opcodes,
 * no toolchain):
 *
 *   dots(qPtr, vPtr, dim, rows, outPtr)                      (the base module)
 *     for r in [0, rows): out[r] = sum_j q[j] * v[r*dim + j]     (float32)
 *     Four f32x4 accumulators (16 floats per iteration), so dim must be a multiple
 *     of 16 (768 is). Accumulation is float32 (the JS kernel uses float64), so
 *     scores can differ from the JS path in the last bits.
 *
 *   dots_u7(qPtr, vPtr, dim, rows, outPtr)                   (one module per dim)
 *     for r in [0, rows): out[r] = sum_j q[j] * v[r*dim + j]     (int32, exact)
 *     q: `dim` bytes in [0, 127] (a 7-bit query, see int8-index.ts) followed by the
 *     same values as int16 (2 * dim bytes, read by the plain build), v: int8 codes,
 *     dim % 32 == 0. Two builds with the SAME exact integer results:
 *       - relaxed: i32x4.relaxed_dot_i8x16_i7x16_add_s (one instruction per 16
 *         bytes; VPDPBUSD / PMADDUBSW on x64, SDOT on arm64). Its result is only
 *         implementation-defined when a lane of the i7 operand has its top bit
 *         set, which a query in [0, 127] never has; the pairwise i16 sums can not
 *         saturate either (2 * 128 * 127 < 32768).
 *       - plain (fixed-width SIMD only): i16x8.extend_{low,high}_i8x16_s of the codes
 *         and i32x4.dot_i16x8_s with the pre-extended int16 query.
 *     The relaxed build is used where the runtime validates it (feature detection),
 *     else the plain one.
 *
 * All pointers are byte offsets into the imported memory `env.mem`, 16-byte aligned.
 */

const uleb = (n: number): number[] => {
  const o: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    o.push(b);
  } while (n);
  return o;
};
const sleb = (n: number): number[] => {
  const o: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) {
      o.push(b);
      return o;
    }
    o.push(b | 0x80);
  }
};
const name = (s: string): number[] => [...uleb(s.length), ...[...s].map((c) => c.charCodeAt(0))];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];

// opcodes
const localGet = (i: number) => [0x20, ...uleb(i)];
const localSet = (i: number) => [0x21, ...uleb(i)];
const localTee = (i: number) => [0x22, ...uleb(i)];
const i32Const = (n: number) => [0x41, ...sleb(n)];
const I32_ADD = [0x6a];
const I32_LT_U = [0x49];
const I32_SHL = [0x74];
const I32_GE_U = [0x4f];
const F32_ADD = [0x92];
const BLOCK = [0x02, 0x40];
const LOOP = [0x03, 0x40];
const END = [0x0b];
const brIf = (d: number) => [0x0d, d];
const br = (d: number) => [0x0c, d];
const simd = (op: number) => [0xfd, ...uleb(op)];
const v128Load = (offset: number) => [...simd(0x00), 4, ...uleb(offset)]; // align 2^4
const V128_ZERO = [...simd(0x0c), ...new Array<number>(16).fill(0)];
const F32X4_ADD = simd(0xe4);
const F32X4_MUL = simd(0xe6);
const lane = (l: number) => [...simd(0x1f), l]; // f32x4.extract_lane
const f32Store = [0x38, 2, 0]; // align 2^2, offset 0

const I32X4_ADD = simd(0xae);
const i32Lane = (l: number) => [...simd(0x1b), l]; // i32x4.extract_lane

/** dots(q, v, dim, rows, out): float32, 4 x f32x4 accumulators, dim % 16 == 0. */
function dotsF32Body(): number[] {
  // params: 0 q, 1 v, 2 dim, 3 rows, 4 out; locals: 5 r, 6 j, 7 vrow, 8 nbytes (i32); 9..12 acc (v128)
  const [Q, V, DIM, ROWS, OUT, R, J, VROW, NB, A] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const b: number[] = [];
  const emit = (...xs: number[][]) => xs.forEach((x) => b.push(...x));
  emit(localGet(DIM), i32Const(2), I32_SHL, localSet(NB), localGet(V), localSet(VROW), i32Const(0), localSet(R));
  emit(BLOCK, LOOP, localGet(R), localGet(ROWS), I32_GE_U, brIf(1));
  for (let a = 0; a < 4; a++) emit(V128_ZERO, localSet(A + a));
  emit(i32Const(0), localSet(J));
  emit(BLOCK, LOOP, localGet(J), localGet(NB), I32_GE_U, brIf(1));
  for (let a = 0; a < 4; a++) {
    emit(localGet(A + a));
    emit(localGet(Q), localGet(J), I32_ADD, v128Load(16 * a));
    emit(localGet(VROW), localGet(J), I32_ADD, v128Load(16 * a));
    emit(F32X4_MUL, F32X4_ADD, localSet(A + a));
  }
  emit(localGet(J), i32Const(64), I32_ADD, localSet(J), br(0), END, END);
  // out[r] = horizontal sum of the 4 accumulators
  emit(localGet(OUT), localGet(R), i32Const(2), I32_SHL, I32_ADD);
  emit(localGet(A), localGet(A + 1), F32X4_ADD, localGet(A + 2), localGet(A + 3), F32X4_ADD, F32X4_ADD, localTee(A));
  emit(lane(0), localGet(A), lane(1), F32_ADD, localGet(A), lane(2), F32_ADD, localGet(A), lane(3), F32_ADD, f32Store);
  emit(
    localGet(VROW),
    localGet(NB),
    I32_ADD,
    localSet(VROW),
    localGet(R),
    i32Const(1),
    I32_ADD,
    localSet(R),
    br(0),
    END,
    END,
  );
  emit(END);
  return [2, 4, 0x7f, 4, 0x7b, ...b]; // local decls: 4 x i32, 4 x v128
}

const I32X4_RELAXED_DOT_I8X16_I7X16_ADD_S = simd(0x113);

const I16X8_EXT_LO_S = simd(0x87); // i16x8.extend_low_i8x16_s
const I16X8_EXT_HI_S = simd(0x88); // i16x8.extend_high_i8x16_s
const I32X4_DOT_I16X8_S = simd(0xba);

/**
 * dots_u7 code shape: `unroll` 16-byte steps per loop iteration, each with its own i32x4
 * accumulator (independent dependency chains); `full` unrolls the whole dim (no inner loop,
 * static offsets). One row at a time: several rows per pass share query loads and measured
 * faster with the rows in cache, but slower on a 768 MB scan (interleaved streams defeat
 * the hardware prefetcher; see bench/search-browser.ts).
 */
export interface U7Shape {
  unroll: number;
  full: boolean;
}
/** The default shape for `dim`: the whole dim unrolled up to 2,048 bytes, else 4 (or 2) steps per iteration. */
export function u7Shape(dim: number): U7Shape {
  return { unroll: dim % 64 === 0 ? 4 : 2, full: dim <= 2048 };
}

/**
 * dots_u7 for one dim. The plain build reads the query as int16 (2 * dim bytes right after
 * the dim query bytes, written by the caller): per 16 code bytes one load, extend low and
 * high to i16, two i32x4.dot_i16x8_s with the pre-extended query.
 */
function dotsU7Body(dim: number, relaxed: boolean, shape: U7Shape): number[] {
  const U = shape.unroll;
  const STEP = 16 * U;
  // params: 0 q, 1 v, 2 dim (unused: baked in), 3 rows, 4 out
  // i32 locals: 5 r, 6 p (row pointer + j), 7 q16 (int16 query), 8 j; v128 locals: 9.. acc (U), then t
  const [Q, V, ROWS, OUT, R, P, Q16, J, ACC] = [0, 1, 3, 4, 5, 6, 7, 8, 9];
  const T = ACC + U;
  const b: number[] = [];
  const emit = (...xs: number[][]) => xs.forEach((x) => b.push(...x));
  /** acc[a] += q . the 16 row bytes at p + off (query bytes at qBase + off, or int16 at q16Base + 2 off). */
  const accumulate = (a: number, off: number, qBase: number, q16Base: number) => {
    if (relaxed) {
      emit(
        localGet(P),
        v128Load(off),
        localGet(qBase),
        v128Load(off),
        localGet(ACC + a),
        I32X4_RELAXED_DOT_I8X16_I7X16_ADD_S,
        localSet(ACC + a),
      );
    } else {
      emit(localGet(ACC + a));
      emit(
        localGet(P),
        v128Load(off),
        localTee(T),
        I16X8_EXT_LO_S,
        localGet(q16Base),
        v128Load(2 * off),
        I32X4_DOT_I16X8_S,
      );
      emit(localGet(T), I16X8_EXT_HI_S, localGet(q16Base), v128Load(2 * off + 16), I32X4_DOT_I16X8_S, I32X4_ADD);
      emit(I32X4_ADD, localSet(ACC + a));
    }
  };
  emit(localGet(Q), i32Const(dim), I32_ADD, localSet(Q16), localGet(V), localSet(P), i32Const(0), localSet(R));
  emit(BLOCK, LOOP, localGet(R), localGet(ROWS), I32_GE_U, brIf(1));
  for (let a = 0; a < U; a++) emit(V128_ZERO, localSet(ACC + a));
  if (shape.full) {
    for (let s = 0; s < dim / 16; s++) accumulate(s % U, 16 * s, Q, Q16);
    emit(localGet(P), i32Const(dim), I32_ADD, localSet(P));
  } else {
    // j walks the query; p the row; the int16 query pointer is q16 + 2 (j - q) = j + (j - q) + dim
    emit(localGet(Q), localSet(J), LOOP);
    if (!relaxed) emit(localGet(J), localGet(J), localGet(Q), [0x6b], I32_ADD, i32Const(dim), I32_ADD, localSet(Q16)); // i32.sub
    for (let u = 0; u < U; u++) accumulate(u, 16 * u, J, Q16);
    emit(localGet(P), i32Const(STEP), I32_ADD, localSet(P));
    emit(
      localGet(J),
      i32Const(STEP),
      I32_ADD,
      localTee(J),
      localGet(Q),
      i32Const(dim),
      I32_ADD,
      I32_LT_U,
      brIf(0),
      END,
    );
  }
  // out[r] = horizontal sum of the accumulators
  emit(localGet(OUT), localGet(R), i32Const(2), I32_SHL, I32_ADD, localGet(ACC));
  for (let u = 1; u < U; u++) emit(localGet(ACC + u), I32X4_ADD);
  emit(
    localTee(T),
    i32Lane(0),
    localGet(T),
    i32Lane(1),
    I32_ADD,
    localGet(T),
    i32Lane(2),
    I32_ADD,
    localGet(T),
    i32Lane(3),
    I32_ADD,
  );
  emit([0x36, 2, 0]); // i32.store align 2^2
  emit(localGet(R), i32Const(1), I32_ADD, localSet(R), br(0), END, END);
  emit(END);
  return [2, 4, 0x7f, ...uleb(U + 1), 0x7b, ...b]; // 4 x i32 (r, p, q16, j); v128: accumulators, t
}

const TYPE_SECTION = section(1, [1, 0x60, 5, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0]);
const IMPORT_SECTION = section(2, [1, ...name('env'), ...name('mem'), 0x02, 0x00, 1]);
const HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

/** A module importing env.mem and exporting one function `exported` of the shared type. */
function moduleOf(exported: string, body: number[]): Uint8Array<ArrayBuffer> {
  return new Uint8Array([
    ...HEADER,
    ...TYPE_SECTION,
    ...IMPORT_SECTION,
    ...section(3, [1, 0]),
    ...section(7, [1, ...name(exported), 0x00, 0]),
    ...section(10, [1, ...uleb(body.length), ...body]),
  ]);
}

/** The dots_u7 module for `dim` (a multiple of 32); `relaxed` picks the relaxed-SIMD build. */
export function buildU7Module(dim: number, relaxed: boolean, shape: U7Shape = u7Shape(dim)): Uint8Array<ArrayBuffer> {
  if (!Number.isInteger(dim) || dim < 32 || dim % 32 !== 0)
    throw new RangeError(`dots_u7 needs dim % 32 == 0, got ${dim}`);
  if (!shape.full && dim % (16 * shape.unroll) !== 0)
    throw new RangeError(`dots_u7 with ${shape.unroll} steps per iteration needs dim % ${16 * shape.unroll} == 0`);
  return moduleOf('dots_u7', dotsU7Body(dim, relaxed, shape));
}

export const DOTS_WASM: Uint8Array<ArrayBuffer> = moduleOf('dots', dotsF32Body());

let supported: boolean | undefined;
let compiled: WebAssembly.Module | undefined;

/** True when this runtime has WebAssembly with fixed-width SIMD. */
export function wasmSimdSupported(): boolean {
  if (supported === undefined) {
    try {
      supported = typeof WebAssembly === 'object' && WebAssembly.validate(DOTS_WASM);
    } catch {
      supported = false;
    }
  }
  return supported;
}

export type DotsFn = (qPtr: number, vPtr: number, dim: number, rows: number, outPtr: number) => void;

/** Instantiates the float32 kernel on `memory` (synchronous: the module is tiny). */
export function instantiateDots(memory: WebAssembly.Memory): DotsFn {
  compiled ??= new WebAssembly.Module(DOTS_WASM);
  const inst = new WebAssembly.Instance(compiled, { env: { mem: memory } });
  return inst.exports.dots as unknown as DotsFn;
}

let relaxedOk: boolean | undefined;
const relaxedExact = new Map<number, boolean>();

/**
 * True when this runtime validates relaxed SIMD's i32x4.relaxed_dot_i8x16_i7x16_add_s AND
 * the relaxed dots_u7 build returns the exact dot products of a probe (the extremes of both
 * operand ranges and a mixed row). The probe guards the "identical results" promise:
 * Node 20's V8 11.3 validates the opcode behind --experimental-wasm-relaxed-simd but returns
 * wrong sums for some code shapes; such a runtime gets the plain build. instantiateDotsU7
 * probes the module of each dim again before using it.
 */
export function relaxedDotSupported(): boolean {
  if (relaxedOk === undefined) {
    try {
      relaxedOk = wasmSimdSupported() && WebAssembly.validate(buildU7Module(32, true)) && relaxedExactFor(32);
    } catch {
      relaxedOk = false;
    }
  }
  return relaxedOk;
}

function relaxedExactFor(dim: number): boolean {
  let ok = relaxedExact.get(dim);
  if (ok === undefined) {
    try {
      ok = probeU7(u7Module(dim, 'relaxed'), dim);
    } catch {
      ok = false;
    }
    relaxedExact.set(dim, ok);
  }
  return ok;
}

/** Runs a dots_u7 module on 5 probe rows against their exact dot products. */
function probeU7(mod: WebAssembly.Module, dim: number): boolean {
  const qBytes = Math.ceil((3 * dim) / 16) * 16;
  const vPtr = qBytes + 64;
  const mem = new WebAssembly.Memory({ initial: Math.ceil((vPtr + 5 * dim) / 65536) });
  const q = new Uint8Array(mem.buffer, 0, dim);
  const v = new Int8Array(mem.buffer, vPtr, 5 * dim);
  for (let j = 0; j < dim; j++) {
    q[j] = j % 3 === 0 ? 127 : (j * 37) % 128;
    v[j] = -128;
    v[dim + j] = 127;
    v[2 * dim + j] = j % 2 ? 127 : -128;
    v[3 * dim + j] = ((j * 53) % 256) - 128;
    v[4 * dim + j] = 1;
  }
  new Int16Array(mem.buffer, dim, dim).set(q);
  const inst = new WebAssembly.Instance(mod, { env: { mem } });
  (inst.exports.dots_u7 as unknown as DotsFn)(0, vPtr, dim, 5, qBytes);
  const out = new Int32Array(mem.buffer, qBytes, 5);
  for (let r = 0; r < 5; r++) {
    let want = 0;
    for (let j = 0; j < dim; j++) want += q[j] * v[r * dim + j];
    if (out[r] !== want) return false;
  }
  return true;
}

export type U7Variant = 'relaxed' | 'plain';
const u7Modules = new Map<string, WebAssembly.Module>();

function u7Module(dim: number, v: U7Variant): WebAssembly.Module {
  const key = `${v}:${dim}`;
  let mod = u7Modules.get(key);
  if (!mod) {
    mod = new WebAssembly.Module(buildU7Module(dim, v === 'relaxed'));
    u7Modules.set(key, mod);
  }
  return mod;
}

/**
 * dots_u7 for `dim` on `memory`: by default the relaxed build where it is supported and
 * exact for this dim, else the plain one (both give the same exact int32 results). Asking
 * for 'relaxed' where it is not exact throws.
 */
export function instantiateDotsU7(
  memory: WebAssembly.Memory,
  dim: number,
  variant?: U7Variant,
): { fn: DotsFn; variant: U7Variant } {
  const relaxedOk = relaxedDotSupported() && relaxedExactFor(dim);
  const v: U7Variant = variant ?? (relaxedOk ? 'relaxed' : 'plain');
  if (v === 'relaxed' && !relaxedOk)
    throw new RangeError(
      `The relaxed-SIMD int8 kernel is not available (or not exact) in this runtime for dim ${dim}.`,
    );
  const inst = new WebAssembly.Instance(u7Module(dim, v), { env: { mem: memory } });
  return { fn: inst.exports.dots_u7 as unknown as DotsFn, variant: v };
}

/** The build instantiateDotsU7 picks by default for `dim`. */
export function defaultU7Variant(dim: number): U7Variant {
  return relaxedDotSupported() && relaxedExactFor(dim) ? 'relaxed' : 'plain';
}
