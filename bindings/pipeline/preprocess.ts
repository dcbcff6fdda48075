// Input normalisation of analyzer signals, fitted on the training events and stored in the model.
//
// Nothing here is in an instrument's units. Each pipeline column is first put on a unit-free
// scale, x' = (x − offset) / scale, then compressed by asinh and z-scored:
//
//   waveform  one offset and scale per channel (all its time samples share them, so a pulse keeps
//             its shape): offset = the channel's baseline, scale = KAPPA × its noise sd, both
//             measured on the quieter of the first and the last time sample of every training event (mostly
//             baseline: median and MAD, robust to the pulses that reach the window's edge).
//             asinh is then linear inside the noise band and logarithmic above it, whatever the
//             gain: a platelet pulse 1/20 of a red cell's stays 3 log-units below it, and noise
//             is never blown up by the log.
//   scalar    per-event parameters (height, area, width) carry no baseline to measure noise on:
//             offset 0, scale = the column's median |x| / SCALAR_DIVISOR, so the bulk of events
//             sits in asinh's logarithmic range.
//
// Multiplying every signal by a constant multiplies offset and scale by it and leaves x' as it was.
// Pulse summaries (pulse-features.ts) are computed from x' too.
import { ColumnMoments } from '../models/normalize.js';
import { groupStarts, type ChannelLayout } from './layout.js';

export interface Preprocessor {
  /** Per pipeline column: x' = (x − offset) / scale. */
  offset: Float32Array;
  scale: Float32Array;
  /** Per pipeline column: mean and sd of asinh(x') over the training events. */
  mean: Float32Array;
  std: Float32Array;
}

/** Noise sds per asinh unit for waveforms: the linear range of asinh spans ± KAPPA noise sds. */
export const KAPPA = 6;
/** Scalar parameters: the median event sits at asinh(SCALAR_DIVISOR) ≈ log(2·SCALAR_DIVISOR). */
export const SCALAR_DIVISOR = 32;
/** Events the offset and scale are measured on (an even stride over the training rows). */
const CALIBRATION_ROWS = 50000;

function median(v: Float64Array): number {
  const s = Float64Array.from(v).sort();
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : 0.5 * (s[m - 1] + s[m]);
}

/** Rows picked at an even stride: deterministic, and every sample of a pooled matrix is seen. */
function strideRows(rows: number, max: number): number[] {
  const step = Math.max(1, rows / max);
  const out: number[] = [];
  for (let r = 0; r < rows && out.length < max; r = Math.floor((out.length + 1) * step)) out.push(r);
  return out;
}

/**
 * Fits the preprocessor on canonical rows x (rows × W, pipeline column order: canonicalColumns).
 * Throws when a channel has no spread at all (nothing to scale by).
 */
export function fitPreprocessor(L: ChannelLayout, x: Float32Array, rows: number, W: number): Preprocessor {
  const offset = new Float32Array(W);
  const scale = new Float32Array(W);
  const pick = strideRows(rows, CALIBRATION_ROWS);
  if (L.kind === 'waveform') {
    const starts = groupStarts(L);
    L.groups.forEach((g, gi) => {
      const T = g.columns.length;
      const at = starts[gi];
      // Each edge on its own: a skewed pulse (a slow detector's tail) can fill one edge of the
      // window but rarely both, and the quieter edge is the one that measures the noise.
      const first = Float64Array.from(pick, (r) => x[r * W + at]);
      const last = Float64Array.from(pick, (r) => x[r * W + at + T - 1]);
      const [base, mad] = [first, last].map((edge) => {
        const b = median(edge);
        return [b, median(edge.map((v) => Math.abs(v - b)))];
      }).sort((a, b) => a[1] - b[1])[0];
      let sd = 1.4826 * mad;
      if (!(sd > 0)) {
        // A noise-free channel (synthetic data): fall back to a small share of its largest pulses.
        let peak = 0;
        for (const r of pick) for (let t = 0; t < T; t++) peak = Math.max(peak, Math.abs(x[r * W + at + t] - base));
        sd = peak / 1e4;
      }
      if (!(sd > 0) || !Number.isFinite(sd)) throw new Error(`channel ${g.name} is constant over the training events: nothing to measure it by`);
      for (let t = 0; t < T; t++) {
        offset[at + t] = base;
        scale[at + t] = KAPPA * sd;
      }
    });
  } else {
    for (let c = 0; c < W; c++) {
      const v = Float64Array.from(pick, (r) => Math.abs(x[r * W + c]));
      let s = median(v) / SCALAR_DIVISOR;
      if (!(s > 0)) s = Math.max(...v) / (SCALAR_DIVISOR * 100);
      if (!(s > 0) || !Number.isFinite(s)) throw new Error(`column ${c + 1} is zero over the training events: nothing to measure it by`);
      scale[c] = s;
    }
  }
  const m = new ColumnMoments(W);
  const inv = Float64Array.from(scale, (s) => 1 / s);
  m.add(x, rows, (v, c) => Math.asinh((v - offset[c]) * inv[c]));
  const { mean, std } = m.result();
  return { offset, scale, mean: Float32Array.from(mean), std: Float32Array.from(std) };
}

/** rows × W canonical signals → x' = (x − offset) / scale, in place. */
export function toAsinhUnits(p: Preprocessor, x: Float32Array, rows: number, W: number): Float32Array {
  for (let r = 0; r < rows; r++) {
    const o = r * W;
    for (let c = 0; c < W; c++) x[o + c] = (x[o + c] - p.offset[c]) / p.scale[c];
  }
  return x;
}

/** rows × W values in asinh units → the network's input (asinh, then z-score), as a copy. */
export function applyPreprocessor(p: Preprocessor, u: Float32Array, rows: number, W: number): Float32Array {
  const out = new Float32Array(rows * W);
  for (let r = 0; r < rows; r++) {
    const o = r * W;
    for (let c = 0; c < W; c++) out[o + c] = (Math.asinh(u[o + c]) - p.mean[c]) / p.std[c];
  }
  return out;
}

/** The rows × W canonical matrix of a sample: column j of the result is column src[j] of data. */
export function canonicalColumns(data: Float32Array, rows: number, cols: number, src: Int32Array): Float32Array {
  const W = src.length;
  const out = new Float32Array(rows * W);
  let identity = W === cols;
  for (let j = 0; j < W && identity; j++) identity = src[j] === j;
  if (identity) {
    out.set(data.subarray(0, rows * cols));
    return out;
  }
  for (let r = 0; r < rows; r++) for (let j = 0; j < W; j++) out[r * W + j] = data[r * cols + src[j]];
  return out;
}
