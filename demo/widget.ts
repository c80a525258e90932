/** The widget page: two <router-search> elements on the configured model (demo/config.ts). */
import '../src/widget.js';
import { readConfig, SAMPLE } from './config.js';
import { resolveExperts, served } from './retriever.js';

const cfg = readConfig();
// The auto widget routes only with the experts' adapters: the pilot library alone names them.
const experts = Object.entries((await resolveExperts(cfg)).experts)
  .map(([n, u]) => `${n}=${u}`)
  .join(',');
const prebuilt = cfg.prebuilt && (await served(cfg.prebuilt)) ? cfg.prebuilt : '';

function make(slot: string, attrs: Record<string, string>): HTMLElement {
  const w = document.createElement('router-search');
  for (const [k, v] of Object.entries(attrs)) if (v) w.setAttribute(k, v);
  document.getElementById(slot)!.append(w);
  return w;
}

const common = {
  collection: `${cfg.collection}-widget`,
  model: cfg.model,
  experts,
  pilots: cfg.pilotLibrary ?? '',
  src: SAMPLE[cfg.sample],
  prebuilt,
  device: cfg.device,
};
const w1 = make('slot-1', {
  ...common,
  k: '5',
  expert: 'auto',
  placeholder: 'Search the sample collection',
  'aria-label': 'Search the sample collection',
});
make('slot-2', {
  ...common,
  k: '3',
  expert: 'none',
  placeholder: 'Search (base encoder)',
  'aria-label': 'Search with the base encoder',
});

const out = document.getElementById('selected')!;
w1.addEventListener('select', (e) => {
  const { hit } = (e as CustomEvent).detail as { hit: { id: string; score: number; doc: { title?: string } } };
  out.textContent = `Selected ${hit.id}${hit.doc.title ? ` (“${hit.doc.title}”)` : ''}, score ${hit.score.toFixed(3)}.`;
  out.dataset.selected = hit.id;
});
w1.addEventListener('ready', () => document.body.setAttribute('data-state', 'ready'));

document.getElementById('code')!.textContent = `<script type="module">
  import 'router-retriever-web/widget';
</script>
<router-search collection="docs" model="/models/contriever-mini/" k="5" expert="auto"
  experts="scifact=/models/contriever-mini/experts/scifact/,nfcorpus=/models/contriever-mini/experts/nfcorpus/"
  pilots="/models/contriever-mini/pilot-library.json" prebuilt="/docs.rrc"
  style="--rs-accent: #0d9488; --rs-radius: 10px"></router-search>
<script>
  document.querySelector('router-search')
    .addEventListener('select', (e) => location.href = '/doc/' + e.detail.hit.id);
</script>`;
