// Elementwise / data movement and the row-wise classification helpers (argmax, softmax).
import type { F64, I32 } from './tensor.js';

/** y = alpha·x + beta·y; beta = 0 overwrites y without reading it (NaN in y does not survive). */
export function axpby(x: F64, y: F64, alpha: number, beta: number): void {
  for (let i = 0; i < y.length; i++) y[i] = beta === 0 ? alpha * x[i] : alpha * x[i] + beta * y[i];
}

/** out[r,:] = src[idx[r],:]; src [N,D], idx [B], out [B,D]. Indices are range-checked by the caller. */
export function gatherRows(src: F64, idx: I32, out: F64, d: number): void {
  for (let r = 0; r < idx.length; r++) out.set(src.subarray(idx[r] * d, idx[r] * d + d), r * d);
}

/** out[i] = argmax_j x[i,j], the first index on ties. */
export function argmax(x: F64, out: I32, n: number, k: number): void {
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (x[i * k + j] > x[i * k + best]) best = j;
    out[i] = best;
  }
}

/** Row softmax, max-subtracted so large logits cannot overflow. x, out [N,K] (may alias). */
export function softmax(x: F64, out: F64, n: number, k: number): void {
  for (let i = 0; i < n; i++) {
    let mx = -Infinity;
    for (let j = 0; j < k; j++) mx = Math.max(mx, x[i * k + j]);
    let s = 0;
    for (let j = 0; j < k; j++) {
      const e = Math.exp(x[i * k + j] - mx);
      out[i * k + j] = e;
      s += e;
    }
    for (let j = 0; j < k; j++) out[i * k + j] /= s;
  }
}

/** dx_ij = y_ij (dy_ij − Σ_k dy_ik y_ik) (the softmax Jacobian applied to dy). */
export function softmaxBackward(y: F64, dy: F64, dx: F64, n: number, k: number): void {
  for (let i = 0; i < n; i++) {
    let dot = 0;
    for (let j = 0; j < k; j++) dot += dy[i * k + j] * y[i * k + j];
    for (let j = 0; j < k; j++) dx[i * k + j] = y[i * k + j] * (dy[i * k + j] - dot);
  }
}
