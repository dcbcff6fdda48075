// One sample's class proportions for a two-class level (bindings/pipeline/proportions.ts), from a
// bounded summary of the sample's events instead of the events themselves.
//
// With the class likelihoods fixed, the EM map and the log-likelihood of a two-class level depend
// on each event only through x = L1 − L0 (its class log-likelihood difference):
//   F(θ)_0 = (1/n) Σ σ(−(x_i + λ)),  F(θ)_1 = (1/n) Σ σ(x_i + λ),  λ = log(w1/w0), w = max(θ, floor)
//   ℓ(θ)   = Σ [log w0 + softplus(x_i + λ) − max(0, x_i)]
// So the sample is kept as a histogram of x (NB bins of width 1/64 on [−64, 64]) holding, per bin,
// the count and the first three moments of x about the bin centre: each sum above is the bin's
// Taylor expansion to third order, whose remainder is below 2e-11 per event (|dx| ≤ 1/128, the
// fourth derivatives ≤ 1/8). Beyond ±64, σ is within e^-50 of 0 or 1 for any floored θ, so x is
// clamped there. The memory is 256 KiB per level whatever the number of events; the SQUAREM
// iteration below is proportions.ts's, step for step.

export const NB = 8192;
const HALF: f64 = 64;
const PER_UNIT: f64 = 64;
/** Doubles in a histogram: [count, Σ max(0, x)] then NB × 4 moments. */
export const HIST_F64 = 2 + NB * 4;

const FLOOR: f64 = 1e-6;
const TOL: f64 = 1e-8;
const BUDGET: i32 = 199;
const ROUNDING_STEP: f64 = 4 * 2.220446049250313e-16;

export function histClear(h: usize): void {
  memory.fill(h, 0, <usize>HIST_F64 << 3);
}

export function histAdd(h: usize, x: f64): void {
  store<f64>(h, load<f64>(h) + 1);
  if (x > 0) store<f64>(h, load<f64>(h, 8) + x, 8);
  const c = Math.min(Math.max(x, -HALF), HALF);
  let b = <i32>Math.floor((c + HALF) * PER_UNIT);
  if (b >= NB) b = NB - 1;
  if (b < 0) b = 0;
  const dx = c - ((<f64>b + 0.5) / PER_UNIT - HALF);
  const dx2 = dx * dx;
  const p = h + 16 + (<usize>b << 5);
  store<f64>(p, load<f64>(p) + 1);
  store<f64>(p, load<f64>(p, 8) + dx, 8);
  store<f64>(p, load<f64>(p, 16) + dx2, 16);
  store<f64>(p, load<f64>(p, 24) + dx2 * dx, 24);
}

export function histCount(h: usize): f64 {
  return load<f64>(h);
}

/** F(θ) of the last emStep. */
let next0: f64 = 0;
let next1: f64 = 0;

/** One EM step from (t0, t1): next ← F(θ); returns ℓ(θ) (proportions.ts emStep). */
function emStep(h: usize, t0: f64, t1: f64): f64 {
  const n = load<f64>(h);
  const w0 = Math.max(t0, FLOOR);
  const w1 = Math.max(t1, FLOOR);
  if (n == 0) {
    next0 = t0;
    next1 = t1;
    return 0;
  }
  const lam = Math.log(w1 / w0);
  const logW0 = Math.log(w0);
  let f0: f64 = 0;
  let f1: f64 = 0;
  let ll: f64 = 0;
  for (let b = 0; b < NB; b++) {
    const p = h + 16 + (<usize>b << 5);
    const m0 = load<f64>(p);
    if (m0 == 0) continue;
    const m1 = load<f64>(p, 8);
    const m2 = load<f64>(p, 16);
    const m3 = load<f64>(p, 24);
    const y = (<f64>b + 0.5) / PER_UNIT - HALF + lam;
    // s = σ(y) and 1 − s, each without cancellation; softplus(y) = max(y, 0) + log1p(e^−|y|).
    const e = Math.exp(-Math.abs(y));
    const s = y >= 0 ? 1 / (1 + e) : e / (1 + e);
    const r = y >= 0 ? e / (1 + e) : 1 / (1 + e);
    const a = s * r;
    const d2 = a * (r - s);
    const d3 = a * (1 - 6 * a);
    const t = m1 * a + m2 * 0.5 * d2 + m3 * d3 / 6;
    f0 += m0 * r - t;
    f1 += m0 * s + t;
    ll += m0 * (logW0 + Math.max(y, 0) + Math.log1p(e)) + m1 * s + m2 * 0.5 * a + m3 * d2 / 6;
  }
  next0 = f0 / n;
  next1 = f1 / n;
  return ll - load<f64>(h, 8);
}

