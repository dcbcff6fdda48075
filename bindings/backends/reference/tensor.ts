// The reference backend's tensor: host memory in float64 (f32 dtype: values are rounded to f32 when
// they arrive, then every op computes and stores in float64) or int32.
import type { DType, Tensor } from '../../backend.js';

export type F64 = Float64Array;
export type I32 = Int32Array;

export class RefTensor implements Tensor {
  readonly size: number;
  readonly backendName = 'reference';
  disposed = false;
  /** Float64Array for 'f32', Int32Array for 'i32'. */
  data: Float64Array | Int32Array;

  constructor(readonly shape: readonly number[], readonly dtype: DType, size: number) {
    this.size = size;
    this.data = dtype === 'f32' ? new Float64Array(size) : new Int32Array(size);
  }
}
