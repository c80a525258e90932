/**
 * <router-search>: a drop-in search box over a RouterRetriever collection. No framework.
 *
 *   <router-search collection="docs" model="/models/contriever-mini/" k="5" expert="auto"></router-search>
 *
 * Attributes (read when the element connects; k, expert, mode and placeholder also live):
 *   collection   IndexedDB collection name (required)
 *   model        base model folder URL or Hub id (required)
 *   experts      "name=url,name=url" adapters to register (optional; routing needs them: pilots
 *                of an expert whose adapter is not given are not routed to)
 *   pilots       URL of a pilot library JSON (optional)
 *   prebuilt     URL of a collection file built by `router-retriever index` (open()'s `prebuilt`)
 *   src          URL of a JSONL file ({id, title?, text} per line) indexed once if the collection is empty
 *   k            number of results (default 5)
 *   expert       'auto' (route), 'none' (base encoder) or an expert name (default 'auto')
 *   mode         'hybrid' (dense and BM25 fused, the default), 'dense' or 'lexical'
 *   device       'auto' | 'webgpu' | 'wasm'
 *   placeholder  the input's placeholder
 * Events: `select` (detail: { hit }) when a result is chosen by click or Enter; `ready`
 * (detail: { documents, backend }); `error` (detail: { error, message }).
 * Theming: --rs-accent, --rs-bg, --rs-fg, --rs-radius, --rs-font (and ::part(input|list|option)).
 * Widgets with the same collection and model on one page share one retriever (one worker).
 */
import { nameRecord } from '../records.js';
import { isRouterRetrieverError } from '../boundary/errors.js';
import { displayTitle } from '../doc.js';
import { RouterRetriever } from '../router-retriever.js';
import type { Doc, Hit, SearchMode } from '../types.js';
import type { DeviceRequest } from '../boundary/encoder-api.js';

const shared = new Map<string, Promise<RouterRetriever>>();

const CSS = `
:host { display: block; position: relative; font: var(--rs-font, inherit); color: var(--rs-fg, CanvasText); }
:host([hidden]) { display: none; }
.box { background: var(--rs-bg, Canvas); border: 1px solid color-mix(in srgb, var(--rs-fg, CanvasText) 25%, transparent); border-radius: var(--rs-radius, 8px); padding: 0.5rem; }
input { box-sizing: border-box; width: 100%; font: inherit; color: inherit; background: transparent; padding: 0.5rem 0.6rem; border: 1px solid color-mix(in srgb, var(--rs-fg, CanvasText) 30%, transparent); border-radius: calc(var(--rs-radius, 8px) * 0.75); }
input:focus { outline: 2px solid var(--rs-accent, #2563eb); outline-offset: 1px; }
ul { list-style: none; margin: 0.4rem 0 0; padding: 0; max-height: 24rem; overflow: auto; }
li { padding: 0.45rem 0.6rem; border-radius: calc(var(--rs-radius, 8px) * 0.75); cursor: pointer; }
li[aria-selected="true"], li:hover { background: color-mix(in srgb, var(--rs-accent, #2563eb) 15%, transparent); }
li[aria-selected="true"] { outline: 2px solid var(--rs-accent, #2563eb); }
.t { font-weight: 600; display: block; }
.s { font-size: 0.85em; opacity: 0.8; display: block; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.status { font-size: 0.8em; opacity: 0.75; margin: 0.3rem 0.2rem 0; min-height: 1em; }
.status.err { color: #b91c1c; opacity: 1; }
mark { background: color-mix(in srgb, var(--rs-accent, #2563eb) 30%, transparent); color: inherit; }
`;

let uid = 0;

export class RouterSearchElement extends HTMLElement {
  static get observedAttributes(): string[] {
    return ['k', 'expert', 'placeholder'];
  }

  private readonly input: HTMLInputElement;
  private readonly list: HTMLUListElement;
  private readonly status: HTMLElement;
  private rr: RouterRetriever | null = null;
  private hits: Hit[] = [];
  private active = -1;
  private seq = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly uid = `rs${++uid}`;
  /** Resolves when the collection is open (and indexed from `src` if it was empty). */
  ready: Promise<RouterRetriever> | null = null;

