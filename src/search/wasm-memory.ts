/**
 * The WebAssembly.Memory layout both WASM kernels read in place:
 *
 *   [0, outPtr)          the query (written before each scan)
 *   [outPtr, vPtr)       the kernel's output for one block of rows
 *   [vPtr, ...)          the rows, `rowBytes` each, grown on demand
 *
 * Every region starts on a 16-byte boundary (v128 loads are declared 16-byte aligned).
 */
import { RouterRetrieverError } from '../boundary/errors.js';

const PAGE = 65536;
const align16 = (n: number) => Math.ceil(n / 16) * 16;

export class WasmRows {
  readonly memory: WebAssembly.Memory;
  readonly qPtr = 0;
  readonly outPtr: number;
  readonly vPtr: number;
  /** Rows that fit without growing. */
  capacity: number;

  constructor(
    queryBytes: number,
    outBytes: number,
    private readonly rowBytes: number,
    /** Said when the memory cannot grow (what the caller can do instead). */
    private readonly hint: string,
  ) {
    this.outPtr = align16(queryBytes);
    this.vPtr = align16(this.outPtr + outBytes);
    this.memory = new WebAssembly.Memory({ initial: Math.ceil(this.vPtr / PAGE) + 1 });
    this.capacity = this.fit();
  }

  private fit(): number {
    return Math.floor((this.memory.buffer.byteLength - this.vPtr) / this.rowBytes);
  }

  /** Grows to hold at least `rows` rows (1.5x steps); the memory's buffer is replaced then, so views must be re-made. */
  reserve(rows: number): void {
    if (rows <= this.capacity) return;
    const cap = Math.max(rows, Math.ceil(this.capacity * 1.5));
    const bytes = this.vPtr + cap * this.rowBytes;
    const pages = Math.ceil(bytes / PAGE) - this.memory.buffer.byteLength / PAGE;
    try {
      if (pages > 0) this.memory.grow(pages);
    } catch {
      throw new RouterRetrieverError(
        'BACKEND',
        `Cannot grow WebAssembly memory to ${(bytes / 2 ** 30).toFixed(2)} GiB for ${rows} vectors${this.hint ? `; ${this.hint}` : ''}.`,
        { neededBytes: bytes },
      );
    }
    this.capacity = this.fit();
  }
}
