// Clustering metrics that compare a partition with ground-truth classes, invariant to how the
// clusters are numbered: ACC (best one-to-one matching), NMI, ARI.
import { contingency, type Labels } from './contingency.js';
import { hungarianMax } from './hungarian.js';

/**
 * Best one-to-one map cluster → class by the Hungarian algorithm on the contingency table
 * (Xie et al. 2016, eq. 10: ACC = max_m Σ_i 1{y_i = m(c_i)} / n). Clusters left without a class
 * (more clusters than classes) map to −1.
 */
export function matchClusters(yTrue: Labels, yPred: Labels): Map<number, number> {
  const { rowValues, colValues, table } = contingency(yPred, yTrue); // rows = clusters
  const { rowToCol } = hungarianMax(table);
  return new Map(rowValues.map((c, r) => [c, rowToCol[r] >= 0 ? colValues[rowToCol[r]] : -1]));
}

/** Clustering accuracy with Hungarian matching, in [0, 1]. */
export function clusteringAccuracy(yTrue: Labels, yPred: Labels): number {
  const { table, n } = contingency(yPred, yTrue);
  return hungarianMax(table).total / n;
}

const xlogx = (p: number) => (p > 0 ? p * Math.log(p) : 0);

/**
 * Normalised mutual information with ARITHMETIC-mean normalisation (the scikit-learn default):
 *   NMI = I(Y;C) / ((H(Y) + H(C)) / 2),
 * I = Σ_rc (n_rc/n) log(n·n_rc / (a_r b_c)). Natural log (the base cancels). Both partitions
 * trivial (one cluster each) gives 1; exactly one trivial gives 0.
 */
export function nmi(yTrue: Labels, yPred: Labels): number {
  const { table, n } = contingency(yTrue, yPred);
  const a = table.map((row) => row.reduce((s, x) => s + x, 0));
  const b = table[0].map((_, c) => table.reduce((s, row) => s + row[c], 0));
  const hA = -a.reduce((s, x) => s + xlogx(x / n), 0);
  const hB = -b.reduce((s, x) => s + xlogx(x / n), 0);
  if (hA === 0 && hB === 0) return 1;
  let mi = 0;
  for (let r = 0; r < a.length; r++) {
    for (let c = 0; c < b.length; c++) {
      const nrc = table[r][c];
      if (nrc > 0) mi += (nrc / n) * Math.log((n * nrc) / (a[r] * b[c]));
    }
  }
  const denom = (hA + hB) / 2;
  return denom > 0 ? Math.max(0, Math.min(1, mi / denom)) : 0;
}

const comb2 = (x: number) => (x * (x - 1)) / 2;

/**
 * Adjusted Rand index (Hubert & Arabie 1985):
 *   ARI = (Σ C(n_rc,2) − E) / (½(Σ C(a_r,2) + Σ C(b_c,2)) − E),  E = Σ C(a_r,2) Σ C(b_c,2) / C(n,2).
 * Identical partitions give 1; when the denominator is 0 (both partitions trivial in the same
 * way) the partitions agree and 1 is returned.
 */
export function ari(yTrue: Labels, yPred: Labels): number {
  const { table, n } = contingency(yTrue, yPred);
  const a = table.map((row) => row.reduce((s, x) => s + x, 0));
  const b = table[0].map((_, c) => table.reduce((s, row) => s + row[c], 0));
  let index = 0;
  for (const row of table) for (const x of row) index += comb2(x);
  const sa = a.reduce((s, x) => s + comb2(x), 0);
  const sb = b.reduce((s, x) => s + comb2(x), 0);
  const expected = n > 1 ? (sa * sb) / comb2(n) : 0;
  const maxIndex = (sa + sb) / 2;
  if (maxIndex === expected) return 1;
  return (index - expected) / (maxIndex - expected);
}

export interface ClusteringScores {
  acc: number;
  nmi: number;
  ari: number;
}

export function clusteringScores(yTrue: Labels, yPred: Labels): ClusteringScores {
  return { acc: clusteringAccuracy(yTrue, yPred), nmi: nmi(yTrue, yPred), ari: ari(yTrue, yPred) };
}
