/** The playground: sample collection, search with routing, imports, experts, offline use. */
import { isRouterRetrieverError } from '../src/boundary/errors.js';
import { displayTitle } from '../src/doc.js';
import type { Doc, ModelSpec, PilotLibraryJson, PilotSource, SearchResult } from '../src/types.js';
import type { LoadProgress } from '../src/boundary/encoder-api.js';
import type { RouterRetriever } from '../src/router-retriever.js';
import { isModelRef, readConfig, SAMPLE } from './config.js';
import { cacheLoadedResources, registerServiceWorker } from './offline.js';
import { ImportError, parseDocuments, type TextSplit } from './parse.js';
import { expertNames, openRetriever, resolveExperts, served, type DemoRetriever } from './retriever.js';
import { bytes, el, friendly, queryTerms, routeChart, snippet } from './ui.js';

const cfg = readConfig();
const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const body = document.body;
const setState = (s: string) => (body.dataset.state = s);
setState('loading');

// ---- errors in words ---------------------------------------------------------------------------
const alertBox = $('alert');
function showError(msg: string): void {
  $('alert-text').textContent = msg;
  alertBox.hidden = false;
}
$('alert-close').addEventListener('click', () => {
  alertBox.hidden = true;
  $('q').focus();
});
window.addEventListener('unhandledrejection', (ev) => showError(friendly(ev.reason, 'Something went wrong')));

// ---- sample metadata: sources, example queries ---------------------------------------------------
interface SampleMeta {
  note: string;
  sources: {
    name: string;
    label: string;
    attribution: string;
    licence: string;
    url: string;
    documents: number;
    smallDocuments: number;
    tinyDocuments: number;
  }[];
  queries: { domain: string; id: string; text: string; kind: string; relevant: string[] }[];
}
let meta: SampleMeta | null = null;
async function loadMeta(): Promise<void> {
  try {
    meta = (await (await fetch(SAMPLE.meta)).json()) as SampleMeta;
  } catch {
    return;
  }
  const list = $('sources');
  for (const s of meta.sources) {
    const n = cfg.sample === 'small' ? s.smallDocuments : cfg.sample === 'tiny' ? s.tinyDocuments : s.documents;
    list.append(
      el(
        'li',
        {},
        el('a', { href: s.url, rel: 'noopener' }, s.label),
        ` (${n} documents): ${s.attribution}. Licence: ${s.licence}.`,
      ),
    );
  }
  const ex = $('examples');
  const seen = new Set<string>();
  for (const q of meta.queries) {
    if (q.kind !== 'judged' || seen.has(q.domain) || q.text.length > 90) continue;
    seen.add(q.domain);
    const b = el('button', { type: 'button', class: 'chip', 'data-domain': q.domain }, q.text);
    b.addEventListener('click', () => {
      const input = $<HTMLInputElement>('q');
      input.value = q.text;
      void runSearch();
      input.focus();
    });
    ex.append(b);
  }
  if (seen.size) ex.prepend(el('span', { class: 'muted' }, 'Try: '));
}

// ---- model ------------------------------------------------------------------------------------
let demo: DemoRetriever | null = null;
let rr: RouterRetriever | null = null;
const modelBar = $<HTMLProgressElement>('model-progress');
const modelStatus = $('model-status');

function onLoadProgress(p: LoadProgress): void {
  if (p.phase === 'download' && p.total) {
    modelBar.value = (p.loaded ?? 0) / p.total;
    modelStatus.textContent = `Downloading ${p.file}: ${bytes(p.loaded)} of ${bytes(p.total)}`;
  } else if (p.message) modelStatus.textContent = p.message;
  else modelStatus.textContent = `Loading the model (${p.phase}${p.file ? `: ${p.file}` : ''})…`;
}

function kv(k: string, v: string, id?: string): void {
  const dd = el('dd', id ? { id } : {}, v);
  $('model-info').append(el('dt', {}, k), dd);
}

// ---- collection / indexing ----------------------------------------------------------------------
let busy: AbortController | null = null;

function fmtEta(s: number | null): string {
  if (s == null || !Number.isFinite(s)) return 'estimating…';
  if (s < 60) return `${Math.ceil(s)} s left`;
  return `${Math.floor(s / 60)} min ${Math.ceil(s % 60)} s left`;
}

