/**
 * Vector slot allocation, pure: a document's slot is its row in the vector chunks
 * (chunk = slot / chunkSize). An existing document keeps its slot (upsert); a new one takes
 * the lowest free slot (freed by a delete), else the next never-used one. There is no
 * compaction: freed rows are zeroed and reused.
 */
export interface SlotState {
  /** Documents with a vector. */
  count: number;
  /** Next never-used slot. */
  nextSlot: number;
  /** Freed slots, ascending. */
  freeSlots: number[];
}

/**
 * Slots for a batch, parallel to `current` (each document's stored slot, or -1/undefined for
 * a document without one). Returns the slots and the state after the batch.
 */
export function allocateSlots(
  state: SlotState,
  current: readonly (number | undefined)[],
): { slots: number[]; state: SlotState } {
  const free = [...state.freeSlots].sort((a, b) => a - b);
  let fi = 0;
  let { count, nextSlot } = state;
  const slots = current.map((c) => {
    if (c !== undefined && c >= 0) return c;
    count++;
    return fi < free.length ? free[fi++] : nextSlot++;
  });
  return { slots, state: { count, nextSlot, freeSlots: free.slice(fi) } };
}

/** The state after freeing `slots` (slots already free are ignored). */
export function releaseSlots(state: SlotState, slots: readonly number[]): SlotState {
  const free = new Set(state.freeSlots);
  let count = state.count;
  for (const s of slots) {
    if (s < 0 || free.has(s)) continue;
    free.add(s);
    count--;
  }
  return { count, nextSlot: state.nextSlot, freeSlots: [...free].sort((a, b) => a - b) };
}

/** Chunk record and row of a slot. */
export function slotPosition(slot: number, chunkSize: number): { chunk: number; row: number } {
  return { chunk: Math.floor(slot / chunkSize), row: slot % chunkSize };
}
