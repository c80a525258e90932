/** SciFact abstracts (`title + " " + text`) from ../shared/data, the texts the encoder benches index. */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export const SCIFACT_CORPUS = resolve(
  import.meta.dirname,
  '..',
  '..',
  '..',
  'shared',
  'data',
  'beir',
  'scifact',
  'corpus.jsonl',
);

/** The first `n` SciFact documents, or null when the corpus is not there. */
export function scifactTexts(n: number): string[] | null {
  if (!existsSync(SCIFACT_CORPUS)) return null;
  const docs: string[] = [];
  for (const line of readFileSync(SCIFACT_CORPUS, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const d = JSON.parse(line) as { title?: string; text?: string };
    docs.push(`${d.title ?? ''} ${d.text ?? ''}`.trim());
    if (docs.length >= n) break;
  }
  return docs;
}
