// Host side of vade.wgsl's KL term: per-row terms into partials, then column reductions into the
// scalar loss or the mixture-parameter gradients.
import type { Tensor } from '../../../backend.js';
import type { GpuContext } from '../context.js';
import { f, u } from '../context.js';
import type { WebGPUTensor } from '../tensor.js';
import { reduceRows } from './reduce.js';
import { blockPartials, k, perThread } from './row-ops.js';

const T = (t: Tensor) => t as WebGPUTensor;

/** The VaDE KL term, averaged over rows, into loss[0] (arguments checked by the caller). */
export function vadeKlLoss(ctx: GpuContext, muEnc: Tensor, logVarEnc: Tensor, gamma: Tensor, piLogits: Tensor, muC: Tensor,
  logVarC: Tensor, loss: Tensor): void {
  const [n, d] = muEnc.shape;
  const kk = piLogits.shape[0];
  const chunks = ctx.chunks(n, [d, kk]);
  const groups = chunks.reduce((s, c) => s + perThread(c.rows), 0);
  const partial = ctx.scratch(groups * 4);
  let pbase = 0;
  ctx.rowOp(k('vade.wgsl', 'vadeKlLoss'), n,
    [{ rows: T(muEnc), width: d }, { rows: T(logVarEnc), width: d }, { rows: T(gamma), width: kk },
      { whole: T(piLogits) }, { whole: T(muC) }, { whole: T(logVarC) }, { whole: partial, write: true, bytes: groups * 4 }],
    (c) => { const p = [u(c.rows), u(d), u(kk), u(pbase), f(0), u(0)]; pbase += perThread(c.rows); return p; },
    (c) => perThread(c.rows));
  reduceRows(ctx, partial, groups, 1, [{ col0: 0, cols: 1, target: T(loss), scale: 1 / n, accumulate: false }]);
}

/** The gradients of vadeKlLoss by the encoder outputs (per row) and the mixture parameters (reduced). */
export function vadeKlLossBackward(ctx: GpuContext, muEnc: Tensor, logVarEnc: Tensor, gamma: Tensor, piLogits: Tensor,
  muC: Tensor, logVarC: Tensor, dMuEnc: Tensor, dLogVarEnc: Tensor, dPiLogits: Tensor, dMuC: Tensor, dLogVarC: Tensor,
  scale: number, acc: boolean): void {
  const [n, d] = muEnc.shape;
  const kk = piLogits.shape[0];
  const coef = scale / n;
  ctx.rowOp(k('vade.wgsl', 'vadeKlLossBackward'), n,
    [{ rows: T(muEnc), width: d }, { rows: T(logVarEnc), width: d }, { rows: T(gamma), width: kk }, { whole: T(muC) }, { whole: T(logVarC) },
      { rows: T(dMuEnc), width: d, write: true }, { rows: T(dLogVarEnc), width: d, write: true }],
    (c) => [u(c.rows), u(d), u(kk), u(0), f(coef), u(acc ? 1 : 0)], (c) => perThread(c.rows));
  const width = 2 * kk * d + kk;
  const { partial, blocks } = blockPartials(ctx, k('vade.wgsl', 'vadeKlLossBackwardC'), n,
    [{ rows: T(muEnc), width: d }, { rows: T(logVarEnc), width: d }, { rows: T(gamma), width: kk }, { whole: T(piLogits) }, { whole: T(muC) }, { whole: T(logVarC) }],
    width, (rows, _row0, pbase) => [u(rows), u(d), u(kk), u(pbase), f(0), u(0)]);
  reduceRows(ctx, partial, blocks, width, [
    { col0: 0, cols: kk * d, target: T(dMuC), scale: coef, accumulate: acc },
    { col0: kk * d, cols: kk * d, target: T(dLogVarC), scale: coef, accumulate: acc },
    { col0: 2 * kk * d, cols: kk, target: T(dPiLogits), scale: -coef, accumulate: acc },
  ]);
}
