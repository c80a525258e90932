/**
 * The target weight matrices are graph inputs. Each expert keeps its merged matrices
 * resident as ready-to-feed onnxruntime tensors: typed arrays on WASM, GPU buffers on
 * WebGPU (Tensor.fromGpuBuffer). Switching experts is choosing another feed map.
 */
import type * as ort from 'onnxruntime-web';
import type { Backend } from '../../src/boundary/encoder-api.js';
import { RouterRetrieverError } from '../../src/boundary/errors.js';
import { quantizeForGraph, scaleInput } from '../model/q8-graph.js';

interface GpuBufferLike {
  destroy(): void;
}
interface GpuDeviceLike {
  createBuffer(desc: { size: number; usage: number; mappedAtCreation?: boolean }): GpuBufferLike;
  queue: { writeBuffer(buffer: GpuBufferLike, offset: number, data: ArrayBufferView): void };
}

const GPU_STORAGE = 0x80;
const GPU_COPY_SRC = 0x04;
const GPU_COPY_DST = 0x08;

export interface WeightFeed {
  tensor: ort.Tensor;
  bytes: number;
  release(): void;
}

export class WeightFeedFactory {
  constructor(
    private readonly backend: Backend,
    private readonly device: GpuDeviceLike | null,
    private readonly runtime: typeof ort,
  ) {}

  static async create(backend: Backend, runtime: typeof ort): Promise<WeightFeedFactory> {
    if (backend === 'webgpu') {
      const device = (await runtime.env.webgpu.device) as unknown as GpuDeviceLike;
      return new WeightFeedFactory(backend, device, runtime);
    }
    return new WeightFeedFactory(backend, null, runtime);
  }

  /** Wraps a [in, out] float32 matrix as a feed; on WebGPU it is uploaded once, here. */
  make(data: Float32Array, dims: readonly number[]): WeightFeed {
    if (this.backend === 'webgpu' && this.device) {
      const device = this.device;
      const size = Math.ceil(data.byteLength / 16) * 16;
      const buffer = device.createBuffer({ size, usage: GPU_STORAGE | GPU_COPY_SRC | GPU_COPY_DST });
      device.queue.writeBuffer(buffer, 0, data);
      const tensor = this.runtime.Tensor.fromGpuBuffer(buffer as never, { dataType: 'float32', dims });
      return { tensor, bytes: size, release: () => buffer.destroy() };
    }
    const tensor = new this.runtime.Tensor('float32', data, dims as number[]);
    return { tensor, bytes: data.byteLength, release: () => {} };
  }

  /**
   * The feeds of one [in, out] matrix for a graph of `dtype`: at fp32 the matrix itself; at q8
   * its int8 levels (per output column, as the graph builder quantizes the base) under `name`
   * and the column scales under `<name>.scale`: in + 4 bytes per element of out, a quarter of fp32.
   */
  feedsOf(name: string, wT: Float32Array, nIn: number, nOut: number, dtype: 'fp32' | 'q8'): [string, WeightFeed][] {
    if (dtype === 'fp32') return [[name, this.make(wT, [nIn, nOut])]];
    if (this.backend === 'webgpu') {
      throw new RouterRetrieverError(
        'BACKEND',
        "q8 weights cannot be fed on WebGPU: use device 'wasm' with dtype 'q8'.",
      );
    }
    const q = quantizeForGraph(wT, nIn, nOut);
    const levels = new this.runtime.Tensor('int8', q.data, [nIn, nOut]);
    const scales = new this.runtime.Tensor('float32', q.scale, [q.scale.length]);
    return [
      [name, { tensor: levels, bytes: q.data.byteLength, release: () => {} }],
      [scaleInput(name), { tensor: scales, bytes: q.scale.byteLength, release: () => {} }],
    ];
  }
}

/** One expert's feeds (or the base's): target name -> tensor. */
export class FeedSet {
  readonly feeds = new Map<string, WeightFeed>();

  get residentBytes(): number {
    let n = 0;
    for (const f of this.feeds.values()) n += f.bytes;
    return n;
  }

  release(): void {
    for (const f of this.feeds.values()) f.release();
    this.feeds.clear();
  }
}
