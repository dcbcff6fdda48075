// Reference-constrained EM for the mixtures of mixture.ts: training with each sample's class
// proportions fixed to its references (emKnownProportions), and the component → class map chosen
// by those references (fitClassMap). Host float64, on low-dimensional rows.
import { componentLogWeights, dominantClass, estimateProportions, logGauss, selectRows, softmaxRows, type ClassMixture } from './mixture.js';

/** k-means restarts of the components a reference-constrained mixture starts from (the platelet
 *  side's, the VaDE prior's): the EM that follows moves them, so a few restarts suffice. */
export const START_KMEANS_RESTARTS = 4;

/**
 * EM with per-sample class proportions fixed: updates μ, σ², ρ in place. `theta` is [S × classes];
 * `sampleOf[i]` the sample of row i. Returns the mean log-likelihood per row of the last E-step.
 *
 * E-step, per row i of sample s: class posterior q_{ic} ∝ θ_{s,c} p(z_i | c) with p(z | c) = Σ_k ρ_{c,k} N(z | μ_k, σ²_k),
 * split over components as r_{ikc} = q_{ic} ρ_{c,k} N_k(z_i) / p(z_i | c). With `matchProportions` (default on) the
 * class posteriors of each sample are rescaled — per-sample class offsets found by iterative proportional
 * fitting, as in Sinkhorn balancing — until their column sums are exactly n_s θ_{s,c}: each sample's reference is
 * then a constraint on how many of its rows a class receives (the "most class-like" ones), not only a prior,
 * which is what lets the weak per-bag signal of a rare class move a component away from it.
 * M-step: μ_k, σ²_k from r_{ik} = Σ_c r_{ikc}; ρ_{c,k} ∝ Σ_i r_{ikc} (+ a tiny floor so no weight is lost for good).
 */
export function emKnownProportions(m: ClassMixture, z: ArrayLike<number>, n: number, sampleOf: ArrayLike<number>,
  theta: number[][], iterations: number,
  opts: { floor?: number; varFloor?: number; rhoFloor?: number; fixRho?: boolean; matchProportions?: boolean } = {}): number {
  const { k, classes: C } = m;
  const floor = opts.floor ?? 1e-3;
  const w = emWork(n, k, C);
  const logT = theta.map((t) => t.map((v) => Math.log(Math.max(v, floor))));
  const rowsOf = new Float64Array(theta.length);
  for (let i = 0; i < n; i++) rowsOf[sampleOf[i]]++;
  let ll = 0;
  for (let it = 0; it < iterations; it++) {
    const { ld, logRho } = classLikelihoods(m, z, n, w);
    ll = balancedPosteriors(w, n, C, sampleOf, theta, logT, rowsOf, floor, opts.matchProportions ?? true);
    const acc = responsibilities(m, w, ld, logRho, n);
    mStep(m, z, n, w.r, opts.varFloor ?? 1e-4);
    if (!opts.fixRho) {
      const rhoFloor = opts.rhoFloor ?? 1e-6;
      for (let c = 0; c < C; c++) {
        let s = 0;
        // A weight that is exactly zero stays zero (a hard class map); others get the floor.
        for (let j = 0; j < k; j++) s += (acc[c * k + j] += m.rho[c * k + j] > 0 ? rhoFloor : 0);
        for (let j = 0; j < k; j++) m.rho[c * k + j] = acc[c * k + j] / s;
      }
    }
  }
  return ll;
}

/** emKnownProportions' per-row work arrays, reused across iterations. */
interface EmWork {
  /** exp(ld_ij − rowMax_i): each row's exponentials, taken once [n × k]. */
  E: Float64Array;
  /** Σ_j ρ_cj E_ij (0 only where the class underflowed) [n × C]. */
  sum: Float64Array;
  /** log p(z_i | c) [n × C]. */
  L: Float64Array;
  /** exp(L_ic − max_c L_ic) [n × C]. */
  e: Float64Array;
  rowL: Float64Array;
  /** Class posteriors [n × C]. */
  q: Float64Array;
  /** Component responsibilities [n × k]. */
  r: Float64Array;
}

function emWork(n: number, k: number, C: number): EmWork {
  return { E: new Float64Array(n * k), sum: new Float64Array(n * C), L: new Float64Array(n * C), e: new Float64Array(n * C), rowL: new Float64Array(n), q: new Float64Array(n * C), r: new Float64Array(n * k) };
}

