// Cluster → class mapping from sample-level references only (never from per-cell truth).
//
// A cluster's share of each training sample is a vector over samples; a class's reference share is
// another. A cluster belongs to the class whose reference it helps to explain:
//  - stage 1: the set of clusters whose summed per-sample share best matches the platelet share
//    (exhaustive search over subsets — k is small);
//  - stage 2: a soft map W (cluster × class, each row on the simplex) minimising
//    Σ_s Σ_c w_c (Σ_k A_sk W_kc − T_sc)², the least-squares form of "learning from label
//    proportions" (Quadrianto et al. 2009 use the same mean-map identity A·W ≈ T), solved by
//    projected gradient; each cluster then takes its argmax class.
// Because the fit only looks at per-sample shares, renaming (permuting) clusters permutes the rows
// of W and changes nothing else.

/** shares[s][k] = share of sample s's rows (where mask is true) that fall in cluster k. */
export function clusterShares(labels: ArrayLike<number>, sampleOf: ArrayLike<number>, nSamples: number, k: number,
  mask?: ArrayLike<boolean | number>): number[][] {
  const counts = Array.from({ length: nSamples }, () => new Array<number>(k).fill(0));
  const totals = new Array<number>(nSamples).fill(0);
  for (let i = 0; i < labels.length; i++) {
    if (mask && !mask[i]) continue;
    counts[sampleOf[i]][labels[i]]++;
    totals[sampleOf[i]]++;
  }
  return counts.map((row, s) => row.map((c) => (totals[s] > 0 ? c / totals[s] : 0)));
}

/** The non-empty proper subset of clusters whose summed share tracks `target` (per sample, 0..1)
 *  best in squared error. Returns membership per cluster. */
export function bestSubset(shares: number[][], target: number[]): { members: boolean[]; sse: number } {
  const k = shares[0].length;
  if (k > 16) throw new RangeError(`bestSubset: ${k} clusters is too many for an exhaustive search`);
  let best = { mask: 1, sse: Infinity };
  for (let mask = 1; mask < (1 << k) - 1; mask++) {
    let sse = 0;
    for (let s = 0; s < shares.length; s++) {
      let p = 0;
      for (let j = 0; j < k; j++) if (mask & (1 << j)) p += shares[s][j];
      sse += (p - target[s]) ** 2;
    }
    if (sse < best.sse) best = { mask, sse };
  }
  return { members: Array.from({ length: k }, (_, j) => (best.mask & (1 << j)) !== 0), sse: best.sse };
}

/**
 * Like bestSubset, but the subset's summed share may be off by a common factor c ∈ [lo, hi]
 * (fitted per subset in closed form, then clipped): the sum over clusters on one side of a first
 * split can miss a fixed fraction of the class (cells on the other side). Without the factor, a
 * cluster of another population whose share is roughly constant across samples gets taken in
 * just to make up that shortfall. Any non-empty subset may win, the full set included.
 */
export function bestScaledSubset(shares: number[][], target: number[], lo: number, hi: number): { members: boolean[]; sse: number; scale: number } {
  const k = shares[0].length;
  if (k > 16) throw new RangeError(`bestScaledSubset: ${k} clusters is too many for an exhaustive search`);
  let best = { mask: (1 << k) - 1, sse: Infinity, scale: 1 };
  for (let mask = 1; mask < 1 << k; mask++) {
    let pt = 0;
    let pp = 0;
    const sums = shares.map((row, s) => {
      let p = 0;
      for (let j = 0; j < k; j++) if (mask & (1 << j)) p += row[j];
      pt += p * target[s];
      pp += p * p;
      return p;
    });
    const scale = Math.min(hi, Math.max(lo, pp > 0 ? pt / pp : 1));
    const sse = sums.reduce((a, p, s) => a + (scale * p - target[s]) ** 2, 0);
    if (sse < best.sse) best = { mask, sse, scale };
  }
  return { members: Array.from({ length: k }, (_, j) => (best.mask & (1 << j)) !== 0), sse: best.sse, scale: best.scale };
}

/** Euclidean projection of v onto the probability simplex (Duchi et al. 2008, Fig. 1). */
export function projectSimplex(v: number[]): number[] {
  const u = [...v].sort((a, b) => b - a);
  let css = 0;
  let theta = 0;
  for (let j = 0; j < u.length; j++) {
    css += u[j];
    const t = (css - 1) / (j + 1);
    if (u[j] - t > 0) theta = t;
  }
  return v.map((x) => Math.max(x - theta, 0));
}

/**
 * Soft cluster → class map W [k × C] (rows on the simplex) with A·W ≈ T, class columns weighted by
 * 1/variance of their reference across samples (so a rare class with small spread, e.g. 1–10 %
 * reticulocytes, counts as much as the dominant one). Returns W and each cluster's argmax class.
 */
export function fitProportionMap(shares: number[][], target: number[][], iterations = 3000): { w: number[][]; classOf: number[] } {
  const S = shares.length;
  const k = shares[0].length;
  const C = target[0].length;
  const weight = Array.from({ length: C }, (_, c) => {
    const m = target.reduce((a, t) => a + t[c], 0) / S;
    const v = target.reduce((a, t) => a + (t[c] - m) ** 2, 0) / S;
    return 1 / (v + 1e-4);
  });
  // Start from the uniform map; step 1/L with L the Lipschitz constant of the gradient.
  let w = Array.from({ length: k }, () => new Array<number>(C).fill(1 / C));
  let ata = 0;
  for (let s = 0; s < S; s++) for (let j = 0; j < k; j++) ata += shares[s][j] ** 2;
  const lr = 1 / (2 * Math.max(...weight) * Math.max(ata, 1e-12));
  for (let it = 0; it < iterations; it++) {
    const grad = Array.from({ length: k }, () => new Array<number>(C).fill(0));
    for (let s = 0; s < S; s++) {
      for (let c = 0; c < C; c++) {
        let p = 0;
        for (let j = 0; j < k; j++) p += shares[s][j] * w[j][c];
        const r = 2 * weight[c] * (p - target[s][c]);
        for (let j = 0; j < k; j++) grad[j][c] += r * shares[s][j];
      }
    }
    w = w.map((row, j) => projectSimplex(row.map((x, c) => x - lr * grad[j][c])));
  }
  const classOf = w.map((row) => row.indexOf(Math.max(...row)));
  return { w, classOf };
}
