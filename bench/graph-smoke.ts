/**
 * Node smoke/timing script for the BERT graph builder on ORT-web WASM:
 *   npx tsx bench/graph-smoke.ts [--threads N] [--big] [--variants plain,fused-qkv,contrib] [--inputs]
 *                                [--dtype fp32|q8] [--interleave --shape BxS --rounds N]
 * Builds a Contriever-shaped random model (12 layers, hidden 768, 12 heads, intermediate 3072,
 * vocab 30522) and times batch 1 x seq 16 (median of several runs) and, with --big,
 * batch 32 x seq 256 (one run after a warm-up of the small shape). --inputs makes the query/value
 * weights of every layer graph inputs (how the engine runs it) and feeds them each run.
 */
import * as ort from 'onnxruntime-web';
import { buildBertGraph, linearWeightNames, type GraphVariant } from '../workers/model/bert-graph.js';
import type { BertConfig } from '../workers/model/config.js';
import type { F32Tensor } from '../workers/model/tensor.js';
import { transpose } from '../workers/lora/merge.js';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    threads: { type: 'string', default: '1' },
    big: { type: 'boolean', default: false },
    inputs: { type: 'boolean', default: false },
    layers: { type: 'string', default: '12' },
    variants: { type: 'string', default: 'plain,fused-qkv,contrib' },
    interleave: { type: 'boolean', default: false },
    shape: { type: 'string', default: '1x16' },
    rounds: { type: 'string', default: '15' },
    dtype: { type: 'string', default: 'fp32' },
  },
});
ort.env.wasm.numThreads = Number(args.threads);
ort.env.logLevel = 'error';
const big = args.big;
const withInputs = args.inputs;
const layers = Number(args.layers);
const dtype = args.dtype as 'fp32' | 'q8';
if (dtype === 'q8' && withInputs) throw new Error('--inputs feeds fp32 matrices: use it with --dtype fp32');

const VARIANTS: Record<string, Partial<GraphVariant>> = {
  plain: {},
  'fused-qkv': { fuseQkv: true },
  contrib: { attention: 'mha', layerNorm: 'skip', gelu: 'contrib' },
  'contrib-fused-qkv': { attention: 'mha', layerNorm: 'skip', gelu: 'contrib', fuseQkv: true },
};
const names = args.variants.split(',');

const config: BertConfig = {
  modelType: 'bert',
  vocabSize: 30522,
  hidden: 768,
  layers,
  heads: 12,
  intermediate: 3072,
  maxPositions: 512,
  typeVocabSize: 2,
  layerNormEps: 1e-12,
  hiddenAct: 'gelu',
  pooling: 'mean',
  normalize: false,
  maxLength: 512,
};

let seed = 12345;
const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296 - 0.5) * 0.1;
const cache = new Map<string, F32Tensor>();
function weight(name: string): F32Tensor {
  let t = cache.get(name);
  if (t) return t;
  const H = config.hidden,
    I = config.intermediate;
  let shape: number[];
  if (name === 'embeddings.word_embeddings.weight') shape = [config.vocabSize, H];
  else if (name === 'embeddings.position_embeddings.weight') shape = [config.maxPositions, H];
  else if (name === 'embeddings.token_type_embeddings.weight') shape = [2, H];
  else if (name.includes('intermediate.dense.weight')) shape = [I, H];
  else if (name.includes('intermediate.dense.bias')) shape = [I];
  else if (name.includes('output.dense.weight') && !name.includes('attention')) shape = [H, I];
  else if (name.endsWith('.weight') && !name.includes('LayerNorm')) shape = [H, H];
  else shape = [H];
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  if (name.includes('LayerNorm.weight')) data.fill(1);
  else for (let i = 0; i < data.length; i++) data[i] = rand();
  t = { shape, data };
  cache.set(name, t);
  return t;
}

const targets = withInputs
  ? Array.from({ length: layers }, (_, l) => [linearWeightNames(l)[0], linearWeightNames(l)[2]]).flat()
  : [];
const weightFeeds: Record<string, ort.Tensor> = {};
for (const n of targets) {
  const W = weight(n);
  weightFeeds[n] = new ort.Tensor('float32', transpose(W.data, W.shape[0], W.shape[1]), [W.shape[1], W.shape[0]]);
}

function feeds(batch: number, seq: number): Record<string, ort.Tensor> {
  const ids = new BigInt64Array(batch * seq);
  const mask = new BigInt64Array(batch * seq).fill(1n);
  for (let i = 0; i < ids.length; i++) ids[i] = BigInt(1000 + ((i * 7919) % 29000));
  // ragged batch: the last half of each odd row is padding
  for (let b = 1; b < batch; b += 2) for (let s = seq >> 1; s < seq; s++) mask[b * seq + s] = 0n;
  return {
    input_ids: new ort.Tensor('int64', ids, [batch, seq]),
    attention_mask: new ort.Tensor('int64', mask, [batch, seq]),
    ...weightFeeds,
  };
}

if (args.interleave) {
  // All sessions at once, runs alternated round by round, so machine noise hits every variant alike.
  const shape = args.shape.split('x').map(Number);
  const rounds = Number(args.rounds);
  const sessions: [string, ort.InferenceSession][] = [];
  for (const name of names) {
    const g = buildBertGraph(config, weight, { weightInputs: targets, variant: VARIANTS[name], dtype });
    sessions.push([name, await ort.InferenceSession.create(g.model, { executionProviders: ['wasm'] })]);
  }
  const f = feeds(shape[0], shape[1]);
  const times = new Map<string, number[]>(names.map((n) => [n, []]));
  for (const [, s] of sessions) await s.run(f);
  for (let r = 0; r < rounds; r++) {
    for (const [name, s] of sessions) {
      const t0 = performance.now();
      await s.run(f);
      times.get(name)!.push(performance.now() - t0);
    }
  }
  for (const [name, t] of times) {
    t.sort((a, b) => a - b);
    console.log(
      JSON.stringify({
        variant: name,
        shape: shape.join('x'),
        weightInputs: targets.length,
        p50_ms: +t[t.length >> 1].toFixed(1),
        min_ms: +t[0].toFixed(1),
      }),
    );
  }
  process.exit(0);
}

const results: Record<string, unknown>[] = [];
for (const name of names) {
  let t0 = performance.now();
  const g = buildBertGraph(config, weight, { weightInputs: targets, variant: VARIANTS[name], dtype });
  const buildMs = performance.now() - t0;
  t0 = performance.now();
  const session = await ort.InferenceSession.create(g.model, {
    executionProviders: ['wasm'],
    graphOptimizationLevel: 'all',
  });
  const sessionMs = performance.now() - t0;
  const small = feeds(1, 16);
  await session.run(small);
  const times: number[] = [];
  for (let i = 0; i < 10; i++) {
    t0 = performance.now();
    await session.run(small);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const row: Record<string, unknown> = {
    variant: name,
    threads: ort.env.wasm.numThreads,
    weightInputs: targets.length,
    modelMB: +(g.model.byteLength / 2 ** 20).toFixed(1),
    buildMs: Math.round(buildMs),
    sessionMs: Math.round(sessionMs),
    b1s16_p50_ms: +times[5].toFixed(1),
    b1s16_min_ms: +times[0].toFixed(1),
  };
  if (big) {
    const f = feeds(32, 256);
    t0 = performance.now();
    const out = await session.run(f);
    row.b32s256_ms = Math.round(performance.now() - t0);
    row.check = (out.embeddings.data as Float32Array)[0];
  }
  console.log(JSON.stringify(row));
  results.push(row);
  await session.release();
}
