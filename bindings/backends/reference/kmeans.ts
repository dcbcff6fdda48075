// k-means (Lloyd 1982) assignment and the sums/counts half of the centroid update.
import type { F64, I32 } from './tensor.js';
import { sqDist } from './dec.js';

/** labels[i] = argmin_j ‖x_i − c_j‖² (first on ties), minDist[i] = that squared distance. */
export function kmeansAssign(x: F64, centroids: F64, labels: I32, minDist: F64, n: number, k: number, d: number): void {
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bestDist = Infinity;
    for (let j = 0; j < k; j++) {
      const dist = sqDist(x, i, centroids, j, d);
      if (dist < bestDist) {
        bestDist = dist;
        best = j;
      }
    }
    labels[i] = best;
    minDist[i] = bestDist;
  }
}

/** sums[j,:] (+)= Σ_{i: labels_i = j} x_i; counts[j] (+)= #{i: labels_i = j}. Labels are range-checked by the caller. */
export function kmeansUpdate(x: F64, labels: I32, sums: F64, counts: F64, n: number, d: number, accumulate: boolean): void {
  if (!accumulate) {
    sums.fill(0);
    counts.fill(0);
  }
  for (let i = 0; i < n; i++) {
    const j = labels[i];
    counts[j] += 1;
    for (let t = 0; t < d; t++) sums[j * d + t] += x[i * d + t];
  }
}
