/**
 * BEIR folder parsing, pure (text in, typed structures out), so it runs in Node
 * (tools/eval/beir-node.ts reads the files) and in the browser alike.
 *
 * Layout: `corpus.jsonl` (one JSON object a line: `_id`, `title`, `text`),
 * `queries.jsonl` (`_id`, `text`), `qrels/<split>.tsv` (header line, then
 * `query-id <TAB> corpus-id <TAB> score`). Blank lines are skipped; every other
 * defect is an INVALID_INPUT error naming the file and the 1-based line.
 */
import { RouterRetrieverError } from '../boundary/errors.js';
import type { Doc } from '../doc.js';
import type { Qrels } from './metrics.js';

/** A corpus document is the SDK's Doc (BEIR's `_id`, `title`, `text`; title '' when the file has none). */
export type { Doc };

export interface BeirQuery {
  id: string;
  text: string;
}

export interface BeirDataset {
  /** Folder name, e.g. "scifact". */
  name: string;
  corpus: Doc[];
  queries: Map<string, BeirQuery>;
  /** split name (file name without .tsv) -> qrels. */
  qrels: Map<string, Qrels>;
}

function fail(file: string, line: number, what: string): never {
  throw new RouterRetrieverError('INVALID_INPUT', `${file}:${line}: ${what}`, { file, line });
}

/** Lines with their 1-based numbers, CRLF tolerated, blank lines dropped. */
function* lines(text: string): Generator<[string, number]> {
  let start = 0;
  let n = 0;
  if (text.charCodeAt(0) === 0xfeff) start = 1; // BOM
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    n++;
    let line = text.slice(start, end);
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.trim().length > 0) yield [line, n];
    start = end + 1;
  }
}

/** An id field: a string, or a number written as its decimal text (some BEIR ports do). */
function idField(obj: Record<string, unknown>, key: string, file: string, n: number): string {
  const v = obj[key];
  if (typeof v === 'string' && v.length > 0) return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return fail(file, n, `missing or empty "${key}"`);
}

function textField(obj: Record<string, unknown>, key: string, file: string, n: number, required: boolean): string {
  const v = obj[key];
  if (v === undefined || v === null) {
    if (required) fail(file, n, `missing "${key}"`);
    return '';
  }
  if (typeof v !== 'string') fail(file, n, `"${key}" must be a string`);
  return v;
}

function parseObject(line: string, file: string, n: number): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (e) {
    fail(file, n, `invalid JSON (${(e as Error).message})`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(file, n, 'expected a JSON object');
  return v as Record<string, unknown>;
}

export interface CorpusParseOptions {
  /** Keep only the first N documents (file order). */
  maxDocs?: number;
}

/** Parse corpus.jsonl. Title may be missing (""); text is required; ids must be unique. */
export function parseCorpusJsonl(text: string, file = 'corpus.jsonl', options: CorpusParseOptions = {}): Doc[] {
  const docs: Doc[] = [];
  const seen = new Set<string>();
  const max = options.maxDocs ?? Infinity;
  for (const [line, n] of lines(text)) {
    if (docs.length >= max) break;
    const o = parseObject(line, file, n);
    const id = idField(o, '_id', file, n);
    if (seen.has(id)) fail(file, n, `duplicate _id "${id}"`);
    seen.add(id);
    docs.push({ id, title: textField(o, 'title', file, n, false), text: textField(o, 'text', file, n, true) });
  }
  return docs;
}

/** Parse queries.jsonl into a map (file order kept). */
export function parseQueriesJsonl(text: string, file = 'queries.jsonl'): Map<string, BeirQuery> {
  const out = new Map<string, BeirQuery>();
  for (const [line, n] of lines(text)) {
    const o = parseObject(line, file, n);
    const id = idField(o, '_id', file, n);
    if (out.has(id)) fail(file, n, `duplicate _id "${id}"`);
    out.set(id, { id, text: textField(o, 'text', file, n, true) });
  }
  return out;
}

/**
 * Parse a qrels TSV. The first non-blank line must be the header
 * (`query-id corpus-id score`); scores are integers. A repeated (query, doc)
 * pair is an error, as in trec_eval.
 */
export function parseQrelsTsv(text: string, file = 'qrels.tsv'): Qrels {
  const qrels: Qrels = new Map();
  let header = true;
  for (const [line, n] of lines(text)) {
    const cols = line.split('\t');
    if (header) {
      header = false;
      if (cols.length >= 3 && cols[0].trim() === 'query-id' && cols[1].trim() === 'corpus-id') continue;
      fail(file, n, `expected the header "query-id<TAB>corpus-id<TAB>score", got "${line.slice(0, 80)}"`);
    }
    if (cols.length !== 3) fail(file, n, `expected 3 tab-separated columns, got ${cols.length}`);
    const [qid, did, s] = cols.map((c) => c.trim());
    if (!qid || !did) fail(file, n, 'empty query-id or corpus-id');
    if (!/^-?\d+$/.test(s)) fail(file, n, `score "${s}" is not an integer`);
    let m = qrels.get(qid);
    if (!m) qrels.set(qid, (m = new Map()));
    if (m.has(did)) fail(file, n, `duplicate judgement for query "${qid}", document "${did}"`);
    m.set(did, Number(s));
  }
  if (header) fail(file, 1, 'empty qrels file (no header)');
  return qrels;
}

/** Keep only qrels entries whose query exists (BEIR drops the rest too); report the dropped ids. */
export function qrelsWithQueries(
  qrels: Qrels,
  queries: ReadonlyMap<string, unknown>,
): { qrels: Qrels; missing: string[] } {
  const out: Qrels = new Map();
  const missing: string[] = [];
  for (const [qid, m] of qrels) {
    if (queries.has(qid)) out.set(qid, m);
    else missing.push(qid);
  }
  return { qrels: out, missing };
}

/** The text a document is indexed/embedded as: `title + " " + text` (text alone when no title). */
export { docText } from '../doc.js';

/** File contents of one BEIR folder, as text (what a page fetches or a user picks). */
export interface BeirTexts {
  corpus: string;
  queries: string;
  /** split name -> qrels/<split>.tsv text. */
  qrels: Record<string, string>;
}

/** Parses a BEIR folder given as texts (the browser's counterpart of tools/eval/beir-node.ts). */
export function parseBeirTexts(name: string, texts: BeirTexts, options: CorpusParseOptions = {}): BeirDataset {
  const qrels = new Map<string, Qrels>();
  for (const split of Object.keys(texts.qrels).sort())
    qrels.set(split, parseQrelsTsv(texts.qrels[split], `${name}/qrels/${split}.tsv`));
  return {
    name,
    corpus: parseCorpusJsonl(texts.corpus, `${name}/corpus.jsonl`, options),
    queries: parseQueriesJsonl(texts.queries, `${name}/queries.jsonl`),
    qrels,
  };
}
