// One sample's class proportions θ by EM with the class likelihoods fixed (prior re-estimation,
// Saerens, Latinne & Decaestecker 2002), and its acceleration.
//
// The class likelihoods do not change across iterations, only θ does, so each row's likelihoods are
// exponentiated once, relative to the row's best class: e_ic = exp(L_ic − max_c L_ic). With
// w = max(θ, floor) and s_i = Σ_c w_c e_ic, one EM step is the map
//
//   F(θ)_c = (1/n) Σ_i w_c e_ic / s_i
//
// computed in one pass that accumulates F(θ) directly (the posteriors are written once, for the
// returned θ). The same pass gives the log-likelihood ℓ(θ) = Σ_i log s_i (+ a constant; of the
// floored weights w, whose fixed point both iterations share).
//
// The plain iteration θ ← F(θ) converges linearly, slowly where classes overlap. `accelerate` runs
// SQUAREM instead (Varadhan & Roland 2008, "Simple and globally convergent methods for accelerating
// the convergence of any EM algorithm", Scand. J. Statist. 35: their steplength S3): from θ0 two EM
// steps give θ1, θ2; with r = θ1 − θ0, v = θ2 − 2θ1 + θ0 and α = −‖r‖/‖v‖ (at most −1),
//   θ' = θ0 − 2α r + α² v,
// then one EM step from θ' (which keeps the fixed points of F). α = −1 gives θ' = θ2, the plain
// update; an extrapolation that leaves the simplex is pulled back toward it, and one that lowers ℓ
// below ℓ(θ0) is dropped for the plain update θ2. The fixed point is F's, as for the plain EM.

export interface ProportionOptions {
  init?: ArrayLike<number>;
  /** Plain EM: E-steps (iterations − 1 updates of θ; 1 = posteriors under `init` only). With
   *  `accelerate`, the EM map is evaluated at most iterations − 1 times (1 is still one E-step). */
  iterations?: number;
  /** Plain EM stops when one step moves θ by less than tol (max norm; default 1e-7), which leaves
   *  it up to tol·ρ/(1 − ρ) from the fixed point (ρ: its contraction rate). SQUAREM stops when that
   *  distance, estimated from a cycle's two EM steps, is below tol (default 1e-8: the estimate is
   *  rough, and an extra cycle near the fixed point gains many digits). */
  tol?: number;
  floor?: number;
  accelerate?: boolean;
}

export interface ProportionResult {
  theta: Float64Array;
  /** Class posteriors [n × classes] under θ. */
  post: Float64Array;
  /** How many times the EM map F was evaluated (passes over the rows, not counting `post`). */
  evaluations: number;
}

/** e_ic = exp(L_ic − max_c L_ic): each row's class likelihoods relative to its best class. The best
 *  class's exp(0) = 1 is written without the call (half the exps with two classes). */
export function relativeLikelihoods(L: ArrayLike<number>, n: number, classes: number): Float64Array {
  const e = new Float64Array(n * classes);
  for (let i = 0; i < n; i++) {
    let mx = -Infinity;
    for (let c = 0; c < classes; c++) mx = Math.max(mx, L[i * classes + c]);
    for (let c = 0; c < classes; c++) {
      const x = L[i * classes + c] - mx;
      e[i * classes + c] = x === 0 ? 1 : Math.exp(x);
    }
  }
  return e;
}

/** Rows per partial product in `emStep`'s log-likelihood: every factor s_i lies in
 *  [floor, Σθ + classes·floor], so this many cannot underflow 2^-600 (one log per block, not per row). */
function productBlock(floor: number): number {
  return Math.max(1, Math.min(64, Math.floor(600 / -Math.log2(Math.min(floor, 0.5)))));
}

/**
 * One EM step: next ← F(θ), returns ℓ(θ) = Σ_i log s_i. `w` is scratch [classes]. The arithmetic
 * per row is the posterior's (w_c e_ic · 1/s_i), so the plain EM's θ equals the one that wrote
 * `post` every iteration, bit for bit.
 */
