// Elementwise / data movement: fill, axpby, gatherRows.
import { madd } from './common';

/** out[i] = bits (the caller passes the f32 or i32 bit pattern; both are 4 bytes). n elements. */
export function fill(out: usize, n: i32, bits: u32): void {
  const v = i32x4.splat(bits);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(out + (<usize>i << 2), v);
  for (; i < n; i++) store<u32>(out + (<usize>i << 2), bits);
}

/** y = alpha*x + beta*y over n elements; beta == 0 overwrites y without reading it (NaN-safe). */
export function axpby(x: usize, y: usize, n: i32, alpha: f32, beta: f32): void {
  const va = f32x4.splat(alpha);
  const vb = f32x4.splat(beta);
  let i = 0;
  if (beta == 0) {
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(y + o, f32x4.mul(va, v128.load(x + o)));
    }
    for (; i < n; i++) {
      const o = <usize>i << 2;
      store<f32>(y + o, alpha * load<f32>(x + o));
    }
    return;
  }
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, madd(va, v128.load(x + o), f32x4.mul(vb, v128.load(y + o))));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, alpha * load<f32>(x + o) + beta * load<f32>(y + o));
  }
}

/** out[r,:] = src[idx[r],:]; src [N,D], idx [B] i32 (range-checked by the caller), out [B,D]. */
export function gatherRows(src: usize, idx: usize, out: usize, b: i32, d: i32): void {
  const rowBytes = <usize>d << 2;
  for (let r = 0; r < b; r++) {
    const i = load<i32>(idx + (<usize>r << 2));
    memory.copy(out + <usize>r * rowBytes, src + <usize>i * rowBytes, rowBytes);
  }
}
