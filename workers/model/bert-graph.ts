/**
 * Builds an ONNX graph of a Hugging Face BertModel + pooling (+ optional L2 normalisation) from
 * its weights, in TypeScript. No Python export step.
 *
 * Inputs: input_ids int64 [batch, seq], attention_mask int64 [batch, seq], then one float32
 * [in, out] input per name in `weightInputs` (the TRANSPOSED Linear weight, e.g. an expert's
 * merged matrix). token_type_ids are always zero: token_type_embeddings[0] is folded into the
 * position embeddings at build time. Output: `embeddings` float32 [batch, hidden].
 */
import { RouterRetrieverError } from '../../src/boundary/errors.js';
import type { BertConfig } from './config.js';
import { DataType, encodeModel, type RawData, type ValueInfoSpec } from './onnx-proto.js';
import type { F32Tensor } from './tensor.js';
import { transpose } from '../lora/merge.js';
import { q8BaseOrFedLinear, q8ConstLinear, q8FedLinear, scaleInput } from './q8-graph.js';
import {
  baseOrFedMatMul,
  float,
  GraphBuilder,
  int,
  ints,
  pool,
  activation,
  scaledRaw,
  transposedRaw,
  useBaseInput,
} from './graph-builder.js';

export { useBaseInput } from './graph-builder.js';

/**
 * Version of what buildBertGraph writes, part of the key of every graph kept in the Cache API
 * (workers/engine/graph-cache.ts): bump it with any change to the bytes this builder (or
 * graph-builder, q8-graph, quantize, onnx-proto) gives for the same weights and options, so
 * that browsers stop serving graphs built by the old code. test/graph-cache.test.ts hashes a
 * small fixture graph per flavour and fails when those bytes change under the same version.
 */
export const GRAPH_FORMAT_VERSION = 1;

/** Graph flavours. 'contrib' uses com.microsoft fused ops that both the WASM and WebGPU EPs implement. */
export interface GraphVariant {
  /** 'plain': MatMul/Softmax attention with an additive mask. 'mha': com.microsoft MultiHeadAttention. */
  attention: 'plain' | 'mha';
  /** 'plain': Add + LayerNormalization. 'skip': com.microsoft SkipLayerNormalization (bias + residual + LN). */
  layerNorm: 'plain' | 'skip';
  /** 'plain': Div/Erf/Add/Mul/Mul. 'contrib': com.microsoft Gelu (exact erf) / FastGelu (tanh). */
  gelu: 'plain' | 'contrib';
  /** Concatenate Q/K/V projections into one MatMul when all three are initializers. */
  fuseQkv: boolean;
}

export const DEFAULT_VARIANT: GraphVariant = { attention: 'plain', layerNorm: 'plain', gelu: 'plain', fuseQkv: false };

export interface BuildOptions {
  /** HF key names of Linear weights that become graph inputs (fed transposed, [in, out]). */
  weightInputs: string[];
  name?: string;
  variant?: Partial<GraphVariant>;
  /**
   * 'embeddings' (default): pooled (+ normalised) [batch, hidden]. 'last_hidden_state': the
   * encoder output [batch, sequence, hidden] without pooling, as a Hugging Face BertModel
   * export has it (what transformers.js' feature-extraction pipeline expects).
   */
  output?: 'embeddings' | 'last_hidden_state';
  /**
   * Keep the base weight of each `weightInputs` entry in the graph too, behind a switch: a bool
   * scalar input `<name>.use_base` picks, per weight, an If branch that multiplies by the base
   * matrix (a constant there, so onnxruntime pre-packs it and nothing is fed) or one that
   * multiplies by the fed matrix. Both inputs are always fed; with use_base true the weight
   * input takes a [1, 1] placeholder (its dims are symbolic). For CPU sessions: onnxruntime-web
   * copies every fed tensor into the WASM heap on each run and cannot pre-pack it, which cost
   * 5 % of a BERT-base query. Not for WebGPU, where If would run on the CPU.
   */
  baseBranches?: boolean;
  /**
   * 'fp32' (default), or 'q8': every Linear layer as dynamic int8 (./q8-graph.ts), its weights
   * quantized per output column here; a weight input is then int8 `<key>` plus float32
   * `<key>.scale` [out]. Embeddings, LayerNorm, softmax, attention and pooling stay fp32.
   * fuseQkv is not applied at q8.
   */
  dtype?: 'fp32' | 'q8';
}

