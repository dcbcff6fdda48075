// Per-event inference of the exported classifier, on a chunk of rows (bindings/pipeline/index.ts
// inferUnits and classify, the same formulas):
//   units       u = (x − offset) / scale                                      (preprocess.ts)
//   summaries   per channel asinh(peak) and area / max(peak, 1), or the scalar parameters
//               (asinh, an area less its height)                              (pulse-features.ts)
//   stage 1     t = (asinh(u) − mean) / std → encoder → Student-t soft assignment → P(platelet),
//               and the platelet side's class log-likelihood difference (other − platelet) over
//               its standardised inputs in its axes                          (stage1.ts, platelet-side.ts)
//   levels      per level: x = log p(z | class 1) − log p(z | class 0) over its summary columns,
//               z-scored                                                       (red-levels.ts, mixture.ts)
// The encoder runs in f32 (SIMD128 in the SIMD build; its int8 layers, of an --int8 export, in
// int8.ts), everything after it in f64.
import { dim, slot, slotLen, S_QLAYERS, S_QWEIGHTS, S_QSCALES, S_PRE_OFFSET, S_PRE_SCALE, S_PRE_MEAN, S_PRE_STD, S_WEIGHTS, S_WIDTHS, S_CENTERS, S_PLT, S_SIDE_INFO, S_WAVE, S_SCALAR, S_PULSE_MEAN, S_PULSE_STD, S_COLS_A, S_COLS_B, S_SCALARS, S_SIDE_MU, S_SIDE_MEAN, S_SIDE_STD, S_SIDE_ROT, S_RED_INFO, S_RED_MU, S_RED_MEAN, S_RED_STD, S_RED_ROT, S_A_MU, S_B_MU, S_ROT_A } from './model';
import { W_UNITS, W_PING, W_PONG, W_SUMM, W_PPLT, W_XS, W_XR, W_XA, W_XB, W_MIX_SIDE, W_MIX_RED, W_MIX_A, W_MIX_B, W_LD, W_ROW, W_ROW2, W_SHIFT } from './work';
import { dot, dot4 } from './dot';
import { int8Dense, int8Layer } from './int8';

/** dot4's 4 results (static: the classifier allocates nothing). */
const W_DOT4: usize = memory.data(16, 16);

// @ts-ignore: decorator
@inline function f32At(p: usize, i: i32): f32 {
  return load<f32>(p + (<usize>i << 2));
}
// @ts-ignore: decorator
@inline function i32At(p: usize, i: i32): i32 {
  return load<i32>(p + (<usize>i << 2));
}
// @ts-ignore: decorator
@inline function f64At(p: usize, i: i32): f64 {
  return load<f64>(p + (<usize>i << 3));
}

/** u and the pulse summaries of `rows` rows at src. */
export function unitsAndSummaries(src: usize, rows: i32): void {
  const F = dim(0);
  const P = dim(6);
  const off = slot(S_PRE_OFFSET);
  const sc = slot(S_PRE_SCALE);
  for (let i = 0; i < rows * F; i++) {
    const c = i % F;
    const x = <f64>f32At(src, i);
    store<f32>(W_UNITS + (<usize>i << 2), <f32>((x - <f64>f32At(off, c)) / <f64>f32At(sc, c)));
  }
  for (let r = 0; r < rows; r++) {
    const u = W_UNITS + (<usize>(r * F) << 2);
    const out = W_SUMM + (<usize>(r * P) << 3);
    if (dim(1) == 0) waveSummaries(u, out);
    else scalarSummaries(u, out, P);
  }
}

function waveSummaries(u: usize, out: usize): void {
  const wave = slot(S_WAVE);
  for (let ch = 0; ch < 4; ch++) {
    const start = i32At(wave, 2 * ch);
    const T = i32At(wave, 2 * ch + 1);
    let peak = -Infinity;
    let area: f64 = 0;
    for (let t = 0; t < T; t++) {
      const v = <f64>f32At(u, start + t);
      if (v > peak) peak = v;
      if (v > 0) area += v;
    }
    store<f64>(out + (<usize>(2 * ch) << 3), Math.asinh(peak));
    store<f64>(out + (<usize>(2 * ch + 1) << 3), area / Math.max(peak, 1));
  }
}

function scalarSummaries(u: usize, out: usize, P: i32): void {
  const spec = slot(S_SCALAR);
  for (let c = 0; c < P; c++) {
    const v = Math.asinh(<f64>f32At(u, c));
    const isArea = i32At(spec, 2 * c) == 1;
    store<f64>(out + (<usize>c << 3), isArea ? v - Math.asinh(<f64>f32At(u, i32At(spec, 2 * c + 1))) : v);
  }
}

/** Stage 1 on the rows' units: P(platelet) per row (W_PPLT, f32 as in classify) and the class
 *  log-likelihood differences of the platelet side's split (W_XS) and the red side's (W_XR; 0
 *  without them). */