/** Every row's class log-likelihoods log p(z_i | c) = log Σ_j ρ_cj N_ij and their exponentials. */
function classLikelihoods(m: ClassMixture, z: ArrayLike<number>, n: number, w: EmWork): { ld: Float64Array; logRho: Float64Array } {
  const { k, classes: C } = m;
  const { E, sum, L, e, rowL } = w;
  const ld = logGauss(m, z, n);
  const logRho = Float64Array.from(m.rho, (v) => Math.log(Math.max(v, 1e-300)));
  // A component no class uses cannot set the row's scale.
  const live = Array.from({ length: k }, (_, j) => {
    for (let c = 0; c < C; c++) if (m.rho[c * k + j] > 0) return true;
    return false;
  });
  for (let i = 0; i < n; i++) {
    let mx = -Infinity;
    for (let j = 0; j < k; j++) if (live[j] && ld[i * k + j] > mx) mx = ld[i * k + j];
    for (let j = 0; j < k; j++) E[i * k + j] = live[j] ? Math.exp(ld[i * k + j] - mx) : 0;
    let best = -Infinity;
    for (let c = 0; c < C; c++) {
      let t = 0;
      for (let j = 0; j < k; j++) t += m.rho[c * k + j] * E[i * k + j];
      sum[i * C + c] = t;
      // A class whose every component underflowed against the row's best: its log-sum-exp the
      // direct way (finite, so the balancing below can still weigh it).
      const v = t > 0 ? mx + Math.log(t) : logSumExpClass(ld, logRho, i, c, k);
      L[i * C + c] = v;
      if (v > best) best = v;
    }
    rowL[i] = best;
    for (let c = 0; c < C; c++) e[i * C + c] = Math.exp(L[i * C + c] - best);
  }
  return { ld, logRho };
}

/** Class posteriors q under θ_s, balanced (Sinkhorn) to the sample's class totals when `match`:
 *  each round only rescales the classes of a sample, so it multiplies e_ic by per-(sample, class)
 *  weights. Returns the mean log-likelihood per row under θ (the first round). */
function balancedPosteriors(w: EmWork, n: number, C: number, sampleOf: ArrayLike<number>, theta: number[][], logT: number[][],
  rowsOf: Float64Array, floor: number, match: boolean): number {
  const { q, L, e, rowL } = w;
  const S = theta.length;
  const offset = Array.from({ length: S }, () => new Float64Array(C));
  const rounds = match ? 30 : 1;
  let ll = 0;
  for (let round = 0; round < rounds; round++) {
    const ws = Array.from({ length: S }, (_, s) => {
      let top = -Infinity;
      for (let c = 0; c < C; c++) top = Math.max(top, logT[s][c] + offset[s][c]);
      return { top, w: Float64Array.from({ length: C }, (_, c) => Math.exp(logT[s][c] + offset[s][c] - top)) };
    });
    const colSum = Array.from({ length: S }, () => new Float64Array(C));
    let sumLl = 0;
    for (let i = 0; i < n; i++) {
      const s = sampleOf[i];
      const wt = ws[s].w;
      let t = 0;
      for (let c = 0; c < C; c++) t += (q[i * C + c] = e[i * C + c] * wt[c]);
      if (!(t > 0)) {
        t = balancedRowDirect(q, L, logT[s], offset[s], i, C);
        if (round === 0) sumLl += t;
      } else {
        for (let c = 0; c < C; c++) q[i * C + c] /= t;
        if (round === 0) sumLl += rowL[i] + ws[s].top + Math.log(t);
      }
      for (let c = 0; c < C; c++) colSum[s][c] += q[i * C + c];
    }
    if (round === 0) ll = sumLl / n;
    if (!match) break;
    let worst = 0;
    for (let s = 0; s < S; s++) {
      let tot = 0;
      for (let c = 0; c < C; c++) tot += Math.max(theta[s][c], floor);
      for (let c = 0; c < C; c++) {
        const want = (rowsOf[s] * Math.max(theta[s][c], floor)) / tot;
        const step = Math.log(want / Math.max(colSum[s][c], 1e-12));
        worst = Math.max(worst, Math.abs(step));
        offset[s][c] += step;
      }
    }
    if (worst < 1e-3) break;
  }
  return ll;
}

/** Component responsibilities r_ij = Σ_c q_ic ρ_cj N_ij / p(z_i|c) = Σ_c q_ic ρ_cj E_ij / sum_ic into
 *  w.r; returns the per-class accumulators of ρ [C × k]. */
