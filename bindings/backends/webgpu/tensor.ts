import type { DType, Tensor } from '../../backend.js';

/** A tensor living in one GPUBuffer (storage | copy_src | copy_dst) that stays on the device. */
export class WebGPUTensor implements Tensor {
  disposed = false;
  /**
   * Host copy of i32 data as last uploaded, cleared as soon as a kernel writes the tensor. Lets
   * gatherRows/kmeansUpdate validate indices on the CPU for free when they came from the host;
   * indices produced on the GPU cannot be checked without a readback, so kernels skip/clamp them.
   */
  hostIndices: Int32Array | null = null;
  constructor(
    readonly backendName: string,
    readonly shape: readonly number[],
    readonly dtype: DType,
    readonly size: number,
    readonly buffer: GPUBuffer,
  ) {}
  get bytes(): number {
    return this.size * 4;
  }
}
