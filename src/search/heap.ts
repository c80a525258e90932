import type { Hit } from './types.js';

/**
 * Bounded top-k collector: a binary min-heap whose root is the WORST kept hit
 * (lowest score; among equal scores the largest id). O(log k) per accepted
 * hit, O(1) for the common rejected case via `threshold`.
 */
export class TopK {
  readonly k: number;
  private readonly scores: Float64Array;
  private readonly ids: string[];
  private n = 0;

  constructor(k: number) {
    this.k = Math.max(0, Math.floor(k));
    this.scores = new Float64Array(this.k);
    this.ids = new Array<string>(this.k);
  }

  get size(): number {
    return this.n;
  }

  /** Scores strictly below this can never enter (−Infinity until full). */
  get threshold(): number {
    return this.n < this.k ? -Infinity : this.scores[0];
  }

  /** a is worse than b: lower score, or same score and larger id. */
  private worse(i: number, j: number): boolean {
    const si = this.scores[i];
    const sj = this.scores[j];
    return si < sj || (si === sj && this.ids[i] > this.ids[j]);
  }

  private swap(i: number, j: number): void {
    const s = this.scores[i];
    this.scores[i] = this.scores[j];
    this.scores[j] = s;
    const d = this.ids[i];
    this.ids[i] = this.ids[j];
    this.ids[j] = d;
  }

  push(score: number, id: string): void {
    if (this.k === 0 || Number.isNaN(score)) return; // NaN never enters
    if (this.n < this.k) {
      let i = this.n++;
      this.scores[i] = score;
      this.ids[i] = id;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (!this.worse(i, p)) break;
        this.swap(i, p);
        i = p;
      }
      return;
    }
    const rs = this.scores[0];
    if (score < rs || (score === rs && id >= this.ids[0])) return;
    this.scores[0] = score;
    this.ids[0] = id;
    this.siftDown(0);
  }

  private siftDown(i: number): void {
    const n = this.n;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) return;
      const r = l + 1;
      const c = r < n && this.worse(r, l) ? r : l;
      if (!this.worse(c, i)) return;
      this.swap(c, i);
      i = c;
    }
  }

  /** The kept hits, best first (score desc, id asc). Does not clear. */
  sorted(): Hit[] {
    const out: Hit[] = [];
    for (let i = 0; i < this.n; i++) out.push({ id: this.ids[i], score: this.scores[i] });
    out.sort((a, b) => (a.score !== b.score ? b.score - a.score : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return out;
  }
}
