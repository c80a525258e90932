/** Bounded top-k selection for the eval harness (any item type, any order). */
/** The k smallest items under cmp, sorted; a bounded binary heap (worst at the root). */
export function selectTopK<T>(items: readonly T[], k: number, cmp: (a: T, b: T) => number): T[] {
  if (k <= 0) return [];
  if (items.length <= k) return [...items].sort(cmp);
  const heap: T[] = [];
  const worse = (a: T, b: T): boolean => cmp(a, b) > 0;
  for (const x of items) {
    if (heap.length < k) {
      heap.push(x);
      let i = heap.length - 1;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (!worse(heap[i], heap[p])) break;
        [heap[i], heap[p]] = [heap[p], heap[i]];
        i = p;
      }
    } else if (worse(heap[0], x)) {
      heap[0] = x;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let w = i;
        if (l < k && worse(heap[l], heap[w])) w = l;
        if (r < k && worse(heap[r], heap[w])) w = r;
        if (w === i) break;
        [heap[i], heap[w]] = [heap[w], heap[i]];
        i = w;
      }
    }
  }
  return heap.sort(cmp);
}
