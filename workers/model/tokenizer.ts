import { RouterRetrieverError } from '../../src/boundary/errors.js';

/**
 * BERT WordPiece tokenizer with the exact semantics of Hugging Face's (slow, Python)
 * BertTokenizer, e.g. for bert-base-uncased / Contriever:
 *  1. literal special tokens ([CLS], [SEP], [PAD], [UNK], [MASK], case-sensitive) are kept whole;
 *  2. clean text: drop \0, U+FFFD and every Unicode "C*" character except \t \n \r; whitespace
 *     (\t \n \r and Zs) becomes a space;
 *  3. CJK ideographs (BERT's exact ranges) become separate words; NFC;
 *  4. split on whitespace; per word: lower-case, NFD and drop Mn (accents), split on
 *     punctuation (ASCII 33-47, 58-64, 91-96, 123-126 and Unicode P*);
 *  5. greedy longest-match-first WordPiece with "##", [UNK] for a word over 100 code
 *     points or with no match;
 *  6. [CLS] ... [SEP], truncated to maxLength keeping [SEP].
 */

export interface BertTokenizerOptions {
  /** Lower-case the text (default true; tokenizer_config.json `do_lower_case`). */
  doLowerCase?: boolean;
  /** Strip accents (default: same as doLowerCase, as in HF). */
  stripAccents?: boolean | null;
  /** Put spaces around CJK ideographs (default true). */
  tokenizeChineseChars?: boolean;
  /** Words longer than this (in code points) become [UNK] (default 100). */
  maxInputCharsPerWord?: number;
  /** Default truncation length including [CLS]/[SEP] (default 512; tokenizer_config `model_max_length`). */
  modelMaxLength?: number;
  unkToken?: string;
  clsToken?: string;
  sepToken?: string;
  padToken?: string;
  maskToken?: string;
  /** More strings kept whole when they appear literally in the text (tokenizer.json special added_tokens). */
  extraSpecialTokens?: readonly string[];
}

export interface EncodedBatch {
  /** [batch, seqLen] row-major token ids, padded with the pad id (0 for BERT). */
  inputIds: BigInt64Array;
  /** [batch, seqLen] 1 for real tokens, 0 for padding. */
  attentionMask: BigInt64Array;
  /** Real length (with [CLS]/[SEP]) of each row. */
  lengths: Int32Array;
  batchSize: number;
  seqLen: number;
}

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

// --- character classes ------------------------------------------------------------------

// "C*" (Cc, Cf, Cs, Co, Cn) except \t \n \r, plus U+FFFD (\0 is Cc).
const RE_CONTROL = /(?![\t\n\r])[\p{C}\uFFFD]/gu;
const RE_WHITESPACE = /[\t\n\r\p{Zs}]/gu;
const RE_CJK = /([\u{4E00}-\u{9FFF}\u{3400}-\u{4DBF}\u{20000}-\u{2A6DF}\u{2A700}-\u{2B73F}\u{2B740}-\u{2B81F}\u{2B820}-\u{2CEAF}\u{F900}-\u{FAFF}\u{2F800}-\u{2FA1F}])/gu;
const RE_SPLIT_WS = /\s+/u;
const RE_MN = /\p{Mn}/gu;
// ASCII 33-47, 58-64, 91-96, 123-126 are punctuation for BERT even when Unicode says S*.
const PUNCT = String.raw`\p{P}!-\/:-@\[-\x60\{-~`;
const RE_PUNCT_SPLIT = new RegExp(`[${PUNCT}]|[^${PUNCT}]+`, 'gu');
// eslint-disable-next-line no-control-regex
const RE_ASCII = /^[\x00-\x7f]*$/;
// Fast path: text made only of printable ASCII and plain spaces needs no cleaning.
const RE_PLAIN_ASCII = /^[\x20-\x7e]*$/;

const MAX_CACHE = 500_000;

function tokenName(v: string | { content: string } | undefined, fallback: string): string {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof v.content === 'string') return v.content;
  return fallback;
}

