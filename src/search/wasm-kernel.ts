/**
 * A tiny hand-assembled WebAssembly SIMD module (built below from readable
 * opcodes, < 1 KB, no toolchain) with two functions:
 *
 *   dots(qPtr, vPtr, dim, rows, outPtr)
 *     for r in [0, rows): out[r] = sum_j q[j] * v[r*dim + j]     (float32)
 *
 *   dots_i8(qPtr, vPtr, dim, rows, outPtr)
 *     the same over int8 codes with int32 results (dim a multiple of 32)
 *
 * Four f32x4 accumulators (16 floats per iteration), so dim must be a multiple
 * of 16 (768 is). All pointers are byte offsets into the imported memory
 * `env.mem`, 16-byte aligned. Accumulation is float32 (the JS kernel uses
 * float64), so scores can differ from the JS path in the last bits.
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

const I32_STORE = [0x36, 2, 0]; // align 2^2, offset 0
const I16X8_EXT_LO_S = simd(0x87); // i16x8.extend_low_i8x16_s
const I16X8_EXT_HI_S = simd(0x88); // i16x8.extend_high_i8x16_s
const I32X4_DOT_I16X8_S = simd(0xba);
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
  emit(localGet(VROW), localGet(NB), I32_ADD, localSet(VROW), localGet(R), i32Const(1), I32_ADD, localSet(R), br(0), END, END);
  emit(END);
  return [2, 4, 0x7f, 4, 0x7b, ...b]; // local decls: 4 x i32, 4 x v128
}

/**
 * dots_i8(q, v, dim, rows, out): int8 query codes . int8 row codes -> int32 out[r].
 * Per 32 bytes: sign-extend to i16 and i32x4.dot_i16x8_s into 2 x i32x4 accumulators; dim % 32 == 0.
 */
function dotsI8Body(): number[] {
  const [Q, V, DIM, ROWS, OUT, R, J, VROW, A] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const b: number[] = [];
  const emit = (...xs: number[][]) => xs.forEach((x) => b.push(...x));
  const QL = 10; // v128 locals 10, 11: the loaded query and row vectors
  const VL = 11;
  emit(localGet(V), localSet(VROW), i32Const(0), localSet(R));
  emit(BLOCK, LOOP, localGet(R), localGet(ROWS), I32_GE_U, brIf(1));
  emit(V128_ZERO, localSet(A), V128_ZERO, localSet(A + 1), i32Const(0), localSet(J));
  emit(BLOCK, LOOP, localGet(J), localGet(DIM), I32_GE_U, brIf(1));
  for (let a = 0; a < 2; a++) {
    emit(localGet(Q), localGet(J), I32_ADD, v128Load(16 * a), localSet(QL));
    emit(localGet(VROW), localGet(J), I32_ADD, v128Load(16 * a), localSet(VL));
    emit(localGet(A + a));
    emit(localGet(QL), I16X8_EXT_LO_S, localGet(VL), I16X8_EXT_LO_S, I32X4_DOT_I16X8_S, I32X4_ADD);
    emit(localGet(QL), I16X8_EXT_HI_S, localGet(VL), I16X8_EXT_HI_S, I32X4_DOT_I16X8_S, I32X4_ADD);
    emit(localSet(A + a));
  }
  emit(localGet(J), i32Const(32), I32_ADD, localSet(J), br(0), END, END);
  emit(localGet(OUT), localGet(R), i32Const(2), I32_SHL, I32_ADD);
  emit(localGet(A), localGet(A + 1), I32X4_ADD, localTee(A));
  emit(i32Lane(0), localGet(A), i32Lane(1), I32_ADD, localGet(A), i32Lane(2), I32_ADD, localGet(A), i32Lane(3), I32_ADD, I32_STORE);
  emit(localGet(VROW), localGet(DIM), I32_ADD, localSet(VROW), localGet(R), i32Const(1), I32_ADD, localSet(R), br(0), END, END);
  emit(END);
  return [2, 3, 0x7f, 4, 0x7b, ...b]; // 3 x i32 (r, j, vrow), 4 x v128 (acc0, acc1, q, v)
}

function buildModule(): Uint8Array<ArrayBuffer> {
  const f32 = dotsF32Body();
  const i8 = dotsI8Body();
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 5, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0]),
    ...section(2, [1, ...name('env'), ...name('mem'), 0x02, 0x00, 1]),
    ...section(3, [2, 0, 0]),
    ...section(7, [2, ...name('dots'), 0x00, 0, ...name('dots_i8'), 0x00, 1]),
    ...section(10, [2, ...uleb(f32.length), ...f32, ...uleb(i8.length), ...i8]),
  ]);
}

export const DOTS_WASM: Uint8Array<ArrayBuffer> = buildModule();

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

/** Instantiates the kernel on `memory` (synchronous: the module is tiny). */
export function instantiateDots(memory: WebAssembly.Memory): DotsFn {
  return instantiateKernels(memory).dots;
}

/** Both kernels on `memory`: dots (float32 -> float32 out) and dots_i8 (int8 -> int32 out). */
export function instantiateKernels(memory: WebAssembly.Memory): { dots: DotsFn; dotsI8: DotsFn } {
  compiled ??= new WebAssembly.Module(DOTS_WASM);
  const inst = new WebAssembly.Instance(compiled, { env: { mem: memory } });
  return { dots: inst.exports.dots as unknown as DotsFn, dotsI8: inst.exports.dots_i8 as unknown as DotsFn };
}