async function indexDocs(
  docs: Doc[],
  ui: { box: string; bar: string; status: string; cancel: string; label: string },
  what: string,
): Promise<boolean> {
  const r = rr!;
  const box = $(ui.box);
  const bar = $<HTMLProgressElement>(ui.bar);
  const status = $(ui.status);
  $(ui.label).textContent = what;
  box.hidden = false;
  bar.value = 0;
  status.textContent = `0 of ${docs.length} documents`;
  const ac = new AbortController();
  busy = ac;
  const cancel = $<HTMLButtonElement>(ui.cancel);
  cancel.disabled = false;
  cancel.hidden = false;
  const onCancel = () => {
    cancel.disabled = true;
    ac.abort();
  };
  cancel.addEventListener('click', onCancel);
  const t0 = performance.now();
  try {
    const res = await r.add(docs, {
      signal: ac.signal,
      onProgress: (p) => {
        bar.max = Math.max(1, p.total);
        bar.value = p.done;
        status.textContent = `${p.done} of ${p.total} documents · ${p.docsPerSec.toFixed(1)} docs/s · ${fmtEta(p.etaSec)}`;
      },
    });
    const secs = (performance.now() - t0) / 1000;
    const embedded = res.added + res.replaced;
    status.textContent = `Done: ${res.added} added, ${res.replaced} replaced, ${res.skipped} already indexed, in ${secs.toFixed(1)} s (${(embedded / Math.max(secs, 1e-3)).toFixed(1)} docs/s).`;
    bar.value = bar.max;
    return true;
  } catch (e) {
    if (isRouterRetrieverError(e, 'CANCELLED') || ac.signal.aborted) {
      status.textContent = 'Cancelled. Documents indexed before cancelling are kept and searchable.';
      return false;
    }
    status.textContent = 'Stopped by an error (see above). Documents indexed before it are kept.';
    showError(friendly(e, what));
    return false;
  } finally {
    cancel.removeEventListener('click', onCancel);
    cancel.disabled = true;
    cancel.hidden = true; // nothing left to cancel: a disabled button only raised the question
    busy = null;
    await refreshStats();
    await renderExperts();
  }
}

async function fetchSample(): Promise<Doc[]> {
  const url = SAMPLE[cfg.sample];
  const res = await fetch(url);
  if (!res.ok) throw new Error(`The sample collection ${url} could not be downloaded (HTTP ${res.status}).`);
  const text = await res.text();
  const docs: Doc[] = [];
  const lines = text.split('\n');
  // Parse in slices so the page stays responsive.
  for (let i = 0; i < lines.length; i += 500) {
    for (const line of lines.slice(i, i + 500)) if (line.trim()) docs.push(JSON.parse(line) as Doc);
    await new Promise((r) => setTimeout(r, 0));
  }
  return docs;
}

const sampleKey = () => `rr-demo:sample-indexed:${cfg.collection}`;
async function indexSample(): Promise<void> {
  $('reindex-sample').hidden = true;
  localStorage.removeItem(`${sampleKey()}:cleared`);
  setState('indexing');
  performance.mark('rr-demo:index-start');
  const docs = await fetchSample();
  const ok = await indexDocs(
    docs,
    { box: 'index-box', bar: 'index-progress', status: 'index-status', cancel: 'index-cancel', label: 'index-label' },
    'Indexing the sample collection',
  );
  performance.mark('rr-demo:index-end');
  if (ok) localStorage.setItem(sampleKey(), String(docs.length));
  else $('reindex-sample').hidden = false;
}

async function refreshStats(): Promise<void> {
  if (!rr) return;
  const s = await rr.stats();
  // Our rough share: float32 vectors plus the text (IndexedDB has no per-database size API).
  const approx = s.documents * s.dim * 4 + s.documents * avgDocBytes;
  $('coll-stats').textContent =
    `Collection "${cfg.collection}": ${s.documents} documents (about ${bytes(approx)} in IndexedDB). ` +
    `Storage used by this site: ${bytes(s.usageBytes)} of ${bytes(s.quotaBytes)} available.`;
  $('coll-stats').dataset.documents = String(s.documents);
}
const avgDocBytes = 1200;

// ---- search ---------------------------------------------------------------------------------------
const qInput = $<HTMLInputElement>('q');
const compareSel = $<HTMLSelectElement>('compare');
let seq = 0;
let timer: ReturnType<typeof setTimeout> | undefined;
let inflight: AbortController | null = null;

/** The hover text of a hit's score: the fused score and each side's raw score (— where that side did not rank it). */
/** The encode time, or "cached" when the query's embedding was reused (the base pass is shared by routing and the base column). */
function encodeText(ms: number): string {
  return ms < 0.05 ? 'encode: cached embedding' : `encode ${ms.toFixed(1)} ms`;
}

