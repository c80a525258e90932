import { describe, expect, it } from 'vitest';
import { allocateSlots, releaseSlots, slotPosition } from '../src/store/slots.js';

describe('slot allocation (pure)', () => {
  it('existing documents keep their slot; new ones take the lowest free slot, then new slots', () => {
    const state = { count: 5, nextSlot: 7, freeSlots: [5, 2] };
    const r = allocateSlots(state, [3, undefined, -1, undefined, undefined]);
    expect(r.slots).toEqual([3, 2, 5, 7, 8]);
    expect(r.state).toEqual({ count: 9, nextSlot: 9, freeSlots: [] });
    expect(state).toEqual({ count: 5, nextSlot: 7, freeSlots: [5, 2] }); // input untouched
  });
  it('releasing frees each live slot once, keeps the free list ascending', () => {
    expect(releaseSlots({ count: 4, nextSlot: 6, freeSlots: [4] }, [3, 1, 3, -1, 4])).toEqual({
      count: 2,
      nextSlot: 6,
      freeSlots: [1, 3, 4],
    });
  });
  it('a released slot is the next one allocated', () => {
    const a = allocateSlots({ count: 0, nextSlot: 0, freeSlots: [] }, [undefined, undefined, undefined]);
    const freed = releaseSlots(a.state, [1]);
    expect(allocateSlots(freed, [undefined, undefined]).slots).toEqual([1, 3]);
  });
  it('slot -> chunk and row', () => {
    expect(slotPosition(0, 4)).toEqual({ chunk: 0, row: 0 });
    expect(slotPosition(9, 4)).toEqual({ chunk: 2, row: 1 });
  });
});
