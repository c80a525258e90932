/**
 * Bench models, written to a git-ignored folder (default .cache/bench-models/), never committed:
 *
 * - `contriever`: a Contriever-shaped BERT (12 layers, hidden 768, 12 heads, intermediate 3072,
 *   vocab 30522, 512 positions) with random weights, in the Hugging Face layout
 *   (config.json, vocab.txt copied from the tiny fixture, tokenizer_config.json, model.safetensors F32),
 *   plus two random PEFT LoRA adapters (r=8, alpha=32, query+value) under adapters/expert-{a,b}/.
 * - `tiny`: a copy of test/fixtures/tiny-bert and its two adapters.
 *
 * Both also get what transformers.js needs to run the SAME weights: tokenizer.json (built from
 * vocab.txt by workers/tokenizer/from-vocab.ts) and onnx/model.onnx (our graph builder, all weights as initializers,
 * output last_hidden_state: transformers.js pools in JS).
 *
 *   npx tsx tools/make-random-bert.ts [--out .cache/bench-models] [--models tiny,contriever] [--force]
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Q8_ACTIVATION_RULE } from '../workers/model/q8-graph.js';
import { buildBertGraph } from '../workers/model/bert-graph.js';
import { parseBertConfig } from '../workers/model/config.js';
import { parseSafetensors, serializeSafetensors } from '../workers/model/safetensors.js';
import type { StateDict } from '../workers/model/tensor.js';
import { toFloat32 } from '../workers/model/tensor-convert.js';
import { bertTokenizerFromVocab, optionsFromConfig } from '../workers/tokenizer/from-vocab.js';
import { mulberry32 as rng } from '../src/router/random.js';

const ROOT = resolve(import.meta.dirname, '..');
const FIXTURES = join(ROOT, 'test', 'fixtures');

export const CONTRIEVER_SHAPE = {
  vocab_size: 30522,
  hidden_size: 768,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  intermediate_size: 3072,
  max_position_embeddings: 512,
  type_vocab_size: 2,
};

function uniform(n: number, r: () => number, std: number, mean = 0): Float32Array {
  // Uniform on [-a, a] with the given standard deviation (a = std * sqrt(3)).
  const a = std * Math.sqrt(3);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = mean + (r() * 2 - 1) * a;
  return out;
}

/** Random BertModel weights of the given shape (BERT-like init: std 0.02, LayerNorm 1/0). */
export function randomBertWeights(shape: typeof CONTRIEVER_SHAPE, seed = 1): StateDict {
  const r = rng(seed);
  const H = shape.hidden_size;
  const I = shape.intermediate_size;
  const dict: StateDict = new Map();
  const put = (name: string, dims: number[], data: Float32Array) =>
    dict.set(name, { dtype: 'float32', shape: dims, data });
  const w = (name: string, dims: number[], std = 0.02) =>
    put(
      name,
      dims,
      uniform(
        dims.reduce((a, b) => a * b, 1),
        r,
        std,
      ),
    );
  const ln = (prefix: string) => {
    put(`${prefix}.weight`, [H], uniform(H, r, 0.02, 1));
    put(`${prefix}.bias`, [H], uniform(H, r, 0.02));
  };
  w('embeddings.word_embeddings.weight', [shape.vocab_size, H]);
  w('embeddings.position_embeddings.weight', [shape.max_position_embeddings, H]);
  w('embeddings.token_type_embeddings.weight', [shape.type_vocab_size, H]);
  ln('embeddings.LayerNorm');
  for (let l = 0; l < shape.num_hidden_layers; l++) {
    const p = `encoder.layer.${l}.`;
    for (const m of ['attention.self.query', 'attention.self.key', 'attention.self.value', 'attention.output.dense']) {
      w(`${p}${m}.weight`, [H, H]);
      w(`${p}${m}.bias`, [H]);
    }
    ln(`${p}attention.output.LayerNorm`);
    w(`${p}intermediate.dense.weight`, [I, H]);
    w(`${p}intermediate.dense.bias`, [I]);
    w(`${p}output.dense.weight`, [H, I]);
    w(`${p}output.dense.bias`, [H]);
    ln(`${p}output.LayerNorm`);
  }
  return dict;
}

/** A random PEFT LoRA adapter folder (adapter_config.json + adapter_model.safetensors). */
export function writeRandomAdapter(
  dir: string,
  opts: { layers: number; hidden: number; r: number; alpha: number; targets: string[]; seed: number; base: string },
): void {
  mkdirSync(dir, { recursive: true });
  const rand = rng(opts.seed);
  const dict: StateDict = new Map();
  for (let l = 0; l < opts.layers; l++) {
    for (const t of opts.targets) {
      const key = `base_model.model.encoder.layer.${l}.attention.self.${t}`;
      // Both factors random (a trained adapter has B != 0), scaled so the delta is ~the size of W.
      dict.set(`${key}.lora_A.weight`, {
        dtype: 'float32',
        shape: [opts.r, opts.hidden],
        data: uniform(opts.r * opts.hidden, rand, 0.02),
      });
      dict.set(`${key}.lora_B.weight`, {
        dtype: 'float32',
        shape: [opts.hidden, opts.r],
        data: uniform(opts.hidden * opts.r, rand, 0.02),
      });
    }
  }
  writeFileSync(join(dir, 'adapter_model.safetensors'), serializeSafetensors(dict));
  writeFileSync(
    join(dir, 'adapter_config.json'),
    JSON.stringify(
      {
        peft_type: 'LORA',
        task_type: 'FEATURE_EXTRACTION',
        base_model_name_or_path: opts.base,
        r: opts.r,
        lora_alpha: opts.alpha,
        lora_dropout: 0,
        target_modules: opts.targets,
        fan_in_fan_out: false,
        bias: 'none',
        inference_mode: true,
      },
      null,
      2,
    ),
  );
}

