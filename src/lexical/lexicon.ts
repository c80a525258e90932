/**
 * Term strings <-> dense term ids. Append-only: an id, once given, never changes, so term
 * vectors stored with documents stay valid; `terms` from index `from` on is what a write must
 * persist (see {@link Lexicon.since}).
 */
export class Lexicon {
  private readonly ids = new Map<string, number>();
  private readonly list: string[] = [];

  constructor(terms: readonly string[] = []) {
    for (const t of terms) this.idOf(t);
  }

  get size(): number {
    return this.list.length;
  }

  /** The id of `term`, added when new. */
  idOf(term: string): number {
    let id = this.ids.get(term);
    if (id === undefined) {
      id = this.list.length;
      this.ids.set(term, id);
      this.list.push(term);
    }
    return id;
  }

  /** The id of a known term, or undefined (queries never add terms). */
  lookup(term: string): number | undefined {
    return this.ids.get(term);
  }

  term(id: number): string {
    return this.list[id];
  }

  /** Terms with ids from `from` on (those added since the lexicon had `from` terms). */
  since(from: number): string[] {
    return this.list.slice(from);
  }

  /** Drops the terms from `size` on: undoes the additions of a write that did not commit. */
  truncate(size: number): void {
    for (let i = size; i < this.list.length; i++) this.ids.delete(this.list[i]);
    this.list.length = Math.min(this.list.length, size);
  }
}
