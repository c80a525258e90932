/**
 * How the playground opens the SDK: RouterRetriever over an encoder whose handle the page keeps,
 * so it can show the encoder's embedded-texts counter (proof that adding or removing an expert
 * re-embeds no document). The page calls RouterRetriever itself; nothing is forwarded here.
 */
import { EncoderClient } from '../src/encoder-client.js';
import { RouterRetriever } from '../src/router-retriever.js';
import type { ModelSpec, PilotLibraryJson } from '../src/types.js';
import type { DeviceRequest, LoadProgress } from '../src/boundary/encoder-api.js';
import { libraryExperts } from '../src/router/library-file.js';
import type { DemoConfig } from './config.js';

export interface DemoRetriever {
  rr: RouterRetriever;
  encoder: EncoderClient;
}

export interface OpenDemoOptions {
  collection: string;
  model: ModelSpec;
  experts: Record<string, string>;
  pilotLibrary: string | PilotLibraryJson | null;
  device: DeviceRequest;
  /** URL of a prebuilt collection file (open()'s `prebuilt`). */
  prebuilt?: string;
  onProgress?: (p: LoadProgress) => void;
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
      ...(o.prebuilt ? { prebuilt: o.prebuilt } : {}),
      onProgress: o.onProgress,
    });
    return { rr, encoder };
  } catch (e) {
    await encoder.dispose().catch(() => undefined);
    throw e;
  }
}

/**
 * The experts to open with: the configured ones, or (a preset with an experts folder) one per
 * expert of the pilot library, from `<expertsBase><name>/`. Pilots whose expert is not loaded are
 * not routed to, so a page that passes the library without them routes nothing.
 */
export async function resolveExperts(
  cfg: Pick<DemoConfig, 'experts' | 'expertsBase' | 'pilotLibrary'>,
): Promise<{ experts: Record<string, string>; pilots: string | PilotLibraryJson | null }> {
  const experts = { ...cfg.experts };
  let pilots: string | PilotLibraryJson | null = cfg.pilotLibrary;
  if (cfg.expertsBase && cfg.pilotLibrary && Object.keys(experts).length === 0) {
    const res = await fetch(cfg.pilotLibrary);
    if (!res.ok) throw new Error(`The pilot library ${cfg.pilotLibrary} could not be downloaded (HTTP ${res.status}).`);
    pilots = (await res.json()) as PilotLibraryJson;
    // "_fusion" and "_abstain" are what was learned with the library, not experts.
    for (const name of libraryExperts(pilots)) experts[name] = `${cfg.expertsBase}${name}/`;
  }
  return { experts, pilots };
}

/**
 * True when the prebuilt collection file is served (a build output of `npm run demo`, absent in a
 * plain `vite` run from a fresh clone): a HEAD request, so the page falls back to indexing the
 * sample itself instead of failing. A dev server's HTML fallback page does not count.
 */
export async function served(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { method: 'HEAD', cache: 'no-cache' });
    return res.ok && !(res.headers.get('content-type') ?? '').includes('text/html');
  } catch {
    return false;
  }
}

/** Experts with a loaded adapter, and stored ones whose adapter must be passed again. */
export function expertNames(rr: RouterRetriever, loaded: boolean): string[] {
  return rr
    .listExperts()
    .filter((e) => e.loaded === loaded)
    .map((e) => e.name);
}
