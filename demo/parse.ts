/**
 * Reading the user's documents: JSONL ({id?, title?, text}), CSV with a header (a text/body/
 * content column, optional id and title), or plain text (one document per line or per
 * paragraph). Errors say which line is wrong, in words.
 */
import type { Doc } from '../src/types.js';

export class ImportError extends Error {
  override readonly name = 'ImportError';
}

export type TextSplit = 'line' | 'paragraph';
export type Format = 'jsonl' | 'csv' | 'text';

export function detectFormat(fileName: string, head: string): Format {
  const n = fileName.toLowerCase();
  if (n.endsWith('.jsonl') || n.endsWith('.ndjson') || n.endsWith('.json')) return 'jsonl';
  if (n.endsWith('.csv') || n.endsWith('.tsv')) return 'csv';
  if (n.endsWith('.txt') || n.endsWith('.md')) return 'text';
  return head.trimStart().startsWith('{') ? 'jsonl' : 'text';
}

function pick(o: Record<string, unknown>, keys: string[]): string | undefined {
  for (const k of keys) {
    const v = o[k];
    if (typeof v === 'string' && v.trim()) return v;
    if (typeof v === 'number') return String(v);
  }
  return undefined;
}

export function parseJsonl(text: string, prefix: string): Doc[] {
  const docs: Doc[] = [];
  const lines = text.split(/\r?\n/);
  // A whole-file JSON array is accepted too.
  if (text.trimStart().startsWith('[')) {
    let arr: unknown;
    try {
      arr = JSON.parse(text);
    } catch (e) {
      throw new ImportError(`The file looks like a JSON array but is not valid JSON (${(e as Error).message}).`);
    }
    if (!Array.isArray(arr)) throw new ImportError('The JSON file is not a list of documents.');
    return arr.map((o, i) => toDoc(o, i + 1, prefix));
  }
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    let o: unknown;
    try {
      o = JSON.parse(line);
    } catch {
      throw new ImportError(
        `Line ${i + 1} is not valid JSON. Each line of a JSONL file must be one object like {"id": "1", "title": "…", "text": "…"}.`,
      );
    }
    docs.push(toDoc(o, i + 1, prefix));
  });
  return docs;
}

function toDoc(o: unknown, line: number, prefix: string): Doc {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) {
    throw new ImportError(`Line ${line} is not a JSON object with a "text" field.`);
  }
  const r = o as Record<string, unknown>;
  const text = pick(r, ['text', 'body', 'content', 'contents', 'abstract']);
  if (!text) throw new ImportError(`Line ${line} has no "text" (a non-empty string).`);
  const id = pick(r, ['id', '_id', 'docid', 'doc_id']) ?? `${prefix}${line}`;
  const title = pick(r, ['title', 'name', 'heading']);
  const doc: Doc = { id, text };
  if (title) doc.title = title;
  return doc;
}

/** RFC 4180-ish: quoted fields with "" escapes and newlines; comma, semicolon or tab separated. */
export function parseCsvRows(text: string): string[][] {
  const firstLine = text.slice(0, text.indexOf('\n') >>> 0);
  const sep = [',', ';', '\t'].map((s) => [s, firstLine.split(s).length] as const).sort((a, b) => b[1] - a[1])[0][0];
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === sep) {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      field = '';
      if (row.some((f) => f !== '')) rows.push(row);
      row = [];
    } else field += c;
  }
  if (quoted) throw new ImportError('The CSV file ends inside a quoted field (a " is not closed).');
  row.push(field);
  if (row.some((f) => f !== '')) rows.push(row);
  return rows;
}

export function parseCsv(text: string, prefix: string): Doc[] {
  const rows = parseCsvRows(text.replace(/^\uFEFF/, ''));
  if (rows.length < 2) throw new ImportError('The CSV file needs a header row and at least one document.');
  const header = rows[0].map((h) => h.trim().toLowerCase());
  const col = (names: string[]) => header.findIndex((h) => names.includes(h));
  const t = col(['text', 'body', 'content', 'contents', 'abstract', 'document']);
  if (t < 0) throw new ImportError(`The CSV header (${header.join(', ')}) has no "text" column.`);
  const idc = col(['id', '_id', 'docid', 'doc_id']);
  const tc = col(['title', 'name', 'heading']);
  const docs: Doc[] = [];
  rows.slice(1).forEach((r, i) => {
    const text = (r[t] ?? '').trim();
    if (!text) return;
    const doc: Doc = { id: (idc >= 0 && r[idc]?.trim()) || `${prefix}${i + 2}`, text };
    if (tc >= 0 && r[tc]?.trim()) doc.title = r[tc].trim();
    docs.push(doc);
  });
  return docs;
}

export function parseText(text: string, split: TextSplit, prefix: string): Doc[] {
  const parts = split === 'line' ? text.split(/\r?\n/) : text.split(/\r?\n\s*\r?\n/);
  return parts
    .map((p) => p.replace(/\s+/g, ' ').trim())
    .filter(Boolean)
    .map((p, i) => ({ id: `${prefix}${i + 1}`, text: p }));
}

export function parseDocuments(fileName: string, text: string, split: TextSplit): Doc[] {
  if (text.includes('\u0000'))
    throw new ImportError(`"${fileName}" is a binary file, not text. Use JSONL, CSV or plain text.`);
  const prefix = `${fileName.replace(/\.[^.]+$/, '')}:`;
  const fmt = detectFormat(fileName, text.slice(0, 200));
  const docs =
    fmt === 'jsonl'
      ? parseJsonl(text, prefix)
      : fmt === 'csv'
        ? parseCsv(text, prefix)
        : parseText(text, split, prefix);
  if (docs.length === 0) throw new ImportError(`"${fileName}" has no documents.`);
  const seen = new Set<string>();
  for (const d of docs) {
    if (seen.has(d.id)) throw new ImportError(`"${fileName}" has the id "${d.id}" twice; ids must be unique.`);
    seen.add(d.id);
  }
  return docs;
}
