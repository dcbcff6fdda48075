// Symmetric int8 quantisation, the arithmetic shared by the exported module's int8 encoder
// (bindings/export/int8.ts, assembly/embed/int8.ts) and the backends' denseInt8 op (bindings/backend.ts):
//   weights      per output channel o: ws[o] = f32(max_i |W[o, i]| / 127), qw = round(W / ws)  (int8)
//   activations  per row r:            xs[r] = f32(m / 127), qx = nearest_even(f32(x · f32(127 / m))), m = max_i |x[r, i]|
// Every f32(…) is one IEEE single operation, as the wasm f32 instructions round.

const f32 = Math.fround;

export interface Int8Layer {
  nin: number;
  nout: number;
  /** [nout × nin] */
  q: Int8Array;
  /** [nout] */
  scale: Float32Array;
}

/** W [nout × nin] (row per output channel) → int8 weights and one scale per output channel. */
export function quantiseWeights(w: ArrayLike<number>, nout: number, nin: number): Int8Layer {
  const q = new Int8Array(nout * nin);
  const scale = new Float32Array(nout);
  for (let o = 0; o < nout; o++) {
    let m = 0;
    for (let i = 0; i < nin; i++) m = Math.max(m, Math.abs(w[o * nin + i]!));
    const s = f32(m / 127);
    scale[o] = s;
    if (s === 0) continue;
    for (let i = 0; i < nin; i++) q[o * nin + i] = Math.max(-127, Math.min(127, Math.round(w[o * nin + i]! / s)));
  }
  return { nin, nout, q, scale };
}

/** Round half to even (wasm's f32.nearest). */
function nearestEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  return d > 0.5 ? f + 1 : d < 0.5 ? f : f % 2 === 0 ? f : f + 1;
}

/** One row of n f32 values → its int8 values (in `out`) and its scale. */
export function quantiseRow(x: Float32Array, n: number, out: Int8Array): number {
  let m = 0;
  for (let i = 0; i < n; i++) m = Math.max(m, Math.abs(x[i]!));
  const inv = m > 0 ? f32(127 / m) : 0;
  for (let i = 0; i < n; i++) out[i] = Math.max(-127, Math.min(127, nearestEven(f32(x[i]! * inv))));
  return f32(m / 127);
}

/** A layer's int8 weights as the denseInt8 op takes them: [nout × ⌈nin/4⌉] i32, four weights of an
 *  output per word, byte j (little-endian) the weight of input 4t + j, padding bytes 0. */
export function packInt8Rows(layer: Int8Layer): Int32Array {
  const words = Math.ceil(layer.nin / 4);
  const bytes = new Int8Array(layer.nout * words * 4);
  for (let o = 0; o < layer.nout; o++) bytes.set(layer.q.subarray(o * layer.nin, (o + 1) * layer.nin), o * words * 4);
  const out = new Int32Array(layer.nout * words);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < out.length; i++) out[i] = view.getInt32(i * 4, true);
  return out;
}

/** Weights in the GEMM layout of our dense layers, W [nin × nout] (y = x W), quantised per output
 *  channel and packed for denseInt8. */
export function quantiseDense(w: ArrayLike<number>, nin: number, nout: number): { wq: Int32Array; ws: Float32Array } {
  const t = new Float32Array(nout * nin);
  for (let i = 0; i < nin; i++) for (let o = 0; o < nout; o++) t[o * nin + i] = w[i * nout + o];
  const layer = quantiseWeights(t, nout, nin);
  return { wq: packInt8Rows(layer), ws: layer.scale };
}