function emStep(e: Float64Array, n: number, classes: number, theta: Float64Array, floor: number,
  next: Float64Array, w: Float64Array): number {
  for (let c = 0; c < classes; c++) {
    w[c] = Math.max(theta[c], floor);
    next[c] = 0;
  }
  const block = productBlock(floor);
  let logLik = 0;
  let prod = 1;
  for (let i = 0, left = block; i < n; i++) {
    const row = i * classes;
    let s = 0;
    for (let c = 0; c < classes; c++) s += w[c] * e[row + c];
    const inv = 1 / s;
    for (let c = 0; c < classes; c++) next[c] += w[c] * e[row + c] * inv;
    prod *= s;
    if (--left === 0) {
      logLik += Math.log(prod);
      prod = 1;
      left = block;
    }
  }
  logLik += Math.log(prod);
  for (let c = 0; c < classes; c++) next[c] = n > 0 ? next[c] / n : theta[c];
  return logLik;
}

/** Posteriors [n × classes] under θ (w = max(θ, floor)). */
export function posteriorsUnder(e: Float64Array, n: number, classes: number, theta: ArrayLike<number>, floor: number): Float64Array {
  const w = Float64Array.from({ length: classes }, (_, c) => Math.max(theta[c], floor));
  const post = new Float64Array(n * classes);
  for (let i = 0; i < n; i++) {
    const row = i * classes;
    let s = 0;
    for (let c = 0; c < classes; c++) s += (post[row + c] = w[c] * e[row + c]);
    const inv = 1 / s;
    for (let c = 0; c < classes; c++) post[row + c] *= inv;
  }
  return post;
}

/** Steps of θ (components ≤ 1) this small are float64 rounding: 4 ulps of 1. */
const ROUNDING_STEP = 4 * Number.EPSILON;

const maxAbsDiff = (a: Float64Array, b: Float64Array) => {
  let d = 0;
  for (let c = 0; c < a.length; c++) d = Math.max(d, Math.abs(a[c] - b[c]));
  return d;
};

/** θ ← F(θ) until a step moves θ by less than tol or `updates` steps ran. */
function plainEm(e: Float64Array, n: number, classes: number, init: Float64Array, floor: number,
  updates: number, tol: number): { theta: Float64Array; evaluations: number } {
  let theta: Float64Array = init;
  let next: Float64Array = new Float64Array(classes);
  const w = new Float64Array(classes);
  let evaluations = 0;
  while (evaluations < updates) {
    emStep(e, n, classes, theta, floor, next, w);
    evaluations++;
    const change = maxAbsDiff(next, theta);
    const prev = theta;
    theta = next;
    next = prev;
    if (change < tol) break;
  }
  return { theta, evaluations };
}

