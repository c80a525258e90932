/**
 * How to quantize the activations of a q8 linear layer, timed in Node on onnxruntime-web's WASM
 * backend: a stack of BERT-base-shaped linear layers (per layer 4 x [768, 768], [768, 3072],
 * [3072, 768]) on x [batch, tokens, 768], one pattern at a time, taking turns.
 *
 *   npx tsx bench/q8-activation-scale.ts [--layers 12] [--shape 1x16,1x128,16x128] [--rounds 7] [--threads 1] [--json]
 *
 * Patterns:
 *  - tensor: DynamicQuantizeLinear (one uint8 scale for the whole batch) + MatMulInteger, what
 *    onnxruntime fuses into DynamicQuantizeMatMul (the SDK's q8 before). A text's vector then
 *    depends on its batch.
 *  - row-u8: one asymmetric uint8 scale and zero point per token (row), QuantizeLinear along
 *    axis 0, MatMulInteger without a zero point, then the zero point's term subtracted
 *    (zp[row] x column sums of W).
 *  - row: the SDK's q8 linear layer (workers/model/q8-graph.ts): one symmetric scale per token,
 *    uint8 levels around a fixed zero point 128 that MatMulInteger takes as its scalar zero point.
 *  (A symmetric int8 x int8 MatMulInteger was tried too: 12x slower than uint8 x int8 here, as
 *  onnxruntime's WASM build has no fast kernel for it.)
 * Besides time, each pattern's output is compared with fp32 MatMul (relative error), and with
 * itself run on row 0 alone (batch dependence).
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-web';
import { GraphBuilder, int, ints } from '../workers/model/graph-builder.js';
import { DataType, encodeModel } from '../workers/model/onnx-proto.js';
import { q8ConstLinear } from '../workers/model/q8-graph.js';
import { quantizeWeights } from '../workers/model/quantize.js';
import { formatTable, median } from './lib/table.js';

const { values: args } = parseArgs({
  options: {
    layers: { type: 'string', default: '12' },
    shape: { type: 'string', default: '1x16,1x128,16x128' },
    rounds: { type: 'string', default: '7' },
    threads: { type: 'string', default: '1' },
    patterns: { type: 'string', default: 'fp32,tensor,row-u8,row' },
    json: { type: 'boolean', default: false },
  },
});
ort.env.wasm.numThreads = Number(args.threads);
ort.env.logLevel = 'error';
const H = 768;
const I = 3072;
const LAYERS = Number(args.layers);
type Pattern = 'fp32' | 'tensor' | 'row-u8' | 'row';

let seed = 7;
const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296 - 0.5) * 2;
const shapes = [...Array(LAYERS)].flatMap(
  () =>
    [
      [H, H],
      [H, H],
      [H, H],
      [H, H],
      [H, I],
      [I, H],
    ] as const,
);
const weights = shapes.map(([k, n]) => Float32Array.from({ length: k * n }, () => rand() * (1.7 / Math.sqrt(k))));

/** row-u8: the per-row quantization of each x, shared by the layers reading it (as 'row' does). */
const sharedU8 = new Map<string, { xq: string; s: string; zpF: string }>();

function linear(g: GraphBuilder, p: Pattern, x: string, idx: number): string {
  const [k, n] = shapes[idx];
  const w = weights[idx];
  if (p === 'fp32') return g.op1('MatMul', [x, g.f32(`w${idx}`, [k, n], new Uint8Array(w.buffer))]);
  if (p === 'row') return q8ConstLinear(g, x, `w${idx}`, w, k, n);
  const q = quantizeWeights(w, k, n, 'per-column');
  const wq = `wq${idx}`;
  g.initializers.push({ name: wq, dataType: DataType.INT8, dims: [k, n], raw: new Uint8Array(q.data.buffer) });
  const ws = g.f32Values('ws', [n], q.scale);
  const cast = (v: string) => g.op1('Cast', [v], { to: int(DataType.FLOAT) });
  if (p === 'tensor') {
    const [xq, xs, xzp] = g.op('DynamicQuantizeLinear', [x], undefined, { outputs: 3 });
    const acc = cast(g.op1('MatMulInteger', [xq, wq, xzp]));
    return g.op1('Mul', [acc, g.op1('Mul', [xs, ws])]);
  }
  // row-u8: DynamicQuantizeLinear's rule per row; MatMulInteger takes one zero point for all
  // rows, so it runs without one and zp x (column sums of W) is taken off afterwards.
  let u8 = sharedU8.get(x);
  if (!u8) {
    const x2 = g.op1('Reshape', [x, g.i64('shape2', [-1, k])]);
    const flat = g.i64('flat', [-1]);
    const lo = g.op1('Min', [g.op1('ReduceMin', [x2], { axes: ints([1]), keepdims: int(1) }), g.scalar('zero', 0)]);
    const hi = g.op1('Max', [g.op1('ReduceMax', [x2], { axes: ints([1]), keepdims: int(1) }), g.scalar('zero', 0)]);
    const range = g.op1('Max', [g.op1('Sub', [hi, lo]), g.scalar('tiny', 1e-30)]);
    const s = g.op1('Div', [range, g.scalar('levels', 255)]); // [rows, 1]
    const zpF = g.op1('Round', [g.op1('Neg', [g.op1('Div', [lo, s])])]);
    const zp = g.op1('Cast', [zpF], { to: int(DataType.UINT8) });
    const xq = g.op1('QuantizeLinear', [x2, g.op1('Reshape', [s, flat]), g.op1('Reshape', [zp, flat])], {
      axis: int(0),
    });
    u8 = { xq, s, zpF };
    sharedU8.set(x, u8);
  }
  const colSum = new Float32Array(n);
  for (let i = 0; i < k; i++) for (let j = 0; j < n; j++) colSum[j] += q.data[i * n + j];
  const acc = cast(g.op1('MatMulInteger', [u8.xq, wq]));
  const centred = g.op1('Sub', [acc, g.op1('Mul', [u8.zpF, g.f32Values('colsum', [n], colSum)])]);
  const y2 = g.op1('Mul', [g.op1('Mul', [centred, ws]), u8.s]);
  return g.op1('Reshape', [y2, outShape(g, x, n)]);
}

