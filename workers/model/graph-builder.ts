/**
 * The small ONNX graph-building kit that ./bert-graph.ts uses: node and initializer bookkeeping,
 * attribute helpers, and raw initializer data written straight into the model bytes.
 */
import { transpose } from '../lora/merge.js';
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
