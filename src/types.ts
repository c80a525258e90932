/**
 * Public types of the main-thread SDK (RouterRetriever). The class itself lives in
 * src/router-retriever.ts; the encoder boundary types in src/boundary/encoder-api.ts.
 */
import type { DeviceRequest, EmbedProgress, EncoderApi, ExpertInfo, LoadProgress, ModelInfo, ModelSpec } from './boundary/encoder-api.js';
import type { Doc } from './doc.js';

export type { DeviceRequest, Doc, EmbedProgress, EncoderApi, ExpertInfo, LoadProgress, ModelInfo, ModelSpec };

/** The authors' pilot-library JSON: expert name -> list of pilot embeddings. */
export type PilotLibraryJson = Record<string, number[][]>;

/** How an expert gets its pilot embeddings when added. */
export type PilotSource =
  /** Sample queries of the expert's domain: their base-encoder centroid becomes its pilot embedding. */
  | { pilotQueries: string[] }
  /** Ready pilot embeddings (e.g. from the authors' JSON). */
  | { pilotEmbeddings: number[][] };

export interface ExpertSpec {
  adapter: ModelSpec;
  pilots?: PilotSource;
}

export type RoutingMode = 'mean' | 'max';

export interface OpenOptions {
  /** Collection name: one IndexedDB database per collection. */
  name: string;
  /** Base model: URL/path/Hub id or in-memory files. */
  model: ModelSpec;
  /** Experts to register at open (adapters are not stored; pilots are). */
  experts?: Record<string, ModelSpec | ExpertSpec>;
  /** A pilot library to use (authors' JSON shape or a URL to it). */
  pilotLibrary?: PilotLibraryJson | string;
  device?: DeviceRequest;
  /** 'mean' (the paper, default) or 'max' (the authors' code). */
  routing?: RoutingMode;
  /** Opened with another base model: 'error' (default) or re-embed every document. */
  onModelMismatch?: 'error' | 'reindex';
  /** Use int8 vectors (scan int8, rescore exactly): true, false, or 'auto' (default: from 200k documents). */
  int8?: boolean | 'auto';
  /** An encoder to use instead of starting the worker (Node tools, tests). */
  encoder?: EncoderApi;
  onProgress?: (p: LoadProgress) => void;
}

export interface IndexProgress extends EmbedProgress {
  /** 'embed' while the worker embeds, 'store' while IndexedDB commits. */
  phase: 'embed' | 'store';
}

export interface IndexOptions {
  batchSize?: number;
  signal?: AbortSignal;
  onProgress?: (p: IndexProgress) => void;
}

export interface IndexResult {
  added: number;
  replaced: number;
  /** Documents already stored with identical content, not re-embedded. */
  skipped: number;
}

export interface SearchOptions {
  k?: number;
  /** 'auto' = route; 'none' = base encoder; or an expert name. */
  expert?: 'auto' | 'none' | string;
  signal?: AbortSignal;
}

export interface RouteResult {
  /** Chosen expert, or null when no expert/pilots exist (base encoder). */
  expert: string | null;
  mode: RoutingMode;
  /** Per-expert similarity (mean or max over its pilots). */
  scores: Record<string, number>;
}

export interface Hit {
  id: string;
  score: number;
  doc: Doc;
}

export interface SearchResult {
  hits: Hit[];
  route: RouteResult;
  timings: { route: number; encode: number; search: number; total: number };
}

/** A labelled training query of a domain, for building the pilot library. */
export interface TrainingQuery {
  text: string;
  /** Relevant document ids with graded relevance (> 0). */
  relevant: Record<string, number>;
}

export interface PilotDomain {
  name: string;
  queries: TrainingQuery[];
  /** The domain's corpus; omitted = the collection's documents. */
  corpus?: Doc[];
}

export interface CollectionStats {
  documents: number;
  dim: number;
  experts: string[];
  /** navigator.storage.estimate() where available. */
  usageBytes: number | null;
  quotaBytes: number | null;
}
