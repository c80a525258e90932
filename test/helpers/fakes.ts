/**
 * Fakes for unit tests of src/retriever/: an EncoderApi whose embeddings are a pure function
 * of the text (and expert), counting what it embeds, and an in-memory store with the
 * CollectionStore members the retriever uses (same slot rules: src/store/slots.ts; filterable
 * fields: set meta.filterable).
 */
import type { ExpertRegistry } from '../../src/retriever/experts.js';
import { RouterRetrieverError } from '../../src/boundary/errors.js';
import type { EncoderApi, ExpertInfo, ModelInfo } from '../../src/boundary/encoder-api.js';
import { docText, type Doc } from '../../src/doc.js';
import { checkDocFields, fieldValue } from '../../src/filter/fields.js';
import type { PilotExtras } from '../../src/router/library-file.js';
import { analyzerFor } from '../../src/lexical/analyzer.js';
import { LEXICAL_DEFAULTS } from '../../src/lexical/lexical-index.js';
import { Lexicon } from '../../src/lexical/lexicon.js';
import { termVectorOf, type TermVector } from '../../src/lexical/term-vector.js';
import type { IndexSnapshot } from '../../src/store/lexical.js';
import type { RetrieverStore } from '../../src/retriever/store.js';
import type { VectorChunk } from '../../src/search/types.js';
import { allocateSlots, releaseSlots } from '../../src/store/slots.js';
import type { CollectionMeta, DocRecord, ExpertRecord, PilotStateRecord } from '../../src/store/schema.js';
import type { PilotLibrary } from '../../src/vectors.js';

export const DIM = 8;

/** A deterministic unit-free vector of a text: letter counts folded into DIM buckets, plus an expert-dependent shift. */
export function fakeEmbedding(text: string, expert: string | null): Float32Array {
  const v = new Float32Array(DIM);
  for (const ch of text.toLowerCase()) if (ch >= 'a' && ch <= 'z') v[(ch.charCodeAt(0) - 97) % DIM] += 1;
  if (expert) v[expert.length % DIM] += 10;
  return v;
}

export class FakeEncoder
  implements
    Pick<EncoderApi, 'embedDocuments' | 'embedQuery' | 'embedQueries' | 'cancel' | 'addExpert' | 'removeExpert'>
{
  /** Every text embedded, in order, with the expert. */
  readonly embedded: { text: string; expert: string | null }[] = [];
  readonly experts = new Set<string>();
  /** Called before each embedDocuments call returns (e.g. to abort mid-run). */
  onDocuments?: (call: number) => void;
  private docCalls = 0;
  private readonly cancelled = new Set<string>();

  async embedDocuments(
    texts: string[],
    options: { jobId?: string } = {},
    onProgress?: (p: { done: number; total: number; docsPerSec: number; etaSec: number | null }) => void,
  ): Promise<Float32Array> {
    this.onDocuments?.(++this.docCalls);
    if (options.jobId && this.cancelled.has(options.jobId)) throw new RouterRetrieverError('CANCELLED', 'cancelled');
    const out = new Float32Array(texts.length * DIM);
    texts.forEach((t, i) => {
      this.embedded.push({ text: t, expert: null });
      out.set(fakeEmbedding(t, null), i * DIM);
    });
    onProgress?.({ done: texts.length, total: texts.length, docsPerSec: 0, etaSec: 0 });
    return out;
  }
  async embedQuery(text: string, expert: string | null): Promise<Float32Array> {
    if (expert !== null && !this.experts.has(expert))
      throw new RouterRetrieverError('NOT_FOUND', `no expert ${expert}`);
    this.embedded.push({ text, expert });
    return fakeEmbedding(text, expert);
  }
  async embedQueries(texts: string[], expert: string | null): Promise<Float32Array> {
    const out = new Float32Array(texts.length * DIM);
    for (let i = 0; i < texts.length; i++) out.set(await this.embedQuery(texts[i], expert), i * DIM);
    return out;
  }
  async cancel(jobId: string): Promise<void> {
    this.cancelled.add(jobId);
  }
  async addExpert(name: string): Promise<ExpertInfo> {
    this.experts.add(name);
    return { name, r: 2, alpha: 4, scale: 2, targets: ['query'], residentBytes: 0, addMs: 0 };
  }
  async removeExpert(name: string): Promise<void> {
    this.experts.delete(name);
  }
}

