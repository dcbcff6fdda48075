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
import { idot, idot4, quantiseRow } from '../int8-dot';

/** Whether encoder layer l is int8 (a version-4 blob that says so; fp32 blobs have no such slot). */
export function int8Layer(l: i32): bool {
  return slotLen(S_QLAYERS) == dim(2) && load<i32>(slot(S_QLAYERS) + (<usize>l << 2)) != 0;
}

/** Each of the rows at x (n f32 values each) into int8 values at W_QX and its scale at W_QS. */
function quantiseRows(x: usize, rows: i32, n: i32): void {
  for (let r = 0; r < rows; r++) {
    store<f32>(W_QS + (<usize>r << 2), quantiseRow(x + (<usize>(r * n) << 2), W_QX + (<usize>(r * n) << 1), n));
  }
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
