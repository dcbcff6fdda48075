// Host side of kernels/gemm.wgsl: tile choice, and M/K chunking of operands beyond one binding.
import type { GemmOptions } from '../../../backend.js';
import type { GpuContext } from '../context.js';
import { f, u } from '../context.js';
import { ceilDiv, gemmTile } from '../plan.js';
import type { WebGPUTensor } from '../tensor.js';

/**
 * Rows of `total` per chunk so that a row-bound operand of `width` elements per row fits the
 * binding limit, in multiples of the offset-alignment quantum.
 */
function rowsPerChunk(ctx: GpuContext, total: number, width: number, what: string): number {
  if (width === 0 || total * width * 4 <= ctx.bindLimit) return total;
  const q = Math.max(1, ctx.align / 4);
  const r = Math.floor(Math.floor(ctx.bindLimit / (width * 4)) / q) * q;
  if (r < 1) throw new Error(`webgpu: gemm: a row of ${what} (${width} floats) does not fit in one storage binding (${ctx.bindLimit} bytes)`);
  return r;
}

/**
 * C = alpha op(A) op(B) + beta C. Chunks: M (rows of C, and of A when not transposed) and K (rows of
 * A when transposed, rows of B when not). B transposed is bound whole (its rows are N). K chunks
 * after the first accumulate with beta = 1.
 */
export function gemm(ctx: GpuContext, a: WebGPUTensor, b: WebGPUTensor, c: WebGPUTensor, o: GemmOptions): void {
  const tA = !!o.transA;
  const tB = !!o.transB;
  const alpha = o.alpha ?? 1;
  const beta = o.beta ?? 0;
  const [m, k] = tA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
  const n = tB ? b.shape[0] : b.shape[1];
  if (tB && b.bytes > ctx.bindLimit) {
    throw new Error(`webgpu: gemm with transB needs B (${b.bytes} bytes) in one storage binding (limit ${ctx.bindLimit})`);
  }
  const tile = gemmTile(m, n);
  const kernel = {
    file: 'gemm.wgsl', entry: 'gemm',
    consts: { TM: tile.TM, TN: tile.TN, TK: tile.TK, WG_X: tile.WG_X, WG_Y: tile.WG_Y, RM: tile.RM, RN: tile.RN, TRANS_A: tA, TRANS_B: tB },
  };
  const mRows = Math.min(rowsPerChunk(ctx, m, n, 'C'), tA ? m : rowsPerChunk(ctx, m, k, 'A'));
  const kRows = Math.min(tA ? rowsPerChunk(ctx, k, m, 'Aᵀ') : k, tB ? k : rowsPerChunk(ctx, k, n, 'B'));
  const groupsN = ceilDiv(n, tile.TN);
  for (let m0 = 0; m0 < m; m0 += mRows) {
    const mr = Math.min(mRows, m - m0);
    for (let k0 = 0; k0 < k; k0 += kRows) {
      const kr = Math.min(kRows, k - k0);
      const aBind = tA
        ? { buffer: a.buffer, offset: k0 * m * 4, size: kr * m * 4, write: false }
        : { buffer: a.buffer, offset: m0 * k * 4, size: mr * k * 4, write: false };
      const bBind = tB
        ? { buffer: b.buffer, offset: 0, size: b.bytes, write: false }
        : { buffer: b.buffer, offset: k0 * n * 4, size: kr * n * 4, write: false };
      const cBind = { buffer: c.buffer, offset: m0 * n * 4, size: mr * n * 4, write: true };
      ctx.dispatch(kernel, [
        u(mr), u(n), u(kr),
        u(tA ? m : k), u(tB ? k : n),
        u(tA ? m0 : k0), u(tB ? k0 : 0),
        u(groupsN),
        f(alpha), f(k0 === 0 ? beta : 1),
      ], [aBind, bBind, cBind], ceilDiv(mr, tile.TM) * groupsN);
    }
  }
}
