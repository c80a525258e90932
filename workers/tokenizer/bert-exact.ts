/**
 * The one place where @huggingface/tokenizers 0.2.0 is not exact for BERT, and what is done
 * about it. Its BertNormalizer differs from Hugging Face's Python BertTokenizer (the reference
 * of test/fixtures/tokenizer-golden.json) in three ways, each shown in test/tokenizer.test.ts:
 *  1. CJK ideographs beyond U+FFFF (U+20000.., U+2F800..) are not split into words: it walks
 *     UTF-16 units, so 'a\u{20000}b' is one word ([UNK]) instead of three;
 *  2. unassigned code points (category Cn) are kept; Python drops every "C*" character;
 *  3. no NFC: Python composes the text before splitting it, which matters where accents are
 *     kept (a cased vocabulary has 'é' but not 'e' + U+0301).
 * bertPrepass does Python's first three steps (clean, CJK spacing, NFC) on text that is not
 * plain ASCII; the library's BertNormalizer then finds nothing left to clean or to compose
 * (its extra spaces around BMP ideographs only split words that are already split).
 */

export interface BertPrepassOptions {
  cleanText: boolean;
  chineseChars: boolean;
}

// "C*" (Cc, Cf, Cs, Co, Cn) except \t \n \r, plus U+FFFD (\0 is Cc): Python's _is_control.
const RE_CONTROL = /(?![\t\n\r])[\p{C}\uFFFD]/gu;
// Python's _is_whitespace: \t \n \r and Zs.
const RE_WHITESPACE = /[\t\n\r\p{Zs}]/gu;
// BERT's _is_chinese_char ranges, astral ones included.
const RE_CJK =
  /([\u{4E00}-\u{9FFF}\u{3400}-\u{4DBF}\u{20000}-\u{2A6DF}\u{2A700}-\u{2B73F}\u{2B740}-\u{2B81F}\u{2B820}-\u{2CEAF}\u{F900}-\u{FAFF}\u{2F800}-\u{2FA1F}])/gu;
// biome-ignore lint/suspicious/noControlCharactersInRegex: the range 0x00-0x7f is what ASCII means
const RE_ASCII = /^[\x00-\x7f]*$/;

/** Text made only of printable ASCII and plain spaces: nothing to clean, split or compose. */
export const RE_PLAIN_ASCII = /^[\x20-\x7e]*$/;

/** Python BertTokenizer's clean / CJK / NFC steps, in its order. */
export function bertPrepass(text: string, o: BertPrepassOptions): string {
  if (RE_PLAIN_ASCII.test(text)) return text;
  let t = text;
  if (o.cleanText) t = t.replace(RE_CONTROL, '').replace(RE_WHITESPACE, ' ');
  if (o.chineseChars) t = t.replace(RE_CJK, ' $1 ');
  return RE_ASCII.test(t) ? t : t.normalize('NFC');
}