/**
 * tokenizer.json + onnx/model.onnx (last_hidden_state) for transformers.js, from the folder's own
 * files, and onnx/model_quantized.onnx: the same graph at q8 (our quantization rule, weights
 * per output column), what transformers.js loads with dtype 'q8', so both sides compute the same thing.
 */
export function writeTransformersJsFiles(dir: string): void {
  const vocab = readFileSync(join(dir, 'vocab.txt'), 'utf8');
  const tokCfg = existsSync(join(dir, 'tokenizer_config.json'))
    ? JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8'))
    : {};
  const tok = bertTokenizerFromVocab(vocab, { ...optionsFromConfig(tokCfg), modelMaxLength: 512 });
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tok.tokenizerJson));
  writeFileSync(
    join(dir, 'tokenizer_config.json'),
    JSON.stringify({ ...tok.tokenizerConfig, ...tokCfg, model_max_length: 512 }, null, 2),
  );
  const configJson = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  const config = parseBertConfig(configJson, {}, {});
  const weights = parseSafetensors(new Uint8Array(readFileSync(join(dir, 'model.safetensors'))));
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  for (const [file, dtype] of [
    ['model.onnx', 'fp32'],
    ['model_quantized.onnx', 'q8'],
  ] as const) {
    const graph = buildBertGraph(
      config,
      (name) => {
        const t = weights.get(name);
        return t && { shape: t.shape, data: toFloat32(t) };
      },
      { weightInputs: [], output: 'last_hidden_state', name: 'bert_last_hidden_state', dtype },
    );
    writeFileSync(join(dir, 'onnx', file), graph.model);
  }
  writeFileSync(join(dir, 'onnx', Q8_STAMP), Q8_ACTIVATION_RULE);
}

/** Beside onnx/model_quantized.onnx: the q8 activation rule it was written with. */
const Q8_STAMP = 'q8-rule.txt';

const q8Stale = (dir: string): boolean => {
  const stamp = join(dir, 'onnx', Q8_STAMP);
  return !existsSync(stamp) || readFileSync(stamp, 'utf8') !== Q8_ACTIVATION_RULE;
};

function copyDir(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const name of readdirSync(from)) copyFileSync(join(from, name), join(to, name));
}

export interface BenchModel {
  name: string;
  dir: string;
  experts: string[];
}

/** Writes (or reuses) one bench model folder; returns where it is and its expert folders. */
export function ensureBenchModel(name: 'tiny' | 'contriever', outRoot: string, force = false): BenchModel {
  const dir = join(outRoot, name);
  const experts = ['expert-a', 'expert-b'].map((e) => join(dir, 'adapters', e));
  const done = join(dir, '.complete');
  if (!force && existsSync(done)) {
    // Folders written before the q8 graph existed, or with another q8 rule, get it now.
    if (q8Stale(dir)) writeTransformersJsFiles(dir);
    return { name, dir, experts };
  }
  mkdirSync(dir, { recursive: true });
  if (name === 'tiny') {
    const src = join(FIXTURES, 'tiny-bert');
    for (const f of ['config.json', 'vocab.txt', 'tokenizer_config.json', 'model.safetensors'])
      copyFileSync(join(src, f), join(dir, f));
    copyDir(join(FIXTURES, 'adapters', 'expert-a'), experts[0]);
    copyDir(join(FIXTURES, 'adapters', 'expert-b'), experts[1]);
  } else {
    const shape = CONTRIEVER_SHAPE;
    writeFileSync(
      join(dir, 'config.json'),
      JSON.stringify(
        {
          architectures: ['BertModel'],
          model_type: 'bert',
          hidden_act: 'gelu',
          layer_norm_eps: 1e-12,
          pad_token_id: 0,
          ...shape,
        },
        null,
        2,
      ),
    );
    copyFileSync(join(FIXTURES, 'tiny-bert', 'vocab.txt'), join(dir, 'vocab.txt'));
    writeFileSync(
      join(dir, 'tokenizer_config.json'),
      JSON.stringify({ do_lower_case: true, model_max_length: 512, tokenizer_class: 'BertTokenizer' }, null, 2),
    );
    writeFileSync(join(dir, 'model.safetensors'), serializeSafetensors(randomBertWeights(shape, 20260101)));
    const common = {
      layers: shape.num_hidden_layers,
      hidden: shape.hidden_size,
      r: 8,
      alpha: 32,
      targets: ['query', 'value'],
      base: 'random-contriever-shaped',
    };
    writeRandomAdapter(experts[0], { ...common, seed: 11 });
    writeRandomAdapter(experts[1], { ...common, seed: 22 });
  }
  writeTransformersJsFiles(dir);
  writeFileSync(done, new Date().toISOString());
  return { name, dir, experts };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: join(ROOT, '.cache', 'bench-models') },
      models: { type: 'string', default: 'tiny,contriever' },
      force: { type: 'boolean', default: false },
    },
  });
  const out = resolve(values.out);
  const models = values.models.split(',') as ('tiny' | 'contriever')[];
  for (const m of models) {
    const t0 = performance.now();
    const r = ensureBenchModel(m, out, values.force);
    console.log(`${m}: ${r.dir} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  }
}