/** Why the query went where it did, in words and a chart (the kNN gains, or the pilot similarities). */
function routeExplained(r: SearchResult['route']): (HTMLElement | SVGSVGElement)[] {
  const chosen = r.expert;
  const attrs = {
    class: 'small',
    id: 'route-choice',
    'data-expert': chosen ?? '',
    'data-abstained': String(r.abstained),
  };
  if (r.knn) {
    const pts = (g: number) => `${g >= 0 ? '+' : ''}${(g * 100).toFixed(1)}`;
    const [bestName, bestGain] = Object.entries(r.knn.gains).sort((a, b) => b[1] - a[1])[0] ?? ['', 0];
    const text = chosen
      ? `Routed to expert “${chosen}”: on the ${r.knn.k} most similar training queries it gained ${pts(r.knn.gains[chosen])} nDCG@10 points over the base encoder (it needs more than ${pts(r.knn.minGain)}).`
      : `Kept on the base encoder: on the ${r.knn.k} most similar training queries no expert gained more than ${pts(r.knn.minGain)} nDCG@10 points (best: “${bestName}”, ${pts(bestGain)}).`;
    const gains = Object.fromEntries(Object.entries(r.knn.gains).map(([e, g]) => [e, g * 100]));
    return [
      el('p', attrs, text),
      routeChart(gains, chosen, {
        threshold: r.knn.minGain * 100,
        what: 'nDCG@10 points each expert gained over the base encoder on the most similar training queries',
        digits: 1,
      }),
    ];
  }
  return [
    el(
      'p',
      attrs,
      chosen
        ? `Routed to expert “${chosen}” (${r.mode} similarity to its pilot embeddings).`
        : 'No expert: the base encoder answers.',
    ),
    routeChart(r.scores, chosen),
  ];
}

function scoreTitle(s: SearchResult['hits'][number]['scores']): string {
  const side = (x: number | null) => (x === null ? '—' : x.toFixed(3));
  return `fused ${s.fused.toFixed(3)} · dense (dot product) ${side(s.dense)} · BM25 ${side(s.lexical)}`;
}

function column(title: string, mode: string, res: SearchResult, terms: string[]): HTMLElement {
  const ol = el('ol', { class: 'hits', 'aria-label': `Results: ${title}` });
  for (const h of res.hits) {
    const domain = (h.doc.metadata?.domain as string | undefined) ?? '';
    const li = el(
      'li',
      { 'data-id': h.id, class: 'hit' },
      el(
        'div',
        { class: 'hit-head' },
        el('span', { class: 'hit-title' }, displayTitle(h.doc)),
        el('span', { class: 'score', title: scoreTitle(h.scores) }, h.score.toFixed(3)),
      ),
      el('p', { class: 'snippet' }, ...snippet(h.doc.text, terms)),
      el('p', { class: 'muted small' }, `${h.id}${domain ? ` · ${domain}` : ''}`),
    );
    ol.append(li);
  }
  if (res.hits.length === 0) ol.append(el('li', { class: 'muted' }, 'No documents in the collection.'));
  const t = res.timings;
  return el(
    'section',
    { class: 'column', 'data-mode': mode, 'aria-label': title },
    el('h3', {}, title),
    el(
      'p',
      { class: 'muted small timing' },
      `route ${t.route.toFixed(1)} ms · ${encodeText(t.encode)} · search ${t.search.toFixed(1)} ms · BM25 ${t.lexical.toFixed(1)} ms`,
    ),
    ol,
  );
}