export function stage1(rows: i32): void {
  const F = dim(0);
  const mean = slot(S_PRE_MEAN);
  const std = slot(S_PRE_STD);
  for (let i = 0; i < rows * F; i++) {
    const c = i % F;
    const t = (Math.asinh(<f64>f32At(W_UNITS, i)) - <f64>f32At(mean, c)) / <f64>f32At(std, c);
    store<f32>(W_PING + (<usize>i << 2), <f32>t);
  }
  const z = encoder(rows);
  const k = dim(3);
  const d = dim(4);
  const alpha = f64At(slot(S_SCALARS), 0);
  const power = -(alpha + 1) / 2;
  const plt = slot(S_PLT);
  for (let r = 0; r < rows; r++) {
    const zr = z + (<usize>(r * d) << 2);
    let sum: f64 = 0;
    let p: f64 = 0;
    for (let j = 0; j < k; j++) {
      const mu = slot(S_CENTERS) + (<usize>(j * d) << 2);
      let q: f64 = 0;
      for (let t = 0; t < d; t++) {
        const e = <f64>f32At(zr, t) - <f64>f32At(mu, t);
        q += e * e;
      }
      const v = alpha == 1 ? 1 / (1 + q) : Math.pow(1 + q / alpha, power);
      sum += v;
      if (i32At(plt, j)) p += v;
    }
    store<f32>(W_PPLT + (<usize>r << 2), <f32>(p / sum));
    store<f64>(W_XS + (<usize>r << 3), dim(5) > 0 ? splitDiff(S_SIDE_INFO, S_SIDE_MEAN, S_SIDE_STD, S_SIDE_ROT, W_MIX_SIDE, S_SIDE_MU, dim(5), r, zr) : 0);
    store<f64>(W_XR + (<usize>r << 3), dim(13) > 0 ? splitDiff(S_RED_INFO, S_RED_MEAN, S_RED_STD, S_RED_ROT, W_MIX_RED, S_RED_MU, dim(13), r, zr) : 0);
  }
}

/** The encoder over rows in W_PING (f32); returns where the embedding is. An int8 layer's
 *  S_WEIGHTS entry is its bias alone: its weights and scales are in S_QWEIGHTS, S_QSCALES (int8.ts). */
function encoder(rows: i32): usize {
  const L = dim(2);
  let nin = dim(0);
  let x = W_PING;
  let y = W_PONG;
  let w = slot(S_WEIGHTS);
  const int8 = slotLen(S_QLAYERS) > 0;
  let qw = int8 ? slot(S_QWEIGHTS) : 0;
  let qs = int8 ? slot(S_QSCALES) : 0;
  for (let l = 0; l < L; l++) {
    const nout = i32At(slot(S_WIDTHS), l);
    const relu = l < L - 1;
    if (int8 && int8Layer(l)) {
      int8Dense(x, y, rows, nin, nout, qw, qs, w, relu);
      qw += <usize>(nout * nin);
      qs += <usize>nout << 2;
    } else {
      f32Dense(x, y, rows, nin, nout, w, relu);
      w += <usize>(nout * nin) << 2;
    }
    w += <usize>nout << 2;
    nin = nout;
    const t = x;
    x = y;
    y = t;
  }
  return x;
}

/** y [rows × nout] = x [rows × nin] · Wᵀ + b (W [nout × nin] then b [nout] at w), f32. */
function f32Dense(x: usize, y: usize, rows: i32, nin: i32, nout: i32, w: usize, relu: bool): void {
  const b = w + (<usize>(nout * nin) << 2);
  let r = 0;
  for (; r + 4 <= rows; r += 4) {
    const xr = x + (<usize>(r * nin) << 2);
    for (let o = 0; o < nout; o++) {
      dot4(xr, w + (<usize>(o * nin) << 2), nin, W_DOT4);
      for (let q = 0; q < 4; q++) {
        const v = load<f32>(W_DOT4 + (<usize>q << 2)) + f32At(b, o);
        store<f32>(y + (<usize>((r + q) * nout + o) << 2), relu ? (v > 0 ? v : 0) : v);
      }
    }
  }
  for (; r < rows; r++) {
    const xr = x + (<usize>(r * nin) << 2);
    const yr = y + (<usize>(r * nout) << 2);
    for (let o = 0; o < nout; o++) {
      const v = dot(xr, w + (<usize>(o * nin) << 2), nin) + f32At(b, o);
      store<f32>(yr + (<usize>o << 2), relu ? (v > 0 ? v : 0) : v);
    }
  }
}

/** log N(z | μ_j, σ²_j) of every component of a prepared mixture (work.ts mixPrepare) into W_LD;
 *  z is f64 or f32. */
// @ts-ignore: decorator
@inline function logDensities<T>(mix: usize, mu: usize, z: usize, k: i32, d: i32): void {
  for (let j = 0; j < k; j++) {
    let q: f64 = 0;
    for (let t = 0; t < d; t++) {
      const e = <f64>load<T>(z + (<usize>t * sizeof<T>())) - <f64>f32At(mu, j * d + t);
      q += e * e * f64At(mix, j * d + t);
    }
    store<f64>(W_LD + (<usize>j << 3), f64At(mix, k * d + j) - 0.5 * q);
  }
}

