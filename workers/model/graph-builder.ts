/**
 * The small ONNX graph-building kit that ./bert-graph.ts uses: node and initializer bookkeeping,
 * attribute helpers, and raw initializer data written straight into the model bytes.
 */
import { transpose } from '../lora/merge.js';
import type { BertConfig } from './config.js';
import {
  DataType,
  type AttributeValue,
  type GraphSpec,
  type NodeSpec,
  type RawData,
  type TensorProtoSpec,
} from './onnx-proto.js';

/** The bool switch input of a weight input built with `baseBranches`. */
export const useBaseInput = (weightName: string): string => `${weightName}.use_base`;

export class GraphBuilder {
  readonly nodes: NodeSpec[] = [];
  readonly initializers: TensorProtoSpec[] = [];
  private n = 0;

  fresh(hint: string): string {
    return `${hint}_${this.n++}`;
  }

  op(
    opType: string,
    inputs: string[],
    attrs?: Record<string, AttributeValue>,
    opts: { outputs?: number; domain?: string; name?: string } = {},
  ): string[] {
    const count = opts.outputs ?? 1;
    const outputs = Array.from({ length: count }, () => this.fresh(opts.name ?? opType));
    this.nodes.push({
      opType,
      inputs,
      outputs,
      attributes: attrs,
      domain: opts.domain,
      name: this.fresh(`n_${opType}`),
    });
    return outputs;
  }

  op1(opType: string, inputs: string[], attrs?: Record<string, AttributeValue>, domain?: string): string {
    return this.op(opType, inputs, attrs, { domain })[0];
  }

  f32(name: string, dims: number[], raw: RawData): string {
    this.initializers.push({ name, dataType: DataType.FLOAT, dims, raw });
    return name;
  }