async function runSearch(): Promise<void> {
  if (!rr) return;
  const q = qInput.value.trim();
  const my = ++seq;
  inflight?.abort();
  if (!q) {
    $('columns').replaceChildren();
    $('route').replaceChildren();
    $('timings').textContent = '';
    return;
  }
  const ac = new AbortController();
  inflight = ac;
  const k = Number($<HTMLSelectElement>('k').value);
  const other = compareSel.value;
  try {
    // The default hybrid search (BM25 fused with the routed, or the base, dense list): what
    // public/demo-data/queries.json records and e2e/demo.spec.ts checks.
    const auto = await rr.search(q, { k, expert: 'auto', signal: ac.signal });
    const cmp = other ? await rr.search(q, { k, expert: other, signal: ac.signal }) : null;
    if (my !== seq) return;
    const terms = queryTerms(q);
    const chosen = auto.route.expert;
    $('route').replaceChildren(el('h3', {}, 'Routing'), ...routeExplained(auto.route));
    const cols = [column(`Auto routing${chosen ? ` → ${chosen}` : ''}`, 'auto', auto, terms)];
    if (cmp) cols.push(column(other === 'none' ? 'Base encoder (no expert)' : `Expert “${other}”`, other, cmp, terms));
    $('columns').replaceChildren(...cols);
    $('columns').classList.toggle('two', cols.length === 2);
    const t = auto.timings;
    $('timings').textContent =
      `Auto: route ${t.route.toFixed(1)} ms, ${encodeText(t.encode)}, search ${t.search.toFixed(1)} ms, BM25 ${t.lexical.toFixed(1)} ms, total ${t.total.toFixed(1)} ms on ${rr.model.backend.toUpperCase()}.`;
    body.dataset.lastQuery = q;
    await refreshCounter();
  } catch (e) {
    if (ac.signal.aborted || isRouterRetrieverError(e, 'CANCELLED')) return;
    showError(friendly(e, 'Search failed'));
  }
}

qInput.addEventListener('input', () => {
  clearTimeout(timer);
  timer = setTimeout(() => void runSearch(), 150);
});
$('search-form').addEventListener('submit', (e) => {
  e.preventDefault();
  clearTimeout(timer);
  void runSearch();
});
$('k').addEventListener('change', () => void runSearch());
compareSel.addEventListener('change', () => void runSearch());

// ---- experts ---------------------------------------------------------------------------------
async function renderExperts(): Promise<void> {
  if (!rr) return;
  const list = $('expert-list');
  const names = expertNames(rr, true);
  list.replaceChildren(
    ...names.map((n) => {
      const b = el('button', { type: 'button', class: 'small-btn', 'aria-label': `Remove expert ${n}` }, 'Remove');
      b.addEventListener('click', () => void removeExpert(n));
      return el('li', { 'data-expert': n }, el('span', {}, n), b);
    }),
  );
  for (const n of expertNames(rr, false)) {
    const b = el('button', { type: 'button', class: 'small-btn', 'aria-label': `Remove expert ${n}` }, 'Remove');
    b.addEventListener('click', () => void removeExpert(n));
    list.append(
      el(
        'li',
        { 'data-expert': n, class: 'muted' },
        el('span', {}, `${n} (stored; its adapter came from files: add it again to use it)`),
        b,
      ),
    );
  }
  if (!names.length) list.append(el('li', { class: 'muted' }, 'No experts: every query uses the base encoder.'));
  const keep = compareSel.value;
  compareSel.replaceChildren(
    el('option', { value: '' }, 'nothing (auto routing only)'),
    el('option', { value: 'none' }, 'base encoder (no expert)'),
    ...names.map((n) => el('option', { value: n }, `expert “${n}”`)),
  );
  compareSel.value = [...compareSel.options].some((o) => o.value === keep) ? keep : '';
  await refreshCounter();
}

/** What the last expert change cost, kept beside the counter until the next change. */
let counterNote = '';

/** The encoder's text counter, refreshed after indexing, expert changes and every search (queries count too). */
async function refreshCounter(): Promise<void> {
  const st = await demo!.encoder.stats();
  $('embed-counter').textContent =
    `The encoder has embedded ${st.texts} texts since the page loaded (documents and queries).${counterNote}`;
  $('embed-counter').dataset.texts = String(st.texts);
}

async function removeExpert(name: string): Promise<void> {
  if (!rr) return;
  const before = (await demo!.encoder.stats()).texts;
  try {
    await rr.removeExpert(name);
  } catch (e) {
    showError(friendly(e, `Removing expert "${name}"`));
  }
  await renderExperts();
  const after = (await demo!.encoder.stats()).texts;
  counterNote = ` Removing “${name}” embedded ${after - before} texts: no document was re-embedded.`;
  await refreshCounter();
  $('expert-name').focus();
  void runSearch();
}

