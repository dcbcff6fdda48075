// The int8 encoder of `hemaclust export --int8` (docs/embedding.md, "int8"): what the exporter
// stores and, step for step, the arithmetic the module runs (assembly/embed/int8.ts), so that a
// host can reproduce the module's embedding bit for bit from the same f32 layer inputs.
//   weights      per output channel o: ws[o] = f32(max_i |W[o, i]| / 127), qw = round(W / ws)  (int8)
//   activations  per event row r:      xs[r] = f32(m / 127), qx = nearest_even(f32(x · f32(127 / m))), m = max_i |x[r, i]|
//   layer        y[r, o] = f32(f32(f32(f32(Σ_i qx·qw) · xs[r]) · ws[o]) + b[o]), then ReLU inside the encoder
// Every f32(…) is one IEEE single operation, as the module's f32 instructions round; the integer
// sum is exact (at most 127² per input column), so nothing depends on the order of the sum.

import { quantiseRow, quantiseWeights, type Int8Layer } from '../int8.js';

export { quantiseRow, quantiseWeights, type Int8Layer };

const f32 = Math.fround;

/** y [rows × nout] (f32) = the int8 layer of x [rows × nin] (f32 values), as the module computes it. */
export function int8Dense(x: Float32Array, rows: number, layer: Int8Layer, bias: ArrayLike<number>, relu: boolean): Float32Array {
  const { nin, nout, q, scale } = layer;
  const y = new Float32Array(rows * nout);
  const qx = new Int8Array(nin);
  for (let r = 0; r < rows; r++) {
    const xs = quantiseRow(x.subarray(r * nin, (r + 1) * nin), nin, qx);
    for (let o = 0; o < nout; o++) {
      let acc = 0;
      for (let i = 0; i < nin; i++) acc += qx[i]! * q[o * nin + i]!;
      const v = f32(f32(f32(f32(acc) * xs) * scale[o]!) + f32(bias[o]!));
      y[r * nout + o] = relu ? (v > 0 ? v : 0) : v;
    }
  }
  return y;
}

/** Which encoder layers an --int8 export quantises (true = int8). The first layer, on the
 *  standardised inputs, is quantised too unless `keepFirst`: see docs/embedding.md for the choice. */
export function int8Plan(layers: number, keepFirst = false): boolean[] {
  return Array.from({ length: layers }, (_, l) => !(keepFirst && l === 0));
}

/** The blob's encoder slots for a plan: S_WEIGHTS (fp32 layers' W and b, int8 layers' b alone),
 *  S_QLAYERS, S_QWEIGHTS, S_QSCALES (assembly/embed/model.ts). */
export function encoderSlots(layers: { w: ArrayLike<number>; b: ArrayLike<number>; nin: number; nout: number }[], plan: boolean[]) {
  const weights: number[] = [];
  const q: Int8Array[] = [];
  const scales: Float32Array[] = [];
  layers.forEach(({ w, b, nin, nout }, l) => {
    if (plan[l]) {
      const ql = quantiseWeights(w, nout, nin);
      q.push(ql.q);
      scales.push(ql.scale);
    } else for (const v of Array.from(w)) weights.push(v);
    for (const v of Array.from(b)) weights.push(v);
  });
  const qweights = new Int8Array(q.reduce((n, x) => n + x.length, 0));
  const qscales = new Float32Array(scales.reduce((n, x) => n + x.length, 0));
  for (let l = 0, a = 0, c = 0; l < q.length; a += q[l]!.length, c += scales[l]!.length, l++) {
    qweights.set(q[l]!, a);
    qscales.set(scales[l]!, c);
  }
  return {
    weights: Float32Array.from(weights),
    qlayers: Int32Array.from(plan, Number),
    qweights,
    qscales,
  };
}