/** A stage-1 split's class log-likelihood difference of row r (platelet-side.ts sideRows, then
 *  mixture.ts classLogLik): its inputs are the row's pulse summaries or its stage-1 embedding zr. */
function splitDiff(infoSlot: i32, meanSlot: i32, stdSlot: i32, rotSlot: i32, mix: usize, muSlot: i32, k: i32, r: i32, zr: usize): f64 {
  const info = slot(infoSlot);
  const w = i32At(info, 0);
  const fromPulse = i32At(info, 1) == 1;
  const f = W_SUMM + (<usize>(r * dim(6)) << 3);
  const mean = slot(meanSlot);
  const std = slot(stdSlot);
  for (let t = 0; t < w; t++) {
    const v = fromPulse ? f64At(f, t) : <f64>f32At(zr, t);
    store<f64>(W_ROW + (<usize>t << 3), (v - <f64>f32At(mean, t)) / <f64>f32At(std, t));
  }
  if (i32At(info, 2) != 0) rotateRow(slot(rotSlot), w);
  return mixtureDiff(mix, slot(muSlot), k, w);
}

/** W_ROW ← W_ROW · R (R: d × d, axes as columns). */
function rotateRow(R: usize, d: i32): void {
  for (let a = 0; a < d; a++) {
    let v: f64 = 0;
    for (let b = 0; b < d; b++) v += f64At(W_ROW, b) * <f64>f32At(R, b * d + a);
    store<f64>(W_ROW2 + (<usize>a << 3), v);
  }
  memory.copy(W_ROW, W_ROW2, <usize>d << 3);
}

/** Both levels' class log-likelihood differences of the rows (W_XA, W_XB). */
export function levels(rows: i32): void {
  const P = dim(6);
  for (let r = 0; r < rows; r++) {
    const f = W_SUMM + (<usize>(r * P) << 3);
    store<f64>(W_XA + (<usize>r << 3), levelDiff(f, S_COLS_A, W_MIX_A, slot(S_A_MU), dim(7), dim(8)));
    store<f64>(W_XB + (<usize>r << 3), levelDiff(f, S_COLS_B, W_MIX_B, slot(S_B_MU), dim(9), dim(10)));
  }
}

/** The level's z-scored summary columns of row f into W_ROW; level A's less the sample's shift
 *  (W_SHIFT, zeros unless the model is centred) and in the model's axes (red-levels.ts
 *  levelInputsFromPulse). */
export function levelRow(f: usize, colsSlot: i32, d: i32): void {
  const cols = slot(colsSlot);
  const pm = slot(S_PULSE_MEAN);
  const ps = slot(S_PULSE_STD);
  const isA = colsSlot == S_COLS_A;
  for (let t = 0; t < d; t++) {
    const c = i32At(cols, t);
    const shift = isA ? f64At(W_SHIFT, c) : 0;
    store<f64>(W_ROW + (<usize>t << 3), (f64At(f, c) - shift - <f64>f32At(pm, c)) / <f64>f32At(ps, c));
  }
  if (isA && dim(12) != 0) rotateRow(slot(S_ROT_A), d);
}

/** log Σ_k ρ_1k N_k − log Σ_k ρ_0k N_k over the level's z-scored summary columns. */
function levelDiff(f: usize, colsSlot: i32, mix: usize, mu: usize, k: i32, d: i32): f64 {
  levelRow(f, colsSlot, d);
  return mixtureDiff(mix, mu, k, d);
}

/** log Σ_k ρ_1k N_k − log Σ_k ρ_0k N_k of the row in W_ROW under a prepared two-class mixture. */
function mixtureDiff(mix: usize, mu: usize, k: i32, d: i32): f64 {
  logDensities<f64>(mix, mu, W_ROW, k, d);
  const lr = mix + (<usize>(k * d + k) << 3);
  const l0 = classLogLik(lr, 0, k);
  const l1 = classLogLik(lr, 1, k);
  const x = l1 - l0;
  // Both classes −∞ (an event no component reaches in f64) or one of them: the EM needs a number.
  return isFinite<f64>(x) ? x : l1 > l0 ? 1e300 : l0 > l1 ? -1e300 : 0;
}

function classLogLik(lr: usize, c: i32, k: i32): f64 {
  let mx = -Infinity;
  for (let j = 0; j < k; j++) mx = Math.max(mx, f64At(W_LD, j) + f64At(lr, c * k + j));
  if (mx == -Infinity) return -Infinity;
  let s: f64 = 0;
  for (let j = 0; j < k; j++) s += Math.exp(f64At(W_LD, j) + f64At(lr, c * k + j) - mx);
  return mx + Math.log(s);
}

/** max_j log N(z | μ_j, σ²_j) of level A for row f (quality.ts's low-likelihood flag). */
export function nearestLogDensityA(f: usize): f64 {
  const k = dim(7);
  levelRow(f, S_COLS_A, dim(8));
  logDensities<f64>(W_MIX_A, slot(S_A_MU), W_ROW, k, dim(8));
  let best = -Infinity;
  for (let j = 0; j < k; j++) best = Math.max(best, f64At(W_LD, j));
  return best;
}
