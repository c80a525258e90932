/**
 * The CLI's document input: a JSONL file (one Doc a line: `id` or BEIR's `_id`, `text`, optional
 * `title` and `metadata`), a CSV file with a header (`id`, `text`, optional `title`; other columns
 * go into metadata), or a BEIR folder (its corpus.jsonl). Nothing is guessed: a malformed line, a
 * missing or duplicate id or a text that is not a string stops the run with the file, the 1-based
 * line and what to fix (INVALID_INPUT, details { file, line }). The result passes validateDocs.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { RouterRetrieverError } from '../boundary/errors.js';
import { validateDocs, type Doc } from '../doc.js';
import { parseCorpusJsonl } from '../eval/beir.js';
import { csvRecords } from './csv.js';

function fail(file: string, line: number, what: string): never {
  throw new RouterRetrieverError('INVALID_INPUT', `${file}:${line}: ${what}`, { file, line });
}

/** An id: a non-empty string, or a finite number written as its decimal text (as BEIR ports do). */
function idOf(v: unknown, file: string, line: number, field: string): string {
  if (typeof v === 'string' && v !== '') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (v === undefined || v === '') fail(file, line, `the document has no id: give each line a non-empty "${field}"`);
  return fail(file, line, `"${field}" must be a string, got ${JSON.stringify(v)}`);
}

function docOfObject(o: Record<string, unknown>, file: string, line: number): Doc {
  const field = 'id' in o ? 'id' : '_id' in o ? '_id' : 'id';
  const d: Doc = { id: idOf(o[field], file, line, field), text: '' };
  if (typeof o.text !== 'string')
    fail(file, line, `"text" must be a string, got ${o.text === undefined ? 'nothing' : JSON.stringify(o.text)}`);
  d.text = o.text;
  if (o.title !== undefined && o.title !== null) {
    if (typeof o.title !== 'string') fail(file, line, `"title" must be a string, got ${JSON.stringify(o.title)}`);
    if (o.title !== '') d.title = o.title;
  }
  if (o.metadata !== undefined) {
    const m = o.metadata;
    if (typeof m !== 'object' || m === null || Array.isArray(m)) fail(file, line, '"metadata" must be a JSON object');
    d.metadata = m as Record<string, unknown>;
  }
  return d;
}

/** Throws on the second line that uses an id, naming both lines. */
function checkUnique(ids: readonly string[], lines: readonly number[], file: string): void {
  const seen = new Map<string, number>();
  ids.forEach((id, i) => {
    const prev = seen.get(id);
    if (prev !== undefined) fail(file, lines[i], `duplicate id "${id}" (first on line ${prev}); ids must be unique`);
    seen.set(id, lines[i]);
  });
}

export function parseDocsJsonl(text: string, file: string): Doc[] {
  const docs: Doc[] = [];
  const lines: number[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') return;
    let v: unknown;
    try {
      v = JSON.parse(i === 0 ? line.replace(/^\uFEFF/, '') : line);
    } catch (e) {
      fail(
        file,
        i + 1,
        `not valid JSON (${(e as Error).message}); each line must be one object like {"id": "1", "text": "..."}`,
      );
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(file, i + 1, 'expected a JSON object');
    docs.push(docOfObject(v as Record<string, unknown>, file, i + 1));
    lines.push(i + 1);
  });
  checkUnique(
    docs.map((d) => d.id),
    lines,
    file,
  );
  return docs;
}

export function parseDocsCsv(text: string, file: string): Doc[] {
  const rows = csvRecords(text, file);
  if (rows.length === 0) fail(file, 1, 'empty file: a header row (id,title,text) and one row per document are needed');
  const header = rows[0].fields.map((h) => h.trim().toLowerCase());
  const col = (name: string) => header.indexOf(name);
  const [idc, tc, textc] = [col('id') >= 0 ? col('id') : col('_id'), col('title'), col('text')];
  if (idc < 0 || textc < 0)
    fail(file, rows[0].line, `the header (${header.join(', ')}) needs an "id" and a "text" column`);
  const docs: Doc[] = [];
  for (const { fields, line } of rows.slice(1)) {
    if (fields.length !== header.length)
      fail(file, line, `${fields.length} fields, the header has ${header.length} (a quote or separator too many?)`);
    const d: Doc = { id: idOf(fields[idc], file, line, header[idc]), text: fields[textc] };
    if (tc >= 0 && fields[tc] !== '') d.title = fields[tc];
    const extra = header.map((h, i) => [h, fields[i]] as const).filter((_, i) => i !== idc && i !== tc && i !== textc);
    if (extra.length) d.metadata = Object.fromEntries(extra);
    docs.push(d);
  }
  checkUnique(
    docs.map((d) => d.id),
    rows.slice(1).map((r) => r.line),
    file,
  );
  return docs;
}

/** Reads `input`: a .jsonl/.ndjson file, a .csv/.tsv file, or a BEIR folder (corpus.jsonl). */
export async function readDocs(input: string): Promise<Doc[]> {
  let isDir: boolean;
  try {
    isDir = (await stat(input)).isDirectory();
  } catch {
    throw new RouterRetrieverError(
      'FILE_NOT_FOUND',
      `${input} does not exist: give a .jsonl or .csv file or a BEIR folder`,
      {
        file: input,
      },
    );
  }
  let docs: Doc[];
  if (isDir) {
    const file = join(input, 'corpus.jsonl');
    const text = await readFile(file, 'utf8').catch(() => {
      throw new RouterRetrieverError(
        'FILE_NOT_FOUND',
        `${input} is a folder without corpus.jsonl (a BEIR folder has one)`,
        {
          file,
        },
      );
    });
    docs = parseCorpusJsonl(text, file).map((d) => (d.title === '' ? { id: d.id, text: d.text } : d));
  } else if (/\.(csv|tsv)$/i.test(input)) docs = parseDocsCsv(await readFile(input, 'utf8'), input);
  else if (/\.(jsonl|ndjson)$/i.test(input)) docs = parseDocsJsonl(await readFile(input, 'utf8'), input);
  else
    throw new RouterRetrieverError(
      'INVALID_INPUT',
      `${input}: unknown kind of file; give a .jsonl (one {"id", "text", "title"?} a line), a .csv with a header, or a BEIR folder`,
      { file: input },
    );
  validateDocs(docs);
  return docs;
}