  constructor() {
    super();
    const root = this.attachShadow({ mode: 'open' });
    const style = document.createElement('style');
    style.textContent = CSS;
    const box = document.createElement('div');
    box.className = 'box';
    this.input = document.createElement('input');
    this.input.type = 'search';
    this.input.setAttribute('part', 'input');
    this.input.setAttribute('role', 'combobox');
    this.input.setAttribute('aria-autocomplete', 'list');
    this.input.setAttribute('aria-expanded', 'false');
    this.input.setAttribute('aria-controls', `${this.uid}-list`);
    this.input.autocomplete = 'off';
    this.input.disabled = true;
    this.list = document.createElement('ul');
    this.list.id = `${this.uid}-list`;
    this.list.setAttribute('role', 'listbox');
    this.list.setAttribute('part', 'list');
    this.status = document.createElement('p');
    this.status.className = 'status';
    this.status.setAttribute('role', 'status');
    this.status.setAttribute('aria-live', 'polite');
    box.append(this.input, this.list, this.status);
    root.append(style, box);
    this.input.addEventListener('input', () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => void this.run(), 150);
    });
    this.input.addEventListener('keydown', (e) => this.onKey(e));
    this.list.addEventListener('click', (e) => {
      const li = (e.target as Element).closest('li');
      if (li) this.choose(Number(li.dataset.i));
    });
  }

  get k(): number {
    const k = Number(this.getAttribute('k') ?? 5);
    return Number.isInteger(k) && k > 0 ? Math.min(k, 100) : 5;
  }
  set k(v: number) {
    this.setAttribute('k', String(v));
  }
  get expert(): string {
    return this.getAttribute('expert') || 'auto';
  }
  /** The search mode attribute; anything else than 'dense' or 'lexical' is the SDK's default, 'hybrid'. */
  get mode(): SearchMode {
    const m = this.getAttribute('mode');
    return m === 'dense' || m === 'lexical' ? m : 'hybrid';
  }
  set expert(v: string) {
    this.setAttribute('expert', v);
  }

  connectedCallback(): void {
    this.input.placeholder = this.getAttribute('placeholder') ?? 'Search…';
    this.input.setAttribute(
      'aria-label',
      this.getAttribute('aria-label') ?? this.getAttribute('placeholder') ?? 'Search',
    );
    if (!this.ready) {
      this.ready = this.open();
      // Reported by the 'error' event and the status line; awaiting `ready` still rejects.
      this.ready.catch(() => undefined);
    }
  }

  attributeChangedCallback(name: string): void {
    if (name === 'placeholder') this.input.placeholder = this.getAttribute('placeholder') ?? 'Search…';
    else if (this.rr && this.input.value.trim()) void this.run();
  }

  private say(msg: string, error = false): void {
    this.status.textContent = msg;
    this.status.classList.toggle('err', error);
    if (error) this.status.setAttribute('role', 'alert');
    else this.status.setAttribute('role', 'status');
  }

  private fail(e: unknown, what: string): void {
    const msg = `${what}: ${e instanceof Error ? e.message : String(e)}`;
    this.say(msg, true);
    this.dispatchEvent(new CustomEvent('error', { detail: { error: e, message: msg } }));
  }

  private async open(): Promise<RouterRetriever> {
    const collection = this.getAttribute('collection');
    const model = this.getAttribute('model');
    if (!collection || !model) {
      const e = new Error('<router-search> needs the collection and model attributes.');
      this.fail(e, 'Not configured');
      throw e;
    }
    const experts = nameRecord<string>();
    for (const part of (this.getAttribute('experts') ?? '').split(',').filter(Boolean)) {
      const i = part.indexOf('=');
      if (i > 0) experts[part.slice(0, i).trim()] = part.slice(i + 1).trim();
    }
    const pilots = this.getAttribute('pilots');
    const prebuilt = this.getAttribute('prebuilt');
    const device = (this.getAttribute('device') as DeviceRequest | null) ?? 'auto';
    const key = `${collection}\u0000${model}`;
    this.say('Loading the search model…');
    try {
      let p = shared.get(key);
      if (!p) {
        p = RouterRetriever.open({
          name: collection,
          model,
          device,
          experts,
          ...(pilots ? { pilotLibrary: pilots } : {}),
          ...(prebuilt ? { prebuilt } : {}),
        });
        shared.set(key, p);
        p.catch(() => shared.delete(key));
      }
      const rr = await p;
      const src = this.getAttribute('src');
      let { documents } = await rr.stats();
      if (documents === 0 && src) {
        const res = await fetch(src);
        if (!res.ok) throw new Error(`Could not download ${src} (HTTP ${res.status}).`);
        const docs = (await res.text())
          .split('\n')
          .filter((l) => l.trim())
          .map((l) => JSON.parse(l) as Doc);
        await rr.add(docs, { onProgress: (pr) => this.say(`Indexing ${pr.done} of ${pr.total} documents…`) });
        documents = (await rr.stats()).documents;
      }
      this.rr = rr;
      this.input.disabled = false;
      this.say(`${documents} documents · ${rr.model.backend.toUpperCase()}`);
      this.dispatchEvent(new CustomEvent('ready', { detail: { documents, backend: rr.model.backend } }));
      return rr;
    } catch (e) {
      this.fail(e, 'The search could not start');
      throw e;
    }
  }

  /** Runs a search now (also what typing does, debounced). */
  async search(query: string): Promise<Hit[]> {
    this.input.value = query;
    await this.run();
    return this.hits;
  }

  private async run(): Promise<void> {
    const rr = this.rr;
    const q = this.input.value.trim();
    const my = ++this.seq;
    if (!rr) return;
    if (!q) {
      this.render([]);
      return;
    }
    try {
      const res = await rr.search(q, { k: this.k, expert: this.expert, mode: this.mode });
      if (my !== this.seq) return;
      this.render(res.hits, q);
      const routed = res.route.expert ? ` · expert ${res.route.expert}` : '';
      this.say(`${res.hits.length} results in ${res.timings.total.toFixed(0)} ms${routed}`);
    } catch (e) {
      if (my !== this.seq) return;
      if (isRouterRetrieverError(e, 'CANCELLED')) return;
      this.fail(e, 'Search failed');
    }
  }

  private render(hits: Hit[], q = ''): void {
    this.hits = hits;
    this.active = -1;
    this.input.removeAttribute('aria-activedescendant');
    this.input.setAttribute('aria-expanded', String(hits.length > 0));
    const terms = (q.toLowerCase().match(/[\p{L}\p{N}]{3,}/gu) ?? []).map((t) =>
      t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
    );
    const re = terms.length ? new RegExp(`(${terms.join('|')})`, 'giu') : null;
    const mark = (parent: HTMLElement, text: string) => {
      if (!re) {
        parent.textContent = text;
        return;
      }
      let last = 0;
      for (const m of text.matchAll(re)) {
        parent.append(text.slice(last, m.index));
        const mk = document.createElement('mark');
        mk.textContent = m[0];
        parent.append(mk);
        last = m.index! + m[0].length;
      }
      parent.append(text.slice(last));
    };
    this.list.replaceChildren(
      ...hits.map((h, i) => {
        const li = document.createElement('li');
        li.id = `${this.uid}-o${i}`;
        li.setAttribute('role', 'option');
        li.setAttribute('part', 'option');
        li.setAttribute('aria-selected', 'false');
        li.dataset.i = String(i);
        li.dataset.id = h.id;
        const t = document.createElement('span');
        t.className = 't';
        mark(t, displayTitle(h.doc));
        const s = document.createElement('span');
        s.className = 's';
        mark(s, h.doc.text.slice(0, 200));
        li.append(t, s);
        return li;
      }),
    );
  }

  private move(to: number): void {
    if (this.hits.length === 0) return;
    const n = this.hits.length;
    this.active = ((to % n) + n) % n;
    for (const li of this.list.children)
      li.setAttribute('aria-selected', String(Number((li as HTMLElement).dataset.i) === this.active));
    const li = this.list.children[this.active] as HTMLElement;
    this.input.setAttribute('aria-activedescendant', li.id);
    li.scrollIntoView({ block: 'nearest' });
  }

  private onKey(e: KeyboardEvent): void {
    if (e.key === 'ArrowDown') {
      e.preventDefault();
      this.move(this.active + 1);
    } else if (e.key === 'ArrowUp') {
      e.preventDefault();
      this.move(this.active - 1);
    } else if (e.key === 'Enter') {
      e.preventDefault();
      if (this.hits.length) this.choose(Math.max(0, this.active));
    } else if (e.key === 'Escape') {
      this.input.value = '';
      this.render([]);
    }
  }

  private choose(i: number): void {
    const hit = this.hits[i];
    if (!hit) return;
    this.dispatchEvent(new CustomEvent('select', { detail: { hit }, bubbles: true, composed: true }));
  }
}

/** Registers <router-search> (idempotent). */
export function defineRouterSearch(tag = 'router-search'): void {
  if (!customElements.get(tag)) customElements.define(tag, RouterSearchElement);
}

declare global {
  interface HTMLElementTagNameMap {
    'router-search': RouterSearchElement;
  }
}
