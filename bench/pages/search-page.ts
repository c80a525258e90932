/** Runs bench/search-core.ts in the page; bench/search-browser.ts calls window.bench. */
import { runFloat, runInt8 } from '../search-core.js';
import { runFiltered } from '../search-filter.js';

const runtime = `chromium ${/Chrome\/([\d.]+)/.exec(navigator.userAgent)?.[1] ?? '?'}`;
const w = window as unknown as Record<string, unknown>;
w.bench = {
  float: (n: number) => runFloat(n, runtime),
  int8: (n: number) => runInt8(n, runtime),
  filtered: (n: number) => runFiltered(n, runtime),
};
w.benchReady = true;
