// Input normalisation of analyzer signals (pipeline/preprocess.ts), the float64 oracle.
import type { F64 } from './tensor.js';

/** out[i,j] = (asinh(x[i,j] · (1/scale)) − mean[j]) / std[j]; x, out [N,D] (may alias), mean, std [D]. */
export function asinhStandardize(x: F64, mean: F64, std: F64, scale: number, out: F64, n: number, d: number): void {
  const inv = 1 / scale;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) out[i * d + j] = (Math.asinh(x[i * d + j] * inv) - mean[j]) / std[j];
  }
}

/** Per row and channel block of T = d / channels samples: out[i,2c] = asinh(peak / scale),
 *  out[i,2c+1] = area / max(peak, scale), peak = max_t x, area = Σ_t max(x, 0) (NaN samples are
 *  skipped, as the host code's comparisons skip them). x [N, d], out [N, 2·channels]. */
export function pulseSummaries(x: F64, scale: number, out: F64, n: number, d: number, channels: number): void {
  const T = d / channels;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < channels; c++) {
      const base = i * d + c * T;
      let peak = -Infinity;
      let area = 0;
      for (let t = 0; t < T; t++) {
        const v = x[base + t];
        if (v > peak) peak = v;
        if (v > 0) area += v;
      }
      out[i * 2 * channels + 2 * c] = Math.asinh(peak / scale);
      out[i * 2 * channels + 2 * c + 1] = area / Math.max(peak, scale);
    }
  }
}
