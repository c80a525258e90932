/** Plain-text tables for bench output. */
export interface Column<T> {
  header: string;
  value: (row: T) => string | number | null | undefined;
  /** Decimals for numbers (default 2). */
  digits?: number;
}

function cell(v: string | number | null | undefined, digits: number): string {
  if (v === null || v === undefined || (typeof v === 'number' && !Number.isFinite(v))) return '-';
  return typeof v === 'number' ? v.toFixed(digits) : v;
}

export function formatTable<T>(rows: T[], columns: Column<T>[]): string {
  const cells = rows.map((r) => columns.map((c) => cell(c.value(r), c.digits ?? 2)));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => r[i].length)));
  const line = (parts: string[]) =>
    parts.map((p, i) => (i === 0 ? p.padEnd(widths[i]) : p.padStart(widths[i]))).join('  ');
  return [line(columns.map((c) => c.header)), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

export function median(xs: number[]): number {
  return quantile(xs, 0.5);
}

/** Linear-interpolated quantile (numpy's default). */
export function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}
