import { describe, expect, it } from 'vitest';
import { parseBertConfig } from '../workers/model/config.js';
import { isRouterRetrieverError } from '../src/boundary/errors.js';

const contriever = {
  architectures: ['BertModel'],
  attention_probs_dropout_prob: 0.1,
  hidden_act: 'gelu',
  hidden_size: 768,
  initializer_range: 0.02,
  intermediate_size: 3072,
  layer_norm_eps: 1e-12,
  max_position_embeddings: 512,
  model_type: 'bert',
  num_attention_heads: 12,
  num_hidden_layers: 12,
  pad_token_id: 0,
  position_embedding_type: 'absolute',
  type_vocab_size: 2,
  vocab_size: 30522,
};

function expectCode(fn: () => unknown, code: string, re: RegExp) {
  try {
    fn();
    expect.unreachable();
  } catch (e) {
    expect(isRouterRetrieverError(e, code as never)).toBe(true);
    expect((e as Error).message).toMatch(re);
  }
}

describe('parseBertConfig', () => {
  it('reads a Contriever config.json: mean pooling, no normalisation, 512 tokens', () => {
    expect(parseBertConfig(contriever)).toEqual({
      modelType: 'bert',
      vocabSize: 30522,
      hidden: 768,
      layers: 12,
      heads: 12,
      intermediate: 3072,
      maxPositions: 512,
      typeVocabSize: 2,
      layerNormEps: 1e-12,
      hiddenAct: 'gelu',
      pooling: 'mean',
      normalize: false,
      maxLength: 512,
    });
  });

  it('sentence-transformers files choose pooling and normalisation (BGE-style CLS + Normalize)', () => {
    const c = parseBertConfig(
      { ...contriever, hidden_size: 384, num_attention_heads: 12, intermediate_size: 1536 },
      {
        poolingConfig: {
          word_embedding_dimension: 384,
          pooling_mode_cls_token: true,
          pooling_mode_mean_tokens: false,
          pooling_mode_max_tokens: false,
        },
        modulesJson: [
          { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
          { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
          { idx: 2, name: '2', path: '2_Normalize', type: 'sentence_transformers.models.Normalize' },
        ],
        tokenizerConfig: { model_max_length: 256 },
      },
    );
    expect(c).toMatchObject({ pooling: 'cls', normalize: true, maxLength: 256, hidden: 384 });
    expect(parseBertConfig(contriever, { poolingConfig: { pooling_mode: 'mean' } }).pooling).toBe('mean');
    // tokenizer_config's "unset" sentinel does not raise the limit
    expect(parseBertConfig(contriever, { tokenizerConfig: { model_max_length: 1e30 } }).maxLength).toBe(512);
    expect(parseBertConfig(contriever, { sentenceBertConfig: { max_seq_length: 128 } }).maxLength).toBe(128);
    expect(parseBertConfig({ ...contriever, max_position_embeddings: 128 }).maxLength).toBe(128);
  });

  it('overrides win', () => {
    const c = parseBertConfig(
      contriever,
      { poolingConfig: { pooling_mode_cls_token: true } },
      { pooling: 'mean', normalize: true, maxLength: 64 },
    );
    expect(c).toMatchObject({ pooling: 'mean', normalize: true, maxLength: 64 });
    expectCode(() => parseBertConfig(contriever, {}, { maxLength: 1000 }), 'INVALID_INPUT', /maxLength/);
    expectCode(() => parseBertConfig(contriever, {}, { pooling: 'max' as never }), 'INVALID_INPUT', /pooling/);
  });

  it('activations', () => {
    expect(parseBertConfig({ ...contriever, hidden_act: 'gelu_new' }).hiddenAct).toBe('gelu_new');
    expect(parseBertConfig({ ...contriever, hidden_act: 'gelu_pytorch_tanh' }).hiddenAct).toBe('gelu_new');
    expect(parseBertConfig({ ...contriever, hidden_act: 'relu' }).hiddenAct).toBe('relu');
    expectCode(() => parseBertConfig({ ...contriever, hidden_act: 'silu' }), 'MODEL_FORMAT', /hidden_act "silu"/);
  });

  it('rejects what the graph cannot run', () => {
    expectCode(() => parseBertConfig({ ...contriever, model_type: 'roberta' }), 'MODEL_FORMAT', /model_type "roberta"/);
    expectCode(() => parseBertConfig({ ...contriever, num_attention_heads: 7 }), 'MODEL_FORMAT', /multiple/);
    expectCode(() => parseBertConfig({ ...contriever, hidden_size: -1 }), 'MODEL_FORMAT', /hidden_size/);
    expectCode(
      () => parseBertConfig({ ...contriever, position_embedding_type: 'relative_key' }),
      'MODEL_FORMAT',
      /position_embedding_type/,
    );
    expectCode(() => parseBertConfig('nope'), 'MODEL_FORMAT', /JSON object/);
    expectCode(
      () => parseBertConfig(contriever, { poolingConfig: { pooling_mode_max_tokens: true } }),
      'MODEL_FORMAT',
      /max_tokens/,
    );
    expectCode(
      () =>
        parseBertConfig(contriever, {
          poolingConfig: { pooling_mode_cls_token: true, pooling_mode_mean_tokens: true },
        }),
      'MODEL_FORMAT',
      /exactly one/,
    );
    expectCode(
      () => parseBertConfig(contriever, { modulesJson: [{ type: 'sentence_transformers.models.Dense' }] }),
      'MODEL_FORMAT',
      /Dense/,
    );
  });
});
