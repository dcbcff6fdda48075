// Reference-constrained EM for the mixtures of mixture.ts: training with each sample's class
// proportions fixed to its references (emKnownProportions), and the component → class map chosen
// by those references (fitClassMap). The EM's row work runs on the compute backend (em-rows.ts).
import type { ComputeBackend } from '../backend.js';
import { EmRows, type ComponentSums } from './em-rows.js';
import { classLogLikOnBackend, componentLogWeights, dominantClass, logGauss, rowsBySample, selectRows, softmaxRows, type ClassMixture } from './mixture.js';
import { proportionsFromClassLogLik } from './proportions.js';

/** k-means restarts of the components a reference-constrained mixture starts from (the platelet
 *  side's, the VaDE prior's): the EM that follows moves them, so a few restarts suffice. */
export const START_KMEANS_RESTARTS = 4;

/** Sinkhorn balancing of each iteration's class posteriors: at most this many rounds, until no
 *  sample's class total is off its target by more than BALANCE_TOL (relative, as a log ratio). */
const BALANCE_ROUNDS = 30;
const BALANCE_TOL = 1e-3;

export interface EmOptions {
  /** θ is floored at this before its log (no class impossible in a sample). */
  floor?: number;
  varFloor?: number;
  rhoFloor?: number;
  fixRho?: boolean;
  matchProportions?: boolean;
  /** Start each iteration's balancing from the previous iteration's per-sample class offsets (on by
   *  default): the parameters move little between iterations, so the same fixed point (to
   *  BALANCE_TOL) is reached in a round or two instead of up to BALANCE_ROUNDS from zero. */
  warmStart?: boolean;
}

/**
 * EM with per-sample class proportions fixed: updates μ, σ², ρ in place. `theta` is [S × classes];
 * `sampleOf[i]` the sample of row i. Returns the mean log-likelihood per row under θ in the last
 * E-step. The row work runs on the backend (em-rows.ts); the host balances and finishes the M-step.
 *
 * E-step, per row i of sample s: class posterior q_{ic} ∝ θ_{s,c} p(z_i | c) with p(z | c) = Σ_k ρ_{c,k} N(z | μ_k, σ²_k),
 * split over components as r_{ikc} = q_{ic} ρ_{c,k} N_k(z_i) / p(z_i | c). With `matchProportions` (default on) the
 * class posteriors of each sample are rescaled — per-sample class offsets found by iterative proportional
 * fitting, as in Sinkhorn balancing — until their column sums are n_s θ_{s,c}: each sample's reference is
 * then a constraint on how many of its rows a class receives (the "most class-like" ones), not only a prior,
 * which is what lets the weak per-bag signal of a rare class move a component away from it.
 * M-step: μ_k, σ²_k from r_{ik} = Σ_c r_{ikc}; ρ_{c,k} ∝ Σ_i r_{ikc} (+ a tiny floor so no weight is lost for good).
 */
export async function emKnownProportions(be: ComputeBackend, m: ClassMixture, z: ArrayLike<number>, n: number, sampleOf: ArrayLike<number>,
  theta: number[][], iterations: number, opts: EmOptions = {}): Promise<number> {
  const C = m.classes;
  const S = theta.length;
  const floor = opts.floor ?? 1e-3;
  const match = opts.matchProportions ?? true;
  const rowsOf = new Float64Array(S);
  for (let i = 0; i < n; i++) rowsOf[sampleOf[i]]++;
  const logT = new Float64Array(S * C);
  const want = new Float64Array(S * C);
  for (let s = 0; s < S; s++) {
    const tot = theta[s].reduce((a, v) => a + Math.max(v, floor), 0);
    for (let c = 0; c < C; c++) {
      logT[s * C + c] = Math.log(Math.max(theta[s][c], floor));
      want[s * C + c] = (rowsOf[s] * Math.max(theta[s][c], floor)) / tot;
    }
  }
  const offset = new Float64Array(S * C);
  const rows = new EmRows(be, m, z, n, sampleOf, S);
  try {
    let ll = 0;
    for (let it = 0; it < iterations; it++) {
      rows.eStep(m);
      const last = it === iterations - 1;
      // The log-likelihood reported is under θ itself, not under the balanced priors.
      if (last || !match) ll = (await rows.posteriors(logT)).sampleLogLik.reduce((a, v) => a + v, 0) / n;
      if (match) {
        if (!(opts.warmStart ?? true)) offset.fill(0);
        await balance(rows, logT, offset, want, rowsOf, C);
      }
      const sums = await rows.sums();
      mStepFromSums(m, sums, opts.varFloor ?? 1e-4);
      if (!opts.fixRho) updateRho(m, sums.classWeights, opts.rhoFloor ?? 1e-6);
    }
    return ll;
  } finally {
    rows.dispose();
  }
}

/** Balances the posteriors held by `rows`: per-(sample, class) offsets added to log θ until every
 *  sample's class totals are its targets `want`. Samples without rows have nothing to balance. */