export const fakeModel = { dim: DIM, fingerprint: 'fake' } as ModelInfo;

/** An in-memory stand-in for CollectionStore (one chunk per `chunkSize` slots, like the real one; term vectors per slot, one lexicon). */
export class MemoryStore implements RetrieverStore {
  meta: CollectionMeta;
  readonly docs = new Map<string, DocRecord>();
  readonly rows = new Map<number, { id: string; v: Float32Array; t: TermVector }>();
  readonly lexicon = new Lexicon();
  analyzedDocuments = 0;
  private expertRecs = new Map<string, ExpertRecord>();
  private pilots: PilotLibrary = new Map();
  private state: PilotStateRecord | undefined;
  private extras: PilotExtras = {};
  /** putDocs calls that committed. */
  commits = 0;
  /** Makes the next write fail (as a QUOTA_EXCEEDED transaction would), committing nothing. */
  failNextWrite = false;

  constructor(chunkSize = 4) {
    this.meta = {
      name: 'mem',
      schemaVersion: 4,
      fingerprint: 'fake',
      dim: DIM,
      dtype: 'float32',
      chunkSize,
      count: 0,
      nextSlot: 0,
      freeSlots: [],
      createdAt: 0,
      updatedAt: 0,
      lexical: { ...LEXICAL_DEFAULTS },
      lexiconSize: 0,
      lexiconEpoch: 0,
      filterable: {},
    };
  }
  async getDoc(id: string) {
    return this.docs.get(id);
  }
  async getDocs(ids: readonly string[]) {
    return ids.map((id) => this.docs.get(id));
  }
  async putDocs(docs: readonly Doc[], vectors: readonly Float32Array[] | Float32Array): Promise<number[]> {
    return (await this.writeDocs(docs, vectors)).slots;
  }
  analyze(docs: readonly Doc[]) {
    const analyze = analyzerFor(this.meta.lexical.analyzer);
    this.analyzedDocuments += docs.length;
    return { analyzer: this.meta.lexical.analyzer, tokens: docs.map((d) => analyze(docText(d))) };
  }
  async writeDocs(
    docs: readonly Doc[],
    vectors: readonly Float32Array[] | Float32Array,
    pre?: { tokens: string[][] },
  ): Promise<{ slots: number[]; terms: TermVector[]; replaced: boolean[] }> {
    checkDocFields(docs, this.meta.filterable ?? {});
    const tokens = pre?.tokens ?? this.analyze(docs).tokens;
    const before = this.lexicon.size;
    const terms = tokens.map((t) => termVectorOf(t, this.lexicon));
    if (this.failNextWrite) {
      this.failNextWrite = false;
      this.lexicon.truncate(before);
      throw new RouterRetrieverError('QUOTA_EXCEEDED', 'Storage is full (fake).', { neededBytes: 1 });
    }
    const flat = vectors instanceof Float32Array ? vectors : null;
    const replaced = docs.map((d) => (this.docs.get(d.id)?.slot ?? -1) >= 0);
    const alloc = allocateSlots(
      this.meta,
      docs.map((d) => this.docs.get(d.id)?.slot),
    );
    this.meta = { ...this.meta, ...alloc.state, lexiconSize: this.lexicon.size };
    docs.forEach((d, i) => {
      const v = flat ? flat.slice(i * DIM, (i + 1) * DIM) : (vectors as Float32Array[])[i].slice();
      this.docs.set(d.id, { ...d, slot: alloc.slots[i] });
      this.rows.set(alloc.slots[i], { id: d.id, v, t: terms[i] });
    });
    this.commits++;
    return { slots: alloc.slots, terms, replaced };
  }
  async loadIndex(): Promise<IndexSnapshot> {
    const terms = [...this.rows].map(([row, r]) => ({ row, id: r.id, vector: r.t }));
    const schema = this.meta.filterable ?? {};
    const fields: IndexSnapshot['fields'] = {};
    for (const f of Object.keys(schema)) {
      fields[f] = new Array(this.meta.nextSlot).fill(null);
      for (const d of this.docs.values()) if (d.slot >= 0) fields[f][d.slot] = fieldValue(d.metadata, f, schema[f]);
    }
    return { vectors: await this.loadAll(), terms, fields };
  }
  async deleteDocs(ids: readonly string[]): Promise<number> {
    const freed: number[] = [];
    let n = 0;
    for (const id of new Set(ids)) {
      const r = this.docs.get(id);
      if (!r) continue;
      n++;
      this.docs.delete(id);
      if (r.slot >= 0) {
        this.rows.delete(r.slot);
        freed.push(r.slot);
      }
    }
    this.meta = { ...this.meta, ...releaseSlots(this.meta, freed) };
    return n;
  }
  async storedIds() {
    return new Set([...this.rows.values()].map((r) => r.id));
  }
  async pendingDocs() {
    return [...this.docs.values()].filter((d) => d.slot < 0);
  }
  async loadAll(): Promise<VectorChunk[]> {
    const { chunkSize, nextSlot } = this.meta;
    const out: VectorChunk[] = [];
    for (let c = 0; c * chunkSize < nextSlot; c++) {
      const n = Math.min(chunkSize, nextSlot - c * chunkSize);
      const vectors = new Float32Array(n * DIM);
      const ids: (string | null)[] = [];
      for (let r = 0; r < n; r++) {
        const row = this.rows.get(c * chunkSize + r);
        ids.push(row?.id ?? null);
        if (row) vectors.set(row.v, r * DIM);
      }
      out.push({ dim: DIM, vectors, ids });
    }
    return out;
  }
  async docCount() {
    return this.docs.size;
  }
  async putExpert(e: ExpertRecord) {
    this.expertRecs.set(e.name, e);
  }
  async getExperts() {
    return [...this.expertRecs.values()];
  }
  async deleteExpert(name: string) {
    this.expertRecs.delete(name);
    this.pilots.delete(name);
  }
  async putPilots(p: ReadonlyMap<string, readonly Float32Array[]>, state?: PilotStateRecord, extras: PilotExtras = {}) {
    this.pilots = new Map([...p].map(([k, v]) => [k, [...v]]));
    this.state = state;
    this.extras = { ...extras };
  }
  async getPilotExtras() {
    return { ...this.extras };
  }
  async getPilots() {
    return new Map(this.pilots);
  }
  async getPilotState<T extends PilotStateRecord = PilotStateRecord>() {
    return this.state as T | undefined;
  }
}

/** QueryEngine dependencies of a collection without experts (routing has nothing to choose from). */
export const NO_EXPERTS = {
  routing: 'mean' as const,
  abstainRule: () => undefined,
  routable: () => new Map<string, Float32Array[]>(),
  isLoaded: () => false,
  loaded: () => [] as string[],
  beforeSearch: async () => undefined,
};

/** QueryEngine dependencies that route over an ExpertRegistry's loaded experts and pilots. */
export function routingDeps(experts: Pick<ExpertRegistry, 'abstainRule' | 'routable' | 'isLoaded' | 'loaded'>) {
  return {
    routing: 'mean' as const,
    abstainRule: () => experts.abstainRule(),
    routable: () => experts.routable(),
    isLoaded: (e: string) => experts.isLoaded(e),
    loaded: () => experts.loaded(),
    beforeSearch: async () => undefined,
  };
}
