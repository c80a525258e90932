/**
 * One search's filter mask: computed on first use and again only if the live index was rebuilt
 * or grew meanwhile (another tab's reload, a commit while the query was encoded), so the lexical
 * and the dense side read the same rows.
 */
import type { FilterNode } from '../filter/check.js';
import type { LiveIndex } from './live-index.js';

export class FilterMask {
  /** Milliseconds spent computing the mask. */
  ms = 0;
  private memo: { fields: unknown; rows: number; mask: Uint8Array } | undefined;

  constructor(
    private readonly live: LiveIndex,
    readonly filter: FilterNode,
  ) {}

  rows(): Uint8Array {
    const live = this.live;
    const rows = Math.max(live.index.rows, live.lexical.rows);
    const m = this.memo;
    if (m && m.fields === live.fields && m.rows === rows) return m.mask;
    const t = performance.now();
    const mask = live.mask(this.filter);
    this.ms += performance.now() - t;
    this.memo = { fields: live.fields, rows, mask };
    return mask;
  }
}
