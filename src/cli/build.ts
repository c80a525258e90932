/**
 * What `router-retriever index` computes, without the file system: the documents' base-encoder
 * embeddings (rows of a previous file reused for documents whose content is unchanged), the
 * lexical analysis, and the collection file that RouterRetriever.importCollection() and
 * open({ prebuilt }) import. The rows are what add() would store: the same engine, docText()
 * as the encoder's input, no truncation beyond the model's own.
 */
import type { EmbedProgress, EncoderApi } from '../boundary/encoder-api.js';
import { docText, sameContent, type Doc } from '../doc.js';
import { analyzerFor } from '../lexical/analyzer.js';
import type { LexicalOptions } from '../lexical/lexical-index.js';
import type { PilotExtras } from '../router/library-file.js';
import { encodeCollectionFile } from '../store/collection-file.js';
import type { ExpertRecord } from '../store/schema.js';
import type { CollectionFile } from '../store/transfer.js';
import type { PilotLibrary } from '../vectors.js';

export interface BuildInput {
  name: string;
  docs: readonly Doc[];
  encoder: Pick<EncoderApi, 'embedDocuments'>;
  model: { fingerprint: string; dim: number; dtype?: 'fp32' | 'q8' };
  /** The file of an earlier run: rows of documents with the same id and content are reused. */
  previous?: CollectionFile;
  experts: readonly ExpertRecord[];
  pilots: PilotLibrary;
  extras: PilotExtras;
  lexical: LexicalOptions;
  batchSize?: number;
  onProgress?: (p: EmbedProgress) => void;
}

export interface BuildResult {
  file: ArrayBuffer;
  embedded: number;
  /** Documents whose row came from the previous file. */
  reused: number;
  /** Documents of the previous file that are no longer in the input. */
  removed: number;
  /** Why the previous file could not be reused, if it was given and was not. */
  previousIgnored?: string;
  /** Distinct terms of the lexical index (the browser builds the term vectors with `lexical` on import). */
  terms: number;
}

/** Row index in `previous` of each document whose content is unchanged, else -1. */
function reusableRows(docs: readonly Doc[], previous: CollectionFile): number[] {
  const at = new Map(previous.header.docs.map((d, i) => [d.id, i]));
  return docs.map((d) => {
    const i = at.get(d.id);
    return i !== undefined && sameContent(previous.header.docs[i], d) ? i : -1;
  });
}

export async function buildCollection(input: BuildInput): Promise<BuildResult> {
  const { docs, model, previous } = input;
  const dim = model.dim;
  let previousIgnored: string | undefined;
  let rows = docs.map(() => -1);
  if (previous) {
    if (previous.header.fingerprint !== model.fingerprint || previous.header.dim !== dim)
      previousIgnored = `it was embedded with another model (fingerprint ${previous.header.fingerprint.slice(0, 12)})`;
    else if ((previous.header.encoderDtype ?? 'fp32') !== (model.dtype ?? 'fp32'))
      previousIgnored = `it was embedded at dtype ${previous.header.encoderDtype ?? 'fp32'}, not ${model.dtype ?? 'fp32'}`;
    else rows = reusableRows(docs, previous);
  }
  const vectors = new Float32Array(docs.length * dim);
  const todo: number[] = [];
  rows.forEach((r, i) => {
    if (r >= 0) vectors.set(previous!.vectors.subarray(r * dim, (r + 1) * dim), i * dim);
    else todo.push(i);
  });
  if (todo.length > 0) {
    const flat = await input.encoder.embedDocuments(
      todo.map((i) => docText(docs[i])),
      { batchSize: input.batchSize },
      input.onProgress,
    );
    todo.forEach((i, k) => vectors.set(flat.subarray(k * dim, (k + 1) * dim), i * dim));
  }
  const analyze = analyzerFor(input.lexical.analyzer);
  const terms = new Set<string>();
  for (const d of docs) for (const t of analyze(docText(d))) terms.add(t);
  const kept = new Set(docs.map((d) => d.id));
  const file = encodeCollectionFile({
    name: input.name,
    fingerprint: model.fingerprint,
    dim,
    docs,
    vectors,
    experts: input.experts,
    pilots: input.pilots,
    lexical: input.lexical,
    extras: input.extras,
    encoderDtype: model.dtype ?? 'fp32',
  });
  const result: BuildResult = {
    file,
    embedded: todo.length,
    reused: docs.length - todo.length,
    removed: previous && !previousIgnored ? previous.header.docs.filter((d) => !kept.has(d.id)).length : 0,
    terms: terms.size,
  };
  if (previousIgnored) result.previousIgnored = previousIgnored;
  return result;
}
