/**
 * The q8 linear layer as ONNX nodes. Each row (token) of the activation gets its own scale,
 * max |x| / 127, and is quantized to uint8 levels around a fixed zero point of 128
 * (QuantizeLinear along axis 0 of x + 128 x scale); MatMulInteger multiplies the levels with the
 * int8 weights (quantized at build time, ./quantize.ts) given that one zero point, and
 *   y = float(MatMulInteger(xq, Wq, 128)) * w_scale[col] * x_scale[row].
 * The caller adds the fp32 bias. `rowQuantize` in ./quantize.ts restates the rule for tests.
 *
 * Why per row: with DynamicQuantizeLinear's one scale for the whole batch, a text's vector
 * depended on the texts batched with it and on their padding (tiny-bert: every one of 18 texts
 * moved, by up to 0.23), so a query embedded alone and the same text embedded with the corpus
 * differed, and so did the Node CLI's and the browser's vectors. Per row they agree (1 text of
 * 18 off by 1e-4, where fp32 rounding tips a level). Why symmetric with a fixed zero point: a
 * per-row zero point needs its own correction (MatMulInteger takes one zero point for all rows),
 * and those extra nodes cost a short query 6 % on WASM, where onnxruntime spends microseconds per
 * node; this form runs at 0.98x-1.06x the speed of the fused per-batch one, as close to fp32
 * (bench/results/q8-activation-scale-run.txt: 12 BERT-base layers, 1 x 16 to 16 x 128 tokens).
 * The quantization of an x is built once and shared by the layers reading it (Q, K and V).
 *
 * A fed (expert) weight is two inputs: `<key>` int8 [in, out] and `<key>.scale` float32 [out].
 */
import { type GraphBuilder, int, ints, useBaseInput } from './graph-builder.js';
import { DataType, type GraphSpec, type NodeSpec, type TensorProtoSpec } from './onnx-proto.js';
import { type QuantAxis, type QuantizedMatrix, ROW_ZERO_POINT, quantizeWeights } from './quantize.js';

/**
 * Weights are quantized per output column, for 4 bytes per output more per matrix. On the test
 * fixture (tiny-bert, 18 texts) the worst cosine to fp32 was 0.99916 per column against 0.99667
 * per tensor (expert-b; base 0.99995 vs 0.99992).
 */
export const Q8_AXIS: QuantAxis = 'per-column';

/** Names the activation rule, for files written with it (bench models): change it with the rule. */
export const Q8_ACTIVATION_RULE = 'per-row symmetric uint8, zero point 128';

/** The scale input that goes with a fed q8 weight input. */
export const scaleInput = (weightName: string): string => `${weightName}.scale`;

/** Quantizes a transposed [in, out] weight as the q8 graph expects it. */
export function quantizeForGraph(wT: Float32Array, nIn: number, nOut: number): QuantizedMatrix {
  return quantizeWeights(wT, nIn, nOut, Q8_AXIS);
}

/** A quantized activation: what every linear layer reading the same x shares. */
interface RowQuantized {
  /** uint8 levels [rows, in] around ROW_ZERO_POINT. */
  xq: string;
  /** Per-row scale [rows, 1]. */
  s: string;
  /** The zero point, a uint8 scalar. */
  zp: string;
  /** x's shape with the last dimension n, per output width n: to put the output back in. */
  outShape: (n: number) => string;
}

const quantizedOf = new WeakMap<GraphBuilder, Map<string, RowQuantized>>();

/** The nodes quantizing x [..., nIn] per row, in the main graph (If branches read them), once per x. */
function rowQuantized(g: GraphBuilder, x: string, nIn: number): RowQuantized {
  let cache = quantizedOf.get(g);
  if (!cache) quantizedOf.set(g, (cache = new Map()));
  const hit = cache.get(x);
  if (hit) return hit;
  const x2 = g.op1('Reshape', [x, g.i64('rows_k', [-1, nIn])]);
  const amax = g.op1('ReduceMax', [g.op1('Abs', [x2])], { axes: ints([1]), keepdims: int(1) });
  // An all-zero row: a tiny scale instead of 0, so that its levels are the zero point.
  const s = g.op1('Div', [g.op1('Max', [amax, g.scalar('tiny', 1e-30)]), g.scalar('levels', 127)]);
  const shifted = g.op1('Add', [x2, g.op1('Mul', [s, g.scalar('zero_point', ROW_ZERO_POINT)])]);
  const xq = g.op1('QuantizeLinear', [shifted, g.op1('Reshape', [s, g.i64('flat', [-1])])], { axis: int(0) });
  const zp = g.fresh('zp');
  g.initializers.push({ name: zp, dataType: DataType.UINT8, dims: [], raw: new Uint8Array([ROW_ZERO_POINT]) });
  const lead = g.op1('Slice', [g.op1('Shape', [x]), g.i64('start', [0]), g.i64('end', [-1])]);
  const shapes = new Map<number, string>();
  const outShape = (n: number) => {
    let shape = shapes.get(n);
    if (!shape) shapes.set(n, (shape = g.op1('Concat', [lead, g.i64('n_out', [n])], { axis: int(0) })));
    return shape;
  };
  const q: RowQuantized = { xq, s, zp, outShape };
  cache.set(x, q);
  return q;
}

