// DEC (Xie, Girshick & Farhadi 2016) and IDEC (Guo et al. 2017): Student-t soft assignment, the
// sharpened target distribution, KL(P‖Q) and its gradient w.r.t. the embedding and the centroids.
import type { F64 } from './tensor.js';

/** Squared distance ‖z_i − μ_j‖² for z [·,D], mu [·,D]. */
export function sqDist(z: F64, i: number, mu: F64, j: number, d: number): number {
  let s = 0;
  for (let t = 0; t < d; t++) {
    const e = z[i * d + t] - mu[j * d + t];
    s += e * e;
  }
  return s;
}

/** DEC eq. 1: q_ij = (1 + ‖z_i−μ_j‖²/α)^(−(α+1)/2) / Σ_j' (same). z [N,D], mu [K,D], q [N,K]. */
export function softAssign(z: F64, mu: F64, q: F64, alpha: number, n: number, k: number, d: number): void {
  const power = -(alpha + 1) / 2;
  for (let i = 0; i < n; i++) {
    let rowSum = 0;
    for (let j = 0; j < k; j++) {
      const v = Math.pow(1 + sqDist(z, i, mu, j, d) / alpha, power);
      q[i * k + j] = v;
      rowSum += v;
    }
    for (let j = 0; j < k; j++) q[i * k + j] /= rowSum;
  }
}

/** DEC eq. 3: p_ij = (q_ij²/f_j) / Σ_j' (q_ij'²/f_j'), f the column sums of q over the whole data set. */
export function targetDistribution(q: F64, f: F64, p: F64, n: number, k: number): void {
  for (let i = 0; i < n; i++) {
    let rowSum = 0;
    for (let j = 0; j < k; j++) {
      const v = (q[i * k + j] * q[i * k + j]) / f[j];
      p[i * k + j] = v;
      rowSum += v;
    }
    for (let j = 0; j < k; j++) p[i * k + j] /= rowSum;
  }
}

/** DEC eq. 2, averaged over rows: (1/N) Σ_ij p_ij log(p_ij/q_ij), terms with p_ij = 0 count 0. */
export function klDivLoss(p: F64, q: F64, n: number): number {
  let s = 0;
  for (let i = 0; i < p.length; i++) if (p[i] !== 0) s += p[i] * Math.log(p[i] / q[i]);
  return s / n;
}

/** DEC eq. 4 (general α, as in IDEC) scaled by scale/N, p held constant:
 *    w_ij = scale/N · (α+1)/α · (1+‖z_i−μ_j‖²/α)^−1 · (p_ij − q_ij)
 *    dz_i = Σ_j w_ij (z_i − μ_j);   dmu_j = −Σ_i w_ij (z_i − μ_j).
 *  Valid when the rows of p sum to 1 (a target distribution always does). */
export function softAssignBackward(z: F64, mu: F64, p: F64, q: F64, alpha: number, dz: F64, dmu: F64,
  n: number, k: number, d: number, scale: number, accumulate: boolean): void {
  if (!accumulate) {
    dz.fill(0);
    dmu.fill(0);
  }
  const c = ((scale / n) * (alpha + 1)) / alpha;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) {
      const w = (c * (p[i * k + j] - q[i * k + j])) / (1 + sqDist(z, i, mu, j, d) / alpha);
      for (let t = 0; t < d; t++) {
        const g = w * (z[i * d + t] - mu[j * d + t]);
        dz[i * d + t] += g;
        dmu[j * d + t] -= g;
      }
    }
  }
}
