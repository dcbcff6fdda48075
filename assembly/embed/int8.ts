// The int8 encoder layers of an export made with --int8 (docs/embedding.md, "int8"); the host
// reference, the same arithmetic step for step, is bindings/export/int8.ts.
//   weights      W[o, :] ≈ qw[o, :] · ws[o]        int8, symmetric per output channel (the exporter)
//   activations  x[r, :] ≈ qx[r, :] · xs[r]        int16 holding int8 values, symmetric per event row
//                xs[r] = max_i |x[r, i]| / 127,  qx = nearest(x · (127 / max)), ties to even
//   layer        y[r, o] = ((f32(Σ_i qx·qw) · xs[r]) · ws[o]) + b[o]   (then ReLU inside the encoder)
// The sum is exact in i32 (|Σ| ≤ 127² · width), so the SIMD build (i32x4.dot_i16x8_s on int8
// weights widened by v128.load8x8_s) and the scalar build (plain loops) give the same bits.
// Activations are kept as int16 so that the SIMD loop widens only the weights.
import { dim, slot, slotLen, S_QLAYERS } from './model';
import { W_QX, W_QS } from './work';

/** Whether encoder layer l is int8 (a version-4 blob that says so; fp32 blobs have no such slot). */
export function int8Layer(l: i32): bool {
  return slotLen(S_QLAYERS) == dim(2) && load<i32>(slot(S_QLAYERS) + (<usize>l << 2)) != 0;
}

/** Each of the rows at x (n f32 values each) into int8 values at W_QX and its scale at W_QS. */
function quantiseRows(x: usize, rows: i32, n: i32): void {
  for (let r = 0; r < rows; r++) {
    const xr = x + (<usize>(r * n) << 2);
    const qr = W_QX + (<usize>(r * n) << 1);
    let m: f32 = 0;
    for (let i = 0; i < n; i++) m = max(m, abs<f32>(load<f32>(xr + (<usize>i << 2))));
    // An all-zero row (every ReLU off) quantises to zeros with scale 0: its products are 0 exactly.
    const inv: f32 = m > 0 ? <f32>127 / m : 0;
    for (let i = 0; i < n; i++) {
      const q = nearest<f32>(load<f32>(xr + (<usize>i << 2)) * inv);
      store<i16>(qr + (<usize>i << 1), <i16>min<f32>(max<f32>(q, -127), 127));
    }
    store<f32>(W_QS + (<usize>r << 2), m / <f32>127);
  }
}

/** Σ_i qx[i]·qw[i] of one int16 row and one int8 weight row of n values. */
function idot(qx: usize, qw: usize, n: i32): i32 {
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
function idot4(qx: usize, qw: usize, n: i32, out: usize): void {
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

/** idot4's 4 sums (static: the classifier allocates nothing). */
const W_IDOT4: usize = memory.data(16, 16);

// @ts-ignore: decorator
@inline function dequant(acc: i32, xs: f32, ws: f32, b: f32, relu: bool): f32 {
  const v = <f32>acc * xs * ws + b;
  return relu ? (v > 0 ? v : 0) : v;
}

/** y [rows × nout] = the int8 layer (qw [nout × nin] int8, ws [nout] f32, b [nout] f32) of x [rows × nin]. */
export function int8Dense(x: usize, y: usize, rows: i32, nin: i32, nout: i32, qw: usize, ws: usize, b: usize, relu: bool): void {
  quantiseRows(x, rows, nin);
  let r = 0;
  for (; r + 4 <= rows; r += 4) {
    const qr = W_QX + (<usize>(r * nin) << 1);
    for (let o = 0; o < nout; o++) {
      idot4(qr, qw + <usize>(o * nin), nin, W_IDOT4);
      const sc = load<f32>(ws + (<usize>o << 2));
      const bo = load<f32>(b + (<usize>o << 2));
      for (let q = 0; q < 4; q++) {
        const v = dequant(load<i32>(W_IDOT4 + (<usize>q << 2)), load<f32>(W_QS + (<usize>(r + q) << 2)), sc, bo, relu);
        store<f32>(y + (<usize>((r + q) * nout + o) << 2), v);
      }
    }
  }
  for (; r < rows; r++) {
    const qr = W_QX + (<usize>(r * nin) << 1);
    const xs = load<f32>(W_QS + (<usize>r << 2));
    for (let o = 0; o < nout; o++) {
      const v = dequant(idot(qr, qw + <usize>(o * nin), nin), xs, load<f32>(ws + (<usize>o << 2)), load<f32>(b + (<usize>o << 2)), relu);
      store<f32>(y + (<usize>(r * nout + o) << 2), v);
    }
  }
}
