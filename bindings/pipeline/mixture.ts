// Diagonal Gaussian mixtures whose components are SHARED by classes, with per-sample class
// proportions, on low-dimensional embeddings (d ≈ 10, a few tens of thousands of rows). Training's
// EM runs its rows on the compute backend (em-known.ts, em-rows.ts); the per-sample re-estimation
// here is host float64 over densities the backend computed or logGauss below.
//
//   p(z | sample s) = Σ_c θ_{s,c} Σ_k ρ_{c,k} N(z | μ_k, diag σ²_k),   Σ_k ρ_{c,k} = 1 for each class c
//
// θ_s are the sample's class proportions; class c is itself a mixture over the K components with
// weights ρ_c (a class such as "reticulocyte" is a continuum of RNA content, not one Gaussian blob).
// Which class a component belongs to is NOT fixed: ρ is learned, so a component whose per-sample
// share does not follow a class's reference loses that class's weight. This is the mixture model of
// learning from label proportions: the bags (samples) differ only in θ, and the variation of θ across
// bags identifies ρ (Kück & de Freitas 2005, "Learning about individuals from group statistics";
// EM for mixtures with known per-bag mixing weights: Dempster, Laird & Rubin 1977).
//  - emKnownProportions: training, θ_s fixed to the sample's reference values, EM over μ, σ², ρ;
//  - estimateProportions: inference, components and ρ fixed, EM over θ alone — the classical
//    re-estimation of class priors on a new data set (Saerens, Latinne & Decaestecker 2002,
//    eq. 2.9–2.10) with class likelihoods p(z | c) = Σ_k ρ_{c,k} N(z | μ_k, σ²_k).

import type { ComputeBackend, Tensor } from '../backend.js';
import { proportionsFromClassLogLik, type ProportionOptions, type ProportionResult } from './proportions.js';

export { proportionsFromClassLogLik, type ProportionOptions, type ProportionResult };

export interface ClassMixture {
  k: number;
  d: number;
  classes: number;
  mu: Float64Array; // [k × d]
  logVar: Float64Array; // [k × d]
  /** [classes × k]: class c's weights over the components, each row on the simplex. */
  rho: Float64Array;
}

const LOG_2PI = Math.log(2 * Math.PI);

/** log N(z_i | μ_k, σ²_k) for all rows/components, [n × k]. */
export function logGauss(m: Pick<ClassMixture, 'k' | 'd' | 'mu' | 'logVar'>, z: ArrayLike<number>, n: number): Float64Array {
  const { k, d } = m;
  const out = new Float64Array(n * k);
  const inv = Float64Array.from(m.logVar, (v) => Math.exp(-v));
  const cst = new Float64Array(k);
  for (let c = 0; c < k; c++) {
    let s = d * LOG_2PI;
    for (let t = 0; t < d; t++) s += m.logVar[c * d + t];
    cst[c] = -0.5 * s;
  }
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < k; c++) {
      let q = 0;
      for (let t = 0; t < d; t++) {
        const e = z[i * d + t] - m.mu[c * d + t];
        q += e * e * inv[c * d + t];
      }
      out[i * k + c] = cst[c] - 0.5 * q;
    }
  }
  return out;
}

/** The row indices of each of samples 0…S−1, in order: rows 0…n−1 of `sampleOf` (all by default). */
export function rowsBySample(sampleOf: ArrayLike<number>, S: number, n = sampleOf.length): Int32Array[] {
  const lists: number[][] = Array.from({ length: S }, () => []);
  for (let i = 0; i < n; i++) lists[sampleOf[i]].push(i);
  return lists.map((l) => Int32Array.from(l));
}

/** Rows `rows` of z [· × D] as a new float64 matrix [rows.length × D] (plain loops: the callers run
 *  it over every event of a sample at classify time). */
