// Class mixtures with per-sample proportions (bindings/backend.ts: mixtureLogLik,
// mixturePosteriors, mixtureStats): the E-step and the M-step's sums of the pipeline's
// reference-constrained EM, run every iteration over tens of thousands of rows.
// Everything inside is f64: the log-likelihoods are differences of large numbers and the sums run
// over all rows. Row kernels: each thread takes rows [r0, r1) with its own scratch. The two
// reductions run in fixed chunks of `chunkRows` rows, each call one chunk, each chunk summed into
// its own block of f64 accumulators at `acc`; the host folds the blocks in chunk order
// (bindings/backends/wasm/backend.ts, chunkReduce), so the sums do not depend on which thread took
// which chunk, nor on how many threads there are.
import { expF32x4, LOG_2PI, promote } from './common';

/** Below this a class's sum of densities scaled by the row's best (f32 exponentials) is too close
 *  to underflow to take its log: the class is summed again about its own maximum, in f64. */
const TINY: f64 = 1e-30;
/** A row's share of a component below this (its whole mass is 1) is left out of the component's
 *  mean and variance sums: at most N·SKIP of mass, far below the M-step's 1e-6 floor on a
 *  component's weight, for a fraction of the work (most rows belong to a few components). */
const SKIP: f64 = 1e-12;

/** dst[j] = e^(src[j] − mx), j < k: src f32, dst f32; four lanes at a time (expF32x4). */
function expShifted(src: usize, mx: f32, dst: usize, k: i32): void {
  const m = f32x4.splat(mx);
  let j = 0;
  for (; j + 4 <= k; j += 4) v128.store(dst + (<usize>j << 2), expF32x4(f32x4.sub(v128.load(src + (<usize>j << 2)), m)));
  for (; j < k; j++) store<f32>(dst + (<usize>j << 2), <f32>Math.exp(<f64>load<f32>(src + (<usize>j << 2)) - <f64>mx));
}
/** A class whose log-likelihood lies more than this below the row's best component has its terms
 *  taken directly, in f64: scaled by the row's best, its components' exponentials would fall below
 *  what f32 holds (e^−87) while the class itself may still carry the row's mass. */
const FAR_CLASS: f64 = 40;

// @ts-ignore: decorator
@inline function f64At(base: usize, i: i32): f64 {
  return load<f64>(base + (<usize>i << 3));
}

// @ts-ignore: decorator
@inline function f32At(base: usize, i: i32): f64 {
  return <f64>load<f32>(base + (<usize>i << 2));
}

/** Bytes of f64 scratch mixtureLogLik needs per thread. */
export function mixtureLogLikScratchBytes(d: i32, k: i32, c: i32): i32 {
  const k2 = (k + 1) & ~1;
  return (2 * k2 * d + 2 * k2 + c * k + k + d) * 8 + k * 4;
}

/**
 * μ and 1/σ² transposed, [D × K2] f64 each (K2 = K rounded up to even, the padding zero), and each
 * component's −½ Σ_d (log 2π + log σ²) [K2]: the numbers gaussConstants64 gives, laid out for two
 * components per f64x2.
 */
function transposedGaussians(mu: usize, logVar: usize, k: i32, d: i32, muT: usize, ivT: usize, cst: usize): void {
  const k2 = (k + 1) & ~1;
  memory.fill(muT, 0, <usize>(2 * d * k2 + k2) << 3);
  for (let j = 0; j < k; j++) {
    let s: f64 = 0;
    for (let t = 0; t < d; t++) {
      const lv = <f64>load<f32>(logVar + (<usize>(j * d + t) << 2));
      const at = <usize>(t * k2 + j) << 3;
      store<f64>(muT + at, <f64>load<f32>(mu + (<usize>(j * d + t) << 2)));
      store<f64>(ivT + at, Math.exp(-lv));
      s += LOG_2PI + lv;
    }
    store<f64>(cst + (<usize>j << 3), -0.5 * s);
  }
}

/**
 * logDens [N,K] and classLogLik [N,C] for rows [r0, r1). z [N,D], mu, logVar [K,D], rho [C,K].
 * Two components per f64x2 from transposed parameters (each row value against two components at
 * once; a per-component dot over D = 2–10 spent its time folding lanes). Each Mahalanobis sum keeps
 * weightedSqDist64's order (even and odd terms apart, then added, then the last odd one), so the
 * numbers are the per-component loop's.
 */
