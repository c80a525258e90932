/** Minimal playground: load the bundled model, embed a text, show backend and timing. */
import { EncoderClient } from '../src/encoder-client';

const params = new URLSearchParams(location.search);
const modelUrl = params.get('model') ?? new URL('../models/contriever-mini/', location.href).href;
const device = (params.get('device') as 'auto' | 'webgpu' | 'wasm' | null) ?? 'auto';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const status = $('model-status');
const bar = $<HTMLProgressElement>('model-progress');
const info = $('model-info');
const button = $<HTMLButtonElement>('embed-btn');
const out = $('embed-out');

const encoder = new EncoderClient();

function row(k: string, v: string) {
  const dt = document.createElement('dt');
  dt.textContent = k;
  const dd = document.createElement('dd');
  dd.textContent = v;
  info.append(dt, dd);
}

try {
  const m = await encoder.load(modelUrl, { device }, (p) => {
    if (p.phase === 'download' && p.total) {
      bar.value = p.loaded! / p.total;
      status.textContent = `Downloading ${p.file}: ${(p.loaded! / 1e6).toFixed(1)} / ${(p.total / 1e6).toFixed(1)} MB`;
    } else if (p.message) {
      status.textContent = p.message;
    }
  });
  bar.value = 1;
  status.textContent = `Ready on ${m.backend.toUpperCase()} in ${m.loadMs.toFixed(0)} ms.`;
  row('backend', `${m.backend} (${m.backendReason})`);
  row('dimension', String(m.dim));
  row('layers', String(m.layers));
  row('pooling', `${m.pooling}${m.normalize ? ', normalised' : ''}`);
  row('fingerprint', m.fingerprint.slice(0, 16));
  for (const w of m.warnings) row('warning', w);
  button.disabled = false;
} catch (e) {
  status.textContent = `Could not load the model: ${(e as Error).message}`;
  status.classList.add('error');
}

button.addEventListener('click', async () => {
  const text = $<HTMLTextAreaElement>('embed-text').value;
  const t0 = performance.now();
  try {
    const v = await encoder.embedQuery(text, null);
    const ms = performance.now() - t0;
    out.textContent = `${v.length}-d embedding in ${ms.toFixed(1)} ms: [${Array.from(v.slice(0, 4), (x) => x.toFixed(4)).join(', ')}, …]`;
  } catch (e) {
    out.textContent = `Error: ${(e as Error).message}`;
  }
});