export interface BertGraph {
  model: Uint8Array;
  inputNames: string[];
  weightInputs: { name: string; dims: number[] }[];
  outputName: 'embeddings' | 'last_hidden_state';
  /** Whether the weight inputs have base branches and `.use_base` switches (BuildOptions.baseBranches). */
  baseBranches: boolean;
  dtype: 'fp32' | 'q8';
}

/** HF `torch.finfo(torch.float32).min`, the additive mask value HF uses for padded keys. */
const FLOAT32_MIN = -3.4028234663852886e38;

/** Names of the Linear weights of layer `i`, in HF key form. */
export function linearWeightNames(layer: number): string[] {
  const p = `encoder.layer.${layer}.`;
  return [
    `${p}attention.self.query.weight`,
    `${p}attention.self.key.weight`,
    `${p}attention.self.value.weight`,
    `${p}attention.output.dense.weight`,
    `${p}intermediate.dense.weight`,
    `${p}output.dense.weight`,
  ];
}

/**
 * Builds the encoder graph. `weights(name)` returns HF BertModel tensors (Linear weights [out, in]).
 * Throws MODEL_FORMAT naming the tensor when one is missing or has the wrong shape.
 */
export function buildBertGraph(
  config: BertConfig,
  weights: (name: string) => F32Tensor | undefined,
  options: BuildOptions,
): BertGraph {
  const v: GraphVariant = { ...DEFAULT_VARIANT, ...options.variant };
  const { hidden: H, heads: NH, intermediate: I, layers: L } = config;
  const D = H / NH;
  const eps = config.layerNormEps;
  const g = new GraphBuilder();

  const allLinear = new Set<string>();
  for (let l = 0; l < L; l++) for (const n of linearWeightNames(l)) allLinear.add(n);
  const inputSet = new Set(options.weightInputs);
  for (const n of inputSet) {
    if (!allLinear.has(n)) {
      throw new RouterRetrieverError(
        'INVALID_INPUT',
        `weightInputs: "${n}" is not a Linear weight of this ${L}-layer BERT.`,
        { name: n },
      );
    }
  }

  const get = (name: string, shape: number[]): F32Tensor => {
    let t: F32Tensor | undefined;
    try {
      t = weights(name);
    } catch (e) {
      if (e instanceof RouterRetrieverError) throw e;
      t = undefined;
    }
    if (!t)
      throw new RouterRetrieverError(
        'MODEL_FORMAT',
        `The model has no tensor "${name}" (a BertModel weight). Is this a BERT checkpoint?`,
        { tensor: name },
      );
    const n = shape.reduce((a, b) => a * b, 1);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]) || t.data.length !== n) {
      throw new RouterRetrieverError(
        'MODEL_FORMAT',
        `Tensor "${name}" has shape [${t.shape.join(', ')}] but config.json implies [${shape.join(', ')}].`,
        { tensor: name, expected: shape, actual: t.shape },
      );
    }
    return t;
  };
  const vec = (name: string, len: number): string => {
    const t = get(name, [len]);
    return g.f32(name, [len], new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  };

  const q8 = options.dtype === 'q8';
  const weightInputSpecs: { name: string; dims: number[] }[] = [];
  const transposed = (key: string, nIn: number, nOut: number, scale: number): Float32Array =>
    transpose(get(key, [nOut, nIn]).data, nOut, nIn, new Float32Array(nIn * nOut), scale);
  const q8Linear = (x: string, key: string, nIn: number, nOut: number, scale: number): string => {
    if (!inputSet.has(key)) return q8ConstLinear(g, x, key, transposed(key, nIn, nOut, scale), nIn, nOut);
    weightInputSpecs.push({ name: key, dims: [nIn, nOut] });
    if (!options.baseBranches) return q8FedLinear(g, x, key, nIn, nOut);
    return q8BaseOrFedLinear(g, x, key, transposed(key, nIn, nOut, scale), nIn, nOut);
  };
  /** x @ Wt (the bias is added by the caller). Returns the output and the weight's name. */
  const linear = (x: string, key: string, nIn: number, nOut: number, scale = 1): { y: string; w: string } => {
    if (q8) return { y: q8Linear(x, key, nIn, nOut, scale), w: key };
    let w: string;
    if (inputSet.has(key) && options.baseBranches) {
      weightInputSpecs.push({ name: key, dims: [nIn, nOut] });
      const t = get(key, [nOut, nIn]);
      return { y: baseOrFedMatMul(g, x, key, transposedRaw(t.data, nOut, nIn, scale), [nIn, nOut]), w: key };
    }
    if (inputSet.has(key)) {
      w = key;
      weightInputSpecs.push({ name: key, dims: [nIn, nOut] });
    } else {
      const t = get(key, [nOut, nIn]);
      w = g.f32(key, [nIn, nOut], transposedRaw(t.data, nOut, nIn, scale));
    }
    return { y: g.op1('MatMul', [x, w]), w };
  };
  const bias = (key: string, len: number, scale = 1): string => {
    const t = get(key, [len]);
    return g.f32(key, [len], scaledRaw(t.data, scale));
  };
  const layerNorm = (x: string, prefix: string): string =>
    g.op1('LayerNormalization', [x, vec(`${prefix}.weight`, H), vec(`${prefix}.bias`, H)], {
      axis: int(-1),
      epsilon: float(eps),
    });
  /** LayerNorm(x + bias + residual). */
  const addNorm = (x: string, b: string, residual: string, prefix: string): string => {
    if (v.layerNorm === 'skip') {
      return g.op(
        'SkipLayerNormalization',
        [x, residual, vec(`${prefix}.weight`, H), vec(`${prefix}.bias`, H), b],
        { epsilon: float(eps) },
        { domain: 'com.microsoft' },
      )[0];
    }
    return layerNorm(g.op1('Add', [g.op1('Add', [x, b]), residual]), prefix);
  };

  // ---- embeddings
  const ids = 'input_ids';
  const mask = 'attention_mask';
  const wordT = get('embeddings.word_embeddings.weight', [config.vocabSize, H]);
  const word = g.f32(
    'embeddings.word_embeddings.weight',
    [config.vocabSize, H],
    new Uint8Array(wordT.data.buffer, wordT.data.byteOffset, wordT.data.byteLength),
  );
  const pos = get('embeddings.position_embeddings.weight', [config.maxPositions, H]);
  const tt = get('embeddings.token_type_embeddings.weight', [config.typeVocabSize, H]);
  const posType = new Float32Array(config.maxPositions * H);
  for (let p = 0; p < config.maxPositions; p++) {
    for (let j = 0; j < H; j++) posType[p * H + j] = pos.data[p * H + j] + tt.data[j];
  }
  const posTypeName = g.f32(
    'embeddings.position_plus_token_type',
    [config.maxPositions, H],
    new Uint8Array(posType.buffer),
  );
  const seqLen = g.op1('Shape', [ids], { start: int(1), end: int(2) }); // [S]
  const zero1 = g.i64('zero', [0]);
  const posSlice = g.op1('Slice', [posTypeName, zero1, seqLen, zero1]); // [S, H]
  const wordEmb = g.op1('Gather', [word, ids], { axis: int(0) }); // [B, S, H]
  let x = layerNorm(g.op1('Add', [wordEmb, posSlice]), 'embeddings.LayerNorm');

  // ---- masks
  const maskF = g.op1('Cast', [mask], { to: int(DataType.FLOAT) }); // [B, S]
  let maskAdd = '';
  let maskI32 = '';
  if (v.attention === 'plain') {
    const inv = g.op1('Sub', [g.scalar('one', 1), maskF]);
    const add = g.op1('Mul', [inv, g.scalar('mask_min', FLOAT32_MIN)]);
    maskAdd = g.op1('Unsqueeze', [add, g.i64('axes12', [1, 2])]); // [B, 1, 1, S]
  } else {
    maskI32 = g.op1('Cast', [mask], { to: int(DataType.INT32) });
  }

  const qkShape = v.attention === 'plain' ? g.i64('shape_bshd', [0, 0, NH, D]) : '';
  const bsh = v.attention === 'plain' ? g.i64('shape_bsh', [0, 0, H]) : '';
  const invSqrtD = 1 / Math.sqrt(D);

  for (let l = 0; l < L; l++) {
    const p = `encoder.layer.${l}.`;
    const qKey = `${p}attention.self.query`;
    const kKey = `${p}attention.self.key`;
    const vKey = `${p}attention.self.value`;
    // Fold 1/sqrt(D) into whichever of Wq / Wk is an initializer; otherwise scale the scores.
    const qInput = inputSet.has(`${qKey}.weight`);
    const kInput = inputSet.has(`${kKey}.weight`);
    const qScale = !qInput ? invSqrtD : 1;
    const kScale = qInput && !kInput ? invSqrtD : 1;
    const scaleScores = qInput && kInput;

    let q: string;
    let k: string;
    let vv: string;
    if (v.fuseQkv && !q8 && !qInput && !kInput && !inputSet.has(`${vKey}.weight`)) {
      const wq = get(`${qKey}.weight`, [H, H]);
      const wk = get(`${kKey}.weight`, [H, H]);
      const wv = get(`${vKey}.weight`, [H, H]);
      // [H, 3H]: row i = [Wq[:, i] * s, Wk[:, i], Wv[:, i]]
      const fused: RawData = {
        byteLength: H * 3 * H * 4,
        fill(dst: Uint8Array) {
          const tmp = new Float32Array(H * 3 * H);
          const parts: [Float32Array, number][] = [
            [wq.data, qScale],
            [wk.data, 1],
            [wv.data, 1],
          ];
          parts.forEach(([w, s], j) => {
            const t = transpose(w, H, H, new Float32Array(H * H), s);
            for (let i = 0; i < H; i++) tmp.set(t.subarray(i * H, (i + 1) * H), i * 3 * H + j * H);
          });
          dst.set(new Uint8Array(tmp.buffer));
        },
      };
      const wName = g.f32(`${p}attention.self.qkv.weight_t`, [H, 3 * H], fused);
      const bq = get(`${qKey}.bias`, [H]);
      const bk = get(`${kKey}.bias`, [H]);
      const bv = get(`${vKey}.bias`, [H]);
      const bAll = new Float32Array(3 * H);
      for (let i = 0; i < H; i++) bAll[i] = bq.data[i] * qScale;
      bAll.set(bk.data, H);
      bAll.set(bv.data, 2 * H);
      const qkv = g.op1('Add', [g.op1('MatMul', [x, wName]), g.f32Values(`${p}qkv.bias`, [3 * H], bAll)]);
      [q, k, vv] = g.op('Split', [qkv, g.i64('split', [H, H, H])], { axis: int(-1) }, { outputs: 3 });
    } else {
      q = g.op1('Add', [linear(x, `${qKey}.weight`, H, H, qScale).y, bias(`${qKey}.bias`, H, qScale)]);
      k = g.op1('Add', [linear(x, `${kKey}.weight`, H, H, kScale).y, bias(`${kKey}.bias`, H, kScale)]);
      vv = g.op1('Add', [linear(x, `${vKey}.weight`, H, H).y, bias(`${vKey}.bias`, H)]);
    }

    let ctx: string; // [B, S, H]
    if (v.attention === 'mha') {
      // Scale is already folded in (unless both Q and K are inputs).
      ctx = g.op(
        'MultiHeadAttention',
        [q, k, vv, '', maskI32],
        { num_heads: int(NH), scale: float(scaleScores ? invSqrtD : 1) },
        { domain: 'com.microsoft' },
      )[0];
    } else {
      const qh = g.op1('Transpose', [g.op1('Reshape', [q, qkShape])], { perm: ints([0, 2, 1, 3]) });
      const kh = g.op1('Transpose', [g.op1('Reshape', [k, qkShape])], { perm: ints([0, 2, 3, 1]) });
      const vh = g.op1('Transpose', [g.op1('Reshape', [vv, qkShape])], { perm: ints([0, 2, 1, 3]) });
      let scores = g.op1('MatMul', [qh, kh]); // [B, NH, S, S]
      if (scaleScores) scores = g.op1('Mul', [scores, g.scalar('inv_sqrt_d', invSqrtD)]);
      const probs = g.op1('Softmax', [g.op1('Add', [scores, maskAdd])], { axis: int(-1) });
      const c = g.op1('MatMul', [probs, vh]); // [B, NH, S, D]
      ctx = g.op1('Reshape', [g.op1('Transpose', [c], { perm: ints([0, 2, 1, 3]) }), bsh]);
    }

    const ao = linear(ctx, `${p}attention.output.dense.weight`, H, H).y;
    x = addNorm(ao, bias(`${p}attention.output.dense.bias`, H), x, `${p}attention.output.LayerNorm`);

    const inter = linear(x, `${p}intermediate.dense.weight`, H, I).y;
    const ib = bias(`${p}intermediate.dense.bias`, I);
    const act = activation(g, config.hiddenAct, v.gelu, inter, ib);
    const out = linear(act, `${p}output.dense.weight`, I, H).y;
    x = addNorm(out, bias(`${p}output.dense.bias`, H), x, `${p}output.LayerNorm`);
  }

  const weightType = q8 ? DataType.INT8 : DataType.FLOAT;
  const inputs: ValueInfoSpec[] = [
    { name: ids, elemType: DataType.INT64, shape: ['batch', 'sequence'] },
    { name: mask, elemType: DataType.INT64, shape: ['batch', 'sequence'] },
    ...weightInputSpecs.flatMap((w): ValueInfoSpec[] => {
      // With base branches the dims are symbolic: a base run feeds [1, 1] placeholders.
      const b = options.baseBranches;
      const specs: ValueInfoSpec[] = [
        { name: w.name, elemType: weightType, shape: b ? [`${w.name}_in`, `${w.name}_out`] : w.dims },
      ];
      if (q8)
        specs.push({ name: scaleInput(w.name), elemType: DataType.FLOAT, shape: [b ? `${w.name}_out` : w.dims[1]] });
      if (b) specs.push({ name: useBaseInput(w.name), elemType: DataType.BOOL, shape: [] });
      return specs;
    }),
  ];
  const usesContrib = v.attention === 'mha' || v.layerNorm === 'skip' || v.gelu === 'contrib';
  const opsets = usesContrib
    ? [
        { domain: '', version: 17 },
        { domain: 'com.microsoft', version: 1 },
      ]
    : [{ domain: '', version: 17 }];

  const output =
    options.output === 'last_hidden_state'
      ? { name: 'last_hidden_state' as const, value: x, shape: ['batch', 'sequence', H] }
      : { name: 'embeddings' as const, value: pool(g, config, x, maskF, H), shape: ['batch', H] };
  // Name the final value after the output.
  g.nodes.push({ opType: 'Identity', inputs: [output.value], outputs: [output.name], name: 'output_identity' });
  const model = encodeModel({
    graphName: options.name ?? 'bert',
    nodes: g.nodes,
    initializers: g.initializers,
    inputs,
    outputs: [{ name: output.name, elemType: DataType.FLOAT, shape: output.shape }],
    opsets,
  });
  return {
    model,
    inputNames: inputs.map((i) => i.name),
    weightInputs: weightInputSpecs,
    outputName: output.name,
    baseBranches: !!options.baseBranches,
    dtype: q8 ? 'q8' : 'fp32',
  };
}
