/**
 * Public types of the main-thread SDK (RouterRetriever). The class itself lives in
 * src/router-retriever.ts; the encoder boundary types in src/boundary/encoder-api.ts.
 */
import type {
  DeviceRequest,
  Dtype,
  DtypeRequest,
  EmbedProgress,
  EncoderApi,
  ExpertInfo,
  LoadProgress,
  ModelInfo,
  ModelSpec,
} from './boundary/encoder-api.js';
import type { Doc } from './doc.js';
import type { FusionMethod } from './hybrid/fusion.js';
import type { FusionSetting } from './hybrid/fusion-json.js';
import type { AnalyzerName } from './lexical/analyzer.js';
import type { LexicalOptions } from './lexical/lexical-index.js';

export type {
  AnalyzerName,
  DeviceRequest,
  Doc,
  Dtype,
  DtypeRequest,
  EmbedProgress,
  EncoderApi,
  ExpertInfo,
  FusionMethod,
  FusionSetting,
  LexicalOptions,
  LoadProgress,
  ModelInfo,
  ModelSpec,
};

/**
 * The authors' pilot-library JSON: expert name -> list of pilot embeddings. The key "_fusion"
 * is reserved: `{ "_fusion": { "method": "convex", "weight": 0.3 } }` is the fusion setting
 * that goes with the library (read on import, written back on export), never an expert.
 */
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

/**
 * 'knn': the abstaining router (src/router/abstain.ts): an expert only where training queries like
 * this one gained with it over the base, else the base encoder. 'mean': the paper (the best mean
 * similarity to an expert's pilots). 'max': the authors' code (the single most similar pilot).
 */
export type RoutingMode = 'knn' | 'mean' | 'max';

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
  /** Precision of the encoder (default 'auto': q8 on WASM, fp32 on WebGPU; or 'fp32', 'q8'): see LoadOptions.dtype. */
  dtype?: DtypeRequest;
  /** WASM threads: see LoadOptions.numThreads (default: onnxruntime's, half the cores when cross-origin isolated). */
  numThreads?: number;
  /** 'auto' (default): 'knn' when the pilot library has an abstention rule ("_abstain"), else 'mean'. */
  routing?: RoutingMode | 'auto';
  /** Opened with another base model: 'error' (default) or re-embed every document. */
  onModelMismatch?: 'error' | 'reindex';
  /** Use int8 vectors (scan int8, rescore exactly): true, false, or 'auto' (default: from 200k documents). */
  int8?: boolean | 'auto';
  /** An encoder to use instead of starting the worker (Node tools, tests). */
  encoder?: EncoderApi;
  /**
   * BM25 options (defaults: analyzer 'english', k1 0.9, b 0.4, uniqueQueryTerms false). A new
   * collection stores them; an existing one keeps its own unless given. Another k1 / b /
   * uniqueQueryTerms is stored and applies at once; another analyzer: see onLexicalMismatch.
   */
  lexical?: Partial<LexicalOptions>;
  /** Opened with another `lexical.analyzer` than stored: 'error' (default, MODEL_MISMATCH) or re-analyze every document. */
  onLexicalMismatch?: 'error' | 'rebuild';
  /**
   * The fusion of hybrid searches that pass none. Default: the pilot library's "_fusion" when
   * it has one, else { method: 'convex', weight: DEFAULT_LEXICAL_WEIGHT }.
   */
  fusion?: FusionSetting;
  /**
   * Metadata fields that search() can filter on (`doc.metadata[field]`): names, or names with
   * their type. A typed field only holds values of its type (another is INVALID_INPUT at add); a
   * named one holds any string, number or boolean. Stored with the collection; omitted = keep
   * the stored declaration, another one rebuilds the field columns from the stored documents.
   */
  filterable?: readonly string[] | Readonly<Record<string, FilterFieldType>>;
  /**
   * URL of a collection file built ahead of time (`router-retriever index`, or exportCollection()):
   * imported when the collection is empty or was imported from another version of the file, never
   * over documents that came from elsewhere (src/retriever/prebuilt.ts has the rule); see
   * RouterRetriever.prebuilt for what was done.
   */
  prebuilt?: string;
  /**
   * A remote dense index instead of this browser's: a search service (server/ in this
   * repository: PostgreSQL + pgvector). Searches send the routed query vector, k and the filter;
   * writes go to the service first, then to the local store (documents and BM25 stay local).
   * Checked at open: the service unreachable is NETWORK, another dimension MODEL_MISMATCH.
   */
  index?: RemoteIndexSpec;
  onProgress?: (p: LoadProgress) => void;
}

