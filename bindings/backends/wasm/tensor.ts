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

const f32bits = new Float32Array(1);
const u32bits = new Uint32Array(f32bits.buffer);

/** The 32 bits a fill of `value` writes into an element of `dtype`: an f32's IEEE bits, an i32 as
 *  JavaScript converts a number to one (ToInt32). */
export function fillBits(dtype: DType, value: number): number {
  if (dtype === 'i32') return value | 0;
  f32bits[0] = value;
  return u32bits[0];
}
