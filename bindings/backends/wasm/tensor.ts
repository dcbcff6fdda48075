// A tensor of the wasm backend: a block of the module's linear memory, named by its byte offset.
import type { DType, Tensor } from '../../backend.js';

export class WasmTensor implements Tensor {
  readonly backendName = 'wasm';
  disposed = false;
  constructor(
    readonly shape: readonly number[],
    readonly dtype: DType,
    readonly size: number,
    /** Byte offset in the linear memory. */
    readonly ptr: number,
    /** The backend whose memory holds it: a pointer means nothing in another instance's memory. */
    readonly owner: object,
  ) {}
  get bytes(): number {
    return this.size * 4;
  }
}