export function selectRows(z: ArrayLike<number>, D: number, rows: ArrayLike<number>): Float64Array {
  const out = new Float64Array(rows.length * D);
  for (let i = 0; i < rows.length; i++) for (let t = 0; t < D; t++) out[i * D + t] = z[rows[i] * D + t];
  return out;
}

/** The first `size` values of z as an upload source: typed arrays as views (the backends round
 *  float64 to f32 in one bulk copy), anything else copied once here rather than element by element
 *  through a callback, which showed in classify's profile. */
export function rowsOf(z: ArrayLike<number>, size: number): Float32Array | Float64Array {
  if (z instanceof Float32Array || z instanceof Float64Array) return z.length === size ? z : z.subarray(0, size);
  return Float32Array.from(Array.prototype.slice.call(z, 0, size) as number[]);
}

/**
 * Uploads rows z [n × d], mixing logits (default all zero: uniform π) and the components, runs the
 * backend's `gmmLogResp` and hands its output tensor [n × k] to `use` (before every tensor made here
 * is disposed). With uniform π the op's log γ_ik = log N_ik − logsumexp_k' log N_ik' is logGauss
 * minus a per-row constant; with logits log ρ it is the component posterior itself. The op runs in
 * f32 (wasm: f64 inside, f32 out). The one place classify's component densities are computed.
 */
async function withComponentLogResp<T>(be: ComputeBackend, m: Pick<ClassMixture, 'k' | 'd' | 'mu' | 'logVar'>, z: ArrayLike<number>,
  n: number, piLogits: ArrayLike<number> | undefined, use: (logResp: Tensor) => Promise<T>): Promise<T> {
  const { k, d } = m;
  const made = [be.create([n, d]), be.create([k]), be.create([k, d]), be.create([k, d]), be.create([n, k])];
  const [tz, tpi, tmu, tlv, logResp] = made;
  try {
    be.upload(tz, rowsOf(z, n * d));
    be.upload(tpi, piLogits ? Float32Array.from(piLogits) : new Float32Array(k));
    be.upload(tmu, m.mu);
    be.upload(tlv, m.logVar);
    be.gmmLogResp(tz, tpi, tmu, tlv, logResp);
    return await use(logResp);
  } finally {
    for (const t of made) be.dispose(t);
  }
}

/** Component log-densities up to a per-row constant (uniform π), or with logits log ρ the component
 *  posteriors in log space, [n × k], computed on the backend (see withComponentLogResp). */
export async function componentLogDensities(be: ComputeBackend, m: Pick<ClassMixture, 'k' | 'd' | 'mu' | 'logVar'>,
  z: ArrayLike<number>, n: number, piLogits?: ArrayLike<number>): Promise<Float32Array> {
  return withComponentLogResp(be, m, z, n, piLogits, async (logResp) => (await be.download(logResp)) as Float32Array);
}

/** Normalises rows of log-weights in place into probabilities (log-sum-exp); returns Σ log-normalisers. */
export function softmaxRows(a: Float64Array, n: number, k: number): number {
  let ll = 0;
  for (let i = 0; i < n; i++) {
    let mx = -Infinity;
    for (let c = 0; c < k; c++) mx = Math.max(mx, a[i * k + c]);
    let s = 0;
    for (let c = 0; c < k; c++) s += (a[i * k + c] = Math.exp(a[i * k + c] - mx));
    for (let c = 0; c < k; c++) a[i * k + c] /= s;
    ll += mx + Math.log(s);
  }
  return ll;
}

/** Mixing weight of component k for class proportions θ: log Σ_c θ_c ρ_{c,k} (θ floored so no
 *  class is impossible). */
export function componentLogWeights(m: ClassMixture, theta: ArrayLike<number>, floor: number): Float64Array {
  return Float64Array.from({ length: m.k }, (_, j) => {
    let s = 0;
    for (let c = 0; c < m.classes; c++) s += Math.max(theta[c], floor) * m.rho[c * m.k + j];
    return Math.log(Math.max(s, 1e-300));
  });
}