async function balance(rows: EmRows, logT: Float64Array, offset: Float64Array, want: Float64Array, rowsOf: Float64Array, C: number): Promise<void> {
  const logPrior = new Float64Array(logT.length);
  for (let round = 0; round < BALANCE_ROUNDS; round++) {
    for (let i = 0; i < logT.length; i++) logPrior[i] = logT[i] + offset[i];
    const { colSums } = await rows.posteriors(logPrior);
    let worst = 0;
    for (let i = 0; i < logT.length; i++) {
      if (rowsOf[Math.floor(i / C)] === 0) continue;
      const step = Math.log(want[i] / Math.max(colSums[i], 1e-12));
      worst = Math.max(worst, Math.abs(step));
      offset[i] += step;
    }
    if (worst < BALANCE_TOL) return;
  }
}

/** μ and σ² of every component that kept some weight, from the sums about the μ it had in the
 *  E-step (as the backend holds it: rounded to f32). A component that lost all its rows keeps its
 *  place (it may win rows back later). */
function mStepFromSums(m: ClassMixture, sums: ComponentSums, varFloor: number): void {
  const { k, d, classes: C } = m;
  for (let j = 0; j < k; j++) {
    let nk = 0;
    for (let c = 0; c < C; c++) nk += sums.classWeights[c * k + j];
    if (nk < 1e-6) continue;
    for (let t = 0; t < d; t++) {
      const shift = sums.sum1[j * d + t] / nk;
      m.mu[j * d + t] = Math.fround(m.mu[j * d + t]) + shift;
      m.logVar[j * d + t] = Math.log(Math.max(sums.sum2[j * d + t] / nk - shift * shift, 0) + varFloor);
    }
  }
}

/** ρ_c ∝ each class's weight on each component, plus `rhoFloor` so no weight is lost for good; a
 *  weight that is exactly zero stays zero (a hard class map). */
function updateRho(m: ClassMixture, classWeights: Float32Array, rhoFloor: number): void {
  const { k, classes: C } = m;
  for (let c = 0; c < C; c++) {
    let s = 0;
    const acc = new Float64Array(k);
    for (let j = 0; j < k; j++) s += (acc[j] = classWeights[c * k + j] + (m.rho[c * k + j] > 0 ? rhoFloor : 0));
    for (let j = 0; j < k; j++) m.rho[c * k + j] = acc[j] / s;
  }
}

/**
 * The component → class map by the references, then the mixture refitted under it.
 * Candidate maps: the dominant class of every component after a soft phase (every class gets a
 * little weight on every component — `smoothing` × component size — and the proportion-matched EM
 * moves each component's weight to the class whose per-sample references its rows follow), plus any
 * `candidates` given (the pipeline offers the map chosen before the ELBO training; NOT the
 * least-squares map of mapping.ts: it is fitted to these same references, so it wins this fit by
 * construction and was measured to lose on held-out samples). Each candidate is made hard (ρ zero
 * off the map, so a cell's class posterior is not blurred by a rare class's thin weight on a big
 * component) and refitted by EM; the one whose re-estimated per-sample proportions (prior
 * re-estimation on each training sample, exactly what inference does) best match the references
 * wins — a choice made from the references alone. Returns the map, its reference-fit error and the
 * mean log-likelihood of the last E-step.
 */
export async function fitClassMap(be: ComputeBackend, m: ClassMixture, z: ArrayLike<number>, n: number, sampleOf: ArrayLike<number>, theta: number[][],
  o: { softIterations: number; hardIterations: number; smoothing: number; floor: number; candidates?: number[][] }): Promise<{ classOf: number[]; fit: number; ll: number; tried: number }> {
  const { k, classes: C } = m;
  const size = new Float64Array(k);
  const meanTheta = Array.from({ length: C }, (_, c) => theta.reduce((a, t) => a + t[c], 0) / theta.length);
  for (let c = 0; c < C; c++) for (let j = 0; j < k; j++) size[j] += meanTheta[c] * m.rho[c * k + j];
  for (let c = 0; c < C; c++) {
    let t = 0;
    for (let j = 0; j < k; j++) t += (m.rho[c * k + j] += o.smoothing * size[j]);
    for (let j = 0; j < k; j++) m.rho[c * k + j] /= t;
  }
  await emKnownProportions(be, m, z, n, sampleOf, theta, o.softIterations, { floor: o.floor });
  const soft = cloneMixture(m);
  const maps = [dominantClass(m, meanTheta), ...(o.candidates ?? [])].map((map) => ensureEveryClass([...map], soft));
  const unique = maps.filter((map, i) => maps.findIndex((x) => x.join() === map.join()) === i);
  let best: { classOf: number[]; fit: number; ll: number; mix: ClassMixture } | null = null;
  for (const classOf of unique) {
    // The soft phase's components (their ρ restricted to the map) start every candidate.
    const cand = cloneMixture(soft);
    for (let c = 0; c < C; c++) {
      let t = 0;
      for (let j = 0; j < k; j++) t += classOf[j] === c ? cand.rho[c * k + j] + 1e-6 : 0;
      for (let j = 0; j < k; j++) cand.rho[c * k + j] = classOf[j] === c ? (cand.rho[c * k + j] + 1e-6) / t : 0;
    }
    const ll = await emKnownProportions(be, cand, z, n, sampleOf, theta, o.hardIterations, { floor: o.floor });
    const fit = await referenceFit(be, cand, z, n, sampleOf, theta);
    if (!best || fit < best.fit) best = { classOf, fit, ll, mix: cand };
  }
  Object.assign(m, best!.mix);
  return { classOf: best!.classOf, fit: best!.fit, ll: best!.ll, tried: unique.length };
}

