/**
 * Text -> index terms for the lexical (BM25) index. Two analyzers, named so that an index can
 * store which one built it:
 * - `plain`: lower-case, drop the English possessive "'s", split on anything that is not a
 *   Unicode letter or digit. With distinct query terms this is the BM25 whose numbers
 *   ../shared/data/README.md quotes (SciFact 0.662, Cranfield 0.322).
 * - `english`: `plain`, then Lucene's default English stop set removed and Porter stemming
 *   (Anserini's default English analyzer).
 */
import { porterStem } from './porter.js';

export type AnalyzerName = 'plain' | 'english';
export type Analyzer = (text: string) => string[];

/** Lucene's EnglishAnalyzer.ENGLISH_STOP_WORDS_SET (33 words), Anserini's default. */
export const ENGLISH_STOP_WORDS: ReadonlySet<string> = new Set(
  'a an and are as at be but by for if in into is it no not of on or such that the their then there these they this to was will with'.split(
    ' ',
  ),
);

const SPLIT = /[^\p{L}\p{N}]+/u;
const POSSESSIVE = /['\u2019]s(?![\p{L}\p{N}])/gu;

/** Memo of stems, bounded so that a long-running page does not grow without limit. */
const stemCache = new Map<string, string>();
function stemCached(w: string): string {
  let s = stemCache.get(w);
  if (s === undefined) {
    s = porterStem(w);
    if (stemCache.size > 500_000) stemCache.clear();
    stemCache.set(w, s);
  }
  return s;
}

export interface AnalyzerOptions {
  /** Remove {@link ENGLISH_STOP_WORDS}. */
  stopwords: boolean;
  /** Porter-stem. */
  stem: boolean;
}

export function makeAnalyzer(options: AnalyzerOptions): Analyzer {
  const { stopwords, stem } = options;
  return (text) => {
    const out: string[] = [];
    for (const tok of text.toLowerCase().replace(POSSESSIVE, '').split(SPLIT)) {
      if (tok.length === 0 || (stopwords && ENGLISH_STOP_WORDS.has(tok))) continue;
      out.push(stem ? stemCached(tok) : tok);
    }
    return out;
  };
}

const ANALYZERS: Record<AnalyzerName, Analyzer> = {
  plain: makeAnalyzer({ stopwords: false, stem: false }),
  english: makeAnalyzer({ stopwords: true, stem: true }),
};

export function isAnalyzerName(x: unknown): x is AnalyzerName {
  return x === 'plain' || x === 'english';
}

export function analyzerFor(name: AnalyzerName): Analyzer {
  return ANALYZERS[name];
}