export function mixtureLogLik(z: usize, mu: usize, logVar: usize, rho: usize, logDens: usize, classLogLik: usize,
  n: i32, d: i32, k: i32, c: i32, scratch: usize, r0: i32, r1: i32): void {
  const k2 = (k + 1) & ~1;
  const muT = scratch; // [D,K2]
  const ivT = muT + (<usize>(d * k2) << 3); // [D,K2] 1/σ²
  const cst = ivT + (<usize>(d * k2) << 3); // [K2]
  const rho64 = cst + (<usize>k2 << 3); // [C,K]
  const ld = rho64 + (<usize>(c * k) << 3); // [K2] this row's log densities
  const e = ld + (<usize>k2 << 3); // [K] f32 exp(ld − row max)
  const z64 = e + (<usize>k << 3); // [D]
  const shifted = z64 + (<usize>d << 3); // [K] f32 ld − row max
  transposedGaussians(mu, logVar, k, d, muT, ivT, cst);
  promote(rho, rho64, c * k);
  const half = f64x2.splat(0.5);
  const col = <usize>k2 << 3;
  const dEven = d & ~1;
  for (let i = r0; i < r1; i++) {
    promote(z + (<usize>i * <usize>d << 2), z64, d);
    let mx = -Infinity;
    const out = logDens + (<usize>i * <usize>k << 2);
    for (let g = 0; g < k; g += 2) {
      let m = muT + (<usize>g << 3);
      let v = ivT + (<usize>g << 3);
      let a = f64x2.splat(0);
      let b = f64x2.splat(0);
      let t = 0;
      for (; t < dEven; t += 2) {
        const zt = z64 + (<usize>t << 3);
        let df = f64x2.sub(v128.load64_splat(zt), v128.load(m));
        a = f64x2.add(a, f64x2.mul(f64x2.mul(df, df), v128.load(v)));
        df = f64x2.sub(v128.load64_splat(zt, 8), v128.load(m + col));
        b = f64x2.add(b, f64x2.mul(f64x2.mul(df, df), v128.load(v + col)));
        m += 2 * col;
        v += 2 * col;
      }
      let s = f64x2.add(a, b);
      if (t < d) {
        const df = f64x2.sub(v128.load64_splat(z64 + (<usize>t << 3)), v128.load(m));
        s = f64x2.add(s, f64x2.mul(f64x2.mul(df, df), v128.load(v)));
      }
      const lg = f64x2.sub(v128.load(cst + (<usize>g << 3)), f64x2.mul(half, s));
      v128.store(ld + (<usize>g << 3), lg);
      const l0 = f64x2.extract_lane(lg, 0);
      store<f32>(out + (<usize>g << 2), <f32>l0);
      if (l0 > mx) mx = l0;
      if (g + 1 < k) {
        const l1 = f64x2.extract_lane(lg, 1);
        store<f32>(out + (<usize>(g + 1) << 2), <f32>l1);
        if (l1 > mx) mx = l1;
      }
    }
    for (let j = 0; j < k; j++) store<f32>(shifted + (<usize>j << 2), <f32>(f64At(ld, j) - mx));
    expShifted(shifted, 0, e, k);
    for (let a = 0; a < c; a++) {
      const ra = rho64 + (<usize>(a * k) << 3);
      let s: f64 = 0;
      for (let j = 0; j < k; j++) s += f64At(ra, j) * f32At(e, j);
      const v = s > TINY ? mx + Math.log(s) : classLogSumExp(ld, ra, k);
      store<f32>(classLogLik + ((<usize>i * <usize>c + <usize>a) << 2), <f32>v);
    }
  }
}

/** log Σ_j ρ_j exp(ld_j) about the class's own maximum (−∞ when every ρ_j is 0). */
function classLogSumExp(ld: usize, ra: usize, k: i32): f64 {
  let mx = -Infinity;
  for (let j = 0; j < k; j++) if (f64At(ra, j) > 0) mx = Math.max(mx, f64At(ld, j) + Math.log(f64At(ra, j)));
  if (mx == -Infinity) return mx;
  let s: f64 = 0;
  for (let j = 0; j < k; j++) if (f64At(ra, j) > 0) s += Math.exp(f64At(ld, j) + Math.log(f64At(ra, j)) - mx);
  return mx + Math.log(s);
}

