/**
 * A self-describing model folder: `router-retriever.json` beside `config.json` names the folder's
 * experts (adapter folders, relative to the model), its pilot library and the encoder precisions
 * it was checked at, so `open({ model })` (and `<router-search model="...">`) route with nothing
 * else given. Without it, a widget given only a pilot library silently routed to nothing: pilots
 * without adapters are skipped (now also a warning, rr.warnings).
 *
 *   { "experts": { "scifact": "experts/scifact/" }, "pilotLibrary": "pilot-library.json", "dtypes": ["fp32", "q8"] }
 */
import { RouterRetrieverError } from '../boundary/errors.js';
import { resolveBaseUrl } from '../boundary/model-location.js';
import type { OpenOptions } from '../types.js';

export const MANIFEST_FILE = 'router-retriever.json';

export interface ModelManifest {
  /** expert name -> adapter folder, relative to the model folder (or absolute). */
  experts?: Record<string, string>;
  /** The pilot library file, relative to the model folder (or absolute). */
  pilotLibrary?: string;
  /** Encoder precisions the folder's numbers were measured at (informational). */
  dtypes?: string[];
}

function bad(msg: string): never {
  throw new RouterRetrieverError(
    'MODEL_FORMAT',
    `${MANIFEST_FILE}: ${msg} Fix the file or remove it (then pass experts and pilotLibrary to open()).`,
  );
}

/** Checks a parsed manifest (MODEL_FORMAT naming the field). */
export function checkManifest(x: unknown): ModelManifest {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) bad('it must be a JSON object.');
  const m = x as Record<string, unknown>;
  const out: ModelManifest = {};
  if (m.experts !== undefined) {
    if (typeof m.experts !== 'object' || m.experts === null || Array.isArray(m.experts))
      bad('"experts" must be an object { name: "adapter folder" }.');
    const experts = Object.create(null) as Record<string, string>;
    for (const [name, path] of Object.entries(m.experts as Record<string, unknown>)) {
      if (typeof path !== 'string' || path === '') bad(`expert "${name}" needs a folder path (a string).`);
      experts[name] = path;
    }
    out.experts = experts;
  }
  if (m.pilotLibrary !== undefined) {
    if (typeof m.pilotLibrary !== 'string' || m.pilotLibrary === '') bad('"pilotLibrary" must be a file path.');
    out.pilotLibrary = m.pilotLibrary;
  }
  if (m.dtypes !== undefined) {
    if (!Array.isArray(m.dtypes) || m.dtypes.some((d) => typeof d !== 'string'))
      bad('"dtypes" must be a list of names.');
    out.dtypes = [...(m.dtypes as string[])];
  }
  return out;
}

/** A path of the manifest against the model folder's URL (absolute URLs and paths kept). */
function against(base: string, path: string): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(path) || path.startsWith('/')) return path;
  return base + path.replace(/^\.\//, '');
}

/** The manifest of a model given by location (null: none there, or the model is in-memory files). */
export async function fetchManifest(
  model: OpenOptions['model'],
): Promise<{ manifest: ModelManifest; base: string } | null> {
  if (typeof model !== 'string' || typeof fetch !== 'function') return null;
  const base = resolveBaseUrl(model);
  let res: Response;
  try {
    res = await fetch(base + MANIFEST_FILE);
  } catch {
    return null; // offline or a scheme fetch cannot read: the folder is used as before
  }
  if (!res.ok) return null;
  // Dev servers and single-page-app hosts answer a missing file with their HTML page (vite does):
  // that is "no manifest", not a broken one.
  if ((res.headers.get('content-type') ?? '').includes('text/html')) return null;
  const text = await res.text();
  if (/^\s*</.test(text)) return null;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    bad(`it is not valid JSON (${(e as Error).message}).`);
  }
  return { manifest: checkManifest(json), base };
}

/** The open() options with what the model folder's manifest names, where the caller gave nothing. */
export async function withManifest<T extends Pick<OpenOptions, 'model' | 'experts' | 'pilotLibrary'>>(
  options: T,
): Promise<T> {
  if (options.experts !== undefined && options.pilotLibrary !== undefined) return options;
  const found = await fetchManifest(options.model);
  if (!found) return options;
  const { manifest, base } = found;
  const out = { ...options };
  if (out.experts === undefined && manifest.experts)
    out.experts = Object.fromEntries(Object.entries(manifest.experts).map(([n, p]) => [n, against(base, p)]));
  if (out.pilotLibrary === undefined && manifest.pilotLibrary) out.pilotLibrary = against(base, manifest.pilotLibrary);
  return out;
}
