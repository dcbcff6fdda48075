// Central finite differences in float64 on the reference backend (readF64/writeF64 bypass the f32
// rounding of upload, so the differences see the float64 function the backward ops differentiate).
import type { Tensor } from '../../bindings/backend.js';
import type { ReferenceBackend } from '../../bindings/backends/reference/index.js';

/** ∂loss/∂t by (loss(t + eps·e_i) − loss(t − eps·e_i)) / (2 eps), element by element. */
export function numericGrad(be: ReferenceBackend, t: Tensor, loss: () => number, eps = 1e-6): Float64Array {
  const x = be.readF64(t);
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const x0 = x[i];
    x[i] = x0 + eps;
    be.writeF64(t, x);
    const plus = loss();
    x[i] = x0 - eps;
    be.writeF64(t, x);
    const minus = loss();
    x[i] = x0;
    be.writeF64(t, x);
    g[i] = (plus - minus) / (2 * eps);
  }
  return g;
}

/** ‖a − b‖ / max(‖b‖, tiny). */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0, den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-300);
}

/** A tensor on `be` holding exactly these float64 values. */
export function tensorF64(be: ReferenceBackend, shape: number[], data: Float64Array): Tensor {
  const t = be.create(shape);
  be.writeF64(t, data);
  return t;
}

/** Σ w ⊙ t in float64: a scalar loss whose gradient w.r.t. t is w. */
export function weightedSum(be: ReferenceBackend, t: Tensor, w: Float64Array): number {
  const x = be.readF64(t);
  let s = 0;
  for (let i = 0; i < x.length; i++) s += w[i] * x[i];
  return s;
}