export function cloneMixture(m: ClassMixture): ClassMixture {
  return { ...m, mu: Float64Array.from(m.mu), logVar: Float64Array.from(m.logVar), rho: Float64Array.from(m.rho) };
}

/** Every class keeps at least one component: the one it weighs most among components of classes
 *  that own several. */
function ensureEveryClass(classOf: number[], m: ClassMixture): number[] {
  for (let c = 0; c < m.classes; c++) {
    if (classOf.includes(c)) continue;
    let best = -1;
    for (let j = 0; j < m.k; j++) {
      if (classOf.filter((x) => x === classOf[j]).length < 2) continue;
      if (best < 0 || m.rho[c * m.k + j] > m.rho[c * m.k + best]) best = j;
    }
    if (best >= 0) classOf[best] = c;
  }
  return classOf;
}

/** Σ_s Σ_c (θ̂_{s,c} − θ_{s,c})² / var_c: each training sample's proportions re-estimated with the
 *  components fixed, against its references; classes weighted by 1/variance of their references
 *  so a rare class counts as much as the dominant one. */
export async function referenceFit(be: ComputeBackend, m: ClassMixture, z: ArrayLike<number>, n: number, sampleOf: ArrayLike<number>,
  theta: number[][]): Promise<number> {
  const S = theta.length;
  const C = m.classes;
  const weight = Array.from({ length: C }, (_, c) => {
    const mean = theta.reduce((a, t) => a + t[c], 0) / S;
    return 1 / (theta.reduce((a, t) => a + (t[c] - mean) ** 2, 0) / S + 1e-4);
  });
  let err = 0;
  (await perSampleProportions(be, m, z, n, sampleOf, S, (s) => theta[s])).forEach((est, s) => {
    if (est) for (let c = 0; c < C; c++) err += weight[c] * (est[c] - theta[s][c]) ** 2;
  });
  return err;
}

/** Each of samples 0…S−1's class proportions re-estimated with the components fixed, exactly as
 *  classify does: the class log-likelihoods of every row on the backend, then the free per-sample
 *  EM from `init(s)` (proportions.ts); null for a sample without rows. */
export async function perSampleProportions(be: ComputeBackend, m: ClassMixture, z: ArrayLike<number>, n: number, sampleOf: ArrayLike<number>, S: number,
  init: (s: number) => number[]): Promise<(Float64Array | null)[]> {
  const L = await classLogLikOnBackend(be, m, z, n);
  return rowsBySample(sampleOf, S, n).map((rows, s) => rows.length
    ? proportionsFromClassLogLik(m.classes, selectRows(L, m.classes, rows), rows.length, { init: init(s), accelerate: true }).theta : null);
}

export function mStep(m: ClassMixture, z: ArrayLike<number>, n: number, r: Float64Array, varFloor: number): void {
  const { k, d } = m;
  const nk = new Float64Array(k);
  const s1 = new Float64Array(k * d);
  const s2 = new Float64Array(k * d);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < k; c++) {
      const g = r[i * k + c];
      if (g < 1e-12) continue;
      nk[c] += g;
      for (let t = 0; t < d; t++) {
        const v = z[i * d + t];
        s1[c * d + t] += g * v;
        s2[c * d + t] += g * v * v;
      }
    }
  }
  for (let c = 0; c < k; c++) {
    // A component that lost all its rows keeps its place (it may win rows back later).
    if (nk[c] < 1e-6) continue;
    for (let t = 0; t < d; t++) {
      const mu = s1[c * d + t] / nk[c];
      m.mu[c * d + t] = mu;
      m.logVar[c * d + t] = Math.log(Math.max(s2[c * d + t] / nk[c] - mu * mu, 0) + varFloor);
    }
  }
}

/**
 * The same components over richer per-row vectors: each row's component responsibilities under
 * `m` (on `z`, with its sample's prior θ_s) give every component its mean and variance on `zNew`
 * (D values per row); ρ is kept. Starts a refit on the new vectors from the components already
 * found, so the component → class map carries over.
 */
export function liftMixture(m: ClassMixture, z: ArrayLike<number>, zNew: ArrayLike<number>, D: number, n: number,
  sampleOf: ArrayLike<number>, theta: number[][], floor: number, varFloor = 1e-4): ClassMixture {
  const { k } = m;
  const r = logGauss(m, z, n);
  const logW = theta.map((t) => componentLogWeights(m, t, floor));
  for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) r[i * k + j] += logW[sampleOf[i]][j];
  softmaxRows(r, n, k);
  const out: ClassMixture = { k, d: D, classes: m.classes, mu: new Float64Array(k * D), logVar: new Float64Array(k * D), rho: Float64Array.from(m.rho) };
  mStep(out, zNew, n, r, varFloor);
  return out;
}