/** f64 accumulators of mixturePosteriors: colSums [S,C] then sampleLogLik [S]. */
export function mixturePosteriorsAccBytes(c: i32, s: i32): i32 {
  return (s * c + s) * 8;
}

/** Bytes of f64 scratch mixturePosteriors needs per thread. */
export function mixturePosteriorsScratchBytes(c: i32): i32 {
  return c * 8;
}

/** post [N,C] for the chunk [r0, r1); its colSums and sampleLogLik into accumulator block
 *  r0 / chunkRows at acc. classLogLik [N,C], sampleOf [N] (range-checked by the host), logPrior [S,C]. */
export function mixturePosteriors(classLogLik: usize, sampleOf: usize, logPrior: usize, post: usize,
  n: i32, c: i32, s: i32, scratch: usize, acc: usize, chunkRows: i32, r0: i32, r1: i32): void {
  const bytes = mixturePosteriorsAccBytes(c, s);
  const colSums = acc + <usize>(r0 / chunkRows) * <usize>bytes;
  memory.fill(colSums, 0, bytes);
  const sampleLl = colSums + (<usize>(s * c) << 3);
  const a64 = scratch; // [C]
  for (let i = r0; i < r1; i++) {
    const si = load<i32>(sampleOf + (<usize>i << 2));
    let mx = -Infinity;
    for (let a = 0; a < c; a++) {
      const v = f32At(classLogLik, i * c + a) + f32At(logPrior, si * c + a);
      store<f64>(a64 + (<usize>a << 3), v);
      if (v > mx) mx = v;
    }
    let t: f64 = 0;
    for (let a = 0; a < c; a++) {
      // The best class's term is e^0 = 1 exactly: no call (half the exponentials with two classes).
      const x = f64At(a64, a) - mx;
      const ev = x == 0 ? 1 : Math.exp(x);
      store<f64>(a64 + (<usize>a << 3), ev);
      t += ev;
    }
    const inv = 1 / t;
    for (let a = 0; a < c; a++) {
      const p = f64At(a64, a) * inv;
      store<f32>(post + ((<usize>i * <usize>c + <usize>a) << 2), <f32>p);
      const at = colSums + (<usize>(si * c + a) << 3);
      store<f64>(at, load<f64>(at) + p);
    }
    const at = sampleLl + (<usize>si << 3);
    store<f64>(at, load<f64>(at) + mx + Math.log(t));
  }
}

/** f64 accumulators of mixtureStats: classWeights [C,K], sum1 [K,D], sum2 [K,D]. */
export function mixtureStatsAccBytes(d: i32, k: i32, c: i32): i32 {
  return (c * k + 2 * k * d) * 8;
}

/** Bytes of f64 scratch mixtureStats needs per thread. */
export function mixtureStatsScratchBytes(d: i32, k: i32, c: i32): i32 {
  return (c * k + 2 * k + c + d + k * d) * 8 + k * 4;
}

/** The chunk [r0, r1)'s shares of classWeights, sum1 and sum2 (about center) into accumulator block
 *  r0 / chunkRows at acc. z [N,D], logDens [N,K], classLogLik, post [N,C], rho [C,K], center [K,D]. */
