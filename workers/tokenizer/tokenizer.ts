/**
 * The encoder's tokenizer: any Hugging Face `tokenizer.json` (WordPiece, BPE, Unigram) read by
 * @huggingface/tokenizers, with Hugging Face's Python truncation (the text is cut, the special
 * tokens around it are kept) and, for BERT tokenizers, a word cache.
 *
 * Why the cache: on the 5,183 SciFact abstracts (title + text, 7.8 M characters; Node, one
 * thread, bench/tokenizer.ts) the library's encode() alone runs at about 2,300 docs/s, the
 * hand-written WordPiece this replaced at about 8,000 docs/s on a first pass and 15,000 after;
 * the tiny bench model indexes about 110 docs/s, so the library alone would add ~4% to its
 * indexing time. With the cache: about 6,500 docs/s on a first pass, 15,000 after.
 * With BERT's pipeline a text's tokens are the concatenation of its whitespace words' tokens,
 * so each distinct word goes through the library's normaliser, pre-tokenizer and model once
 * and is looked up after that (bench/tokenizer.ts measures both ways).
 */
import { Tokenizer } from '@huggingface/tokenizers';
import { RouterRetrieverError } from '../../src/boundary/errors.js';
import { bertPrepass, RE_PLAIN_ASCII, type BertPrepassOptions } from './bert-exact.js';
import { cleanModelMaxLength } from './from-vocab.js';

export interface TextTokenizer {
  /** [prefix specials] text ids [suffix specials], the text ids cut so that all fit maxLength. */
  encode(text: string, maxLength?: number): { inputIds: number[] };
  /** Token strings of the text, without special tokens and without truncation. */
  tokenize(text: string): string[];
  /** Default maxLength (tokenizer_config.json model_max_length, else 512). */
  readonly modelMaxLength: number;
  /** One more than the largest id the tokenizer can produce. */
  readonly vocabSize: number;
  /** The model type of tokenizer.json: 'WordPiece', 'BPE' or 'Unigram'. */
  readonly kind: string;
}

/** Beyond this many distinct words the cache starts again (500k words ~ 60 MB at most). */
const MAX_CACHE = 500_000;
const PROBE = '\u0000probe\u0000';

interface JsonObject {
  [k: string]: unknown;
}

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function formatError(message: string, details: Record<string, unknown> = {}): RouterRetrieverError {
  return new RouterRetrieverError('MODEL_FORMAT', message, details);
}

/** The parts of a tokenizer.json the BERT word cache relies on, or null when it does not apply. */
interface BertPipeline {
  lowercase: boolean;
  prepass: BertPrepassOptions;
  /** Added tokens (all matched on the raw text), longest first, and the characters they start with. */
  addedRe: RegExp | null;
  addedStarts: string[];
}

