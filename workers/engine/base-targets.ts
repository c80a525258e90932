/**
 * The base matrices of the weights that are graph inputs (the LoRA targets), read when first
 * needed: a load whose graph came from the cache does not read the weights at all, and only
 * the first expert added (or a WebGPU session, which feeds them) pays for reading them.
 */
import type { F32Tensor } from '../model/tensor.js';

type Matrices = Map<string, F32Tensor>;

export class BaseTargets {
  private pending: Promise<Matrices> | null;

  /** `source`: the original [out, in] matrices by name, or how to read them. */
  constructor(
    readonly names: string[],
    private readonly source: Matrices | (() => Promise<Matrices>),
  ) {
    this.pending = typeof source === 'function' ? null : Promise.resolve(source);
  }

  matrices(): Promise<Matrices> {
    if (this.pending === null && typeof this.source === 'function') {
      const p = this.source();
      this.pending = p;
      // A failed read (e.g. offline with the weights evicted) is tried again next time.
      p.catch(() => {
        if (this.pending === p) this.pending = null;
      });
    }
    return this.pending as Promise<Matrices>;
  }
}
