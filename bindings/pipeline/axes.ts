// The principal axes of a few columns, for stage 2's level A (red-levels.ts). Its mixture has
// diagonal covariances, which assume that the columns vary independently inside a component. A
// red cell's heights in FSC, SSC and IMP all grow with its volume, so in the raw columns the
// single cells form one long diagonal ridge, and axis-aligned components can follow it only as a
// chain of small ones, some of which then straddle the single | clumped boundary. Rotated onto the
// principal axes of the training red cells, the ridge lies along one axis. A rotation keeps every
// distance and changes no information; it only lets a diagonal mixture fit what is there.

/** Eigenvectors of the covariance of x [n × w], as the columns of a w × w row-major matrix R
 *  (R[b·w + a]: component b of axis a), by decreasing variance; each axis's largest component is
 *  positive, so the result does not depend on the solver's sign choices. */
export function principalAxes(x: ArrayLike<number>, n: number, w: number): Float64Array {
  const mean = new Float64Array(w);
  for (let i = 0; i < n; i++) for (let a = 0; a < w; a++) mean[a] += x[i * w + a];
  for (let a = 0; a < w; a++) mean[a] /= Math.max(n, 1);
  const cov = new Float64Array(w * w);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < w; a++) {
      const da = x[i * w + a] - mean[a];
      for (let b = a; b < w; b++) cov[a * w + b] += da * (x[i * w + b] - mean[b]);
    }
  }
  for (let a = 0; a < w; a++) for (let b = 0; b < a; b++) cov[a * w + b] = cov[b * w + a];
  const { values, vectors } = symmetricEigen(cov, w);
  const order = Array.from({ length: w }, (_, a) => a).sort((p, q) => values[q] - values[p] || p - q);
  const R = new Float64Array(w * w);
  order.forEach((src, a) => {
    let big = 0;
    for (let b = 0; b < w; b++) if (Math.abs(vectors[b * w + src]) > Math.abs(vectors[big * w + src])) big = b;
    const sign = vectors[big * w + src] < 0 ? -1 : 1;
    for (let b = 0; b < w; b++) R[b * w + a] = sign * vectors[b * w + src];
  });
  return R;
}

/** Rows of x [n × w] in the axes R: out[i, a] = Σ_b x[i, b] R[b, a]. */
export function rotateRows(x: ArrayLike<number>, n: number, w: number, R: ArrayLike<number>): Float64Array {
  const out = new Float64Array(n * w);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < w; a++) {
      let v = 0;
      for (let b = 0; b < w; b++) v += x[i * w + b] * R[b * w + a];
      out[i * w + a] = v;
    }
  }
  return out;
}

/** Cyclic Jacobi rotations on a symmetric w × w matrix: eigenvalues and eigenvectors (columns).
 *  Level A has a handful of columns, where Jacobi is exact to rounding and needs no library. */
export function symmetricEigen(m: Float64Array, w: number): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(m);
  const v = new Float64Array(w * w);
  for (let i = 0; i < w; i++) v[i * w + i] = 1;
  for (let sweep = 0; sweep < MAX_SWEEPS; sweep++) {
    let off = 0;
    let diag = 0;
    for (let p = 0; p < w; p++) {
      diag += a[p * w + p] ** 2;
      for (let q = p + 1; q < w; q++) off += a[p * w + q] ** 2;
    }
    if (off <= 1e-30 * Math.max(diag, 1e-300)) break;
    for (let p = 0; p < w; p++) {
      for (let q = p + 1; q < w; q++) {
        const apq = a[p * w + q];
        if (apq === 0) continue;
        const theta = (a[q * w + q] - a[p * w + p]) / (2 * apq);
        const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < w; k++) {
          const akp = a[k * w + p];
          const akq = a[k * w + q];
          a[k * w + p] = c * akp - s * akq;
          a[k * w + q] = s * akp + c * akq;
        }
        for (let k = 0; k < w; k++) {
          const apk = a[p * w + k];
          const aqk = a[q * w + k];
          a[p * w + k] = c * apk - s * aqk;
          a[q * w + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < w; k++) {
          const vkp = v[k * w + p];
          const vkq = v[k * w + q];
          v[k * w + p] = c * vkp - s * vkq;
          v[k * w + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  return { values: Float64Array.from({ length: w }, (_, i) => a[i * w + i]), vectors: v };
}

/** Jacobi converges quadratically; a symmetric matrix of level A's size is diagonal to rounding
 *  within a few sweeps, and this bound only stops a NaN input from looping. */
const MAX_SWEEPS = 64;
