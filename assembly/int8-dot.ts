// Int8 dot products of the int8 layers: the exported module's (embed/int8.ts) and the backend op
// denseInt8 (dense-int8.ts). Activations are int16 rows holding int8 values (quantiseRow), weights
// int8 rows; the SIMD build widens the weights with v128.load8x8_s and multiplies with
// i32x4.dot_i16x8_s, the scalar build loops, and both give the same exact i32 sums.

/** One row of n f32 values at x into int8 values held as int16 at q; returns its scale m / 127
 *  (m = max |x|): q = nearest(x · (127 / m)), ties to even, clamped to ±127. An all-zero row gives
 *  zeros and scale 0, so its products are 0 exactly. */
export function quantiseRow(x: usize, q: usize, n: i32): f32 {
  let m: f32 = 0;
  for (let i = 0; i < n; i++) m = max(m, abs<f32>(load<f32>(x + (<usize>i << 2))));
  const inv: f32 = m > 0 ? <f32>127 / m : 0;
  for (let i = 0; i < n; i++) {
    const v = nearest<f32>(load<f32>(x + (<usize>i << 2)) * inv);
    store<i16>(q + (<usize>i << 1), <i16>min<f32>(max<f32>(v, -127), 127));
  }
  return m / <f32>127;
}

/** Σ_i qx[i]·qw[i] of one int16 row and one int8 weight row of n values. */
export function idot(qx: usize, qw: usize, n: i32): i32 {
  let i = 0;
  let s: i32 = 0;
  if (ASC_FEATURE_SIMD) {
    let v = i32x4.splat(0);
    for (; i + 8 <= n; i += 8) v = i32x4.add(v, i32x4.dot_i16x8_s(v128.load(qx + (<usize>i << 1)), v128.load8x8_s(qw + <usize>i)));
    s = i32x4.extract_lane(v, 0) + i32x4.extract_lane(v, 1) + i32x4.extract_lane(v, 2) + i32x4.extract_lane(v, 3);
  }
  for (; i < n; i++) s += <i32>load<i16>(qx + (<usize>i << 1)) * <i32>load<i8>(qw + <usize>i);
  return s;
}

/** idot of 4 consecutive int16 rows (stride n) with one weight row, into out[0..3]: the weight row is
 *  loaded and widened once for the 4 rows. */
export function idot4(qx: usize, qw: usize, n: i32, out: usize): void {
  const stride = <usize>n << 1;
  let i = 0;
  let s0: i32 = 0, s1: i32 = 0, s2: i32 = 0, s3: i32 = 0;
  if (ASC_FEATURE_SIMD) {
    let v0 = i32x4.splat(0);
    let v1 = i32x4.splat(0);
    let v2 = i32x4.splat(0);
    let v3 = i32x4.splat(0);
    for (; i + 8 <= n; i += 8) {
      const o = <usize>i << 1;
      const w = v128.load8x8_s(qw + <usize>i);
      v0 = i32x4.add(v0, i32x4.dot_i16x8_s(v128.load(qx + o), w));
      v1 = i32x4.add(v1, i32x4.dot_i16x8_s(v128.load(qx + stride + o), w));
      v2 = i32x4.add(v2, i32x4.dot_i16x8_s(v128.load(qx + 2 * stride + o), w));
      v3 = i32x4.add(v3, i32x4.dot_i16x8_s(v128.load(qx + 3 * stride + o), w));
    }
    s0 = i32x4.extract_lane(v0, 0) + i32x4.extract_lane(v0, 1) + i32x4.extract_lane(v0, 2) + i32x4.extract_lane(v0, 3);
    s1 = i32x4.extract_lane(v1, 0) + i32x4.extract_lane(v1, 1) + i32x4.extract_lane(v1, 2) + i32x4.extract_lane(v1, 3);
    s2 = i32x4.extract_lane(v2, 0) + i32x4.extract_lane(v2, 1) + i32x4.extract_lane(v2, 2) + i32x4.extract_lane(v2, 3);
    s3 = i32x4.extract_lane(v3, 0) + i32x4.extract_lane(v3, 1) + i32x4.extract_lane(v3, 2) + i32x4.extract_lane(v3, 3);
  }
  for (; i < n; i++) {
    const w = <i32>load<i8>(qw + <usize>i);
    const o = <usize>i << 1;
    s0 += <i32>load<i16>(qx + o) * w;
    s1 += <i32>load<i16>(qx + stride + o) * w;
    s2 += <i32>load<i16>(qx + 2 * stride + o) * w;
    s3 += <i32>load<i16>(qx + 3 * stride + o) * w;
  }
  store<i32>(out, s0);
  store<i32>(out, s1, 4);
  store<i32>(out, s2, 8);
  store<i32>(out, s3, 12);
}

