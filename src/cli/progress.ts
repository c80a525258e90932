/** The CLI's progress line on stderr: documents, documents per second, time left. */
import type { EmbedProgress } from '../boundary/encoder-api.js';

export function duration(sec: number | null): string {
  if (sec === null || !Number.isFinite(sec)) return '?';
  if (sec < 60) return `${Math.ceil(sec)} s`;
  return `${Math.floor(sec / 60)} min ${String(Math.ceil(sec % 60)).padStart(2, '0')} s`;
}

export function progressLine(p: EmbedProgress): string {
  const pct = p.total > 0 ? ((100 * p.done) / p.total).toFixed(0) : '100';
  return `embedding ${p.done} / ${p.total} documents (${pct} %), ${p.docsPerSec.toFixed(1)} docs/s, ETA ${duration(p.etaSec)}`;
}

/**
 * A printer for progress updates: on a terminal one line redrawn in place, otherwise (CI logs,
 * a pipe) one line at most every `everyMs` and the last one.
 */
export function progressPrinter(
  out: { write(s: string): unknown; isTTY?: boolean },
  everyMs = 5000,
): (p: EmbedProgress) => void {
  let last = 0;
  return (p) => {
    const now = Date.now();
    const final = p.done >= p.total;
    if (out.isTTY) out.write(`\r${progressLine(p)}${final ? '\n' : ''}`);
    else if (final || now - last >= everyMs) {
      last = now;
      out.write(`${progressLine(p)}\n`);
    }
  };
}