export class BertTokenizer {
  readonly vocab: ReadonlyMap<string, number>;
  /** id -> token (the last token string seen for an id). */
  readonly idToToken: readonly string[];
  readonly doLowerCase: boolean;
  readonly stripAccents: boolean;
  readonly tokenizeChineseChars: boolean;
  readonly maxInputCharsPerWord: number;
  readonly modelMaxLength: number;
  readonly unkId: number;
  readonly clsId: number;
  readonly sepId: number;
  readonly padId: number;
  readonly specialTokens: readonly string[];

  private readonly vocabMap: Map<string, number>;
  private readonly wordCache = new Map<string, readonly number[]>();
  private readonly specialRe: RegExp | null;
  /** A character every special token starts with, to skip the special-token split quickly. */
  private readonly specialHint: string | null;

  constructor(vocab: Map<string, number>, options: BertTokenizerOptions = {}) {
    this.vocabMap = vocab;
    this.vocab = vocab;
    const inv: string[] = [];
    for (const [t, i] of vocab) inv[i] = t;
    this.idToToken = inv;
    this.doLowerCase = options.doLowerCase ?? true;
    this.stripAccents = options.stripAccents ?? this.doLowerCase;
    this.tokenizeChineseChars = options.tokenizeChineseChars ?? true;
    this.maxInputCharsPerWord = options.maxInputCharsPerWord ?? 100;
    const maxLen = options.modelMaxLength;
    // HF writes a huge sentinel (1e30) when unknown; BERT's position table limits us to 512.
    this.modelMaxLength = maxLen !== undefined && Number.isFinite(maxLen) && maxLen >= 2 && maxLen <= 1e6 ? Math.floor(maxLen) : 512;
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
        throw new RouterRetrieverError('MODEL_FORMAT', `The vocabulary has no "${t}" token; it is not a BERT WordPiece vocabulary (vocab.txt / tokenizer.json).`, { token: t });
      }
      return id;
    };
    this.unkId = need(names.unk);
    this.clsId = need(names.cls);
    this.sepId = need(names.sep);
    this.padId = vocab.get(names.pad) ?? 0;
    this.specialTokens = [names.pad, names.unk, names.cls, names.sep, names.mask, ...(options.extraSpecialTokens ?? [])].filter(
      (t, i, a) => t.length > 0 && vocab.has(t) && a.indexOf(t) === i,
    );
    this.specialRe = this.specialTokens.length
      ? new RegExp(`(${[...this.specialTokens].sort((a, b) => b.length - a.length).map(escapeRe).join('|')})`)
      : null;
    this.specialHint = this.specialTokens.every((t) => t.startsWith('[')) ? '[' : null;
  }

  /** Builds a tokenizer from vocab.txt (one token per line, id = line number). */
  static fromVocabTxt(text: string, options: BertTokenizerOptions = {}): BertTokenizer {
    return new BertTokenizer(parseVocabTxt(text), options);
  }

  /** Builds a tokenizer from an HF tokenizer.json (WordPiece model + BertNormalizer). */
  static fromTokenizerJson(json: unknown, config: TokenizerConfigJson = {}): BertTokenizer {
    let obj: Record<string, unknown>;
    try {
      obj = (typeof json === 'string' ? JSON.parse(json) : json) as Record<string, unknown>;
    } catch (e) {
      throw new RouterRetrieverError('MODEL_FORMAT', `tokenizer.json does not parse (${(e as Error).message}); re-download it or provide vocab.txt.`);
    }
    if (typeof obj !== 'object' || obj === null) {
      throw new RouterRetrieverError('MODEL_FORMAT', 'tokenizer.json is not a JSON object; re-download it or provide vocab.txt.');
    }
    const model = obj['model'] as Record<string, unknown> | undefined;
    if (!model || model['type'] !== 'WordPiece' || typeof model['vocab'] !== 'object' || model['vocab'] === null) {
      throw new RouterRetrieverError('MODEL_FORMAT', `tokenizer.json has model type ${JSON.stringify(model?.['type'])}, not a WordPiece vocabulary; only BERT-style tokenizers are supported. Provide vocab.txt instead.`);
    }
    if ((model['continuing_subword_prefix'] ?? '##') !== '##') {
      throw new RouterRetrieverError('MODEL_FORMAT', `tokenizer.json uses the subword prefix ${JSON.stringify(model['continuing_subword_prefix'])}; only "##" is supported.`);
    }
    const vocab = new Map<string, number>();
    for (const [t, id] of Object.entries(model['vocab'] as Record<string, unknown>)) {
      if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) {
        throw new RouterRetrieverError('MODEL_FORMAT', `tokenizer.json gives token ${JSON.stringify(t)} the invalid id ${JSON.stringify(id)}.`);
      }
      vocab.set(t, id);
    }
    const norm = findBertNormalizer(obj['normalizer']);
    if (norm === undefined) {
      throw new RouterRetrieverError('MODEL_FORMAT', `tokenizer.json uses the normalizer ${JSON.stringify((obj['normalizer'] as { type?: string } | null)?.type ?? null)}; only BertNormalizer is supported. Provide vocab.txt + tokenizer_config.json instead.`);
    }
    const lower = norm['lowercase'] !== false;
    const strip = norm['strip_accents'];
    const opts: BertTokenizerOptions = {
      doLowerCase: config.do_lower_case ?? lower,
      stripAccents: config.strip_accents ?? (typeof strip === 'boolean' ? strip : null),
      tokenizeChineseChars: config.tokenize_chinese_chars ?? norm['handle_chinese_chars'] !== false,
      maxInputCharsPerWord: typeof model['max_input_chars_per_word'] === 'number' ? (model['max_input_chars_per_word'] as number) : 100,
      modelMaxLength: config.model_max_length,
      unkToken: typeof model['unk_token'] === 'string' ? (model['unk_token'] as string) : tokenName(config.unk_token, '[UNK]'),
      clsToken: tokenName(config.cls_token, '[CLS]'),
      sepToken: tokenName(config.sep_token, '[SEP]'),
      padToken: tokenName(config.pad_token, '[PAD]'),
      maskToken: tokenName(config.mask_token, '[MASK]'),
      extraSpecialTokens: Array.isArray(obj['added_tokens'])
        ? (obj['added_tokens'] as Array<{ content?: unknown; special?: unknown }>)
            .filter((t) => t && t.special === true && typeof t.content === 'string' && vocab.get(t.content as string) !== undefined)
            .map((t) => t.content as string)
        : [],
    };
    return new BertTokenizer(vocab, opts);
  }

  /** Options from tokenizer_config.json (do_lower_case, strip_accents, ...). */
  static optionsFromConfig(config: TokenizerConfigJson): BertTokenizerOptions {
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

  get vocabSize(): number {
    return this.idToToken.length;
  }

  /** Word-piece ids of `text`, without [CLS]/[SEP] and without truncation. */
  tokenizeIds(text: string): number[] {
    const out: number[] = [];
    if (typeof text !== 'string') {
      throw new RouterRetrieverError('INVALID_INPUT', `Expected a string to tokenize, got ${typeof text}.`);
    }
    if (this.specialRe && (this.specialHint === null || text.includes(this.specialHint))) {
      const parts = text.split(this.specialRe);
      for (let i = 0; i < parts.length; i++) {
        if (i % 2 === 1) out.push(this.vocabMap.get(parts[i])!);
        else if (parts[i]) this.basicInto(parts[i], out);
      }
    } else {
      this.basicInto(text, out);
    }
    return out;
  }

  /** Token strings (without [CLS]/[SEP]). */
  tokenize(text: string): string[] {
    return this.tokenizeIds(text).map((i) => this.idToToken[i]);
  }

  /** [CLS] ids [SEP], truncated to maxLength (default: modelMaxLength, 512). */
  encode(text: string, maxLength: number = this.modelMaxLength): { inputIds: number[] } {
    const max = checkMaxLength(maxLength);
    const ids = this.tokenizeIds(text);
    if (ids.length > max - 2) ids.length = max - 2;
    const inputIds = new Array<number>(ids.length + 2);
    inputIds[0] = this.clsId;
    for (let i = 0; i < ids.length; i++) inputIds[i + 1] = ids[i];
    inputIds[ids.length + 1] = this.sepId;
    return { inputIds };
  }

  /** Encodes several texts, padded with the pad id to the longest row (at most maxLength). */
  encodeBatch(texts: readonly string[], maxLength: number = this.modelMaxLength): EncodedBatch {
    const rows = texts.map((t) => this.encode(t, maxLength).inputIds);
    const seqLen = rows.reduce((m, r) => Math.max(m, r.length), 0);
    const batchSize = rows.length;
    const inputIds = new BigInt64Array(batchSize * seqLen);
    const attentionMask = new BigInt64Array(batchSize * seqLen);
    const lengths = new Int32Array(batchSize);
    const pad = BigInt(this.padId);
    for (let b = 0; b < batchSize; b++) {
      const r = rows[b];
      const base = b * seqLen;
      lengths[b] = r.length;
      for (let i = 0; i < seqLen; i++) {
        if (i < r.length) {
          inputIds[base + i] = BigInt(r[i]);
          attentionMask[base + i] = 1n;
        } else {
          inputIds[base + i] = pad;
        }
      }
    }
    return { inputIds, attentionMask, lengths, batchSize, seqLen };
  }

  /** Ids back to text (WordPiece decoding, "##" joined; special tokens skipped when asked). */
  decode(ids: readonly number[], skipSpecialTokens = true): string {
    const specials = new Set(this.specialTokens);
    let s = '';
    for (const id of ids) {
      const t = this.idToToken[id] ?? '';
      if (skipSpecialTokens && specials.has(t)) continue;
      if (t.startsWith('##')) s += t.slice(2);
      else s += (s ? ' ' : '') + t;
    }
    return s;
  }

  /** Builds an HF tokenizer.json equivalent to this tokenizer. */
  toTokenizerJson(): Record<string, unknown> {
    return buildTokenizerJson(this);
  }

  // --- internals --------------------------------------------------------------------------

  private basicInto(text: string, out: number[]): void {
    let t = text;
    if (!RE_PLAIN_ASCII.test(t)) {
      t = t.replace(RE_CONTROL, '').replace(RE_WHITESPACE, ' ');
      if (this.tokenizeChineseChars) t = t.replace(RE_CJK, ' $1 ');
      if (!RE_ASCII.test(t)) t = t.normalize('NFC');
    }
    const words = t.split(RE_SPLIT_WS);
    for (const w of words) {
      if (!w) continue;
      let ids = this.wordCache.get(w);
      if (ids === undefined) {
        ids = this.wordIds(w);
        if (this.wordCache.size >= MAX_CACHE) this.wordCache.clear();
        this.wordCache.set(w, ids);
      }
      for (let i = 0; i < ids.length; i++) out.push(ids[i]);
    }
  }

  /** One whitespace-separated word -> ids (lower-case, accents, punctuation split, WordPiece). */
  private wordIds(word: string): number[] {
    let w = word;
    if (this.doLowerCase) w = w.toLowerCase();
    if (this.stripAccents && !RE_ASCII.test(w)) w = w.normalize('NFD').replace(RE_MN, '');
    const out: number[] = [];
    const parts = w.match(RE_PUNCT_SPLIT);
    if (!parts) return out;
    for (const p of parts) this.wordPieceInto(p, out);
    return out;
  }

  private wordPieceInto(word: string, out: number[]): void {
    const vocab = this.vocabMap;
    // Length limit counts code points (Python len()).
    if (word.length > this.maxInputCharsPerWord && codePointLength(word) > this.maxInputCharsPerWord) {
      out.push(this.unkId);
      return;
    }
    const whole = vocab.get(word);
    if (whole !== undefined) {
      out.push(whole);
      return;
    }
    const start0 = out.length;
    let start = 0;
    const n = word.length;
    while (start < n) {
      let end = n;
      let cur: number | undefined;
      while (start < end) {
        const sub = start > 0 ? '##' + word.slice(start, end) : word.slice(start, end);
        cur = vocab.get(sub);
        if (cur !== undefined) break;
        end--;
        // never end between the halves of a surrogate pair (Python slices code points)
        if (end > start && isLowSurrogate(word.charCodeAt(end)) && isHighSurrogate(word.charCodeAt(end - 1))) end--;
      }
      if (cur === undefined) {
        out.length = start0;
        out.push(this.unkId);
        return;
      }
      out.push(cur);
      start = end;
    }
  }
}