export interface RemoteIndexSpec {
  /** The service's base URL (its /search, /documents, /documents/delete, /health). */
  url: string;
  /** The service's write key (Authorization: Bearer); without it the service refuses writes. */
  apiKey?: string;
  /** Documents per write request (default 256). */
  batchSize?: number;
  /** The fetch to use (default globalThis.fetch). */
  fetch?: typeof fetch;
}

/** A filterable field's type; 'any': strings, numbers and booleans (the array form of `filterable`). */
export type FilterFieldType = 'string' | 'number' | 'boolean' | 'any';

/** A value a filter compares a field with. */
export type FilterScalar = string | number | boolean;

/**
 * One field's condition: a value (equality), or an object whose operators must all hold:
 * `eq`, `in` (any of the values), and the numeric bounds `gt`, `gte`, `lt`, `lte`. A document
 * without a value for the field matches no condition on it.
 */
export type FieldCondition =
  | FilterScalar
  | { eq?: FilterScalar; in?: readonly FilterScalar[]; gt?: number; gte?: number; lt?: number; lte?: number };

/**
 * search()'s `filter`: field conditions (several fields in one object: all must hold), and
 * `and` / `or` over nested filters (`{}` and `{ and: [] }` match every document, `{ or: [] }`
 * none). Example: `{ lang: { in: ['en', 'de'] }, or: [{ year: { gte: 2020 } }, { reviewed: true }] }`.
 */
export type Filter = { and?: readonly Filter[]; or?: readonly Filter[] } & {
  [field: string]: FieldCondition | readonly Filter[] | undefined;
};

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

/** 'hybrid' (default): dense and BM25 fused; 'dense': embeddings only; 'lexical': BM25 only (no encoder pass). */
export type SearchMode = 'hybrid' | 'dense' | 'lexical';

export interface SearchOptions {
  k?: number;
  /** 'auto' = route; 'none' = base encoder; or an expert name (the dense side; 'lexical' ignores it). */
  expert?: 'auto' | 'none' | string;
  mode?: SearchMode;
  /** This search's fusion (hybrid only); default: OpenOptions.fusion. */
  fusion?: FusionSetting;
  /**
   * Only documents whose metadata match (fields declared in OpenOptions.filterable): the exact
   * top k among them in every mode, scored as without the filter.
   */
  filter?: Filter;
  signal?: AbortSignal;
}

export interface RouteResult {
  /** Chosen expert, or null: the base encoder (no expert is routable, or the router abstained). */
  expert: string | null;
  /** The rule that decided ('knn' asked for without a rule in the library routes by 'mean'). */
  mode: RoutingMode;
  /** Per-expert similarity (mean, or max in mode 'max', over its pilots). */
  scores: Record<string, number>;
  /** True when experts were routable but the rule kept the query on the base encoder. */
  abstained: boolean;
  /** Mode 'knn': why. */
  knn?: {
    /** Per expert: its mean nDCG@10 gain over the base on the k nearest training queries. */
    gains: Record<string, number>;
    /** The best gain minus minGain: > 0 means an expert was chosen. */
    margin: number;
    /** Mean cosine similarity of the query to those training queries. */
    similarity: number;
    k: number;
    minGain: number;
  };
}

/** A hit's scores on each side; null where the side did not rank it (not in its top max(k, 100), or not run). */
export interface HitScores {
  /** Dot product of the query and document embeddings. */
  dense: number | null;
  /** BM25. */
  lexical: number | null;
  /** The score the ranking used (= `Hit.score`): the fused score in 'hybrid', else that side's. */
  fused: number;
}

export interface Hit {
  id: string;
  /** The score the ranking used (= scores.fused). */
  score: number;
  scores: HitScores;
  doc: Doc;
}

export interface SearchResult {
  hits: Hit[];
  /** The routing decision ('lexical' mode routes nothing: expert null, no scores). */
  route: RouteResult;
  /** Milliseconds: route, encode (query embeddings), search (dense index), lexical (BM25), filter (the row mask), total. */
  timings: { route: number; encode: number; search: number; lexical: number; filter: number; total: number };
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

export interface LexicalStats {
  /** Distinct terms in the collection's lexicon. */
  terms: number;
  /** Documents this instance analyzed since open (writes; 0 after opening a stored collection). */
  analyzedDocuments: number;
  /** The in-memory BM25 index (postings, lengths, ids' row table), approximately. */
  memoryBytes: number;
}

export interface CollectionStats {
  documents: number;
  dim: number;
  experts: string[];
  /** navigator.storage.estimate() where available. */
  usageBytes: number | null;
  quotaBytes: number | null;
}
