// denseInt8 (bindings/backend.ts): a dense layer with int8 weights, packed four to an i32 word per
// output row, for inference. Each thread quantises a block of its rows into int16 scratch
// (quantiseRow), then runs every pair of outputs' weight rows over the block four rows at a time
// (dot4x2: 8 accumulators, each weight chunk widened once for 4 rows and each row chunk loaded once
// for 2 outputs), so a weight row is read once per block, not once per row: with the block's rows
// sized to stay in cache, the weights stream from memory once per block.
import { idot } from './int8-dot';

// @ts-ignore: decorator
@inline function activate(v: f32, act: i32): f32 {
  if (act == 1) return v > 0 ? v : 0;
  if (act == 2) return 1 / (1 + Mathf.exp(-v));
  if (act == 3) return Mathf.tanh(v);
  return v;
}

/** quantiseRow (int8-dot.ts) four and eight lanes at a time, the same values bit for bit:
 *  f32x4.nearest rounds ties to even as nearest does, and max over |x| is order-free. */
function quantiseRow4(x: usize, q: usize, n: i32): f32 {
  let mv = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) mv = f32x4.max(mv, f32x4.abs(v128.load(x + (<usize>i << 2))));
  let m = max(max(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)), max(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3)));
  for (; i < n; i++) m = max(m, abs<f32>(load<f32>(x + (<usize>i << 2))));
  const inv: f32 = m > 0 ? <f32>127 / m : 0;
  const vi = f32x4.splat(inv);
  const lo = f32x4.splat(-127);
  const hi = f32x4.splat(127);
  i = 0;
  for (; i + 8 <= n; i += 8) {
    const xi = x + (<usize>i << 2);
    const a = f32x4.min(f32x4.max(f32x4.nearest(f32x4.mul(v128.load(xi), vi)), lo), hi);
    const b = f32x4.min(f32x4.max(f32x4.nearest(f32x4.mul(v128.load(xi, 16), vi)), lo), hi);
    v128.store(q + (<usize>i << 1), i16x8.narrow_i32x4_s(i32x4.trunc_sat_f32x4_s(a), i32x4.trunc_sat_f32x4_s(b)));
  }
  for (; i < n; i++) {
    const v = nearest<f32>(load<f32>(x + (<usize>i << 2)) * inv);
    store<i16>(q + (<usize>i << 1), <i16>min<f32>(max<f32>(v, -127), 127));
  }
  return m / <f32>127;
}

/** Bytes of scratch per thread for blocks of `block` rows of nin inputs: the int16 rows, their
 *  scales and idot4's four sums. */
export function denseInt8ScratchBytes(nin: i32, block: i32): i32 {
  return ((block * nin * 2 + 15) & ~15) + block * 4 + 16;
}

/** [Σ a0, Σ a1, Σ a2, Σ a3]: the lanes of four i32x4 accumulators summed, in 6 shuffles and 3 adds. */
// @ts-ignore: decorator
@inline function sum4(a0: v128, a1: v128, a2: v128, a3: v128): v128 {
  const u01 = i32x4.add(v128.shuffle<i32>(a0, a1, 0, 4, 1, 5), v128.shuffle<i32>(a0, a1, 2, 6, 3, 7));
  const u23 = i32x4.add(v128.shuffle<i32>(a2, a3, 0, 4, 1, 5), v128.shuffle<i32>(a2, a3, 2, 6, 3, 7));
  return i32x4.add(v128.shuffle<i32>(u01, u23, 0, 1, 4, 5), v128.shuffle<i32>(u01, u23, 2, 3, 6, 7));
}

/** The integer sums of 4 int16 rows (stride nin) with 2 int8 weight rows, as two i32x4 of the 4 rows'
 *  sums (for output o0 into at, o1 into at + 16): each weight chunk is widened once for 4 rows, each
 *  row chunk loaded once for 2 outputs. */
function dot4x2(qx: usize, w0: usize, w1: usize, nin: i32, at: usize): void {
  const stride = <usize>nin << 1;
  let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
  let b0 = i32x4.splat(0), b1 = i32x4.splat(0), b2 = i32x4.splat(0), b3 = i32x4.splat(0);
  let i = 0;
  for (; i + 8 <= nin; i += 8) {
    const o = <usize>i << 1;
    const v0 = v128.load8x8_s(w0 + <usize>i);
    const v1 = v128.load8x8_s(w1 + <usize>i);
    const x0 = v128.load(qx + o);
    const x1 = v128.load(qx + stride + o);
    const x2 = v128.load(qx + 2 * stride + o);
    const x3 = v128.load(qx + 3 * stride + o);
    a0 = i32x4.add(a0, i32x4.dot_i16x8_s(x0, v0));
    a1 = i32x4.add(a1, i32x4.dot_i16x8_s(x1, v0));
    a2 = i32x4.add(a2, i32x4.dot_i16x8_s(x2, v0));
    a3 = i32x4.add(a3, i32x4.dot_i16x8_s(x3, v0));
    b0 = i32x4.add(b0, i32x4.dot_i16x8_s(x0, v1));
    b1 = i32x4.add(b1, i32x4.dot_i16x8_s(x1, v1));
    b2 = i32x4.add(b2, i32x4.dot_i16x8_s(x2, v1));
    b3 = i32x4.add(b3, i32x4.dot_i16x8_s(x3, v1));
  }
  let sa = sum4(a0, a1, a2, a3);
  let sb = sum4(b0, b1, b2, b3);
  for (; i < nin; i++) {
    const o = <usize>i << 1;
    const x = i32x4.replace_lane(i32x4.replace_lane(i32x4.replace_lane(i32x4.splat(<i32>load<i16>(qx + o)),
      1, <i32>load<i16>(qx + stride + o)), 2, <i32>load<i16>(qx + 2 * stride + o)), 3, <i32>load<i16>(qx + 3 * stride + o));
    sa = i32x4.add(sa, i32x4.mul(x, i32x4.splat(<i32>load<i8>(w0 + <usize>i))));
    sb = i32x4.add(sb, i32x4.mul(x, i32x4.splat(<i32>load<i8>(w1 + <usize>i))));
  }
  v128.store(at, sa);
  v128.store(at, sb, 16);
}

