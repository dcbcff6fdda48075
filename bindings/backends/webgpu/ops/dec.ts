// Host side of dec.wgsl's backward: dz row by row, and dμ as per-row-block partials reduced after.
import type { Tensor } from '../../../backend.js';
import type { GpuContext } from '../context.js';
import { f, u } from '../context.js';
import { ceilDiv, BLOCK_ROWS } from '../plan.js';
import type { WebGPUTensor } from '../tensor.js';
import { reduceRows } from './reduce.js';
import { k, perThread } from './row-ops.js';

/** The gradients of the DEC/IDEC clustering loss KL(P‖Q) by z and μ (checked by the caller). */
export function softAssignBackward(ctx: GpuContext, z: Tensor, mu: Tensor, p: Tensor, q: Tensor, alpha: number,
  dz: Tensor, dmu: Tensor, scale: number, accumulate: boolean): void {
  const [n, d] = z.shape;
  const kk = mu.shape[0];
  const coef = (scale / n) * (alpha + 1) / alpha;
  const acc = accumulate ? 1 : 0;
  // Row chunks are processed one at a time: dz and the weights w [rows, K] of a chunk, then the
  // chunk's dμ partials (the scratch w is reused by the next chunk; queue order keeps it valid).
  const chunks = ctx.chunks(n, [d, kk]);
  const blocks = chunks.reduce((s, c) => s + ceilDiv(c.rows, BLOCK_ROWS), 0);
  const partial = ctx.scratch(blocks * kk * d * 4);
  const w = ctx.scratch(chunks[0].rows * kk * 4);
  let pbase = 0;
  for (const c of chunks) {
    const rowsOf = (t: Tensor, width: number, write = false) =>
      ({ buffer: (t as WebGPUTensor).buffer, offset: c.row0 * width * 4, size: c.rows * width * 4, write });
    const wBind = { buffer: w, offset: 0, size: c.rows * kk * 4, write: true };
    const muBind = { buffer: (mu as WebGPUTensor).buffer, offset: 0, size: mu.size * 4, write: false };
    ctx.dispatch(k('dec.wgsl', 'softAssignBackward'), [u(c.rows), u(d), u(kk), f(alpha), f(coef), u(acc)],
      [rowsOf(z, d), muBind, rowsOf(p, kk), rowsOf(q, kk), rowsOf(dz, d, true), wBind], perThread(c.rows));
    ctx.dispatch(k('dec.wgsl', 'softAssignBackwardMu'), [u(c.rows), u(d), u(kk), u(pbase)],
      [rowsOf(z, d), muBind, { ...wBind, write: false }, { buffer: partial, offset: 0, size: blocks * kk * d * 4, write: true }],
      ceilDiv(c.rows, BLOCK_ROWS));
    pbase += ceilDiv(c.rows, BLOCK_ROWS);
  }
  reduceRows(ctx, partial, blocks, kk * d, [{ col0: 0, cols: kk * d, target: dmu as WebGPUTensor, scale: -1, accumulate }]);
}
