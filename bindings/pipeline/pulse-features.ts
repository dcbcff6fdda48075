// Pulse summaries of an analyzer event, for stage 2's final mixture.
//
// The VaDE embedding is trained to reconstruct the whole pulse, and a diagonal Gaussian over it
// mixes "a large red cell carrying RNA" with "two red cells in a row". The quantities that tell
// the red classes apart are plain pulse shape: the RNA-stain fluorescence height (reticulocytes),
// the impedance height (Coulter volume) and the pulse widths (aggregates are wider and multi-peak).
// So every event also gets, per channel, its peak height (asinh-compressed like the network input)
// and its width (area above zero over the peak, in time samples), z-scored on the training red-cell
// events. They are computed from the raw signals, never from labels.
//
// Layout: the analyzer's channels are consecutive blocks of T time samples each
// (FSC, SSC, FL, IMP; see simulate/sample.ts), so a row of 4·T values has 4 channels.

import { ColumnMoments } from '../models/normalize.js';

export const PULSE_CHANNELS = 4;
export const PULSE_FEATURES_PER_CHANNEL = 2;

export interface PulseScaler {
  mean: Float32Array;
  std: Float32Array;
}

/** Features per event for `cols` inputs: 8 when the row splits into 4 channel blocks, else 0. */
export function pulseFeatureCount(cols: number): number {
  return cols % PULSE_CHANNELS === 0 && cols >= 4 * PULSE_CHANNELS ? PULSE_CHANNELS * PULSE_FEATURES_PER_CHANNEL : 0;
}

/** Raw summaries of the listed rows of a raw (un-normalised) rows × cols matrix: [rows.length × P].
 *  Training runs this on the host; classify uses the backend op of the same name (backend.ts,
 *  the same formulas in f32: test/op-pulse-summaries.test.ts compares the two). */
export function pulseSummaries(raw: Float32Array, cols: number, rows: ArrayLike<number>, asinhScale: number): Float64Array {
  const P = pulseFeatureCount(cols);
  const T = cols / PULSE_CHANNELS;
  const out = new Float64Array(rows.length * P);
  for (let i = 0; i < rows.length; i++) {
    const base = rows[i] * cols;
    for (let ch = 0; ch < PULSE_CHANNELS && P > 0; ch++) {
      let peak = -Infinity;
      let area = 0;
      for (let t = 0; t < T; t++) {
        const v = raw[base + ch * T + t];
        if (v > peak) peak = v;
        if (v > 0) area += v;
      }
      out[i * P + 2 * ch] = Math.asinh(peak / asinhScale);
      // Width in time samples; the floor keeps a flat, noise-only channel from dividing by ~0.
      out[i * P + 2 * ch + 1] = area / Math.max(peak, asinhScale);
    }
  }
  return out;
}

export function fitPulseScaler(f: Float64Array, n: number, P: number): PulseScaler {
  const { mean, std } = new ColumnMoments(P).add(f, n).result();
  return { mean: Float32Array.from(mean), std: Float32Array.from(std) };
}

/** Concatenates each row's embedding (d values) with its scaled pulse summaries: [n × (d + P)]. */
export function withPulse(z: ArrayLike<number>, d: number, f: ArrayLike<number>, P: number, sc: PulseScaler, n: number): Float64Array {
  const D = d + P;
  const out = new Float64Array(n * D);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < d; t++) out[i * D + t] = z[i * d + t];
    for (let p = 0; p < P; p++) out[i * D + d + p] = (f[i * P + p] - sc.mean[p]) / sc.std[p];
  }
  return out;
}
