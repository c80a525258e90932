/**
 * What the playground needs from the SDK, in one place: a thin adapter over RouterRetriever
 * that also keeps the encoder handle, so the page can show the encoder's embedded-texts counter
 * (proof that adding or removing an expert re-embeds no document).
 */
import { EncoderClient } from '../src/encoder-client.js';
import { RouterRetriever } from '../src/router-retriever.js';
import type {
  CollectionStats,
  Doc,
  IndexOptions,
  IndexResult,
  ModelInfo,
  ModelSpec,
  PilotLibraryJson,
  PilotSource,
  SearchOptions,
  SearchResult,
} from '../src/types.js';
import type { DeviceRequest, EncoderStats, LoadProgress } from '../src/boundary/encoder-api.js';

export interface DemoRetriever {
  readonly info: ModelInfo;
  /** Experts with a loaded adapter (stored ones without their adapter are listed by `storedExperts`). */
  experts(): string[];
  storedExperts(): string[];
  add(docs: Doc[], options?: IndexOptions): Promise<IndexResult>;
  search(query: string, options?: SearchOptions): Promise<SearchResult>;
  addExpert(name: string, adapter: ModelSpec, pilots: PilotSource): Promise<void>;
  removeExpert(name: string): Promise<void>;
  stats(): Promise<CollectionStats>;
  /** Texts the encoder has embedded since load (documents and queries). */
  encoderStats(): Promise<EncoderStats>;
  /** Deletes every document of the collection (experts and pilots stay). */
  clear(): Promise<void>;
  close(): Promise<void>;
}

export interface OpenDemoOptions {
  collection: string;
  model: ModelSpec;
  experts: Record<string, string>;
  pilotLibrary: string | PilotLibraryJson | null;
  device: DeviceRequest;
  onProgress?: (p: LoadProgress) => void;
}

class Adapter implements DemoRetriever {
  constructor(
    private readonly rr: RouterRetriever,
    private readonly encoder: EncoderClient,
  ) {}
  get info(): ModelInfo {
    return this.rr.model;
  }
  experts(): string[] {
    return this.rr
      .listExperts()
      .filter((e) => e.loaded)
      .map((e) => e.name);
  }
  storedExperts(): string[] {
    return this.rr
      .listExperts()
      .filter((e) => !e.loaded)
      .map((e) => e.name);
  }
  add(docs: Doc[], options?: IndexOptions): Promise<IndexResult> {
    return this.rr.add(docs, options);
  }
  search(query: string, options?: SearchOptions): Promise<SearchResult> {
    return this.rr.search(query, options);
  }
  addExpert(name: string, adapter: ModelSpec, pilots: PilotSource): Promise<void> {
    return this.rr.addExpert(name, adapter, pilots);
  }
  removeExpert(name: string): Promise<void> {
    return this.rr.removeExpert(name);
  }
  stats(): Promise<CollectionStats> {
    return this.rr.stats();
  }
  encoderStats(): Promise<EncoderStats> {
    return this.encoder.stats();
  }
  clear(): Promise<void> {
    return this.rr.clear();
  }
  async close(): Promise<void> {
    await this.rr.close();
    await this.encoder.dispose();
  }
}

export async function openRetriever(o: OpenDemoOptions): Promise<DemoRetriever> {
  const encoder = new EncoderClient();
  try {
    const rr = await RouterRetriever.open({
      name: o.collection,
      model: o.model,
      device: o.device,
      encoder,
      experts: o.experts,
      ...(o.pilotLibrary ? { pilotLibrary: o.pilotLibrary } : {}),
      onProgress: o.onProgress,
    });
    return new Adapter(rr, encoder);
  } catch (e) {
    await encoder.dispose().catch(() => undefined);
    throw e;
  }
}