async function readPilots(name: string): Promise<PilotSource> {
  const f = $<HTMLInputElement>('pilot-file').files?.[0];
  if (f) {
    let json: unknown;
    try {
      json = JSON.parse(await f.text());
    } catch {
      throw new ImportError(`"${f.name}" is not valid JSON.`);
    }
    let rows: unknown = json;
    if (json && typeof json === 'object' && !Array.isArray(json)) {
      const o = json as Record<string, unknown>;
      rows = o[name] ?? (Object.keys(o).length === 1 ? Object.values(o)[0] : undefined);
      if (rows === undefined)
        throw new ImportError(
          `"${f.name}" has no pilot embeddings for "${name}" (it has: ${Object.keys(o).join(', ')}).`,
        );
    }
    if (
      !Array.isArray(rows) ||
      rows.length === 0 ||
      !rows.every(
        (r) => Array.isArray(r) && r.length > 0 && r.every((x) => typeof x === 'number' && Number.isFinite(x)),
      )
    ) {
      throw new ImportError(`"${f.name}" must hold a list of pilot embeddings (lists of numbers).`);
    }
    return { pilotEmbeddings: rows as number[][] };
  }
  const qs = $<HTMLTextAreaElement>('pilot-queries')
    .value.split('\n')
    .map((s) => s.trim())
    .filter(Boolean);
  if (qs.length === 0)
    throw new ImportError(
      'Give the expert pilot embeddings: a JSON file, or a few sample queries of its domain (one per line).',
    );
  return { pilotQueries: qs };
}

$('expert-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  if (!rr) return;
  const btn = $<HTMLButtonElement>('expert-add');
  const name = $<HTMLInputElement>('expert-name').value.trim();
  const files = [...($<HTMLInputElement>('expert-files').files ?? [])];
  const url = $<HTMLInputElement>('expert-url').value.trim();
  btn.disabled = true;
  try {
    if (!name) throw new ImportError('Give the expert a name.');
    if (expertNames(rr, true).includes(name))
      throw new ImportError(`There is already an expert "${name}". Remove it first or pick another name.`);
    let adapter: ModelSpec;
    if (files.length) {
      if (!files.some((f) => f.name === 'adapter_config.json'))
        throw new ImportError(
          'Pick adapter_config.json together with the adapter weights (adapter_model.safetensors or adapter_model.bin).',
        );
      adapter = { id: name, files: Object.fromEntries(files.map((f) => [f.name, f])) };
    } else if (url && isModelRef(url)) adapter = url;
    else throw new ImportError('Pick the adapter files, or give the adapter folder URL.');
    const pilots = await readPilots(name);
    const before = (await demo!.encoder.stats()).texts;
    await rr.addExpert(name, adapter, pilots);
    await renderExperts();
    const after = (await demo!.encoder.stats()).texts;
    const nq = 'pilotQueries' in pilots ? pilots.pilotQueries.length : 0;
    counterNote = ` Adding “${name}” embedded ${after - before} texts (${nq} pilot queries): no document was re-embedded.`;
    await refreshCounter();
    (e.target as HTMLFormElement).reset();
    void runSearch();
  } catch (err) {
    showError(friendly(err, `Adding expert "${name || '?'}"`));
  } finally {
    btn.disabled = false;
  }
});

// ---- import ---------------------------------------------------------------------------------
async function importFile(f: File): Promise<void> {
  if (!rr) return;
  if (busy) {
    showError('Another import or indexing is running; wait for it or cancel it first.');
    return;
  }
  const split = (document.querySelector('input[name="split"]:checked') as HTMLInputElement).value as TextSplit;
  let docs: Doc[];
  try {
    if (f.size > 200e6)
      throw new ImportError(`"${f.name}" is ${bytes(f.size)}; the playground imports files up to 200 MB.`);
    docs = parseDocuments(f.name, await f.text(), split);
  } catch (e) {
    showError(
      e instanceof ImportError
        ? `Import of "${f.name}" failed: ${e.message} Nothing was changed in the collection.`
        : friendly(e, `Import of "${f.name}"`),
    );
    return;
  }
  await indexDocs(
    docs,
    {
      box: 'import-box',
      bar: 'import-progress',
      status: 'import-status',
      cancel: 'import-cancel',
      label: 'import-label',
    },
    `Importing ${docs.length} documents from "${f.name}"`,
  );
}

$<HTMLInputElement>('import-file').addEventListener('change', async (e) => {
  const input = e.target as HTMLInputElement;
  const f = input.files?.[0];
  if (f) await importFile(f);
  input.value = '';
});
const drop = $('drop');
drop.addEventListener('dragover', (e) => {
  e.preventDefault();
  drop.classList.add('over');
});
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  const f = e.dataTransfer?.files?.[0];
  if (f) void importFile(f);
});