/** SQUAREM (S3 steplength) on F, at most `budget` evaluations of F; see the file comment. */
function squarem(e: Float64Array, n: number, classes: number, init: Float64Array, floor: number,
  budget: number, tol: number): { theta: Float64Array; evaluations: number } {
  const t0 = Float64Array.from(init);
  const t1 = new Float64Array(classes);
  const t2 = new Float64Array(classes);
  const tx = new Float64Array(classes); // the extrapolated θ'
  const r = new Float64Array(classes);
  const v = new Float64Array(classes);
  const w = new Float64Array(classes);
  let evaluations = 0;
  for (;;) {
    if (evaluations >= budget) return { theta: t0, evaluations };
    const logLik0 = emStep(e, n, classes, t0, floor, t1, w);
    evaluations++;
    const d1 = maxAbsDiff(t1, t0);
    if (d1 <= ROUNDING_STEP || evaluations >= budget) return { theta: t1, evaluations };
    emStep(e, n, classes, t1, floor, t2, w);
    evaluations++;
    // Near the fixed point F contracts by ρ ≈ d2/d1 per step, so θ2 is ≈ d2·ρ/(1 − ρ) from it. A
    // step of a few ulps of 1 (θ ≤ 1) is rounding, where d2/d1 means nothing: θ2 is as close as
    // float64 gets.
    const d2 = maxAbsDiff(t2, t1);
    const rho = d2 / d1;
    if (d2 <= ROUNDING_STEP || (rho < 1 && (d2 * rho) / (1 - rho) < tol) || evaluations >= budget) return { theta: t2, evaluations };
    let rr = 0;
    let vv = 0;
    for (let c = 0; c < classes; c++) {
      r[c] = t1[c] - t0[c];
      v[c] = t2[c] - t1[c] - r[c];
      rr += r[c] * r[c];
      vv += v[c] * v[c];
    }
    let alpha = Math.min(-Math.sqrt(rr / vv), -1);
    // Pull a step that leaves the simplex back toward α = −1 (θ' = θ2, which is inside it).
    for (let tries = 0; ; tries++) {
      if (!Number.isFinite(alpha) || tries === 20) alpha = -1;
      let inside = true;
      for (let c = 0; c < classes; c++) {
        tx[c] = t0[c] - 2 * alpha * r[c] + alpha * alpha * v[c];
        if (!(tx[c] >= 0)) inside = false;
      }
      if (inside || alpha === -1) break;
      alpha = (alpha - 1) / 2;
    }
    if (alpha === -1) {
      t0.set(t2);
      continue;
    }
    // The stabilising EM step from θ'; its pass also gives ℓ(θ'). Near the fixed point ℓ(θ') and
    // ℓ(θ0) differ by less than their rounding, so only a drop beyond it rejects the step.
    const logLikX = emStep(e, n, classes, tx, floor, t1, w);
    evaluations++;
    if (!(logLikX >= logLik0 - 1e-12 * (n + Math.abs(logLik0)))) {
      t0.set(t2);
      continue;
    }
    // Accepted: that step is also a residual, at θ', so the same estimate can stop here.
    const dx = maxAbsDiff(t1, tx);
    if (dx <= ROUNDING_STEP || (rho < 1 && (dx * rho) / (1 - rho) < tol)) return { theta: t1, evaluations };
    t0.set(t1);
  }
}

/** estimateProportions from the class log-likelihoods L = classLogLik(…) [n × classes] (callers that
 *  run the EM on several row subsets of one sample compute L once; per-row constants cancel). */
export function proportionsFromClassLogLik(classes: number, L: ArrayLike<number>, n: number,
  opts: ProportionOptions = {}): ProportionResult {
  return proportionsFromRelativeLik(classes, relativeLikelihoods(L, n, classes), n, opts);
}

/** Defaults of the per-sample proportion EM: iterations at most; the floor of a proportion (a class
 *  the sample lacks stays representable); the change of θ at which it stops (tighter when SQUAREM
 *  accelerates, whose steps are longer). */
const EM_DEFAULTS = { iterations: 200, floor: 1e-6, tol: 1e-7, tolAccelerated: 1e-8 };

/** proportionsFromClassLogLik from e = relativeLikelihoods(L) (callers with row subsets of one
 *  sample exponentiate once). */
export function proportionsFromRelativeLik(classes: number, e: Float64Array, n: number,
  opts: ProportionOptions = {}): ProportionResult {
  const floor = opts.floor ?? EM_DEFAULTS.floor;
  const init = Float64Array.from({ length: classes }, (_, c) => opts.init?.[c] ?? 1 / classes);
  const updates = Math.max(0, (opts.iterations ?? EM_DEFAULTS.iterations) - 1);
  const tol = opts.tol ?? (opts.accelerate ? EM_DEFAULTS.tolAccelerated : EM_DEFAULTS.tol);
  const { theta, evaluations } = (opts.accelerate ? squarem : plainEm)(e, n, classes, init, floor, updates, tol);
  return { theta, post: posteriorsUnder(e, n, classes, theta, floor), evaluations };
}
