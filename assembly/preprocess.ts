// Input normalisation of analyzer signals (bindings/pipeline/preprocess.ts): asinhStandardize,
//   out[i,j] = (asinh(x[i,j]·invScale) − mean[j]) / std[j].
// asinh is evaluated four lanes at a time (f32x4; the scalar tail runs the same code on one lane so
// every column gets the same formula), on v = |x·invScale| with the sign put back at the end:
//   v < 0.5       Maclaurin series asinh v = v Σ_k (−1)^k (2k)! / (4^k (k!)² (2k+1)) v^(2k), k = 0..9
//                 (first omitted term < 1e-8 relative at 0.5): log(v + √(v²+1)) would lose the
//                 noisy baseline's small values to the rounding of 1 + v;
//   0.5 ≤ v ≤ 2¹² log(v + √(v²+1));
//   v > 2¹²       log v + log 2 (v² + 1 rounds to v², and overflows beyond ~1.8e19).
// log y (y ≥ 1 here) splits y = 2^e·m with m in [√½, √2) and uses log m = 2 atanh s,
// s = (m−1)/(m+1), |s| ≤ 0.172: 2(s + s³/3 + … + s⁹/9) (next term < 4e-10 relative).
// Rows [r0, r1) let worker threads each take a slice of the rows.
//
// pulseSummaries (bindings/pipeline/pulse-features.ts): per row and channel block of T samples the
// peak height asinh(peak/scale) and width area/max(peak, scale), area = Σ max(x, 0). The max is
// exact in f32; the area is summed in f64 (two f64x2 lanes) and the asinh/divide are f64, so the
// result is the host's float64 value rounded once to f32 (to summation order, ~1e-16).
import { madd } from './common';

// @ts-ignore: decorator
@inline function logPos(y: v128): v128 {
  // y = 2^e·m: offsetting the bits by those of √½ makes the exponent field e and leaves the
  // mantissa of m = y/2^e in [√½, √2) once the offset is added back.
  const t = i32x4.sub(y, i32x4.splat(0x3f3504f3));
  const e = f32x4.convert_i32x4_s(i32x4.shr_s(t, 23));
  const m = i32x4.add(v128.and(t, i32x4.splat(0x007fffff)), i32x4.splat(0x3f3504f3));
  const s = f32x4.div(f32x4.sub(m, f32x4.splat(1)), f32x4.add(m, f32x4.splat(1)));
  const s2 = f32x4.mul(s, s);
  let p = f32x4.splat(<f32>(1.0 / 9));
  p = madd(p, s2, f32x4.splat(<f32>(1.0 / 7)));
  p = madd(p, s2, f32x4.splat(<f32>(1.0 / 5)));
  p = madd(p, s2, f32x4.splat(<f32>(1.0 / 3)));
  p = madd(p, s2, f32x4.splat(1));
  const logM = f32x4.mul(f32x4.add(s, s), p);
  // e·log 2 in two parts (hi exact in f32 for |e| < 2^9) so large exponents keep log m's precision.
  const hi = f32x4.mul(e, f32x4.splat(<f32>0.693145751953125));
  const lo = f32x4.mul(e, f32x4.splat(<f32>1.428606765330187e-6));
  return f32x4.add(hi, f32x4.add(lo, logM));
}

/** asinh on four lanes (see the file header for the three ranges). */
// @ts-ignore: decorator
@inline function asinh4(x: v128): v128 {
  const sign = v128.and(x, i32x4.splat(0x80000000));
  const v = f32x4.abs(x);
  const v2 = f32x4.mul(v, v);
  // Series (small v), Horner in v².
  let p = f32x4.splat(<f32>-9.7616095292e-3); // k = 9: −12155/1245184
  p = madd(p, v2, f32x4.splat(<f32>1.1551800896e-2)); // k = 8: 6435/557056
  p = madd(p, v2, f32x4.splat(<f32>-1.396484375e-2)); // k = 7: −143/10240
  p = madd(p, v2, f32x4.splat(<f32>1.7352764423e-2)); // k = 6: 231/13312
  p = madd(p, v2, f32x4.splat(<f32>-2.2372159091e-2)); // k = 5: −63/2816
  p = madd(p, v2, f32x4.splat(<f32>3.0381944444e-2)); // k = 4: 35/1152
  p = madd(p, v2, f32x4.splat(<f32>-4.4642857143e-2)); // k = 3: −5/112
  p = madd(p, v2, f32x4.splat(<f32>0.075)); // k = 2: 3/40
  p = madd(p, v2, f32x4.splat(<f32>-0.16666666667)); // k = 1: −1/6
  p = madd(p, v2, f32x4.splat(1));
  const series = f32x4.mul(v, p);
  // Logarithmic form (mid and large v).
  const huge = f32x4.gt(v, f32x4.splat(4096));
  const y = v128.bitselect(v, f32x4.add(v, f32x4.sqrt(f32x4.add(v2, f32x4.splat(1)))), huge);
  const lg = f32x4.add(logPos(y), v128.and(huge, f32x4.splat(<f32>0.6931471805599453)));
  const a = v128.bitselect(series, lg, f32x4.lt(v, f32x4.splat(0.5)));
  return v128.or(a, sign);
}