$('clear').addEventListener('click', async () => {
  if (!rr || busy) return;
  if (!confirm(`Delete every document of "${cfg.collection}" from this browser? Experts stay.`)) return;
  try {
    await rr.clear();
    localStorage.removeItem(sampleKey());
    localStorage.setItem(`${sampleKey()}:cleared`, '1');
    $('reindex-sample').hidden = false;
  } catch (e) {
    showError(friendly(e, 'Clearing the collection'));
  }
  await refreshStats();
  void runSearch();
});
$('reindex-sample').addEventListener('click', () => void indexSample().then(refreshStats));

// ---- model source -------------------------------------------------------------------------
$('source-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const v = $<HTMLInputElement>('model-source').value.trim();
  if (!isModelRef(v)) {
    showError(`"${v}" is not a Hugging Face model id (like facebook/contriever) or a URL.`);
    return;
  }
  const p = new URLSearchParams({ model: v, experts: '', pilots: '' });
  if (cfg.sample !== 'full') p.set('sample', cfg.sample);
  location.search = p.toString();
});

// ---- start ----------------------------------------------------------------------------------
async function start(): Promise<void> {
  const offline = $('offline-status');
  const sw = await registerServiceWorker();
  void loadMeta();
  let experts: Record<string, string>;
  let pilots: string | PilotLibraryJson | null;
  try {
    ({ experts, pilots } = await resolveExperts(cfg));
    const prebuilt = cfg.prebuilt && (await served(cfg.prebuilt)) ? cfg.prebuilt : undefined;
    demo = await openRetriever({
      prebuilt,
      collection: cfg.collection,
      model: cfg.model,
      experts,
      pilotLibrary: pilots,
      device: cfg.device,
      onProgress: onLoadProgress,
    });
    rr = demo.rr;
  } catch (e) {
    setState('error');
    modelStatus.textContent = 'The model could not be loaded.';
    showError(friendly(e, `Loading the model ${cfg.model}`));
    return;
  }
  const info = rr.model;
  modelBar.value = 1;
  modelStatus.textContent = `Model ready on ${info.backend.toUpperCase()} in ${(info.loadMs / 1000).toFixed(1)} s.`;
  kv('model', cfg.presetName ? `${cfg.model} (${cfg.presetName})` : cfg.model);
  kv('backend', `${info.backend.toUpperCase()}: ${info.backendReason}`, 'backend');
  kv('precision', `${info.dtype}: ${info.dtypeReason}`);
  kv('threads', String(info.threads));
  kv('graph', info.graphReason);
  kv(
    'embedding',
    `${info.dim} dimensions, ${info.layers} layers, ${info.pooling} pooling${info.normalize ? ', normalised' : ''}`,
  );
  for (const w of info.warnings) kv('warning', w);
  await renderExperts();

  const stats = await rr.stats();
  const pre = rr.prebuilt;
  const fromPrebuilt = stats.documents > 0 && pre !== null && pre.action !== 'kept';
  const wasIndexed = localStorage.getItem(sampleKey()) ?? (fromPrebuilt ? 'prebuilt' : null);
  if (pre?.action === 'imported') {
    const sec = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    modelStatus.textContent += ` ${pre.documents} documents imported from the prebuilt collection (${bytes(pre.bytes)} embedded at build time by \`router-retriever index\`: downloaded in ${sec(pre.ms.download)}, hashed in ${pre.ms.hash.toFixed(0)} ms, imported in ${sec(pre.ms.import)}).`;
    body.dataset.prebuilt = 'imported';
  } else if (stats.documents === 0 && !localStorage.getItem(`${sampleKey()}:cleared`)) {
    await indexSample();
  } else {
    modelStatus.textContent += ` ${stats.documents} documents loaded from IndexedDB; nothing to re-index.`;
    if (!wasIndexed) $('reindex-sample').hidden = false;
  }
  await refreshStats();
  qInput.disabled = false;
  setState('ready');
  if (qInput.value.trim()) void runSearch();

  // Offline readiness: the worker, ORT and the model went through the service worker (or the
  // SDK's model cache); the files the page loaded before the worker controlled it are cached now.
  if (sw.supported && navigator.serviceWorker.controller) {
    const r = await cacheLoadedResources();
    if (r && r.failed.length === 0) {
      offline.textContent = 'Ready offline: this page, the model and the index work without a network.';
      offline.classList.add('ok');
      body.dataset.offline = 'ready';
    } else {
      offline.textContent = `Offline use: ${r ? `${r.failed.length} files could not be cached` : 'the service worker did not answer'}; reload once online.`;
    }
  } else {
    offline.textContent = sw.supported
      ? 'Offline use: ready after the next load.'
      : 'Offline use: not available in this browser (no service worker).';
  }
}

void start();
