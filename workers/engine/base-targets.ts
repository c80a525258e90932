/**
 * The base matrices of the weights that are graph inputs (the LoRA targets), read when first
 * needed: a load whose graph came from the cache does not read the weights at all, and only
 * the first expert added (or a WebGPU session, which feeds them) pays for reading them.
 */
import type { F32Tensor } from '../model/tensor.js';

export class BaseTargets {
  private pending: Promise<Map<string, F32Tensor>> | null;

  /** `matrices`: the original [out, in] matrices by name, or how to read them. */
  constructor(
    readonly names: string[],
    private readonly matrices_: Map<string, F32Tensor> | (() => Promise<Map<string, F32Tensor>>),
  ) {
    this.pending = typeof matrices_ === 'function' ? null : Promise.resolve(matrices_);
  }

  /** Whether the matrices are in memory (or being read). */
  get read(): boolean {
    return this.pending !== null;
  }

  matrices(): Promise<Map<string, F32Tensor>> {
    const load = this.matrices_;
    if (this.pending === null && typeof load === 'function') {
      const p = load();
      this.pending = p;
      // A failed read (e.g. offline with the weights evicted) is tried again next time.
      p.catch(() => {
        if (this.pending === p) this.pending = null;
      });
    }
    return this.pending as Promise<Map<string, F32Tensor>>;
  }
}
