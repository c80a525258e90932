/** Element types found in safetensors files and PyTorch state dicts. */
export type DType =
  | 'float32'
  | 'float16'
  | 'bfloat16'
  | 'float64'
  | 'int64'
  | 'int32'
  | 'int16'
  | 'int8'
  | 'uint8'
  | 'bool';

/** A tensor as read from a checkpoint: raw element type, shape, and the typed data. */
export interface StoredTensor {
  dtype: DType;
  shape: number[];
  /**
   * float32 → Float32Array; float16/bfloat16 → Uint16Array (raw bits); float64 → Float64Array;
   * int64 → BigInt64Array; int32 → Int32Array; int16 → Int16Array; int8 → Int8Array;
   * uint8/bool → Uint8Array.
   */
  data: Float32Array | Float64Array | Uint16Array | BigInt64Array | Int32Array | Int16Array | Int8Array | Uint8Array;
}

/** A float32 tensor, the form every weight takes before it goes into a graph. */
export interface F32Tensor {
  shape: number[];
  data: Float32Array;
}

export type StateDict = Map<string, StoredTensor>;
