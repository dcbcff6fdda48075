// Diagonal Gaussian mixture fitted by EM (Dempster, Laird & Rubin 1977) on points already on the
// backend, started from k-means. It initialises VaDE's prior, as Jiang et al. (2017, §4.2) do
// with a GMM on the pretrained embedding.
//   E-step: log γ_ic = log π_c + log N(z_i | μ_c, σ²_c) − logsumexp_c (…)   (gmmLogResp)
//   M-step: N_c = Σ_i γ_ic, μ_c = Σ_i γ_ic z_i / N_c, σ²_c = Σ_i γ_ic z_i² / N_c − μ_c² + ε, π_c = N_c / N
// The sums are gemm(γᵀ, Z) and gemm(γᵀ, Z∘Z) on the backend; only K×D numbers come back.
import type { ComputeBackend, Tensor } from '../backend.js';
import { kmeansOnBackend } from './kmeans.js';
import type { Matrix } from './types.js';

export interface GmmParams {
  piLogits: Float32Array; // [K]  (log π_c; softmax gives π)
  mu: Float32Array; // [K×D]
  logVar: Float32Array; // [K×D]
}

export interface GmmOptions {
  k: number;
  seed: number;
  /** EM iterations after the k-means start (0 = k-means + per-cluster variances only). */
  iterations?: number;
  /** Variance floor added in the M-step (like scikit-learn's reg_covar). */
  varFloor?: number;
  kmeansInit?: number;
}

/** The default variance floor: keeps a component that shrinks onto a few identical points from a
 *  zero variance (an infinite likelihood), far below any spread the embedding has. */
const DEFAULT_VAR_FLOOR = 1e-6;
/** k-means restarts of the start, as many as KMeans fits by default. */
const DEFAULT_KMEANS_INIT = 10;
/** The smallest count (and share) of a component: an emptied component keeps a finite log π and
 *  finite means instead of 0/0. */
const MIN_COMPONENT_MASS = 1e-10;

export async function fitDiagonalGmm(be: ComputeBackend, Z: Tensor, z: Matrix, o: GmmOptions): Promise<GmmParams> {
  const { rows: n, cols: d } = z;
  const k = o.k;
  const floor = o.varFloor ?? DEFAULT_VAR_FLOOR;
  const km = await kmeansOnBackend(be, Z, z, { k, nInit: o.kmeansInit ?? DEFAULT_KMEANS_INIT, seed: o.seed });
  // Hard responsibilities from k-means give the first M-step.
  const resp = new Float32Array(n * k);
  for (let i = 0; i < n; i++) resp[i * k + km.labels[i]] = 1;
  const Z2 = be.create([n, d]);
  const sq = new Float32Array(n * d);
  for (let i = 0; i < sq.length; i++) sq[i] = z.data[i] * z.data[i];
  be.upload(Z2, sq);
  const G = be.create([n, k]);
  const logG = be.create([n, k]);
  const sz = be.create([k, d]);
  const sz2 = be.create([k, d]);
  const nk = be.create([k]);
  const piT = be.create([k]);
  const muT = be.create([k, d]);
  const lvT = be.create([k, d]);
  const params: GmmParams = { piLogits: new Float32Array(k), mu: new Float32Array(k * d), logVar: new Float32Array(k * d) };
  try {
    be.upload(G, resp);
    for (let it = 0; it <= (o.iterations ?? 30); it++) {
      if (it > 0) {
        be.upload(piT, params.piLogits);
        be.upload(muT, params.mu);
        be.upload(lvT, params.logVar);
        be.gmmLogResp(Z, piT, muT, lvT, logG);
        be.softmax(logG, G); // rows of log γ are normalised, so softmax = exp
      }
      be.gemm(G, Z, sz, { transA: true });
      be.gemm(G, Z2, sz2, { transA: true });
      be.colSum(G, nk);
      const s1 = (await be.download(sz)) as Float32Array;
      const s2 = (await be.download(sz2)) as Float32Array;
      const cnt = (await be.download(nk)) as Float32Array;
      for (let c = 0; c < k; c++) {
        const nc = Math.max(cnt[c], MIN_COMPONENT_MASS);
        params.piLogits[c] = Math.log(Math.max(cnt[c] / n, MIN_COMPONENT_MASS));
        for (let t = 0; t < d; t++) {
          const m = s1[c * d + t] / nc;
          const v = Math.max(s2[c * d + t] / nc - m * m, 0) + floor;
          params.mu[c * d + t] = m;
          params.logVar[c * d + t] = Math.log(v);
        }
      }
    }
  } finally {
    for (const t of [Z2, G, logG, sz, sz2, nk, piT, muT, lvT]) be.dispose(t);
  }
  return params;
}