/** Result of squarem. */
export let theta0: f64 = 0;
export let theta1: f64 = 0;

@inline function maxAbs(a0: f64, a1: f64, b0: f64, b1: f64): f64 {
  return Math.max(Math.abs(a0 - b0), Math.abs(a1 - b1));
}

/** SQUAREM (Varadhan & Roland 2008, steplength S3) on F from θ = init, as proportions.ts squarem
 *  with its defaults (200 iterations, tol 1e-8, floor 1e-6); the result is in theta0, theta1. */
export function squarem(h: usize, init0: f64, init1: f64): void {
  const n = load<f64>(h);
  let a0 = init0, a1 = init1; // θ0
  let evaluations = 0;
  for (;;) {
    if (evaluations >= BUDGET) return done(a0, a1);
    const ll0 = emStep(h, a0, a1);
    evaluations++;
    const b0 = next0, b1 = next1; // θ1
    const d1 = maxAbs(b0, b1, a0, a1);
    if (d1 <= ROUNDING_STEP || evaluations >= BUDGET) return done(b0, b1);
    emStep(h, b0, b1);
    evaluations++;
    const c0 = next0, c1 = next1; // θ2
    const d2 = maxAbs(c0, c1, b0, b1);
    const rho = d2 / d1;
    if (d2 <= ROUNDING_STEP || (rho < 1 && (d2 * rho) / (1 - rho) < TOL) || evaluations >= BUDGET) return done(c0, c1);
    const r0 = b0 - a0, r1 = b1 - a1;
    const v0 = c0 - b0 - r0, v1 = c1 - b1 - r1;
    let alpha = Math.min(-Math.sqrt((r0 * r0 + r1 * r1) / (v0 * v0 + v1 * v1)), -1);
    let x0: f64 = 0, x1: f64 = 0; // θ'
    for (let tries = 0; ; tries++) {
      if (!isFinite<f64>(alpha) || tries == 20) alpha = -1;
      x0 = a0 - 2 * alpha * r0 + alpha * alpha * v0;
      x1 = a1 - 2 * alpha * r1 + alpha * alpha * v1;
      if ((x0 >= 0 && x1 >= 0) || alpha == -1) break;
      alpha = (alpha - 1) / 2;
    }
    if (alpha == -1) {
      a0 = c0;
      a1 = c1;
      continue;
    }
    const llx = emStep(h, x0, x1);
    evaluations++;
    if (!(llx >= ll0 - 1e-12 * (n + Math.abs(ll0)))) {
      a0 = c0;
      a1 = c1;
      continue;
    }
    const dx = maxAbs(next0, next1, x0, x1);
    if (dx <= ROUNDING_STEP || (rho < 1 && (dx * rho) / (1 - rho) < TOL)) return done(next0, next1);
    a0 = next0;
    a1 = next1;
  }
}

function done(t0: f64, t1: f64): void {
  theta0 = t0;
  theta1 = t1;
}

/** Posteriors under (θ0, θ1) of an event with difference x, in postA / postB (proportions.ts
 *  posteriorsUnder after relativeLikelihoods: the same operations on the same values). */
export let postA: f64 = 0;
export let postB: f64 = 0;
export function posterior(x: f64, t0: f64, t1: f64): void {
  const w0 = Math.max(t0, FLOOR);
  const w1 = Math.max(t1, FLOOR);
  const e0: f64 = x > 0 ? Math.exp(-x) : 1;
  const e1: f64 = x >= 0 ? 1 : Math.exp(x);
  const p0 = w0 * e0;
  const p1 = w1 * e1;
  const inv = 1 / (p0 + p1);
  postA = p0 * inv;
  postB = p1 * inv;
}
