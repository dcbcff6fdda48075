// The supervised bound of a robustness-matrix domain: a classifier trained on the TRUE per-event
// labels of the training samples (evaluation only; the pipeline never sees them). Quadratic
// discriminant analysis — one full-covariance Gaussian per class, with the class's share as its
// prior — over the same unit-free pulse summaries the pipeline computes: the populations are
// close to Gaussian there, so QDA is near the best any classifier on those features does, and it
// trains in one pass with no tuning.

export interface Qda {
  classes: number;
  dim: number;
  logPrior: number[];
  mean: Float64Array[];
  /** Cholesky factor L of each class covariance (row-major, lower) and log det. */
  chol: Float64Array[];
  logDet: number[];
}

const RIDGE = 1e-6;

/** Fits QDA on rows x (n × dim) with labels y in 0..classes−1 (other labels are skipped). */
export function fitQda(x: ArrayLike<number>, y: ArrayLike<number>, n: number, dim: number, classes: number): Qda {
  const count = new Float64Array(classes);
  const mean = Array.from({ length: classes }, () => new Float64Array(dim));
  for (let i = 0; i < n; i++) {
    const c = y[i];
    if (!(c >= 0 && c < classes)) continue;
    count[c]++;
    for (let a = 0; a < dim; a++) mean[c][a] += x[i * dim + a];
  }
  for (let c = 0; c < classes; c++) for (let a = 0; a < dim; a++) mean[c][a] /= Math.max(count[c], 1);
  const cov = Array.from({ length: classes }, () => new Float64Array(dim * dim));
  for (let i = 0; i < n; i++) {
    const c = y[i];
    if (!(c >= 0 && c < classes)) continue;
    for (let a = 0; a < dim; a++) {
      const da = x[i * dim + a] - mean[c][a];
      for (let b = 0; b <= a; b++) cov[c][a * dim + b] += da * (x[i * dim + b] - mean[c][b]);
    }
  }
  const total = count.reduce((s, v) => s + v, 0);
  const chol: Float64Array[] = [];
  const logDet: number[] = [];
  for (let c = 0; c < classes; c++) {
    const S = cov[c];
    let trace = 0;
    for (let a = 0; a < dim; a++) {
      for (let b = 0; b <= a; b++) S[a * dim + b] /= Math.max(count[c] - 1, 1);
      trace += S[a * dim + a];
    }
    // A small ridge keeps a class with few events (or a constant feature) invertible.
    for (let a = 0; a < dim; a++) S[a * dim + a] += RIDGE * Math.max(trace / dim, 1e-12) + 1e-12;
    const L = cholesky(S, dim);
    chol.push(L);
    let ld = 0;
    for (let a = 0; a < dim; a++) ld += 2 * Math.log(L[a * dim + a]);
    logDet.push(ld);
  }
  return { classes, dim, logPrior: Array.from(count, (v) => Math.log(Math.max(v, 0.5) / total)), mean, chol, logDet };
}

function cholesky(S: Float64Array, d: number): Float64Array {
  const L = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = S[i * d + j];
      for (let k = 0; k < j; k++) s -= L[i * d + k] * L[j * d + k];
      L[i * d + j] = i === j ? Math.sqrt(Math.max(s, 1e-300)) : s / L[j * d + j];
    }
  }
  return L;
}

/** Each row's log density under each class, without the class priors: [n × classes]. */
export function qdaLogDensities(m: Qda, x: ArrayLike<number>, n: number): Float64Array {
  const { dim } = m;
  const out = new Float64Array(n * m.classes);
  const v = new Float64Array(dim);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < m.classes; c++) {
      const L = m.chol[c];
      // Mahalanobis distance by forward substitution: L v = x − μ.
      let q = 0;
      for (let a = 0; a < dim; a++) {
        let s = x[i * dim + a] - m.mean[c][a];
        for (let k = 0; k < a; k++) s -= L[a * dim + k] * v[k];
        v[a] = s / L[a * dim + a];
        q += v[a] * v[a];
      }
      out[i * m.classes + c] = -0.5 * (m.logDet[c] + q);
    }
  }
  return out;
}

/** Most probable class of each row under the given log priors (default: the training shares). */
export function predictQda(m: Qda, x: ArrayLike<number>, n: number, logPrior: ArrayLike<number> = m.logPrior): Int32Array {
  const L = qdaLogDensities(m, x, n);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = -Infinity;
    for (let c = 0; c < m.classes; c++) {
      const score = logPrior[c] + L[i * m.classes + c];
      if (score > best) {
        best = score;
        out[i] = c;
      }
    }
  }
  return out;
}
