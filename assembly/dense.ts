// Dense-layer helpers around gemm: biasAct, biasActBackward, colSum.
// Activation codes follow ACTIVATIONS in bindings/backend.ts: 0 identity, 1 relu, 2 sigmoid, 3 tanh.

// @ts-ignore: decorator
@inline function sigmoid(v: f32): f32 {
  return 1 / (1 + Mathf.exp(-v));
}

/** out = act(x + bias) row-wise. x, out [N,D] (out may alias x), bias [D]; rows [r0, r1). */
export function biasAct(x: usize, bias: usize, act: i32, out: usize, n: i32, d: i32, r0: i32, r1: i32): void {
  const zero = f32x4.splat(0);
  for (let r = r0; r < r1; r++) {
    const xr = x + (<usize>r * <usize>d << 2);
    const orow = out + (<usize>r * <usize>d << 2);
    let j = 0;
    if (act == 0 || act == 1) {
      for (; j + 4 <= d; j += 4) {
        const o = <usize>j << 2;
        let v = f32x4.add(v128.load(xr + o), v128.load(bias + o));
        // pmax(0, v) = 0 < v ? v : 0, one x86 maxps and the same as the scalar tail below; wasm's
        // max (NaN- and ±0-exact) costs several instructions, enough to slow ReLU down markedly.
        if (act == 1) v = f32x4.pmax(zero, v);
        v128.store(orow + o, v);
      }
      for (; j < d; j++) {
        const o = <usize>j << 2;
        const v = load<f32>(xr + o) + load<f32>(bias + o);
        store<f32>(orow + o, act == 1 ? (v > 0 ? v : 0) : v);
      }
    } else {
      for (; j < d; j++) {
        const o = <usize>j << 2;
        const v = load<f32>(xr + o) + load<f32>(bias + o);
        store<f32>(orow + o, act == 2 ? sigmoid(v) : Mathf.tanh(v));
      }
    }
  }
}

/** dx = dy * act'(y), act' expressed through the output y. dy, y, dx: n elements (dx may alias dy). */
export function biasActBackward(dy: usize, y: usize, act: i32, dx: usize, n: i32): void {
  const zero = f32x4.splat(0);
  const one = f32x4.splat(1);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const g = v128.load(dy + o);
    const yv = v128.load(y + o);
    let v: v128;
    if (act == 0) v = g;
    else if (act == 1) v = v128.and(g, f32x4.gt(yv, zero));
    else if (act == 2) v = f32x4.mul(g, f32x4.mul(yv, f32x4.sub(one, yv)));
    // tanh' = (1 − y)(1 + y), not 1 − y·y: near |y| = 1 the rounding of y·y (≈ 3e-8) is a large
    // part of 1 − y² (1e-3 at y = tanh 4); 1 − y is exact there (Sterbenz) and 1 + y rounds by ½ ulp.
    else v = f32x4.mul(g, f32x4.mul(f32x4.sub(one, yv), f32x4.add(one, yv)));
    v128.store(dx + o, v);
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const g = load<f32>(dy + o);
    const yv = load<f32>(y + o);
    let v: f32;
    if (act == 0) v = g;
    else if (act == 1) v = yv > 0 ? g : 0;
    else if (act == 2) v = g * (yv * (1 - yv));
    else v = g * ((1 - yv) * (1 + yv));
    store<f32>(dx + o, v);
  }
}

const BLOCK: i32 = 16;

/** out[j] = Σ_i x[i,j] (+ out[j] if accumulate). x [N,D], out [D].
 *  Careful summation: 8 columns at a time, rows summed in f32 SIMD over blocks of 16 rows, the
 *  block sums then added into f64 accumulators (blocked summation: error grows with 16 + N/16
 *  instead of N terms, and the f64 part adds none that matters). */
export function colSum(x: usize, out: usize, n: i32, d: i32, accumulate: i32): void {
  const ld = <usize>d << 2;
  let j = 0;
  for (; j + 8 <= d; j += 8) {
    const base = x + (<usize>j << 2);
    let t0 = f64x2.splat(0), t1 = f64x2.splat(0), t2 = f64x2.splat(0), t3 = f64x2.splat(0);
    for (let r = 0; r < n; r += BLOCK) {
      const rend = min(n, r + BLOCK);
      let s0 = f32x4.splat(0), s1 = f32x4.splat(0);
      let p = base + <usize>r * ld;
      for (let i = r; i < rend; i++) {
        s0 = f32x4.add(s0, v128.load(p));
        s1 = f32x4.add(s1, v128.load(p, 16));
        p += ld;
      }
      t0 = f64x2.add(t0, f64x2.promote_low_f32x4(s0));
      t1 = f64x2.add(t1, f64x2.promote_low_f32x4(v128.shuffle<f32>(s0, s0, 2, 3, 2, 3)));
      t2 = f64x2.add(t2, f64x2.promote_low_f32x4(s1));
      t3 = f64x2.add(t3, f64x2.promote_low_f32x4(v128.shuffle<f32>(s1, s1, 2, 3, 2, 3)));
    }
    const o = out + (<usize>j << 2);
    if (accumulate) {
      t0 = f64x2.add(t0, f64x2.promote_low_f32x4(v128.load64_zero(o)));
      t1 = f64x2.add(t1, f64x2.promote_low_f32x4(v128.load64_zero(o, 8)));
      t2 = f64x2.add(t2, f64x2.promote_low_f32x4(v128.load64_zero(o, 16)));
      t3 = f64x2.add(t3, f64x2.promote_low_f32x4(v128.load64_zero(o, 24)));
    }
    v128.store64_lane(o, f32x4.demote_f64x2_zero(t0), 0);
    v128.store64_lane(o, f32x4.demote_f64x2_zero(t1), 0, 8);
    v128.store64_lane(o, f32x4.demote_f64x2_zero(t2), 0, 16);
    v128.store64_lane(o, f32x4.demote_f64x2_zero(t3), 0, 24);
  }
  for (; j < d; j++) {
    let t: f64 = 0;
    for (let r = 0; r < n; r += BLOCK) {
      const rend = min(n, r + BLOCK);
      let s: f32 = 0;
      for (let i = r; i < rend; i++) s += load<f32>(x + <usize>i * ld + (<usize>j << 2));
      t += s;
    }
    const o = out + (<usize>j << 2);
    if (accumulate) t += load<f32>(o);
    store<f32>(o, <f32>t);
  }
}