/** out[i,j] = (asinh(x[i,j]·invScale) − mean[j]) / std[j]; x, out [N,D] (may alias), mean, std [D];
 *  rows [r0, r1). */
export function asinhStandardize(x: usize, mean: usize, std: usize, out: usize, d: i32, invScale: f32, r0: i32, r1: i32): void {
  const sc = f32x4.splat(invScale);
  for (let i = r0; i < r1; i++) {
    const xr = x + (<usize>i * <usize>d << 2);
    const or = out + (<usize>i * <usize>d << 2);
    let j = 0;
    for (; j + 4 <= d; j += 4) {
      const o = <usize>j << 2;
      const a = asinh4(f32x4.mul(v128.load(xr + o), sc));
      v128.store(or + o, f32x4.div(f32x4.sub(a, v128.load(mean + o)), v128.load(std + o)));
    }
    for (; j < d; j++) {
      const o = <usize>j << 2;
      const a = f32x4.extract_lane(asinh4(f32x4.splat(load<f32>(xr + o) * invScale)), 0);
      store<f32>(or + o, (a - load<f32>(mean + o)) / load<f32>(std + o));
    }
  }
}

/** out[i,2c] = asinh(peak/scale), out[i,2c+1] = area/max(peak, scale) per channel block of
 *  T = d / channels samples; x [N, d], out [N, 2·channels]; rows [r0, r1).
 *  The max is f32x4.pmax (0 < v ? v : 0 style: a NaN sample never wins, as with the host's
 *  `v > peak`); positive parts are widened to f64x2 and summed; then a scalar tail. */
export function pulseSummaries(x: usize, out: usize, d: i32, channels: i32, scale: f64, r0: i32, r1: i32): void {
  const T = d / channels;
  const zero = f32x4.splat(0);
  for (let i = r0; i < r1; i++) {
    const xr = x + (<usize>i * <usize>d << 2);
    const or = out + (<usize>i * <usize>(2 * channels) << 2);
    for (let c = 0; c < channels; c++) {
      const p = xr + (<usize>(c * T) << 2);
      let mx = f32x4.splat(-Infinity);
      let a0 = f64x2.splat(0);
      let a1 = f64x2.splat(0);
      let t = 0;
      for (; t + 4 <= T; t += 4) {
        const v = v128.load(p + (<usize>t << 2));
        mx = f32x4.pmax(mx, v);
        const pos = f32x4.pmax(zero, v); // 0 < v ? v : 0 (NaN → 0)
        a0 = f64x2.add(a0, f64x2.promote_low_f32x4(pos));
        a1 = f64x2.add(a1, f64x2.promote_low_f32x4(v128.shuffle<f32>(pos, pos, 2, 3, 2, 3)));
      }
      let peak = max(max(f32x4.extract_lane(mx, 0), f32x4.extract_lane(mx, 1)), max(f32x4.extract_lane(mx, 2), f32x4.extract_lane(mx, 3)));
      const s = f64x2.add(a0, a1);
      let area = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
      for (; t < T; t++) {
        const v = load<f32>(p + (<usize>t << 2));
        if (v > peak) peak = v;
        if (v > 0) area += <f64>v;
      }
      store<f32>(or + (<usize>(2 * c) << 2), <f32>Math.asinh(<f64>peak / scale));
      store<f32>(or + (<usize>(2 * c + 1) << 2), <f32>(area / max(<f64>peak, scale)));
    }
  }
}
