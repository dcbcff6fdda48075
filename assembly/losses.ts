// Reconstruction and label-proportion losses: mseLoss(+Backward), bceLogitsLoss(+Backward),
// proportionXentLoss(+Backward). Loss sums are accumulated in f64 (each f32 term is exact in f64,
// so the only rounding is f64's: far below the 1e-4 reduction tolerance at any N we use).

/** loss[0] = (1/n) Σ (pred-target)² over n elements. */
export function mseLoss(pred: usize, target: usize, loss: usize, n: i32): void {
  let a0 = f64x2.splat(0), a1 = f64x2.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const d = f32x4.sub(v128.load(pred + o), v128.load(target + o));
    const lo = f64x2.promote_low_f32x4(d);
    const hi = f64x2.promote_low_f32x4(v128.shuffle<f32>(d, d, 2, 3, 2, 3));
    a0 = f64x2.add(a0, f64x2.mul(lo, lo));
    a1 = f64x2.add(a1, f64x2.mul(hi, hi));
  }
  const s2 = f64x2.add(a0, a1);
  let s = f64x2.extract_lane(s2, 0) + f64x2.extract_lane(s2, 1);
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const d = <f64>load<f32>(pred + o) - <f64>load<f32>(target + o);
    s += d * d;
  }
  store<f32>(loss, <f32>(s / <f64>n));
}

/** dpred = coef * (pred - target), coef = scale*2/(N*D) computed by the caller. n elements. */
export function mseLossBackward(pred: usize, target: usize, dpred: usize, n: i32, coef: f32): void {
  const c = f32x4.splat(coef);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(dpred + o, f32x4.mul(c, f32x4.sub(v128.load(pred + o), v128.load(target + o))));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dpred + o, coef * (load<f32>(pred + o) - load<f32>(target + o)));
  }
}

/** loss[0] = (1/rows) Σ softplus(x) - t*x over n elements; softplus(x) = max(x,0) + log1p(exp(-|x|)). */
export function bceLogitsLoss(logits: usize, target: usize, loss: usize, n: i32, rows: i32): void {
  let s: f64 = 0;
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    const x = load<f32>(logits + o);
    const t = load<f32>(target + o);
    const xd = <f64>x;
    s += (xd > 0 ? xd : 0) - <f64>t * xd + <f64>Mathf.log1p(Mathf.exp(-Mathf.abs(x)));
  }
  store<f32>(loss, <f32>(s / <f64>rows));
}

/** dlogits = coef * (sigmoid(x) - t), coef = scale/N from the caller. */
export function bceLogitsLossBackward(logits: usize, target: usize, dlogits: usize, n: i32, coef: f32): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    const x = load<f32>(logits + o);
    // sigmoid without overflow for either sign of x
    const e = Mathf.exp(-Mathf.abs(x));
    const sg: f32 = x >= 0 ? 1 / (1 + e) : e / (1 + e);
    store<f32>(dlogits + o, coef * (sg - load<f32>(target + o)));
  }
}

/** loss[0] = (1/S) Σ_s −Σ_k t log(max(p, 1e-12)); n = S*K elements. */
export function proportionXentLoss(pred: usize, target: usize, loss: usize, n: i32, s: i32): void {
  let acc: f64 = 0;
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    const t = <f64>load<f32>(target + o);
    acc -= t * Math.log(Math.max(<f64>load<f32>(pred + o), 1e-12));
  }
  store<f32>(loss, <f32>(acc / <f64>s));
}

/** dpred = −scale * t / (S * max(p, 1e-12)); coef = scale/S from the caller (f64 for 1e-12). */
export function proportionXentLossBackward(pred: usize, target: usize, dpred: usize, n: i32, coef: f64): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    const t = <f64>load<f32>(target + o);
    store<f32>(dpred + o, <f32>(-coef * t / Math.max(<f64>load<f32>(pred + o), 1e-12)));
  }
}
