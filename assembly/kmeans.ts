// k-means (Lloyd 1982) steps and classification helpers: kmeansAssign, kmeansUpdate, argmax,
// softmax, softmaxBackward.
import { sqDist } from './common';

/** labels[i] = argmin_j ‖x_i−c_j‖² (first on ties), minDist[i] = that distance.
 *  x [N,D], centroids [K,D]; rows [r0, r1). */
export function kmeansAssign(x: usize, centroids: usize, labels: usize, minDist: usize, n: i32, d: i32, k: i32,
  r0: i32, r1: i32): void {
  const ld = <usize>d << 2;
  for (let i = r0; i < r1; i++) {
    const xi = x + <usize>i * ld;
    let best: f32 = Infinity;
    let arg = 0;
    for (let j = 0; j < k; j++) {
      const s = sqDist(xi, centroids + <usize>j * ld, d);
      if (s < best) {
        best = s;
        arg = j;
      }
    }
    store<i32>(labels + (<usize>i << 2), arg);
    store<f32>(minDist + (<usize>i << 2), best);
  }
}

/** sums[j,:] (+)= Σ_{labels_i=j} x_i, counts[j] (+)= #{labels_i=j}; labels range-checked by the
 *  caller. Sums run in f64 scratch ((K*D + K) f64) so large clusters stay within tolerance. */
export function kmeansUpdate(x: usize, labels: usize, sums: usize, counts: usize, n: i32, d: i32, k: i32,
  accumulate: i32, scratch: usize): void {
  const kd = k * d;
  const cnt = scratch + (<usize>kd << 3);
  memory.fill(scratch, 0, <usize>(kd + k) << 3);
  for (let i = 0; i < n; i++) {
    const j = load<i32>(labels + (<usize>i << 2));
    const xi = x + (<usize>i * <usize>d << 2);
    const acc = scratch + (<usize>j * <usize>d << 3);
    let t = 0;
    for (; t + 2 <= d; t += 2) {
      const o = <usize>t << 3;
      v128.store(acc + o, f64x2.add(v128.load(acc + o), f64x2.promote_low_f32x4(v128.load64_zero(xi + (<usize>t << 2)))));
    }
    for (; t < d; t++) {
      store<f64>(acc + (<usize>t << 3), load<f64>(acc + (<usize>t << 3)) + <f64>load<f32>(xi + (<usize>t << 2)));
    }
    store<f64>(cnt + (<usize>j << 3), load<f64>(cnt + (<usize>j << 3)) + 1);
  }
  for (let t = 0; t < kd; t++) {
    let v = load<f64>(scratch + (<usize>t << 3));
    if (accumulate) v += <f64>load<f32>(sums + (<usize>t << 2));
    store<f32>(sums + (<usize>t << 2), <f32>v);
  }
  for (let j = 0; j < k; j++) {
    let v = load<f64>(cnt + (<usize>j << 3));
    if (accumulate) v += <f64>load<f32>(counts + (<usize>j << 2));
    store<f32>(counts + (<usize>j << 2), <f32>v);
  }
}

/** out[i] = argmax_j x[i,j] (first on ties). x [N,K], out [N] i32. */
export function argmax(x: usize, out: usize, n: i32, k: i32): void {
  for (let i = 0; i < n; i++) {
    const xi = x + (<usize>i * <usize>k << 2);
    let best = load<f32>(xi);
    let arg = 0;
    for (let j = 1; j < k; j++) {
      const v = load<f32>(xi + (<usize>j << 2));
      if (v > best) {
        best = v;
        arg = j;
      }
    }
    store<i32>(out + (<usize>i << 2), arg);
  }
}

/** Row softmax, max-subtracted; the row sum in f64. x, out [N,K] (may alias); rows [r0, r1) (a
 *  row kernel: worker threads each take a slice). */
export function softmax(x: usize, out: usize, n: i32, k: i32, r0: i32, r1: i32): void {
  for (let i = r0; i < r1; i++) {
    const xi = x + (<usize>i * <usize>k << 2);
    const oi = out + (<usize>i * <usize>k << 2);
    let mx = load<f32>(xi);
    for (let j = 1; j < k; j++) mx = max(mx, load<f32>(xi + (<usize>j << 2)));
    let s: f64 = 0;
    for (let j = 0; j < k; j++) {
      const e = Mathf.exp(load<f32>(xi + (<usize>j << 2)) - mx);
      store<f32>(oi + (<usize>j << 2), e);
      s += e;
    }
    const inv = 1 / s;
    for (let j = 0; j < k; j++) store<f32>(oi + (<usize>j << 2), <f32>(<f64>load<f32>(oi + (<usize>j << 2)) * inv));
  }
}

/** dx_ij = y_ij (dy_ij − Σ_k dy_ik y_ik). y, dy, dx [N,K] (dx may alias dy). */
export function softmaxBackward(y: usize, dy: usize, dx: usize, n: i32, k: i32): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i * <usize>k << 2;
    let s: f64 = 0;
    for (let j = 0; j < k; j++) s += <f64>load<f32>(dy + o + (<usize>j << 2)) * <f64>load<f32>(y + o + (<usize>j << 2));
    for (let j = 0; j < k; j++) {
      const yv = <f64>load<f32>(y + o + (<usize>j << 2));
      store<f32>(dx + o + (<usize>j << 2), <f32>(yv * (<f64>load<f32>(dy + o + (<usize>j << 2)) - s)));
    }
  }
}
