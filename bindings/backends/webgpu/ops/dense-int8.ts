// Host side of dense-int8.wgsl: denseInt8 over row chunks, each chunk's rows quantised into scratch
// (one thread per row: its int8 values packed four to a word, and its scale), then one thread per
// output.
// The scratch holds one chunk and is reused by the next (queue order keeps it valid). wq, ws and
// bias are bound whole. Arguments are checked by the caller.
import type { Activation, Tensor } from '../../../backend.js';
import type { Bind, GpuContext } from '../context.js';
import { u } from '../context.js';
import type { WebGPUTensor } from '../tensor.js';
import { ACT_CODE, k, perThread } from './row-ops.js';

const T = (t: Tensor) => t as WebGPUTensor;

/** x [N, IN], wq [OUT, ⌈IN/4⌉] i32, ws and bias [OUT], out [N, OUT] (see bindings/backend.ts). */
export function denseInt8(ctx: GpuContext, x: Tensor, wq: Tensor, ws: Tensor, bias: Tensor, act: Activation, out: Tensor): void {
  const [n, nin] = x.shape;
  const [nout, words] = wq.shape;
  if (T(wq).bytes > ctx.bindLimit) {
    throw new Error(`webgpu: denseInt8 needs wq (${T(wq).bytes} bytes) in one storage binding (limit ${ctx.bindLimit})`);
  }
  const chunks = ctx.chunks(n, [nin, words, 1, nout]);
  const packed = ctx.scratch(chunks[0].rows * words * 4);
  const scale = ctx.scratch(chunks[0].rows * 4);
  const whole = (t: Tensor): Bind => ({ buffer: T(t).buffer, offset: 0, size: T(t).bytes, write: false });
  const quantise = k('dense-int8.wgsl', 'denseInt8Quantise', { ACT: 0 });
  const dot = k('dense-int8.wgsl', 'denseInt8', { ACT: ACT_CODE[act] });
  for (const ch of chunks) {
    const rowsOf = (t: Tensor, w: number, write: boolean): Bind =>
      ({ buffer: T(t).buffer, offset: ch.row0 * w * 4, size: ch.rows * w * 4, write });
    const packedBind = { buffer: packed, offset: 0, size: ch.rows * words * 4 };
    const scaleBind = { buffer: scale, offset: 0, size: ch.rows * 4 };
    ctx.dispatch(quantise, [u(ch.rows), u(nin), u(words)],
      [rowsOf(x, nin, false), { ...packedBind, write: true }, { ...scaleBind, write: true }], perThread(ch.rows));
    ctx.dispatch(dot, [u(ch.rows * nout), u(nout), u(words)],
      [{ ...packedBind, write: false }, { ...scaleBind, write: false }, whole(wq), whole(ws), whole(bias), rowsOf(out, nout, true)],
      perThread(ch.rows * nout));
  }
}