/** x's shape with the last dimension replaced by n. */
function outShape(g: GraphBuilder, x: string, n: number): string {
  const lead = g.op1('Slice', [g.op1('Shape', [x]), g.i64('start', [0]), g.i64('end', [-1])]);
  return g.op1('Concat', [lead, g.i64('n', [n])], { axis: int(0) });
}

function build(p: Pattern): Uint8Array {
  const g = new GraphBuilder();
  let x = 'x';
  for (let l = 0; l < LAYERS; l++) {
    const base = l * 6;
    const q = linear(g, p, x, base);
    const k = linear(g, p, x, base + 1);
    const v = linear(g, p, x, base + 2);
    const a = g.op1('Add', [g.op1('Add', [q, k]), v]);
    const o = g.op1('Add', [x, g.op1('Mul', [linear(g, p, a, base + 3), g.scalar('third', 1 / 3)])]);
    const h = g.op1('Relu', [linear(g, p, o, base + 4)]);
    x = g.op1('Add', [o, linear(g, p, h, base + 5)]);
  }
  g.nodes.push({ opType: 'Identity', inputs: [x], outputs: ['y'], name: 'out' });
  return encodeModel({
    graphName: `stack_${p}`,
    nodes: g.nodes,
    initializers: g.initializers,
    inputs: [{ name: 'x', elemType: DataType.FLOAT, shape: ['b', 't', H] }],
    outputs: [{ name: 'y', elemType: DataType.FLOAT, shape: ['b', 't', H] }],
    opsets: [{ domain: '', version: 17 }],
  });
}

const patterns = args.patterns.split(',') as Pattern[];
const sessions = new Map<Pattern, ort.InferenceSession>();
for (const p of patterns)
  sessions.set(p, await ort.InferenceSession.create(build(p), { executionProviders: ['wasm'] }));

const run = async (p: Pattern, x: Float32Array, b: number, t: number) => {
  const out = await sessions.get(p)!.run({ x: new ort.Tensor('float32', x, [b, t, H]) });
  return out.y.data as Float32Array;
};
const relErr = (a: Float32Array, ref: Float32Array, n = ref.length) => {
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (a[i] - ref[i]) ** 2;
    den += ref[i] ** 2;
  }
  return Math.sqrt(num / den);
};

const rows: Record<string, string | number>[] = [];
for (const shape of args.shape.split(',')) {
  const [b, t] = shape.split('x').map(Number);
  const x = Float32Array.from({ length: b * t * H }, () => rand());
  const ms = new Map<Pattern, number[]>(patterns.map((p) => [p, []]));
  for (const p of patterns) await run(p, x, b, t); // warm-up
  for (let r = 0; r < Number(args.rounds); r++) {
    for (const p of patterns) {
      const t0 = performance.now();
      await run(p, x, b, t);
      ms.get(p)!.push(performance.now() - t0);
    }
  }
  const ref = await run('fp32', x, b, t).catch(() => null);
  const fpMs = median(ms.get('fp32') ?? [Number.NaN]);
  const tensorMs = median(ms.get('tensor') ?? [Number.NaN]);
  for (const p of patterns) {
    const y = await run(p, x, b, t);
    const alone = await run(p, x.subarray(0, t * H), 1, t);
    const m = median(ms.get(p)!);
    rows.push({
      shape,
      pattern: p,
      'p50 ms': m.toFixed(1),
      'fp32 / this': (fpMs / m).toFixed(2),
      'tensor / this': (tensorMs / m).toFixed(2),
      'rel err vs fp32': ref ? relErr(y, ref).toExponential(2) : '-',
      'first text alone vs in batch': relErr(alone, y, t * H).toExponential(2),
    });
  }
}
console.log(
  `q8 activation scale, Node + onnxruntime-web WASM, ${args.threads} thread(s), ${LAYERS} layers of 6 BERT-base linears, median of ${args.rounds} rounds`,
);
console.log(
  formatTable(
    rows,
    Object.keys(rows[0]).map((k) => ({ header: k, value: (r) => r[k] })),
  ),
);
if (args.json) {
  writeFileSync('bench/results/q8-activation-scale.json', `${JSON.stringify({ args, rows }, null, 2)}\n`);
  console.log('wrote bench/results/q8-activation-scale.json');
}