/** Nodes of the per-row q8 product of x [..., nIn] (see the header), appended to `nodes`. */
function q8Nodes(g: GraphBuilder, nodes: NodeSpec[], x: string, wq: string, ws: string, nIn: number, nOut: number) {
  const rq = rowQuantized(g, x, nIn);
  const node = (opType: string, inputs: string[], attributes?: NodeSpec['attributes']) => {
    const out = g.fresh(opType);
    nodes.push({ opType, inputs, outputs: [out], name: g.fresh(`n_${opType}`), attributes });
    return out;
  };
  const acc = node('Cast', [node('MatMulInteger', [rq.xq, wq, rq.zp])], { to: int(DataType.FLOAT) });
  const y2 = node('Mul', [node('Mul', [acc, ws]), rq.s]);
  return node('Reshape', [y2, rq.outShape(nOut)]);
}

function q8Initializers(g: GraphBuilder, key: string, q: QuantizedMatrix, nIn: number, nOut: number) {
  const wq = g.fresh(`${key}.q8`);
  const ws = g.fresh(`${key}.q8_scale`);
  const inits: TensorProtoSpec[] = [
    { name: wq, dataType: DataType.INT8, dims: [nIn, nOut], raw: new Uint8Array(q.data.buffer) },
    { name: ws, dataType: DataType.FLOAT, dims: [q.scale.length], raw: new Uint8Array(q.scale.buffer) },
  ];
  return { wq, ws, inits };
}

/** x @ Wt with a constant weight (`wT`, [in, out]), quantized here. */
export function q8ConstLinear(g: GraphBuilder, x: string, key: string, wT: Float32Array, nIn: number, nOut: number) {
  const { wq, ws, inits } = q8Initializers(g, key, quantizeForGraph(wT, nIn, nOut), nIn, nOut);
  g.initializers.push(...inits);
  return q8Nodes(g, g.nodes, x, wq, ws, nIn, nOut);
}

/** x @ Wt with the weight fed as `<key>` (int8) and `<key>.scale`. */
export function q8FedLinear(g: GraphBuilder, x: string, key: string, nIn: number, nOut: number): string {
  return q8Nodes(g, g.nodes, x, key, scaleInput(key), nIn, nOut);
}

/** x @ (use_base ? base : fed), each If branch a whole q8 linear (see BuildOptions.baseBranches). */
export function q8BaseOrFedLinear(
  g: GraphBuilder,
  x: string,
  key: string,
  wT: Float32Array,
  nIn: number,
  nOut: number,
): string {
  const branch = (hint: string, build: (nodes: NodeSpec[]) => string, initializers: TensorProtoSpec[]): GraphSpec => {
    const nodes: NodeSpec[] = [];
    const y = build(nodes);
    return {
      name: g.fresh(`${hint}_branch`),
      nodes,
      initializers,
      inputs: [],
      outputs: [{ name: y, elemType: DataType.FLOAT, shape: null }],
    };
  };
  const base = q8Initializers(g, key, quantizeForGraph(wT, nIn, nOut), nIn, nOut);
  const thenBranch = branch('base', (nodes) => q8Nodes(g, nodes, x, base.wq, base.ws, nIn, nOut), base.inits);
  const elseBranch = branch('fed', (nodes) => q8Nodes(g, nodes, x, key, scaleInput(key), nIn, nOut), []);
  return g.op1('If', [useBaseInput(key)], {
    then_branch: { kind: 'graph', value: thenBranch },
    else_branch: { kind: 'graph', value: elseBranch },
  });
}
