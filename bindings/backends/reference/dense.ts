// Dense layers: GEMM, bias + activation (forward and backward through the output), column sums.
import type { Activation } from '../../backend.js';
import { quantiseRow } from '../../int8.js';
import type { F64, I32 } from './tensor.js';

/** C[M,N] = alpha·op(A)·op(B) + beta·C, op(A) [M,K], op(B) [K,N].
 *  Stored A is [M,K] (or [K,M] if transA), stored B is [K,N] (or [N,K] if transB).
 *  beta = 0 overwrites C without reading it, so NaN in C cannot leak in. */
export function gemm(a: F64, b: F64, c: F64, m: number, n: number, k: number,
  transA: boolean, transB: boolean, alpha: number, beta: number): void {
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) {
        const aip = transA ? a[p * m + i] : a[i * k + p];
        const bpj = transB ? b[j * k + p] : b[p * n + j];
        s += aip * bpj;
      }
      c[i * n + j] = beta === 0 ? alpha * s : alpha * s + beta * c[i * n + j];
    }
  }
}

export function activate(v: number, act: Activation): number {
  switch (act) {
    case 'identity': return v;
    case 'relu': return v > 0 ? v : 0;
    case 'sigmoid': return v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v));
    case 'tanh': return Math.tanh(v);
  }
}

/** act'(x) written through y = act(x): relu y>0, sigmoid y(1−y), tanh 1−y², identity 1.
 *  tanh uses (1−y)(1+y): equal to 1−y², but in f32 it keeps full relative precision as |y| → 1
 *  (1−|y| is exact there), where 1−y·y cancels. Kernels should use the same form. */
export function activationSlope(y: number, act: Activation): number {
  switch (act) {
    case 'identity': return 1;
    case 'relu': return y > 0 ? 1 : 0;
    case 'sigmoid': return y * (1 - y);
    case 'tanh': return (1 - y) * (1 + y);
  }
}

/** out[i,j] = act(x[i,j] + bias[j]); x, out [N,D] (may alias). */
export function biasAct(x: F64, bias: F64, act: Activation, out: F64, n: number, d: number): void {
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) out[i * d + j] = activate(x[i * d + j] + bias[j], act);
  }
}

/** The int8 dense layer of backend.ts denseInt8: each row of x quantised as bindings/int8.ts does,
 *  the integer sum exact, then f32(f32(f32(f32(Σ) · xs) · ws) + bias) and the activation.
 *  x [N, nin], wq [nout, ⌈nin/4⌉] (four int8 per word, little-endian), ws, bias [nout], out [N, nout]. */
export function denseInt8(x: F64, wq: I32, ws: F64, bias: F64, act: Activation, out: F64, n: number, nin: number, nout: number): void {
  const f32 = Math.fround;
  const words = Math.ceil(nin / 4);
  const qx = new Int8Array(nin);
  const row = new Float32Array(nin);
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < nin; i++) row[i] = x[r * nin + i];
    const xs = quantiseRow(row, nin, qx);
    for (let o = 0; o < nout; o++) {
      let acc = 0;
      for (let i = 0; i < nin; i++) acc += qx[i] * ((wq[o * words + (i >> 2)] << (24 - 8 * (i & 3))) >> 24);
      out[r * nout + o] = activate(f32(f32(f32(f32(acc) * xs) * f32(ws[o])) + f32(bias[o])), act);
    }
  }
}

/** dx = dy · act'(·) through the output y; dy, y, dx [N,D] (dx may alias dy). */
export function biasActBackward(dy: F64, y: F64, act: Activation, dx: F64): void {
  for (let i = 0; i < dy.length; i++) dx[i] = dy[i] * activationSlope(y[i], act);
}

/** out[j] (+)= Σ_i x[i,j]; x [N,D], out [D]. */
export function colSum(x: F64, out: F64, n: number, d: number, accumulate: boolean): void {
  for (let j = 0; j < d; j++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += x[i * d + j];
    out[j] = accumulate ? out[j] + s : s;
  }
}