  f32Values(hint: string, dims: number[], values: Float32Array): string {
    return this.f32(this.fresh(hint), dims, new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  }

  scalar(hint: string, v: number): string {
    return this.f32Values(hint, [], new Float32Array([v]));
  }

  i64(hint: string, values: number[]): string {
    const name = this.fresh(hint);
    const data = BigInt64Array.from(values.map((v) => BigInt(v)));
    this.initializers.push({ name, dataType: DataType.INT64, dims: [values.length], raw: new Uint8Array(data.buffer) });
    return name;
  }
}

export const int = (value: number): AttributeValue => ({ kind: 'int', value });
export const float = (value: number): AttributeValue => ({ kind: 'float', value });
export const ints = (value: number[]): AttributeValue => ({ kind: 'ints', value });

/** x @ (use_base ? base : fed): an If whose branches each hold one MatMul (see BuildOptions.baseBranches). */
export function baseOrFedMatMul(g: GraphBuilder, x: string, fed: string, base: RawData, dims: number[]): string {
  const branch = (hint: string, w: string, initializers: TensorProtoSpec[]): GraphSpec => {
    const y = g.fresh(hint);
    return {
      name: g.fresh(`${hint}_branch`),
      nodes: [{ opType: 'MatMul', inputs: [x, w], outputs: [y], name: g.fresh('n_MatMul') }],
      initializers,
      inputs: [],
      outputs: [{ name: y, elemType: DataType.FLOAT, shape: null }],
    };
  };
  const baseName = g.fresh('base_w');
  const thenBranch = branch('base', baseName, [{ name: baseName, dataType: DataType.FLOAT, dims, raw: base }]);
  const elseBranch = branch('fed', fed, []);
  return g.op1('If', [useBaseInput(fed)], {
    then_branch: { kind: 'graph', value: thenBranch },
    else_branch: { kind: 'graph', value: elseBranch },
  });
}

/** Raw data that transposes a [rows, cols] matrix (times `scale`) straight into the model bytes. */
export function transposedRaw(src: Float32Array, rows: number, cols: number, scale: number): RawData {
  return {
    byteLength: rows * cols * 4,
    fill(dst: Uint8Array) {
      if (dst.byteOffset % 4 === 0) {
        transpose(src, rows, cols, new Float32Array(dst.buffer, dst.byteOffset, rows * cols), scale);
      } else {
        const tmp = transpose(src, rows, cols, new Float32Array(rows * cols), scale);
        dst.set(new Uint8Array(tmp.buffer));
      }
    },
  };
}

export function scaledRaw(src: Float32Array, scale: number): RawData {
  if (scale === 1) return new Uint8Array(src.buffer, src.byteOffset, src.byteLength);
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = src[i] * scale;
  return new Uint8Array(out.buffer);
}

/** Masked mean or CLS pooling of the last hidden states, then optional L2 normalisation. */
export function pool(g: GraphBuilder, config: BertConfig, x: string, maskF: string, H: number): string {
  let pooled: string;
  if (config.pooling === 'cls') {
    pooled = g.op1('Gather', [x, g.i64('zero_idx', [0])], { axis: int(1) }); // [B, 1, H]
    pooled = g.op1('Reshape', [pooled, g.i64('shape_bh', [0, H])]);
  } else {
    const m3 = g.op1('Unsqueeze', [maskF, g.i64('axis2', [2])]); // [B, S, 1]
    const summed = g.op1('ReduceSum', [g.op1('Mul', [x, m3]), g.i64('axis1', [1])], { keepdims: int(0) }); // [B, H]
    const count = g.op1('ReduceSum', [maskF, g.i64('axis1', [1])], { keepdims: int(1) }); // [B, 1]
    pooled = g.op1('Div', [summed, g.op1('Max', [count, g.scalar('min_count', 1e-9)])]);
  }
  if (config.normalize) {
    // F.normalize: x / max(||x||_2, 1e-12)
    const norm = g.op1('ReduceL2', [pooled], { axes: ints([1]), keepdims: int(1) });
    pooled = g.op1('Div', [pooled, g.op1('Max', [norm, g.scalar('eps_norm', 1e-12)])]);
  }
  return pooled;
}

/** The feed-forward activation of `inter + ib`: ReLU, or GELU (exact erf or tanh) as plain ops or com.microsoft ones. */
export function activation(
  g: GraphBuilder,
  hiddenAct: BertConfig['hiddenAct'],
  gelu: 'plain' | 'contrib',
  inter: string,
  ib: string,
): string {
  if (hiddenAct === 'relu') {
    return g.op1('Relu', [g.op1('Add', [inter, ib])]);
  }
  if (gelu === 'contrib') {
    const opType = hiddenAct === 'gelu' ? 'BiasGelu' : 'FastGelu';
    return g.op1(opType, [inter, ib], undefined, 'com.microsoft');
  }
  const y = g.op1('Add', [inter, ib]);
  if (hiddenAct === 'gelu') {
    // 0.5 * y * (1 + erf(y / sqrt(2))): the pattern ORT fuses into Gelu / BiasGelu.
    const e = g.op1('Erf', [g.op1('Div', [y, g.scalar('sqrt2', Math.SQRT2)])]);
    return g.op1('Mul', [g.op1('Mul', [y, g.op1('Add', [e, g.scalar('one', 1)])]), g.scalar('half', 0.5)]);
  }
  // tanh approximation: 0.5 * y * (1 + tanh(sqrt(2/pi) * (y + 0.044715 y^3)))
  const y3 = g.op1('Mul', [g.op1('Mul', [y, y]), y]);
  const inner = g.op1('Mul', [
    g.op1('Add', [y, g.op1('Mul', [y3, g.scalar('c', 0.044715)])]),
    g.scalar('k', Math.sqrt(2 / Math.PI)),
  ]);
  const t = g.op1('Tanh', [inner]);
  return g.op1('Mul', [g.op1('Mul', [y, g.op1('Add', [t, g.scalar('one', 1)])]), g.scalar('half', 0.5)]);
}
