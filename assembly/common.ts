// Helpers shared by every kernel family. Kernels work on raw pointers into the imported shared
// linear memory (no managed AssemblyScript objects: the runtime is `stub`), so any worker thread that
// instantiates the same module over the same memory can run a kernel on a slice of the rows.

/** log 2π, for Gaussian log-densities. */
export const LOG_2PI: f64 = 1.8378770664093453;

/** a*b + c on four f32 lanes. The relaxed build fuses it (f32x4.relaxed_madd → one FMA on x86 with
 *  FMA3/ARM), the baseline build multiplies then adds. Results differ in the last bit, so relaxed
 *  output is never compared bit-exactly. */
// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/** Sum of the four lanes, in f64 (callers fold it into an f64 total). */
// @ts-ignore: decorator
@inline export function hsum64(v: v128): f64 {
  return (<f64>f32x4.extract_lane(v, 0) + <f64>f32x4.extract_lane(v, 1))
    + (<f64>f32x4.extract_lane(v, 2) + <f64>f32x4.extract_lane(v, 3));
}

/** Sum of the four lanes in f32. */
// @ts-ignore: decorator
@inline export function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

/** Below this e^x is under f32's smallest normal: expF32x4 gives 0 there. */
const EXP_MIN_ARG: f32 = -87.33654;

/** e^x on four f32 lanes for the mixture kernels' responsibilities, where f32 accuracy is all the
 *  output keeps: x = n ln 2 + r with |r| ≤ ln 2 / 2 (ln 2 split in two so r is exact), e^r by its
 *  degree-6 Taylor polynomial (remainder ≤ r⁷/7! ≈ 1.2e-7 relative), 2^n built in the exponent
 *  bits. Lanes below EXP_MIN_ARG give 0; arguments are meant to be ≤ 0 (above 88 it saturates). */
export function expF32x4(x: v128): v128 {
  const xc = f32x4.min(f32x4.max(x, f32x4.splat(EXP_MIN_ARG)), f32x4.splat(88));
  const n = f32x4.nearest(f32x4.mul(xc, f32x4.splat(1.4426950408889634)));
  let r = f32x4.sub(xc, f32x4.mul(n, f32x4.splat(0.693359375)));
  r = f32x4.add(r, f32x4.mul(n, f32x4.splat(2.12194440e-4)));
  let p = f32x4.splat(<f32>(1.0 / 720));
  p = madd(p, r, f32x4.splat(<f32>(1.0 / 120)));
  p = madd(p, r, f32x4.splat(<f32>(1.0 / 24)));
  p = madd(p, r, f32x4.splat(<f32>(1.0 / 6)));
  p = madd(p, r, f32x4.splat(0.5));
  p = madd(p, r, f32x4.splat(1));
  p = madd(p, r, f32x4.splat(1));
  const twoN = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  return v128.bitselect(f32x4.splat(0), f32x4.mul(p, twoN), f32x4.lt(x, f32x4.splat(EXP_MIN_ARG)));
}

/** Promote n f32 at src to f64 at dst (f64x2 SIMD, scalar tail). */
export function promote(src: usize, dst: usize, n: i32): void {
  let t = 0;
  for (; t + 2 <= n; t += 2) v128.store(dst + (<usize>t << 3), f64x2.promote_low_f32x4(v128.load64_zero(src + (<usize>t << 2))));
  for (; t < n; t++) store<f64>(dst + (<usize>t << 3), <f64>load<f32>(src + (<usize>t << 2)));
}

/** A diagonal Gaussian's per-component constants in f64 from its f32 log-variances logVar [K,D]:
 *  iv64 [K,D] = e^{−logVar}, cst [K] = −½ Σ_d (log 2π + logVar_kd). */
export function gaussConstants64(logVar: usize, k: i32, d: i32, iv64: usize, cst: usize): void {
  for (let j = 0; j < k; j++) {
    let s: f64 = 0;
    for (let t = 0; t < d; t++) {
      const lv = <f64>load<f32>(logVar + (<usize>(j * d + t) << 2));
      store<f64>(iv64 + (<usize>(j * d + t) << 3), Math.exp(-lv));
      s += LOG_2PI + lv;
    }
    store<f64>(cst + (<usize>j << 3), -0.5 * s);
  }
}

/** Σ_t (z_t − μ_t)² iv_t over d f64 values (f64x2, scalar tail): a Gaussian's Mahalanobis term. */
export function weightedSqDist64(z64: usize, mu64: usize, iv64: usize, d: i32): f64 {
  let acc = f64x2.splat(0);
  let t = 0;
  for (; t + 2 <= d; t += 2) {
    const o = <usize>t << 3;
    const df = f64x2.sub(v128.load(z64 + o), v128.load(mu64 + o));
    acc = f64x2.add(acc, f64x2.mul(f64x2.mul(df, df), v128.load(iv64 + o)));
  }
  let s = f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
  for (; t < d; t++) {
    const o = <usize>t << 3;
    const df = load<f64>(z64 + o) - load<f64>(mu64 + o);
    s += df * df * load<f64>(iv64 + o);
  }
  return s;
}

/** Squared Euclidean distance of two f32 rows of length d (SIMD body, scalar tail). */
export function sqDist(x: usize, y: usize, d: i32): f32 {
  let acc0 = f32x4.splat(0);
  let acc1 = f32x4.splat(0);
  let j = 0;
  for (; j + 8 <= d; j += 8) {
    const o = <usize>j << 2;
    const d0 = f32x4.sub(v128.load(x + o), v128.load(y + o));
    const d1 = f32x4.sub(v128.load(x + o, 16), v128.load(y + o, 16));
    acc0 = madd(d0, d0, acc0);
    acc1 = madd(d1, d1, acc1);
  }
  for (; j + 4 <= d; j += 4) {
    const o = <usize>j << 2;
    const d0 = f32x4.sub(v128.load(x + o), v128.load(y + o));
    acc0 = madd(d0, d0, acc0);
  }
  let s = hsum(f32x4.add(acc0, acc1));
  for (; j < d; j++) {
    const o = <usize>j << 2;
    const t = load<f32>(x + o) - load<f32>(y + o);
    s += t * t;
  }
  return s;
}

/** Where the JS-side allocator may start handing out memory (after static data). */
export function heapBase(): usize {
  return __heap_base;
}

/** Which build this is: 1 = relaxed-simd, 0 = baseline SIMD128. */
export function isRelaxed(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 1 : 0;
}