export function mixtureStats(z: usize, logDens: usize, classLogLik: usize, post: usize, rho: usize, center: usize,
  n: i32, d: i32, k: i32, c: i32, scratch: usize, acc: usize, chunkRows: i32, r0: i32, r1: i32): void {
  const kd = k * d;
  const bytes = mixtureStatsAccBytes(d, k, c);
  const cw = acc + <usize>(r0 / chunkRows) * <usize>bytes; // [C,K]
  memory.fill(cw, 0, bytes);
  const s1 = cw + (<usize>(c * k) << 3); // [K,D]
  const s2 = s1 + (<usize>kd << 3); // [K,D]
  const rho64 = scratch; // [C,K]
  const ld = rho64 + (<usize>(c * k) << 3); // [K]
  const r = ld + (<usize>k << 3); // [K] this row's responsibilities
  const f = r + (<usize>k << 3); // [C] post_ic · exp(mx − L_ic), or −1: the class's terms taken directly
  const z64 = f + (<usize>c << 3); // [D]
  const c64 = z64 + (<usize>d << 3); // [K,D]
  const e = c64 + (<usize>kd << 3); // [K] f32 exp(ld − row max)
  promote(rho, rho64, c * k);
  promote(center, c64, kd);
  for (let i = r0; i < r1; i++) {
    let mx = -Infinity;
    const ldRow = logDens + (<usize>i * <usize>k << 2);
    for (let j = 0; j < k; j++) {
      const v = f32At(ldRow, j);
      store<f64>(ld + (<usize>j << 3), v);
      if (v > mx) mx = v;
    }
    let any = false;
    for (let a = 0; a < c; a++) {
      const p = f32At(post, i * c + a);
      const gap = mx - f32At(classLogLik, i * c + a);
      const fa = p == 0 ? 0 : gap > FAR_CLASS ? -1 : p * Math.exp(gap);
      store<f64>(f + (<usize>a << 3), fa);
      if (fa != 0) any = true;
    }
    if (!any) continue;
    expShifted(ldRow, <f32>mx, e, k);
    memory.fill(r, 0, <usize>k << 3);
    for (let a = 0; a < c; a++) {
      const fa = f64At(f, a);
      if (fa > 0) classShares(fa, rho64 + (<usize>(a * k) << 3), e, cw + (<usize>(a * k) << 3), r, k);
      else if (fa < 0) farClassShares(f32At(post, i * c + a), f32At(classLogLik, i * c + a), rho64 + (<usize>(a * k) << 3), ld, cw + (<usize>(a * k) << 3), r, k);
    }
    promote(z + (<usize>i * <usize>d << 2), z64, d);
    for (let j = 0; j < k; j++) {
      const rj = f64At(r, j);
      if (rj < SKIP) continue;
      const vr = f64x2.splat(rj);
      const cj = c64 + (<usize>(j * d) << 3);
      const a1 = s1 + (<usize>(j * d) << 3);
      const a2 = s2 + (<usize>(j * d) << 3);
      let t = 0;
      for (; t + 2 <= d; t += 2) {
        const o = <usize>t << 3;
        const df = f64x2.sub(v128.load(z64 + o), v128.load(cj + o));
        const w = f64x2.mul(vr, df);
        v128.store(a1 + o, f64x2.add(v128.load(a1 + o), w));
        v128.store(a2 + o, f64x2.add(v128.load(a2 + o), f64x2.mul(w, df)));
      }
      for (; t < d; t++) {
        const o = <usize>t << 3;
        const df = f64At(z64, t) - f64At(cj, t);
        store<f64>(a1 + o, load<f64>(a1 + o) + rj * df);
        store<f64>(a2 + o, load<f64>(a2 + o) + rj * df * df);
      }
    }
  }
}

/** One class's shares g_j = fa ρ_j e_j of a row (fa = its posterior × e^(row max − its log-lik),
 *  e_j = e^(ld_j − row max) in f32), added to the class's weights cw and the row's r; two
 *  components at a time. A zero ρ_j adds an exact 0, as leaving it out would. */
function classShares(fa: f64, rho: usize, e: usize, cw: usize, r: usize, k: i32): void {
  const vf = f64x2.splat(fa);
  let j = 0;
  for (; j + 2 <= k; j += 2) {
    const o = <usize>j << 3;
    const g = f64x2.mul(f64x2.mul(vf, v128.load(rho + o)), f64x2.promote_low_f32x4(v128.load64_zero(e + (<usize>j << 2))));
    v128.store(cw + o, f64x2.add(v128.load(cw + o), g));
    v128.store(r + o, f64x2.add(v128.load(r + o), g));
  }
  for (; j < k; j++) {
    const o = <usize>j << 3;
    const g = fa * load<f64>(rho + o) * f32At(e, j);
    store<f64>(cw + o, load<f64>(cw + o) + g);
    store<f64>(r + o, load<f64>(r + o) + g);
  }
}

/** The same for a class far below the row's best (FAR_CLASS): g_j = p ρ_j e^(ld_j − L) directly, in f64. */
function farClassShares(p: f64, L: f64, rho: usize, ld: usize, cw: usize, r: usize, k: i32): void {
  for (let j = 0; j < k; j++) {
    const rh = f64At(rho, j);
    if (rh == 0) continue;
    const o = <usize>j << 3;
    const g = p * rh * Math.exp(f64At(ld, j) - L);
    store<f64>(cw + o, load<f64>(cw + o) + g);
    store<f64>(r + o, load<f64>(r + o) + g);
  }
}
