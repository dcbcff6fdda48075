// Host side of mixture.wgsl (class mixtures, pipeline/em-known.ts): the per-row E-step, and the
// per-sample and per-component sums as row-block partials finished by colSum. Arguments are checked
// by the caller.
import type { Tensor } from '../../../backend.js';
import { checkIndexRange } from '../../../checks.js';
import type { GpuContext } from '../context.js';
import { u } from '../context.js';
import { ceilDiv, BLOCK_ROWS } from '../plan.js';
import type { WebGPUTensor } from '../tensor.js';
import { reduceRows } from './reduce.js';
import { blockPartials, k, perThread } from './row-ops.js';

const T = (t: Tensor) => t as WebGPUTensor;

/** logDens [N,K] and classLogLik [N,C], one thread per row. */
export function mixtureLogLik(ctx: GpuContext, z: Tensor, mu: Tensor, logVar: Tensor, rho: Tensor, logDens: Tensor, classLogLik: Tensor): void {
  const [n, d] = z.shape;
  const kk = mu.shape[0];
  const c = rho.shape[0];
  ctx.rowOp(k('mixture.wgsl', 'mixtureLogLik'), n,
    [{ rows: T(z), width: d }, { whole: T(mu) }, { whole: T(logVar) }, { whole: T(rho) },
      { rows: T(logDens), width: kk, write: true }, { rows: T(classLogLik), width: c, write: true }],
    (ch) => [u(ch.rows), u(d), u(kk), u(c)], (ch) => perThread(ch.rows));
}

/** post [N,C] per row; colSums [S,C] and sampleLogLik [S] summed over each sample's rows. */
export function mixturePosteriors(ctx: GpuContext, classLogLik: Tensor, sampleOf: Tensor, logPrior: Tensor, post: Tensor,
  colSums: Tensor, sampleLogLik: Tensor): void {
  const [n, c] = classLogLik.shape;
  const s = logPrior.shape[0];
  // Indices uploaded from the host are checked here; GPU-produced ones are clamped by the kernel.
  const host = T(sampleOf).hostIndices;
  if (host) checkIndexRange('mixturePosteriors', 'sampleOf', host, s);
  const width = s * c + s;
  const { partial, blocks } = blockPartials(ctx, k('mixture.wgsl', 'mixturePosteriors'), n,
    [{ rows: T(classLogLik), width: c }, { rows: T(sampleOf), width: 1 }, { whole: T(logPrior) }, { rows: T(post), width: c, write: true }],
    width, (rows, _row0, pbase) => [u(rows), u(c), u(s), u(pbase)]);
  // Every column of the partials is written (0 for a sample without rows), so every output is.
  reduceRows(ctx, partial, blocks, width, [
    { col0: 0, cols: s * c, target: T(colSums), scale: 1, accumulate: false },
    { col0: s * c, cols: s, target: T(sampleLogLik), scale: 1, accumulate: false },
  ]);
}

/** classWeights [C,K], sum1 and sum2 [K,D]: the shares of each row chunk into scratch, then that
 *  chunk's row-block partials (the scratch is reused by the next chunk; queue order keeps it valid).
 *  The partials, C*K + 2*K*D floats per 64 rows, are bound whole (as by colSum after): at C = 3,
 *  K = 24, D = 32 that is ≈ 100 bytes a row, so a 128 MiB binding holds ≈ 1.3M rows. */
export function mixtureStats(ctx: GpuContext, z: Tensor, logDens: Tensor, classLogLik: Tensor, post: Tensor, rho: Tensor, center: Tensor,
  classWeights: Tensor, sum1: Tensor, sum2: Tensor): void {
  const [n, d] = z.shape;
  const kk = center.shape[0];
  const c = rho.shape[0];
  const ck = c * kk, kd = kk * d;
  const shareWidth = ck + kk;
  const width = ck + 2 * kd;
  const chunks = ctx.chunks(n, [d, kk, c, shareWidth]);
  const blocks = chunks.reduce((acc, ch) => acc + ceilDiv(ch.rows, BLOCK_ROWS), 0);
  const partial = ctx.scratch(blocks * width * 4);
  const shares = ctx.scratch(chunks[0].rows * shareWidth * 4);
  const whole = (t: Tensor) => ({ buffer: T(t).buffer, offset: 0, size: t.size * 4, write: false });
  let pbase = 0;
  for (const ch of chunks) {
    const rowsOf = (t: Tensor, w: number) => ({ buffer: T(t).buffer, offset: ch.row0 * w * 4, size: ch.rows * w * 4, write: false });
    const sharesBind = { buffer: shares, offset: 0, size: ch.rows * shareWidth * 4, write: true };
    const params = [u(ch.rows), u(d), u(kk), u(c), u(pbase)];
    ctx.dispatch(k('mixture.wgsl', 'mixtureShares'), params,
      [rowsOf(logDens, kk), rowsOf(classLogLik, c), rowsOf(post, c), whole(rho), sharesBind], perThread(ch.rows));
    ctx.dispatch(k('mixture.wgsl', 'mixtureStats'), params,
      [rowsOf(z, d), whole(center), { ...sharesBind, write: false }, { buffer: partial, offset: 0, size: blocks * width * 4, write: true }],
      ceilDiv(ch.rows, BLOCK_ROWS));
    pbase += ceilDiv(ch.rows, BLOCK_ROWS);
  }
  reduceRows(ctx, partial, blocks, width, [
    { col0: 0, cols: ck, target: T(classWeights), scale: 1, accumulate: false },
    { col0: ck, cols: kd, target: T(sum1), scale: 1, accumulate: false },
    { col0: ck + kd, cols: kd, target: T(sum2), scale: 1, accumulate: false },
  ]);
}