/** The class each component mostly belongs to under proportions θ (for reports). */
export function dominantClass(m: ClassMixture, theta: ArrayLike<number>): number[] {
  return Array.from({ length: m.k }, (_, j) => {
    let best = 0;
    for (let c = 1; c < m.classes; c++) if (theta[c] * m.rho[c * m.k + j] > theta[best] * m.rho[best * m.k + j]) best = c;
    return best;
  });
}


/**
 * Per-row class log-likelihoods log p(z_i | c) = log Σ_k ρ_{c,k} exp(logDens_{ik}), [n × classes].
 * The k exponentials of a row are taken once, relative to the row's largest density, and shared by
 * every class (k exps per row instead of classes × k). A class whose components all lie so far below
 * the row's best that this sum underflows gets its own log-sum-exp (its own max), so the result is
 * the per-class log-sum-exp to rounding. ρ is floored at 1e-300 exactly as a log-space sum over
 * log max(ρ, 1e-300) would be.
 */
export function classLogLik(m: ClassMixture, logDens: ArrayLike<number>, n: number): Float64Array {
  const { k, classes: C } = m;
  const out = new Float64Array(n * C);
  const rho = Float64Array.from(m.rho, (v) => Math.max(v, 1e-300));
  const g = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    let mx = -Infinity;
    for (let j = 0; j < k; j++) mx = Math.max(mx, logDens[i * k + j]);
    for (let j = 0; j < k; j++) g[j] = Math.exp(logDens[i * k + j] - mx);
    for (let c = 0; c < C; c++) {
      let s = 0;
      for (let j = 0; j < k; j++) s += rho[c * k + j] * g[j];
      // Below ~1e-280 the shared exponentials have lost digits to underflow: redo this class alone.
      out[i * C + c] = s > 1e-280 ? mx + Math.log(s) : classLogLikSlow(rho, logDens, i, c, k);
    }
  }
  return out;
}

/**
 * A class's sum Σ_k γ_ik ρ'_ck below this is not trusted from the f32 backend path of
 * classLogLikOnBackend, and the row is redone on the host. Terms the f32 path loses (γ or ρ' under
 * f32's normal range, 2⁻¹²⁶ ≈ 1.2e-38: denormal, or flushed to zero on a GPU) add up to at most
 * 2k · 1.2e-38 (γ, ρ' ≤ 1); above 1e-30 that is ≤ k · 2.4e-8 relative, i.e. ≤ 1e-5 in log for
 * k ≤ 400 components. Below it the class lies ≥ 69 nats under the row's best component: far below
 * anything that moves a posterior, but the host value is finite and the f32 one may be −∞.
 */
const F32_TRUSTED_SUM = 1e-30;

/**
 * classLogLik at classify time, on the backend: log p(z_i | c) up to a per-row constant, [n × classes].
 * With γ_ik = softmax_k(log N_ik) (gmmLogResp with uniform π, then softmax: γ_ik = N_ik / Σ_k' N_ik'),
 *   log Σ_k ρ_ck N_ik = log(γ_i · ρ_cᵀ) + log Σ_k' N_ik',
 * and the last term is the same for every class of a row, which every consumer cancels: the EM of
 * proportionsFromClassLogLik (directly, or through classifyRed's row subsets) subtracts each row's
 * max before exponentiating. So the backend runs gmmLogResp → softmax → gemm with ρᵀ [k × classes]
 * and only n × classes values come back instead of n × k.
 * Each class's ρ row is divided by its largest weight before it goes to f32 (and log max added back
 * here), so a class whose weights are all tiny (even the 1e-300 floor of classLogLik) does not
 * vanish in f32. A row where some class's sum is below F32_TRUSTED_SUM (or not finite) is redone
 * exactly as the host would: its log-densities (the op's f32 log γ, gathered on the backend) through
 * classLogLik — the same per-row constant (log γ = log N − log Σ N), so rows of both kinds mix.
 */