function isHighSurrogate(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}
function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

function codePointLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (isHighSurrogate(c) && i + 1 < s.length && isLowSurrogate(s.charCodeAt(i + 1))) i++;
    n++;
  }
  return n;
}

function checkMaxLength(maxLength: number): number {
  if (!Number.isInteger(maxLength) || maxLength < 2) {
    throw new RouterRetrieverError('INVALID_INPUT', `maxLength must be an integer >= 2 (room for [CLS] and [SEP]), got ${maxLength}.`);
  }
  return maxLength;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
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

function findBertNormalizer(n: unknown): Record<string, unknown> | undefined {
  if (typeof n !== 'object' || n === null) return undefined;
  const o = n as Record<string, unknown>;
  if (o['type'] === 'BertNormalizer') return o;
  if (o['type'] === 'Sequence' && Array.isArray(o['normalizers']) && o['normalizers'].length === 1) return findBertNormalizer(o['normalizers'][0]);
  return undefined;
}

function buildTokenizerJson(tok: BertTokenizer): Record<string, unknown> {
  const vocab: Record<string, number> = {};
  for (const [t, i] of tok.vocab) vocab[t] = i;
  const cls = tok.idToToken[tok.clsId];
  const sep = tok.idToToken[tok.sepId];
  const unk = tok.idToToken[tok.unkId];
  const added = tok.specialTokens
    .map((t) => ({ id: tok.vocab.get(t)!, content: t, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }))
    .sort((a, b) => a.id - b.id);
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: tok.tokenizeChineseChars,
      strip_accents: tok.stripAccents === tok.doLowerCase ? null : tok.stripAccents,
      lowercase: tok.doLowerCase,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: cls, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: sep, type_id: 0 } }],
      pair: [
        { SpecialToken: { id: cls, type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: sep, type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: sep, type_id: 1 } },
      ],
      special_tokens: {
        [cls]: { id: cls, ids: [tok.clsId], tokens: [cls] },
        [sep]: { id: sep, ids: [tok.sepId], tokens: [sep] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: unk,
      continuing_subword_prefix: '##',
      max_input_chars_per_word: tok.maxInputCharsPerWord,
      vocab,
    },
  };
}

/** A tokenizer_config.json to go with toTokenizerJson() (what transformers.js expects beside it). */
export function tokenizerConfigFor(tok: BertTokenizer): Record<string, unknown> {
  return {
    tokenizer_class: 'BertTokenizer',
    do_lower_case: tok.doLowerCase,
    strip_accents: tok.stripAccents === tok.doLowerCase ? null : tok.stripAccents,
    tokenize_chinese_chars: tok.tokenizeChineseChars,
    model_max_length: tok.modelMaxLength,
    unk_token: tok.idToToken[tok.unkId],
    cls_token: tok.idToToken[tok.clsId],
    sep_token: tok.idToToken[tok.sepId],
    pad_token: tok.idToToken[tok.padId],
    mask_token: tok.specialTokens.includes('[MASK]') ? '[MASK]' : undefined,
    clean_up_tokenization_spaces: true,
  };
}
