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