export async function classLogLikOnBackend(be: ComputeBackend, m: ClassMixture, z: ArrayLike<number>, n: number): Promise<Float64Array> {
  const { k, classes: C } = m;
  const rho = Float64Array.from(m.rho, (v) => Math.max(v, 1e-300));
  const logMax = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    let mx = 0;
    for (let j = 0; j < k; j++) mx = Math.max(mx, rho[c * k + j]);
    logMax[c] = Math.log(mx);
    for (let j = 0; j < k; j++) rho[c * k + j] /= mx;
  }
  return withComponentLogResp(be, m, z, n, undefined, async (logResp) => {
    const tRho = be.create([C, k]);
    const gamma = be.create([n, k]);
    const sums = be.create([n, C]);
    const made = [tRho, gamma, sums];
    try {
      be.upload(tRho, rho);
      be.softmax(logResp, gamma);
      be.gemm(gamma, tRho, sums, { transB: true });
      const s = (await be.download(sums)) as Float32Array;
      const out = new Float64Array(n * C);
      const redo: number[] = [];
      for (let i = 0; i < n; i++) {
        let trusted = true;
        for (let c = 0; c < C; c++) {
          const v = s[i * C + c];
          if (!(v >= F32_TRUSTED_SUM && v < Infinity)) trusted = false;
          out[i * C + c] = Math.log(v) + logMax[c];
        }
        if (!trusted) redo.push(i);
      }
      if (redo.length) {
        const idx = be.create([redo.length], 'i32');
        const rows = be.create([redo.length, k]);
        made.push(idx, rows);
        be.upload(idx, Int32Array.from(redo));
        be.gatherRows(logResp, idx, rows);
        const exact = classLogLik(m, (await be.download(rows)) as Float32Array, redo.length);
        redo.forEach((r, i) => out.set(exact.subarray(i * C, (i + 1) * C), r * C));
      }
      return out;
    } finally {
      for (const t of made) be.dispose(t);
    }
  });
}

/** log Σ_k ρ_{c,k} exp(logDens_{ik}) with the class's own max (the underflow-safe path of classLogLik). */
function classLogLikSlow(rho: Float64Array, logDens: ArrayLike<number>, i: number, c: number, k: number): number {
  let mx = -Infinity;
  for (let j = 0; j < k; j++) mx = Math.max(mx, logDens[i * k + j] + Math.log(rho[c * k + j]));
  if (mx === -Infinity) return -Infinity;
  let s = 0;
  for (let j = 0; j < k; j++) s += Math.exp(logDens[i * k + j] + Math.log(rho[c * k + j]) - mx);
  return mx + Math.log(s);
}

/**
 * One sample's class proportions θ by EM with the components fixed (prior re-estimation), from
 * per-row component log-densities `logDens` [n × k] (any per-row constant may be added: it cancels).
 * Returns θ and the class posteriors [n × classes] under it. The EM itself (exp-free, and its
 * SQUAREM acceleration) is proportions.ts. The posteriors are those of a log-space E-step to
 * rounding; the two forms can differ only where a posterior is below ~1e-300 (w ≥ floor bounds
 * log w, so the underflow points differ by at most |log floor| nats).
 */
export function estimateProportions(m: ClassMixture, logDens: ArrayLike<number>, n: number,
  opts: ProportionOptions = {}): ProportionResult {
  return proportionsFromClassLogLik(m.classes, classLogLik(m, logDens, n), n, opts);
}


/** Per row: the log density of its nearest component, max_j log N(z | μ_j, σ²_j) — how typical the
 *  row is of anything the mixture learned (quality.ts's low-likelihood flag). */
export function nearestLogDensity(m: Pick<ClassMixture, 'k' | 'd' | 'mu' | 'logVar'>, z: ArrayLike<number>, n: number): Float64Array {
  const ld = logGauss(m, z, n);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let best = -Infinity;
    for (let j = 0; j < m.k; j++) best = Math.max(best, ld[i * m.k + j]);
    out[i] = best;
  }
  return out;
}

