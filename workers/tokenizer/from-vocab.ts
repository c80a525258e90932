/**
 * A `tokenizer.json` for a model folder that has only `vocab.txt` (+ `tokenizer_config.json`):
 * what Hugging Face's BertTokenizerFast would write for the same files, i.e. BertNormalizer,
 * BertPreTokenizer, WordPiece with `##` and 100 max input chars per word, [CLS] $A [SEP].
 */
import { RouterRetrieverError } from '../../src/boundary/errors.js';

/** The subset of tokenizer_config.json that matters here. */
export interface TokenizerConfigJson {
  do_lower_case?: boolean;
  strip_accents?: boolean | null;
  tokenize_chinese_chars?: boolean;
  model_max_length?: number;
  unk_token?: string | { content: string };
  cls_token?: string | { content: string };
  sep_token?: string | { content: string };
  pad_token?: string | { content: string };
  mask_token?: string | { content: string };
}

export interface BertVocabOptions {
  /** Lower-case the text (default true; tokenizer_config.json `do_lower_case`). */
  doLowerCase?: boolean;
  /** Strip accents (default null: the same as doLowerCase, as in HF). */
  stripAccents?: boolean | null;
  /** Put spaces around CJK ideographs (default true). */
  tokenizeChineseChars?: boolean;
  /** Words longer than this (in code points) become [UNK] (default 100). */
  maxInputCharsPerWord?: number;
  /** Default truncation length including [CLS]/[SEP] (default 512). */
  modelMaxLength?: number;
  unkToken?: string;
  clsToken?: string;
  sepToken?: string;
  padToken?: string;
  maskToken?: string;
}

/** vocab.txt -> token->id map (HF load_vocab: id = line index, a repeated token keeps its last id). */
export function parseVocabTxt(text: string): Map<string, number> {
  if (typeof text !== 'string' || text.length === 0) {
    throw new RouterRetrieverError('MODEL_FORMAT', 'vocab.txt is empty; re-download it.');
  }
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const crlf = lines.length > 0 && lines.every((l) => l.endsWith('\r'));
  const vocab = new Map<string, number>();
  for (let i = 0; i < lines.length; i++) vocab.set(crlf ? lines[i].slice(0, -1) : lines[i], i);
  return vocab;
}

function tokenName(v: string | { content: string } | undefined, fallback: string): string {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof v.content === 'string') return v.content;
  return fallback;
}

/** Options from tokenizer_config.json (do_lower_case, strip_accents, ...). */
export function optionsFromConfig(config: TokenizerConfigJson = {}): BertVocabOptions {
  return {
    doLowerCase: config.do_lower_case ?? true,
    stripAccents: config.strip_accents ?? null,
    tokenizeChineseChars: config.tokenize_chinese_chars ?? true,
    modelMaxLength: config.model_max_length,
    unkToken: tokenName(config.unk_token, '[UNK]'),
    clsToken: tokenName(config.cls_token, '[CLS]'),
    sepToken: tokenName(config.sep_token, '[SEP]'),
    padToken: tokenName(config.pad_token, '[PAD]'),
    maskToken: tokenName(config.mask_token, '[MASK]'),
  };
}

/** HF writes a huge sentinel (1e30) for "unknown"; BERT's position table limits us to 512. */
export function cleanModelMaxLength(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 2 && v <= 1e6 ? Math.floor(v) : 512;
}

export interface BertTokenizerFiles {
  tokenizerJson: Record<string, unknown>;
  tokenizerConfig: Record<string, unknown>;
}

/** tokenizer.json + tokenizer_config.json equivalent to HF BertTokenizer(vocab.txt, options). */
export function bertTokenizerFromVocab(
  vocabTxt: string | Map<string, number>,
  options: BertVocabOptions = {},
): BertTokenizerFiles {
  const vocab = typeof vocabTxt === 'string' ? parseVocabTxt(vocabTxt) : vocabTxt;
  const lower = options.doLowerCase ?? true;
  const strip = options.stripAccents ?? null;
  const names = {
    unk: options.unkToken ?? '[UNK]',
    cls: options.clsToken ?? '[CLS]',
    sep: options.sepToken ?? '[SEP]',
    pad: options.padToken ?? '[PAD]',
    mask: options.maskToken ?? '[MASK]',
  };
  const need = (t: string): number => {
    const id = vocab.get(t);
    if (id === undefined) {
      throw new RouterRetrieverError(
        'MODEL_FORMAT',
        `vocab.txt has no "${t}" token, so it is not a BERT WordPiece vocabulary; provide the model's tokenizer.json instead.`,
        { token: t },
      );
    }
    return id;
  };
  const clsId = need(names.cls);
  const sepId = need(names.sep);
  need(names.unk);
  const specials = [names.pad, names.unk, names.cls, names.sep, names.mask].filter(
    (t, i, a) => vocab.has(t) && a.indexOf(t) === i,
  );
  const addedTokens = specials
    .map((t) => ({
      id: vocab.get(t)!,
      content: t,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    }))
    .sort((a, b) => a.id - b.id);
  const vocabObj: Record<string, number> = {};
  for (const [t, i] of vocab) vocabObj[t] = i;
  const single = [
    { SpecialToken: { id: names.cls, type_id: 0 } },
    { Sequence: { id: 'A', type_id: 0 } },
    { SpecialToken: { id: names.sep, type_id: 0 } },
  ];
  const tokenizerJson = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens,
    normalizer: {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: options.tokenizeChineseChars ?? true,
      // null = "as lowercase" (HF); a boolean only where it differs.
      strip_accents: strip === lower ? null : strip,
      lowercase: lower,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single,
      pair: [...single, { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: names.sep, type_id: 1 } }],
      special_tokens: {
        [names.cls]: { id: names.cls, ids: [clsId], tokens: [names.cls] },
        [names.sep]: { id: names.sep, ids: [sepId], tokens: [names.sep] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: names.unk,
      continuing_subword_prefix: '##',
      max_input_chars_per_word: options.maxInputCharsPerWord ?? 100,
      vocab: vocabObj,
    },
  };
  const tokenizerConfig: Record<string, unknown> = {
    tokenizer_class: 'BertTokenizer',
    do_lower_case: lower,
    strip_accents: strip === lower ? null : strip,
    tokenize_chinese_chars: options.tokenizeChineseChars ?? true,
    model_max_length: cleanModelMaxLength(options.modelMaxLength),
    unk_token: names.unk,
    cls_token: names.cls,
    sep_token: names.sep,
    pad_token: names.pad,
    ...(vocab.has(names.mask) ? { mask_token: names.mask } : {}),
    clean_up_tokenization_spaces: true,
  };
  return { tokenizerJson, tokenizerConfig };
}
