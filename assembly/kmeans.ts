// k-means (Lloyd 1982) steps and classification helpers: kmeansAssign, kmeansUpdate, argmax,
// softmax, softmaxBackward.
import { madd } from './common';

/** Bytes of kmeansAssign's per-thread scratch: the centroids transposed, [D × K rounded up to 4]. */
export function kmeansAssignScratchBytes(d: i32, k: i32): i32 {
  return d * ((k + 3) & ~3) * 4;
}

/**
 * labels[i] = argmin_j ‖x_i−c_j‖² (first on ties), minDist[i] = that distance. x [N,D],
 * centroids [K,D]; rows [r0, r1) (a row kernel). Four centroids at a time from a transposed copy in
 * `scratch` [D × K4]: one row value against four centroids per vector, where a per-centroid dot
 * over D = 8–10 spent most of its time folding lanes. Each distance is summed in exactly the order
 * of sqDist (lane t mod 4 of two accumulators over blocks of 8, then of 4, the four lanes paired,
 * then the tail one by one), so labels and distances are those of the plain per-centroid loop.
 */
export function kmeansAssign(x: usize, centroids: usize, labels: usize, minDist: usize, n: i32, d: i32, k: i32,
  scratch: usize, r0: i32, r1: i32): void {
  const k4 = (k + 3) & ~3;
  // Transposed centroids, padded columns zero (their distances are never read).
  memory.fill(scratch, 0, <usize>(d * k4) << 2);
  for (let j = 0; j < k; j++) {
    for (let t = 0; t < d; t++) store<f32>(scratch + ((<usize>t * <usize>k4 + <usize>j) << 2), load<f32>(centroids + ((<usize>j * <usize>d + <usize>t) << 2)));
  }
  const rowBytes = <usize>d << 2;
  const colBytes = <usize>k4 << 2;
  const d4 = d & ~3;
  const inf4 = f32x4.splat(Infinity);
  const lanes = i32x4(0, 1, 2, 3);
  // Lanes of the last group past centroid k − 1.
  const pad = i32x4.ge_s(i32x4.add(lanes, i32x4.splat(k & ~3)), i32x4.splat(k));
  for (let i = r0; i < r1; i++) {
    const xi = x + <usize>i * rowBytes;
    let bestV = inf4;
    let argV = i32x4.splat(0);
    for (let g = 0; g < k; g += 4) {
      const cg = scratch + (<usize>g << 2);
      // a_l, b_l: lane l of sqDist's two accumulators, for four centroids.
      let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
      let b0 = f32x4.splat(0), b1 = f32x4.splat(0), b2 = f32x4.splat(0), b3 = f32x4.splat(0);
      // Blocks of four: sqDist's 8-blocks put their first half in acc0 and their second in acc1,
      // and a last 4-block in acc0 again, so alternating a and b block by block is its order (the
      // final a + b is the same either way round).
      let t = 0;
      for (; t < d4; t += 4) {
        const xo = xi + (<usize>t << 2);
        const co = cg + <usize>t * colBytes;
        let e = f32x4.sub(v128.load32_splat(xo), v128.load(co));
        const n0 = madd(e, e, a0);
        e = f32x4.sub(v128.load32_splat(xo, 4), v128.load(co + colBytes));
        const n1 = madd(e, e, a1);
        e = f32x4.sub(v128.load32_splat(xo, 8), v128.load(co + 2 * colBytes));
        const n2 = madd(e, e, a2);
        e = f32x4.sub(v128.load32_splat(xo, 12), v128.load(co + 3 * colBytes));
        const n3 = madd(e, e, a3);
        a0 = b0;
        a1 = b1;
        a2 = b2;
        a3 = b3;
        b0 = n0;
        b1 = n1;
        b2 = n2;
        b3 = n3;
      }
      // hsum(acc0 + acc1): (l0 + l1) + (l2 + l3), every centroid in its own lane.
      let s = f32x4.add(f32x4.add(f32x4.add(a0, b0), f32x4.add(a1, b1)), f32x4.add(f32x4.add(a2, b2), f32x4.add(a3, b3)));
      for (; t < d; t++) {
        const e = f32x4.sub(v128.load32_splat(xi + (<usize>t << 2)), v128.load(cg + <usize>t * colBytes));
        s = f32x4.add(s, f32x4.mul(e, e));
      }
      // Lane l keeps the best of centroids l, l+4, …: strict < keeps the first of equals, and the
      // lanes are folded below smallest index first among equal distances. Padding lanes never win.
      if (g + 4 > k) s = v128.bitselect(inf4, s, pad);
      const better = f32x4.lt(s, bestV);
      bestV = v128.bitselect(s, bestV, better);
      argV = v128.bitselect(i32x4.add(lanes, i32x4.splat(g)), argV, better);
    }
    let best = f32x4.extract_lane(bestV, 0);
    let arg = i32x4.extract_lane(argV, 0);
    for (let l = 1; l < 4; l++) {
      const v = l === 1 ? f32x4.extract_lane(bestV, 1) : l === 2 ? f32x4.extract_lane(bestV, 2) : f32x4.extract_lane(bestV, 3);
      const a = l === 1 ? i32x4.extract_lane(argV, 1) : l === 2 ? i32x4.extract_lane(argV, 2) : i32x4.extract_lane(argV, 3);
      if (v < best || (v == best && a < arg)) {
        best = v;
        arg = a;
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
