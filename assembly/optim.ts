// Optimisers, in place on param and state: adamUpdate, sgdUpdate.
// Both update elements [i0, i1) only, so the wasm worker pool can share one update between threads
// (bindings/backends/wasm/threads.ts hands out ranges that start at multiples of 4). Every element
// goes through the same f32 operations in the vector and the scalar loop, so the result does not
// depend on how the range is cut.

/** Adam (Kingma & Ba 2015, Algorithm 1) with decoupled weight decay (Loshchilov & Hutter 2019, AdamW):
 *    p ← p − lr·wd·p;  m ← β1 m + (1−β1) g;  v ← β2 v + (1−β2) g²;
 *    p ← p − lr · (m / bc1) / (sqrt(v / bc2) + eps),   bc1 = 1−β1^t, bc2 = 1−β2^t (from the caller).
 *  The caller also passes 1−β1 and 1−β2 computed in f64: 1 − f32(0.999) in f32 is 0.0009999871,
 *  1.3e-5 away from 0.001, an error that v (dominated by (1−β2) g² at step 1) would inherit.
 *  Elements [i0, i1). */
export function adamUpdate(param: usize, grad: usize, m: usize, v: usize, lr: f32, beta1: f32, beta2: f32,
  eps: f32, bc1: f32, bc2: f32, wd: f32, oneMinusBeta1: f32, oneMinusBeta2: f32, i0: i32, i1: i32): void {
  const vlr = f32x4.splat(lr);
  const vb1 = f32x4.splat(beta1), vb1c = f32x4.splat(oneMinusBeta1);
  const vb2 = f32x4.splat(beta2), vb2c = f32x4.splat(oneMinusBeta2);
  const veps = f32x4.splat(eps);
  const vbc1 = f32x4.splat(bc1), vbc2 = f32x4.splat(bc2);
  const vlrwd = f32x4.splat(lr * wd);
  let i = i0;
  for (; i + 4 <= i1; i += 4) {
    const o = <usize>i << 2;
    const g = v128.load(grad + o);
    let p = v128.load(param + o);
    if (wd != 0) p = f32x4.sub(p, f32x4.mul(vlrwd, p));
    const mv = f32x4.add(f32x4.mul(vb1, v128.load(m + o)), f32x4.mul(vb1c, g));
    const vv = f32x4.add(f32x4.mul(vb2, v128.load(v + o)), f32x4.mul(vb2c, f32x4.mul(g, g)));
    v128.store(m + o, mv);
    v128.store(v + o, vv);
    const den = f32x4.add(f32x4.sqrt(f32x4.div(vv, vbc2)), veps);
    p = f32x4.sub(p, f32x4.div(f32x4.mul(vlr, f32x4.div(mv, vbc1)), den));
    v128.store(param + o, p);
  }
  for (; i < i1; i++) {
    const o = <usize>i << 2;
    const g = load<f32>(grad + o);
    let p = load<f32>(param + o);
    if (wd != 0) p -= (lr * wd) * p;
    const mv = beta1 * load<f32>(m + o) + oneMinusBeta1 * g;
    const vv = beta2 * load<f32>(v + o) + oneMinusBeta2 * (g * g);
    store<f32>(m + o, mv);
    store<f32>(v + o, vv);
    p -= (lr * (mv / bc1)) / (Mathf.sqrt(vv / bc2) + eps);
    store<f32>(param + o, p);
  }
}

/** Momentum SGD: vel ← momentum·vel + grad; param ← param − lr·vel. Elements [i0, i1). */
export function sgdUpdate(param: usize, grad: usize, vel: usize, lr: f32, momentum: f32, i0: i32, i1: i32): void {
  const vlr = f32x4.splat(lr);
  const vm = f32x4.splat(momentum);
  let i = i0;
  for (; i + 4 <= i1; i += 4) {
    const o = <usize>i << 2;
    const vv = f32x4.add(f32x4.mul(vm, v128.load(vel + o)), v128.load(grad + o));
    v128.store(vel + o, vv);
    v128.store(param + o, f32x4.sub(v128.load(param + o), f32x4.mul(vlr, vv)));
  }
  for (; i < i1; i++) {
    const o = <usize>i << 2;
    const vv = momentum * load<f32>(vel + o) + load<f32>(grad + o);
    store<f32>(vel + o, vv);
    store<f32>(param + o, load<f32>(param + o) - lr * vv);
  }
}
