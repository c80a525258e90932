/**
 * CSV records with the line each starts on (for error messages): RFC 4180 quoting ("" escapes a
 * quote, a quoted field may span lines), comma-separated, or tab-separated for a .tsv file.
 */
import { RouterRetrieverError } from '../boundary/errors.js';

export interface CsvRecord {
  fields: string[];
  /** 1-based line the record starts on. */
  line: number;
}

export function csvRecords(text: string, file: string): CsvRecord[] {
  const sep = /\.tsv$/i.test(file) ? '\t' : ',';
  const src = text.replace(/^\uFEFF/, '');
  const out: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let start = 1;
  let quoteLine = 0;
  const endRecord = () => {
    fields.push(field);
    if (fields.length > 1 || fields[0] !== '') out.push({ fields, line: start });
    fields = [];
    field = '';
  };
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (quoted) {
      if (c === '"' && src[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else {
        if (c === '\n') line++;
        field += c;
      }
    } else if (c === '"' && field === '') {
      quoted = true;
      quoteLine = line;
    } else if (c === sep) {
      fields.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && src[i + 1] === '\n') i++;
      endRecord();
      line++;
      start = line;
    } else field += c;
  }
  if (quoted)
    throw new RouterRetrieverError(
      'INVALID_INPUT',
      `${file}:${quoteLine}: a quoted field is never closed (a " is missing)`,
      {
        file,
        line: quoteLine,
      },
    );
  endRecord();
  return out;
}