function responsibilities(m: ClassMixture, w: EmWork, ld: Float64Array, logRho: Float64Array, n: number): Float64Array {
  const { k, classes: C } = m;
  const { q, sum, E, L, r } = w;
  r.fill(0);
  const acc = new Float64Array(C * k);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < C; c++) {
      const qc = q[i * C + c];
      if (qc < 1e-12) continue;
      const t = sum[i * C + c];
      for (let j = 0; j < k; j++) {
        if (m.rho[c * k + j] === 0) continue;
        const g = t > 0 ? (qc * m.rho[c * k + j] * E[i * k + j]) / t : qc * Math.exp(ld[i * k + j] + logRho[c * k + j] - L[i * C + c]);
        r[i * k + j] += g;
        acc[c * k + j] += g;
      }
    }
  }
  return acc;
}

/** log Σ_j ρ_cj exp(ld_ij) with its own maximum (a class underflowed against the row's best). */
function logSumExpClass(ld: Float64Array, logRho: Float64Array, i: number, c: number, k: number): number {
  let mx = -Infinity;
  for (let j = 0; j < k; j++) mx = Math.max(mx, ld[i * k + j] + logRho[c * k + j]);
  if (mx === -Infinity) return -Infinity;
  let s = 0;
  for (let j = 0; j < k; j++) s += Math.exp(ld[i * k + j] + logRho[c * k + j] - mx);
  return mx + Math.log(s);
}

/** One row's balanced posteriors in log space (when the weighted exponentials all underflow);
 *  returns the row's log-likelihood under the balanced prior. */
function balancedRowDirect(q: Float64Array, L: Float64Array, logT: number[], offset: Float64Array, i: number, C: number): number {
  let mx = -Infinity;
  for (let c = 0; c < C; c++) mx = Math.max(mx, (q[i * C + c] = L[i * C + c] + logT[c] + offset[c]));
  let t = 0;
  for (let c = 0; c < C; c++) t += (q[i * C + c] = Math.exp(q[i * C + c] - mx));
  for (let c = 0; c < C; c++) q[i * C + c] /= t;
  return mx + Math.log(t);
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
export function fitClassMap(m: ClassMixture, z: ArrayLike<number>, n: number, sampleOf: ArrayLike<number>, theta: number[][],
  o: { softIterations: number; hardIterations: number; smoothing: number; floor: number; candidates?: number[][] }): { classOf: number[]; fit: number; ll: number; tried: number } {
  const { k, classes: C } = m;
  const size = new Float64Array(k);
  const meanTheta = Array.from({ length: C }, (_, c) => theta.reduce((a, t) => a + t[c], 0) / theta.length);
  for (let c = 0; c < C; c++) for (let j = 0; j < k; j++) size[j] += meanTheta[c] * m.rho[c * k + j];
  for (let c = 0; c < C; c++) {
    let t = 0;
    for (let j = 0; j < k; j++) t += (m.rho[c * k + j] += o.smoothing * size[j]);
    for (let j = 0; j < k; j++) m.rho[c * k + j] /= t;
  }
  emKnownProportions(m, z, n, sampleOf, theta, o.softIterations, { floor: o.floor });
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
    const ll = emKnownProportions(cand, z, n, sampleOf, theta, o.hardIterations, { floor: o.floor });
    const fit = referenceFit(cand, z, n, sampleOf, theta);
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
export function referenceFit(m: ClassMixture, z: ArrayLike<number>, n: number, sampleOf: ArrayLike<number>, theta: number[][]): number {
  const S = theta.length;
  const C = m.classes;
  const weight = Array.from({ length: C }, (_, c) => {
    const mean = theta.reduce((a, t) => a + t[c], 0) / S;
    return 1 / (theta.reduce((a, t) => a + (t[c] - mean) ** 2, 0) / S + 1e-4);
  });
  let err = 0;
  perSampleProportions(m, z, n, sampleOf, S, (s) => theta[s]).forEach((est, s) => {
    if (est) for (let c = 0; c < C; c++) err += weight[c] * (est[c] - theta[s][c]) ** 2;
  });
  return err;
}

/** Each of samples 0…S−1's class proportions re-estimated with the components fixed, as inference
 *  does (free per-sample EM from `init(s)`); null for a sample without rows. */
export function perSampleProportions(m: ClassMixture, z: ArrayLike<number>, n: number, sampleOf: ArrayLike<number>, S: number,
  init: (s: number) => number[]): (Float64Array | null)[] {
  const ld = logGauss(m, z, n);
  const rowsOf: number[][] = Array.from({ length: S }, () => []);
  for (let i = 0; i < n; i++) rowsOf[sampleOf[i]].push(i);
  return rowsOf.map((rows, s) => rows.length
    ? estimateProportions(m, selectRows(ld, m.k, rows), rows.length, { init: init(s), accelerate: true }).theta : null);
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
