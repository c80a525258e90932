/**
 * The remote dense index: a search service over HTTP (the reference one is server/ in this
 * repository: PostgreSQL + pgvector). The browser routes and encodes the query and sends only
 * the vector, k and the checked filter; the service answers ids and dot-product scores.
 *
 * Errors: the service unreachable, or answering 5xx or not JSON, is NETWORK and says so; a 4xx
 * (a refused write key, a filter or vector the service rejects) is INVALID_INPUT with the
 * service's message; an aborted request is CANCELLED.
 */
import { RouterRetrieverError } from '../boundary/errors.js';
import type { Doc } from '../doc.js';
import type { FilterNode } from '../filter/check.js';
import type { Hit } from '../search/types.js';
import type { RemoteIndexSpec } from '../types.js';
import type { DenseDoc, DenseIndex, DenseSearchOptions } from './dense-index.js';

export type RemoteIndexOptions = RemoteIndexSpec;

export interface RemoteHealth {
  dim: number;
  count: number;
}

/** A checked filter back in the filter language the service checks (src/filter/check.ts). */
function filterJson(n: FilterNode): unknown {
  if (n.op !== 'field') return { [n.op]: n.of.map(filterJson) };
  const { op: _op, field, values, ...bounds } = n;
  return { [field]: values ? { in: values, ...bounds } : bounds };
}

export class RemoteVectorIndex implements DenseIndex {
  readonly kind = 'remote';
  readonly url: string;
  private readonly fetch: typeof fetch;
  private readonly batchSize: number;

  constructor(private readonly options: RemoteIndexOptions) {
    let u: URL;
    try {
      u = new URL(options.url);
    } catch {
      throw new RouterRetrieverError('INVALID_INPUT', `index.url must be an http(s) URL, got ${String(options.url)}.`, {
        field: 'index.url',
      });
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:')
      throw new RouterRetrieverError('INVALID_INPUT', `index.url must be an http(s) URL, got ${options.url}.`, {
        field: 'index.url',
      });
    this.url = u.href.endsWith('/') ? u.href : `${u.href}/`;
    this.fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.batchSize = options.batchSize ?? 256;
  }

  /** Connects at open: the service must answer and hold vectors of the model's dimension. */
  static async connect(spec: RemoteIndexSpec, dim: number): Promise<RemoteVectorIndex> {
    if (typeof spec !== 'object' || spec === null)
      throw new RouterRetrieverError('INVALID_INPUT', 'index must be { url, apiKey? }.', { field: 'index' });
    const remote = new RemoteVectorIndex(spec);
    const h = await remote.health();
    if (h.dim !== dim)
      throw new RouterRetrieverError(
        'MODEL_MISMATCH',
        `The search service at ${remote.url} holds ${h.dim}-dimensional vectors; the model embeds ${dim}.`,
        { url: remote.url, dim: h.dim, modelDim: dim },
      );
    return remote;
  }

  /** The service's dimension and size; NETWORK when it cannot be reached. */
  async health(signal?: AbortSignal): Promise<RemoteHealth> {
    const h = (await this.call('GET', 'health', undefined, signal)) as RemoteHealth;
    if (typeof h?.dim !== 'number') throw this.network('answered /health without a dimension');
    return h;
  }

  async search(query: Float32Array, k: number, options: DenseSearchOptions = {}): Promise<Hit[]> {
    const body = { vector: Array.from(query), k, ...(options.filter ? { filter: filterJson(options.filter) } : {}) };
    const r = (await this.call('POST', 'search', body, options.signal)) as { hits?: Hit[] };
    if (!Array.isArray(r?.hits)) throw this.network('answered /search without hits');
    return r.hits;
  }

  async add(docs: readonly DenseDoc[]): Promise<void> {
    for (let i = 0; i < docs.length; i += this.batchSize) {
      const part = docs.slice(i, i + this.batchSize).map(({ doc, vector }) => ({
        id: doc.id,
        text: doc.text,
        ...(doc.title !== undefined ? { title: doc.title } : {}),
        ...(doc.metadata !== undefined ? { metadata: doc.metadata } : {}),
        vector: Array.from(vector),
      }));
      await this.call('POST', 'documents', { docs: part });
    }
  }

  /** The service's documents with these ids (for hits this browser does not hold). */
  async getDocs(ids: readonly string[]): Promise<Doc[]> {
    const out: Doc[] = [];
    for (let i = 0; i < ids.length; i += this.batchSize) {
      const r = (await this.call('POST', 'documents/get', { ids: ids.slice(i, i + this.batchSize) })) as {
        docs?: Doc[];
      };
      if (!Array.isArray(r?.docs)) throw this.network('answered /documents/get without docs');
      out.push(...r.docs);
    }
    return out;
  }

  async delete(ids: readonly string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += this.batchSize)
      await this.call('POST', 'documents/delete', { ids: ids.slice(i, i + this.batchSize) });
  }

  private network(what: string, details: Record<string, unknown> = {}): RouterRetrieverError {
    return new RouterRetrieverError('NETWORK', `The search service at ${this.url} ${what}.`, {
      url: this.url,
      ...details,
    });
  }

  private async call(method: 'GET' | 'POST', path: string, body: unknown, signal?: AbortSignal): Promise<unknown> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.options.apiKey && (path === 'documents' || path === 'documents/delete'))
      headers.authorization = `Bearer ${this.options.apiKey}`;
    let res: Response;
    try {
      res = await this.fetch(this.url + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
      });
    } catch (e) {
      if (signal?.aborted) throw new RouterRetrieverError('CANCELLED', 'The search was cancelled.');
      throw this.network(`could not be reached (${(e as Error).message}); is it running?`);
    }
    let json: unknown;
    try {
      json = await res.json();
    } catch {
      throw this.network(`answered ${res.status} with a body that is not JSON`, { status: res.status });
    }
    if (res.ok) return json;
    const err = json as { error?: unknown; details?: Record<string, unknown> };
    const message = typeof err?.error === 'string' ? err.error : `status ${res.status}`;
    if (res.status >= 400 && res.status < 500)
      throw new RouterRetrieverError('INVALID_INPUT', `The search service refused ${path}: ${message}`, {
        ...err?.details,
        status: res.status,
        url: this.url,
      });
    throw this.network(`failed (${res.status}: ${message})`, { status: res.status });
  }
}
