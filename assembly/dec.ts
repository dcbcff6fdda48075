// DEC / IDEC (Xie et al. 2016, "Unsupervised Deep Embedding for Clustering Analysis", eqs. 1-3;
// Guo et al. 2017, "Improved Deep Embedded Clustering with Local Structure Preservation"):
// softAssign, targetDistribution, klDivLoss, softAssignBackward.
// Distances are SIMD f32 (sqDist); the per-row normalisations and the loss run in f64 because K is
// small and the 1e-5 / 1e-4 tolerances leave no room for f32 cancellation there.
import { sqDist } from './common';

/** Student-t kernel, eq. 1: q_ij ∝ (1 + ‖z_i−μ_j‖²/α)^(−(α+1)/2), rows normalised.
 *  z [N,D], mu [K,D], q [N,K]; rows [r0, r1). */
export function softAssign(z: usize, mu: usize, q: usize, n: i32, d: i32, k: i32, alpha: f64, r0: i32, r1: i32): void {
  const ex = -(alpha + 1) / 2;
  const zLd = <usize>d << 2;
  for (let i = r0; i < r1; i++) {
    const zi = z + <usize>i * zLd;
    const qi = q + (<usize>i * <usize>k << 2);
    // pass 1: t_j = 1 + d²/α (kept in q as f32), and the smallest t (largest weight) for scaling,
    // taken from the same f32 values, so that w = 1 exactly for the nearest centre
    let tmin = Infinity;
    for (let j = 0; j < k; j++) {
      const t = <f32>(1 + <f64>sqDist(zi, mu + <usize>j * zLd, d) / alpha);
      store<f32>(qi + (<usize>j << 2), t);
      if (<f64>t < tmin) tmin = <f64>t;
    }
    // pass 2: w_j = (t_j/t_min)^ex ∈ (0,1] (scaling by t_min keeps the general-α power from
    // underflowing); α = 1 is the common case and needs no pow. t_j is read back from its f32 copy
    // in q (t ≥ 1: a relative 6e-8), not recomputed (that would be a second distance pass per
    // component, the most expensive part of the op). Pass 3 uses the same w_j, so the row sums to 1 before the f32 rounding.
    let sum: f64 = 0;
    for (let j = 0; j < k; j++) {
      const t = <f64>load<f32>(qi + (<usize>j << 2));
      sum += alpha == 1 ? tmin / t : Math.pow(t / tmin, ex);
    }
    for (let j = 0; j < k; j++) {
      const t = <f64>load<f32>(qi + (<usize>j << 2));
      const w = alpha == 1 ? tmin / t : Math.pow(t / tmin, ex);
      store<f32>(qi + (<usize>j << 2), <f32>(w / sum));
    }
  }
}

/** Target distribution, eq. 3: p_ij = (q_ij²/f_j) / Σ_j' (q_ij'²/f_j'). q, p [N,K], f [K]. */
export function targetDistribution(q: usize, f: usize, p: usize, n: i32, k: i32): void {
  for (let i = 0; i < n; i++) {
    const qi = q + (<usize>i * <usize>k << 2);
    const pi = p + (<usize>i * <usize>k << 2);
    let sum: f64 = 0;
    for (let j = 0; j < k; j++) {
      const v = <f64>load<f32>(qi + (<usize>j << 2));
      sum += v * v / <f64>load<f32>(f + (<usize>j << 2));
    }
    for (let j = 0; j < k; j++) {
      const v = <f64>load<f32>(qi + (<usize>j << 2));
      store<f32>(pi + (<usize>j << 2), <f32>(v * v / <f64>load<f32>(f + (<usize>j << 2)) / sum));
    }
  }
}

/** KL(P‖Q), eq. 2, mean over rows: loss[0] = (1/N) Σ_ij p log(p/q), terms with p = 0 are 0. */
export function klDivLoss(p: usize, q: usize, loss: usize, n: i32, k: i32): void {
  const total = n * k;
  let acc: f64 = 0;
  for (let i = 0; i < total; i++) {
    const o = <usize>i << 2;
    const pv = <f64>load<f32>(p + o);
    if (pv == 0) continue;
    acc += pv * Math.log(pv / <f64>load<f32>(q + o));
  }
  store<f32>(loss, <f32>(acc / <f64>n));
}

/** Gradient of scale·(1/N)·KL(P‖Q) w.r.t. z and μ (Xie 2016 eqs. 4-5, general α):
 *    c_ij = scale/N · (α+1)/α · (1+‖z_i−μ_j‖²/α)^−1 (p_ij − q_ij)
 *    dz_i = Σ_j c_ij (z_i − μ_j);   dmu_j = −Σ_i c_ij (z_i − μ_j)
 *  scratch: (K*D + D) f64. accumulate adds into dz/dmu instead of overwriting. */
export function softAssignBackward(z: usize, mu: usize, p: usize, q: usize, n: i32, d: i32, k: i32, alpha: f64,
  dz: usize, dmu: usize, scale: f64, accumulate: i32, scratch: usize): void {
  const zLd = <usize>d << 2;
  const dmuAcc = scratch; // [K,D] f64
  const dzRow = scratch + (<usize>k * <usize>d << 3); // [D] f64
  memory.fill(dmuAcc, 0, <usize>k * <usize>d << 3);
  const c0 = scale / <f64>n * (alpha + 1) / alpha;
  for (let i = 0; i < n; i++) {
    const zi = z + <usize>i * zLd;
    memory.fill(dzRow, 0, <usize>d << 3);
    for (let j = 0; j < k; j++) {
      const mj = mu + <usize>j * zLd;
      const o = (<usize>i * <usize>k + <usize>j) << 2;
      const c = c0 / (1 + <f64>sqDist(zi, mj, d) / alpha) * (<f64>load<f32>(p + o) - <f64>load<f32>(q + o));
      const mAcc = dmuAcc + (<usize>j * <usize>d << 3);
      for (let t = 0; t < d; t++) {
        const diff = <f64>load<f32>(zi + (<usize>t << 2)) - <f64>load<f32>(mj + (<usize>t << 2));
        const g = c * diff;
        store<f64>(dzRow + (<usize>t << 3), load<f64>(dzRow + (<usize>t << 3)) + g);
        store<f64>(mAcc + (<usize>t << 3), load<f64>(mAcc + (<usize>t << 3)) - g);
      }
    }
    const dzi = dz + <usize>i * zLd;
    for (let t = 0; t < d; t++) {
      let v = load<f64>(dzRow + (<usize>t << 3));
      if (accumulate) v += <f64>load<f32>(dzi + (<usize>t << 2));
      store<f32>(dzi + (<usize>t << 2), <f32>v);
    }
  }
  const kd = k * d;
  for (let t = 0; t < kd; t++) {
    let v = load<f64>(dmuAcc + (<usize>t << 3));
    if (accumulate) v += <f64>load<f32>(dmu + (<usize>t << 2));
    store<f32>(dmu + (<usize>t << 2), <f32>v);
  }
}
