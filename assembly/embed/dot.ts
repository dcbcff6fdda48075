// f32 dot product of the encoder's layers: SIMD128 in the SIMD build, plain scalar code in the
// --no-simd build (ASC_FEATURE_SIMD is the compiler's feature flag; the other branch is not compiled),
// for runtimes and wasm2c, which have no SIMD.

/** Σ_i a[i]·b[i], n values at a and b. */
export function dot(a: usize, b: usize, n: i32): f32 {
  let i = 0;
  let s: f32 = 0;
  if (ASC_FEATURE_SIMD) {
    let v0 = f32x4.splat(0);
    let v1 = f32x4.splat(0);
    for (; i + 8 <= n; i += 8) {
      const o = <usize>i << 2;
      v0 = f32x4.add(v0, f32x4.mul(v128.load(a + o), v128.load(b + o)));
      v1 = f32x4.add(v1, f32x4.mul(v128.load(a + o, 16), v128.load(b + o, 16)));
    }
    const v = f32x4.add(v0, v1);
    s = f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
  } else {
    let s1: f32 = 0;
    for (; i + 2 <= n; i += 2) {
      s += load<f32>(a + (<usize>i << 2)) * load<f32>(b + (<usize>i << 2));
      s1 += load<f32>(a + (<usize>i << 2), 4) * load<f32>(b + (<usize>i << 2), 4);
    }
    s += s1;
  }
  for (; i < n; i++) s += load<f32>(a + (<usize>i << 2)) * load<f32>(b + (<usize>i << 2));
  return s;
}

/** The dot products of 4 consecutive rows of x (row stride `n` values) with b, into out[0..3]:
 *  each chunk of b is loaded once for the 4 rows (the encoder's weights dominate its memory traffic). */
export function dot4(x: usize, b: usize, n: i32, out: usize): void {
  const stride = <usize>n << 2;
  let i = 0;
  let s0: f32 = 0, s1: f32 = 0, s2: f32 = 0, s3: f32 = 0;
  if (ASC_FEATURE_SIMD) {
    let v0 = f32x4.splat(0);
    let v1 = f32x4.splat(0);
    let v2 = f32x4.splat(0);
    let v3 = f32x4.splat(0);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      const w = v128.load(b + o);
      v0 = f32x4.add(v0, f32x4.mul(v128.load(x + o), w));
      v1 = f32x4.add(v1, f32x4.mul(v128.load(x + stride + o), w));
      v2 = f32x4.add(v2, f32x4.mul(v128.load(x + 2 * stride + o), w));
      v3 = f32x4.add(v3, f32x4.mul(v128.load(x + 3 * stride + o), w));
    }
    s0 = f32x4.extract_lane(v0, 0) + f32x4.extract_lane(v0, 1) + (f32x4.extract_lane(v0, 2) + f32x4.extract_lane(v0, 3));
    s1 = f32x4.extract_lane(v1, 0) + f32x4.extract_lane(v1, 1) + (f32x4.extract_lane(v1, 2) + f32x4.extract_lane(v1, 3));
    s2 = f32x4.extract_lane(v2, 0) + f32x4.extract_lane(v2, 1) + (f32x4.extract_lane(v2, 2) + f32x4.extract_lane(v2, 3));
    s3 = f32x4.extract_lane(v3, 0) + f32x4.extract_lane(v3, 1) + (f32x4.extract_lane(v3, 2) + f32x4.extract_lane(v3, 3));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const w = load<f32>(b + o);
    s0 += load<f32>(x + o) * w;
    s1 += load<f32>(x + stride + o) * w;
    s2 += load<f32>(x + 2 * stride + o) * w;
    s3 += load<f32>(x + 3 * stride + o) * w;
  }
  store<f32>(out, s0);
  store<f32>(out, s1, 4);
  store<f32>(out, s2, 8);
  store<f32>(out, s3, 12);
}
