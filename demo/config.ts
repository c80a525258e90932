/**
 * The playground's model and expert presets: the ONE place to switch the default model.
 *
 * URL parameters override the preset:
 *   ?preset=tiny|contriever-mini
 *   ?model=<url or Hub id>&experts=name=url,name=url&pilots=<url>
 *   ?sample=tiny (73 short documents, used by the e2e tests) | small (300) | full (3000, default)
 *   ?device=auto|webgpu|wasm   ?collection=<name>
 *   ?prebuilt=0: index the sample in the browser even when its prebuilt collection is there
 */
import type { DeviceRequest } from '../src/boundary/encoder-api.js';

export interface Preset {
  label: string;
  model: string;
  /** Expert name -> adapter folder URL. Empty + `expertsBase`: one expert per pilot-library key. */
  experts: Record<string, string>;
  /** Folder holding `<name>/` adapter folders, for experts named by the pilot library. */
  expertsBase?: string;
  pilotLibrary: string | null;
  /**
   * The sample as a prebuilt collection ({sample}: full, small or tiny), built for this model by
   * `npm run demo` (tools/build-demo-collections.ts); the page indexes in the browser without it.
   */
  prebuilt?: string;
}

export const PRESETS: Record<string, Preset> = {
  'contriever-mini': {
    label: 'contriever-mini (bundled default)',
    model: '/models/contriever-mini/',
    experts: {},
    expertsBase: '/models/contriever-mini/experts/',
    pilotLibrary: '/models/contriever-mini/pilot-library.json',
    prebuilt: '/demo-data/prebuilt/contriever-mini-{sample}.rrc',
  },
  tiny: {
    label: 'tiny test fixture (random weights: results are not meaningful)',
    model: '/test/fixtures/tiny-bert/',
    experts: {
      'expert-a': '/test/fixtures/adapters/expert-a/',
      'expert-b': '/test/fixtures/adapters/expert-b/',
    },
    pilotLibrary: '/demo-data/tiny-pilots.json',
  },
};

/** The bundled trained model; the e2e tests pass ?preset=tiny explicitly. */
export const DEFAULT_PRESET = 'contriever-mini';

export const SAMPLE = {
  full: '/demo-data/sample.jsonl',
  small: '/demo-data/sample-small.jsonl',
  tiny: '/demo-data/sample-tiny.jsonl',
  meta: '/demo-data/queries.json',
};

export interface DemoConfig {
  presetName: string | null;
  model: string;
  experts: Record<string, string>;
  expertsBase?: string;
  pilotLibrary: string | null;
  sample: 'full' | 'small' | 'tiny';
  device: DeviceRequest;
  collection: string;
  /** URL of the sample's prebuilt collection for this model (null: none, or ?prebuilt=0). */
  prebuilt: string | null;
}

/** A Hub id (`facebook/contriever`) or a URL/path, as the user typed it. */
export function isModelRef(s: string): boolean {
  return /^[\w.-]+\/[\w.-]+$/.test(s) || /^https?:\/\//.test(s) || s.startsWith('/');
}

function slug(s: string): string {
  return s
    .replace(/^https?:\/\//, '')
    .replace(/[^\w.-]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 60);
}

export function readConfig(search = location.search): DemoConfig {
  const p = new URLSearchParams(search);
  const presetName = p.get('model') ? null : (p.get('preset') ?? DEFAULT_PRESET);
  const preset = presetName ? (PRESETS[presetName] ?? PRESETS[DEFAULT_PRESET]) : null;
  const experts: Record<string, string> = { ...(preset?.experts ?? {}) };
  const expertsParam = p.get('experts');
  if (expertsParam !== null) {
    for (const k of Object.keys(experts)) delete experts[k];
    for (const part of expertsParam.split(',').filter(Boolean)) {
      const i = part.indexOf('=');
      if (i > 0) experts[part.slice(0, i)] = part.slice(i + 1);
    }
  }
  const model = p.get('model') ?? preset!.model;
  const sample = (['small', 'tiny'] as const).find((x) => x === p.get('sample')) ?? 'full';
  const device = (['auto', 'webgpu', 'wasm'] as const).find((d) => d === p.get('device')) ?? 'auto';
  return {
    presetName,
    model,
    experts,
    expertsBase: expertsParam === null ? preset?.expertsBase : undefined,
    pilotLibrary: p.has('pilots') ? p.get('pilots') || null : (preset?.pilotLibrary ?? null),
    sample,
    device,
    prebuilt: preset?.prebuilt && p.get('prebuilt') !== '0' ? preset.prebuilt.replace('{sample}', sample) : null,
    // One IndexedDB database per model (and sample size): never mixes vectors of two models.
    collection: p.get('collection') ?? `demo-${slug(presetName ?? model)}-${sample}`,
  };
}