/** Four rows' sums of output o (at `sums`) dequantised, biased, activated and stored in column o. */
// @ts-ignore: decorator
@inline function store4(sums: v128, xs: v128, so: f32, bo: f32, act: i32, out: usize, nout: i32, o: i32): void {
  const v = f32x4.add(f32x4.mul(f32x4.mul(f32x4.convert_i32x4_s(sums), xs), f32x4.splat(so)), f32x4.splat(bo));
  const stride = <usize>nout << 2;
  const at = out + (<usize>o << 2);
  store<f32>(at, activate(f32x4.extract_lane(v, 0), act));
  store<f32>(at + stride, activate(f32x4.extract_lane(v, 1), act));
  store<f32>(at + 2 * stride, activate(f32x4.extract_lane(v, 2), act));
  store<f32>(at + 3 * stride, activate(f32x4.extract_lane(v, 3), act));
}

/** out [N, nout] = act(int8 layer of x [N, nin]) for rows [r0, r1), in blocks of `block` rows.
 *  wq [nout, ⌈nin/4⌉] i32 (int8 bytes, little-endian), ws, bias [nout] f32. */
export function denseInt8(x: usize, wq: usize, ws: usize, bias: usize, act: i32, out: usize, n: i32, nin: i32, nout: i32,
  block: i32, scratch: usize, r0: i32, r1: i32): void {
  const rowBytes = <usize>((nin + 3) >> 2) << 2;
  const qx = scratch;
  const xs = scratch + (<usize>(block * nin * 2 + 15) & ~15);
  const sums = xs + (<usize>block << 2);
  for (let b0 = r0; b0 < r1; b0 += block) {
    const rows = min(block, r1 - b0);
    for (let j = 0; j < rows; j++) {
      store<f32>(xs + (<usize>j << 2), quantiseRow4(x + (<usize>(b0 + j) * <usize>nin << 2), qx + (<usize>(j * nin) << 1), nin));
    }
    let o = 0;
    for (; o + 2 <= nout; o += 2) {
      const w0 = wq + <usize>o * rowBytes;
      const s0 = load<f32>(ws + (<usize>o << 2)), s1 = load<f32>(ws + (<usize>(o + 1) << 2));
      const c0 = load<f32>(bias + (<usize>o << 2)), c1 = load<f32>(bias + (<usize>(o + 1) << 2));
      let j = 0;
      for (; j + 4 <= rows; j += 4) {
        dot4x2(qx + (<usize>(j * nin) << 1), w0, w0 + rowBytes, nin, sums);
        const xv = v128.load(xs + (<usize>j << 2));
        const row = out + (<usize>(b0 + j) * <usize>nout << 2);
        store4(v128.load(sums), xv, s0, c0, act, row, nout, o);
        store4(v128.load(sums, 16), xv, s1, c1, act, row, nout, o + 1);
      }
      for (; j < rows; j++) rowTail(qx, xs, j, nin, w0, rowBytes, ws, bias, act, out, b0, nout, o, 2);
    }
    if (o < nout) for (let j = 0; j < rows; j++) rowTail(qx, xs, j, nin, wq + <usize>o * rowBytes, rowBytes, ws, bias, act, out, b0, nout, o, 1);
  }
}

/** Row j of the block against `count` outputs from o, one dot product each (the block's last rows,
 *  the layer's odd last output). */
function rowTail(qx: usize, xs: usize, j: i32, nin: i32, w: usize, rowBytes: usize, ws: usize, bias: usize, act: i32, out: usize,
  b0: i32, nout: i32, o: i32, count: i32): void {
  for (let c = 0; c < count; c++) {
    const v = <f32>idot(qx + (<usize>(j * nin) << 1), w + <usize>c * rowBytes, nin) * load<f32>(xs + (<usize>j << 2))
      * load<f32>(ws + (<usize>(o + c) << 2)) + load<f32>(bias + (<usize>(o + c) << 2));
    store<f32>(out + ((<usize>(b0 + j) * <usize>nout + <usize>(o + c)) << 2), activate(v, act));
  }
}
