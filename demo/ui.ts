/** Small DOM helpers of the playground and the widget: escaping, highlighting, bars, errors in words. */
import { isRouterRetrieverError } from '../src/boundary/errors.js';

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...kids: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else e.setAttribute(k, v);
  }
  e.append(...kids);
  return e;
}

const STOP = new Set(
  'a an and are as at be by for from has have how in is it of on or that the this to was were what when where which who why with does do did can not no'.split(
    ' ',
  ),
);

/** Query terms worth highlighting: lower-cased words of 2+ letters that are not stop words. */
export function queryTerms(q: string): string[] {
  const words = q.toLowerCase().match(/[\p{L}\p{N}]{2,}/gu) ?? [];
  return [...new Set(words.filter((w) => !STOP.has(w)))];
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A snippet of `text` around the first query term (at most `max` characters), as DOM nodes with
 * the terms in <mark>. Terms match at word starts, so "vitamin" also marks "vitamins".
 */
export function snippet(text: string, terms: string[], max = 240): Node[] {
  const re = terms.length ? new RegExp(`(?<![\\p{L}\\p{N}])(${terms.map(escapeRe).join('|')})`, 'giu') : null;
  let start = 0;
  if (re) {
    const m = re.exec(text);
    re.lastIndex = 0;
    if (m && m.index > max / 3) start = text.lastIndexOf(' ', m.index - Math.floor(max / 4)) + 1;
  }
  let s = text.slice(start, start + max);
  if (start + max < text.length) s = `${s.slice(0, Math.max(s.lastIndexOf(' '), max / 2))} …`;
  if (start > 0) s = `… ${s}`;
  if (!re) return [document.createTextNode(s)];
  const out: Node[] = [];
  let last = 0;
  for (const m of s.matchAll(re)) {
    out.push(document.createTextNode(s.slice(last, m.index)));
    // Extend the mark to the end of the word.
    const end = m.index! + m[0].length + (s.slice(m.index! + m[0].length).match(/^[\p{L}\p{N}]*/u)?.[0].length ?? 0);
    out.push(el('mark', {}, s.slice(m.index, end)));
    last = end;
  }
  out.push(document.createTextNode(s.slice(last)));
  return out;
}

/**
 * The routing decision as an SVG bar chart: one bar per expert, the chosen one marked; with
 * `threshold`, a dashed line where a bar must reach for its expert to be chosen.
 */
export function routeChart(
  scores: Record<string, number>,
  chosen: string | null,
  opts: { threshold?: number; what?: string; digits?: number } = {},
): SVGSVGElement | HTMLElement {
  const entries = Object.entries(scores);
  const what = opts.what ?? "similarity of the query to each expert's pilot embeddings";
  const digits = opts.digits ?? 3;
  if (entries.length === 0)
    return el('p', { class: 'muted' }, 'No experts with pilot embeddings: the base encoder answers.');
  const ns = 'http://www.w3.org/2000/svg';
  const rowH = 22;
  const labelW = 110;
  const width = 320;
  const vals = entries.map(([, v]) => v);
  const lo = Math.min(0, ...vals, opts.threshold ?? 0);
  const hi = Math.max(...vals, opts.threshold ?? -Infinity, lo + 1e-9);
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', `0 0 ${width} ${entries.length * rowH}`);
  svg.setAttribute('class', 'route-chart');
  svg.setAttribute('role', 'img');
  const desc = entries.map(([n, v]) => `${n} ${v.toFixed(digits)}${n === chosen ? ' (chosen)' : ''}`).join(', ');
  const bar = opts.threshold === undefined ? '' : `; an expert needs more than ${opts.threshold.toFixed(digits)}`;
  svg.setAttribute('aria-label', `Routing: ${what}: ${desc}${bar}`);
  entries.forEach(([name, v], i) => {
    const y = i * rowH;
    const g = document.createElementNS(ns, 'g');
    g.setAttribute('class', name === chosen ? 'bar chosen' : 'bar');
    g.setAttribute('data-expert', name);
    const label = document.createElementNS(ns, 'text');
    label.setAttribute('x', '0');
    label.setAttribute('y', String(y + 15));
    label.textContent = (name === chosen ? '▶ ' : '') + (name.length > 14 ? `${name.slice(0, 13)}…` : name);
    const w = Math.max(2, ((v - lo) / (hi - lo)) * (width - labelW - 50));
    const rect = document.createElementNS(ns, 'rect');
    rect.setAttribute('x', String(labelW));
    rect.setAttribute('y', String(y + 3));
    rect.setAttribute('width', w.toFixed(1));
    rect.setAttribute('height', String(rowH - 6));
    rect.setAttribute('rx', '3');
    const val = document.createElementNS(ns, 'text');
    val.setAttribute('x', String(labelW + w + 4));
    val.setAttribute('y', String(y + 15));
    val.textContent = v.toFixed(digits);
    g.append(label, rect, val);
    svg.append(g);
  });
  if (opts.threshold !== undefined) {
    const x = labelW + Math.max(2, ((opts.threshold - lo) / (hi - lo)) * (width - labelW - 50));
    const line = document.createElementNS(ns, 'line');
    for (const [k, v] of [
      ['x1', x],
      ['x2', x],
      ['y1', 0],
      ['y2', entries.length * rowH],
    ] as const)
      line.setAttribute(k, v.toFixed(1));
    line.setAttribute('class', 'threshold');
    svg.append(line);
  }
  return svg;
}

export function bytes(n: number | null | undefined): string {
  if (n == null) return 'unknown';
  if (n < 1e3) return `${n} B`;
  if (n < 1e6) return `${(n / 1e3).toFixed(1)} kB`;
  if (n < 1e9) return `${(n / 1e6).toFixed(1)} MB`;
  return `${(n / 1e9).toFixed(2)} GB`;
}

/** An error in plain words, for role="alert". */
export function friendly(e: unknown, context: string): string {
  const msg = e instanceof Error ? e.message : String(e);
  if (isRouterRetrieverError(e)) {
    switch (e.code) {
      case 'QUOTA_EXCEEDED': {
        const need = e.details.neededBytes as number | undefined;
        return `${context}: there is no space left in the browser's storage${need ? ` (about ${bytes(need)} more was needed)` : ''}. Nothing already indexed was lost. Free some space (clear a collection, or site data of other sites) and try again.`;
      }
      case 'MODEL_FORMAT':
        return `${context}: the file is not a model or adapter we can read. ${msg}`;
      case 'ADAPTER_MISMATCH':
        return `${context}: this adapter was trained for another base model and does not fit this one. ${msg}`;
      case 'FILE_NOT_FOUND':
      case 'NETWORK':
        return `${context}: a file could not be downloaded${navigator.onLine ? '' : ' (you are offline)'}. ${msg}`;
      case 'BACKEND':
        return `${context}: the model does not fit or cannot run on this device. ${msg}`;
      case 'CANCELLED':
        return `${context}: cancelled. Documents indexed before cancelling are kept.`;
      case 'MODEL_MISMATCH':
        return `${context}: this collection was indexed with another model. ${msg}`;
      default:
        return `${context}: ${msg}`;
    }
  }
  if ((e as { name?: string })?.name === 'QuotaExceededError') {
    return `${context}: there is no space left in the browser's storage. Nothing already indexed was lost.`;
  }
  if (/out of memory|allocation failed|RangeError: Array buffer/i.test(msg)) {
    return `${context}: the model does not fit in this device's memory. Try a smaller model. (${msg})`;
  }
  return `${context}: ${msg}`;
}
