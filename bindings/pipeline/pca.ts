// A 2-D principal-component projection for plots: mean and the top two eigenvectors of the
// covariance (power iteration with deflation, float64).

export interface Projection2d {
  mean: Float32Array; // [D]
  components: Float32Array; // [2 × D]
}

export function fitPca2(x: ArrayLike<number>, n: number, D: number, iterations = 200): Projection2d {
  const mean = new Float64Array(D);
  for (let i = 0; i < n; i++) for (let t = 0; t < D; t++) mean[t] += x[i * D + t] / n;
  const cov = new Float64Array(D * D);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < D; a++) {
      const da = x[i * D + a] - mean[a];
      for (let b = a; b < D; b++) cov[a * D + b] += (da * (x[i * D + b] - mean[b])) / n;
    }
  }
  for (let a = 0; a < D; a++) for (let b = 0; b < a; b++) cov[a * D + b] = cov[b * D + a];
  const comps = new Float32Array(2 * D);
  for (let k = 0; k < 2; k++) {
    // Deterministic start, not orthogonal to any fixed direction in general.
    let v = Float64Array.from({ length: D }, (_, t) => 1 + t * 0.01 * (k + 1));
    let lambda = 0;
    for (let it = 0; it < iterations; it++) {
      const w = new Float64Array(D);
      for (let a = 0; a < D; a++) for (let b = 0; b < D; b++) w[a] += cov[a * D + b] * v[b];
      const norm = Math.hypot(...w);
      if (norm === 0) break;
      lambda = norm;
      v = w.map((e) => e / norm);
    }
    comps.set(Float32Array.from(v), k * D);
    // Deflate: cov −= λ v vᵀ.
    for (let a = 0; a < D; a++) for (let b = 0; b < D; b++) cov[a * D + b] -= lambda * v[a] * v[b];
  }
  return { mean: Float32Array.from(mean), components: comps };
}

export function project2(p: Projection2d, x: ArrayLike<number>, n: number, D: number): Float32Array {
  const out = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < 2; k++) {
      let s = 0;
      for (let t = 0; t < D; t++) s += (x[i * D + t] - p.mean[t]) * p.components[k * D + t];
      out[i * 2 + k] = s;
    }
  }
  return out;
}
