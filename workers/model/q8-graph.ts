/**
 * The q8 linear layer as ONNX nodes: DynamicQuantizeLinear on the activation, MatMulInteger
 * with int8 weights (quantized at build time, ./quantize.ts), then the scale multiply. The
 * caller adds the fp32 bias. onnxruntime's CPU provider (the one the WASM build runs) fuses the
 * pattern: into DynamicQuantizeMatMul, or, where its common-subexpression pass has merged the
 * DynamicQuantizeLinear of the Q, K and V inputs into one, into MatMulIntegerToFloat per projection
 * (onnxruntime-node's optimized fixture graph: per layer 3 DynamicQuantizeMatMul, 3
 * MatMulIntegerToFloat, 1 DynamicQuantizeLinear). The pattern is kept whole inside each If branch,
 * DynamicQuantizeLinear included, so that each branch fuses on its own.
 *
 * A fed (expert) weight is two inputs: `<key>` int8 [in, out] and `<key>.scale` float32 [out].
 */
import { type GraphBuilder, useBaseInput } from './graph-builder.js';
import { DataType, type GraphSpec, type NodeSpec, type TensorProtoSpec } from './onnx-proto.js';
import { type QuantAxis, type QuantizedMatrix, quantizeWeights } from './quantize.js';

/**
 * Weights are quantized per output column, for 4 bytes per output more per matrix. On the test
 * fixture (tiny-bert, 18 texts) the worst cosine to fp32 was 0.99916 per column against 0.99667
 * per tensor (expert-b; base 0.99995 vs 0.99992).
 */
export const Q8_AXIS: QuantAxis = 'per-column';

/** The scale input that goes with a fed q8 weight input. */
export const scaleInput = (weightName: string): string => `${weightName}.scale`;

/** Quantizes a transposed [in, out] weight as the q8 graph expects it. */
export function quantizeForGraph(wT: Float32Array, nIn: number, nOut: number): QuantizedMatrix {
  return quantizeWeights(wT, nIn, nOut, Q8_AXIS);
}

/** Nodes of y = float(MatMulInteger(DQL(x), wq)) * (x_scale * w_scale), appended to `nodes`. */
function q8Nodes(g: GraphBuilder, nodes: NodeSpec[], x: string, wq: string, ws: string): string {
  const node = (opType: string, inputs: string[], outputs: number, attributes?: NodeSpec['attributes']) => {
    const out = Array.from({ length: outputs }, () => g.fresh(opType));
    nodes.push({ opType, inputs, outputs: out, name: g.fresh(`n_${opType}`), attributes });
    return out;
  };
  const [xq, xs, xzp] = node('DynamicQuantizeLinear', [x], 3);
  const [acc] = node('MatMulInteger', [xq, wq, xzp], 1);
  const [accF] = node('Cast', [acc], 1, { to: { kind: 'int', value: DataType.FLOAT } });
  const [s] = node('Mul', [xs, ws], 1);
  return node('Mul', [accF, s], 1)[0];
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
  return q8Nodes(g, g.nodes, x, wq, ws);
}

/** x @ Wt with the weight fed as `<key>` (int8) and `<key>.scale`. */
export function q8FedLinear(g: GraphBuilder, x: string, key: string): string {
  return q8Nodes(g, g.nodes, x, key, scaleInput(key));
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
  const thenBranch = branch('base', (nodes) => q8Nodes(g, nodes, x, base.wq, base.ws), base.inits);
  const elseBranch = branch('fed', (nodes) => q8Nodes(g, nodes, x, key, scaleInput(key)), []);
  return g.op1('If', [useBaseInput(key)], {
    then_branch: { kind: 'graph', value: thenBranch },
    else_branch: { kind: 'graph', value: elseBranch },
  });
}