function bertPipelineOf(json: JsonObject, config: JsonObject): BertPipeline | null {
  const n = json.normalizer;
  const pre = json.pre_tokenizer;
  const model = json.model as JsonObject;
  if (!isObject(n) || n.type !== 'BertNormalizer') return null;
  if (!isObject(pre) || pre.type !== 'BertPreTokenizer' || model.type !== 'WordPiece') return null;
  if (config.remove_space === true || config.do_lowercase_and_remove_accent === true) return null;
  const added = (json.added_tokens as JsonObject[]).map((t) => ({
    content: String(t.content),
    plain:
      t.single_word !== true &&
      t.lstrip !== true &&
      t.rstrip !== true &&
      (t.normalized ?? t.special !== true) === false,
  }));
  if (!added.every((t) => t.plain)) return null;
  const contents = [...new Set(added.map((t) => t.content).filter((c) => c.length > 0))].sort(
    (a, b) => b.length - a.length,
  );
  return {
    lowercase: Boolean(n.lowercase),
    prepass: { cleanText: Boolean(n.clean_text), chineseChars: Boolean(n.handle_chinese_chars) },
    addedRe: contents.length ? new RegExp(`(${contents.map(escapeRe).join('|')})`) : null,
    addedStarts: [...new Set(contents.map((c) => c[0]))],
  };
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export class HfTokenizer implements TextTokenizer {
  readonly modelMaxLength: number;
  readonly vocabSize: number;
  readonly kind: string;
  private readonly hf: Tokenizer;
  private readonly prefix: number[];
  private readonly suffix: number[];
  private readonly unkId: number;
  private readonly bert: BertPipeline | null;
  private readonly bertNormalizer: boolean;
  private readonly wordCache = new Map<string, readonly number[]>();

  private constructor(json: JsonObject, config: JsonObject) {
    try {
      this.hf = new Tokenizer(json, config);
    } catch (e) {
      throw formatError(
        `tokenizer.json could not be read: ${(e as Error).message}. Re-download it, or provide vocab.txt instead.`,
      );
    }
    const model = this.hf.model!;
    this.kind = String((json.model as JsonObject).type ?? model.constructor.name);
    this.vocabSize = model.vocab.length;
    if (model.unk_token_id === undefined && this.kind === 'WordPiece') {
      throw formatError(
        `tokenizer.json's WordPiece model has no unknown token in its vocabulary (unk_token ${JSON.stringify((json.model as JsonObject).unk_token)}).`,
      );
    }
    this.unkId = model.unk_token_id ?? -1;
    this.modelMaxLength = cleanModelMaxLength(config.model_max_length);
    this.bertNormalizer = isObject(json.normalizer) && json.normalizer.type === 'BertNormalizer';
    this.bert = bertPipelineOf(json, config);
    [this.prefix, this.suffix] = this.specialsAround();
  }

  /** From a parsed or raw tokenizer.json and the folder's tokenizer_config.json (optional). */
  static fromJson(json: unknown, config: unknown = {}): HfTokenizer {
    let obj: unknown = json;
    if (typeof json === 'string') {
      try {
        obj = JSON.parse(json);
      } catch (e) {
        throw formatError(
          `tokenizer.json does not parse (${(e as Error).message}); re-download it or provide vocab.txt.`,
        );
      }
    }
    if (!isObject(obj)) throw formatError('tokenizer.json is not a JSON object; re-download it or provide vocab.txt.');
    if (!isObject(obj.model) || !('vocab' in obj.model)) {
      throw formatError(
        'tokenizer.json has no model vocabulary ("model": { "type": ..., "vocab": ... }); re-download it or provide vocab.txt.',
      );
    }
    if (obj.added_tokens !== undefined && !Array.isArray(obj.added_tokens))
      throw formatError('tokenizer.json: "added_tokens" must be an array.');
    // The library wants every section present; tokenizer.json files written by hand may omit empty ones.
    const full: JsonObject = {
      normalizer: null,
      pre_tokenizer: null,
      post_processor: null,
      decoder: null,
      ...obj,
      added_tokens: obj.added_tokens ?? [],
    };
    return new HfTokenizer(full, isObject(config) ? config : {});
  }

  encode(text: string, maxLength: number = this.modelMaxLength): { inputIds: number[] } {
    const room = maxLength - this.prefix.length - this.suffix.length;
    if (!Number.isInteger(maxLength) || room < 0) {
      throw new RouterRetrieverError(
        'INVALID_INPUT',
        `maxLength must be an integer >= ${this.prefix.length + this.suffix.length} (room for the special tokens), got ${maxLength}.`,
      );
    }
    const ids = this.textIds(text);
    if (ids.length > room) ids.length = room;
    return { inputIds: [...this.prefix, ...ids, ...this.suffix] };
  }

  tokenize(text: string): string[] {
    return this.textIds(text).map((id) => this.hf.id_to_token(id) ?? '');
  }

  /** Ids of the text without special tokens around it, untruncated. */
  private textIds(text: string): number[] {
    if (typeof text !== 'string')
      throw new RouterRetrieverError('INVALID_INPUT', `Expected a string to tokenize, got ${typeof text}.`);
    const bert = this.bert;
    if (!bert) {
      const t = this.bertNormalizer ? bertPrepass(text, this.prepassOf()) : text;
      return this.hf.encode(t, { add_special_tokens: false }).ids;
    }
    const out: number[] = [];
    if (bert.addedRe && bert.addedStarts.some((c) => text.includes(c))) {
      const parts = text.split(bert.addedRe);
      for (let i = 0; i < parts.length; i++) {
        if (i % 2 === 1) out.push(this.hf.token_to_id(parts[i])!);
        else if (parts[i]) this.sectionInto(parts[i], bert, out);
      }
    } else {
      this.sectionInto(text, bert, out);
    }
    return out;
  }

  private prepassOf(): BertPrepassOptions {
    const c = this.hf.normalizer!.config as unknown as { clean_text?: boolean; handle_chinese_chars?: boolean };
    return { cleanText: Boolean(c.clean_text), chineseChars: Boolean(c.handle_chinese_chars) };
  }

  /**
   * One stretch of text between added tokens: split on whitespace, words via the cache. The
   * normaliser works word by word here: nothing it does crosses whitespace (lower-casing's
   * final-sigma context stops at a space, NFD never reorders across one) and, once the text is
   * cleaned, it neither makes nor removes whitespace, so the words and their tokens are the
   * same as with the whole text normalised first.
   */
  private sectionInto(section: string, bert: BertPipeline, out: number[]): void {
    const words = RE_PLAIN_ASCII.test(section) ? section.split(' ') : bertPrepass(section, bert.prepass).split(/\s+/u);
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

  /**
   * A word through the library's normaliser, pre-tokenizer and model. On printable ASCII the
   * BertNormalizer only lower-cases (nothing to clean, split, compose or strip), so that is
   * done directly, a good part of a cache miss's cost (first pass 0.72x of the hand-written
   * tokenizer without this shortcut, 0.79x with it; warm 1.0x: bench/tokenizer.ts).
   */
  private wordIds(word: string): number[] {
    const bert = this.bert!;
    const normalized = RE_PLAIN_ASCII.test(word)
      ? bert.lowercase
        ? word.toLowerCase()
        : word
      : this.hf.normalizer!(word);
    const pieces = this.hf.model!(this.hf.pre_tokenizer!(normalized));
    return pieces.map((t) => this.hf.token_to_id(t) ?? this.unkId);
  }

  /** The special tokens the post-processor puts before and after a single text. */
  private specialsAround(): [number[], number[]] {
    const pp = this.hf.post_processor;
    if (!pp) return [[], []];
    const tokens = pp([PROBE], null, true).tokens;
    const at = tokens.indexOf(PROBE);
    if (at < 0) return [[], []];
    const ids = (ts: string[]) =>
      ts.map((t) => {
        const id = this.hf.token_to_id(t);
        if (id === undefined)
          throw formatError(
            `tokenizer.json's post-processor adds the token ${JSON.stringify(t)}, which is not in its vocabulary.`,
            { token: t },
          );
        return id;
      });
    return [ids(tokens.slice(0, at)), ids(tokens.slice(at + 1))];
  }
}
