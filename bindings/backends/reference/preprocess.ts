// Input normalisation of analyzer signals (pipeline/preprocess.ts), the float64 oracle.
import type { F64 } from './tensor.js';

/** out[i,j] = (asinh(x[i,j] · (1/scale)) − mean[j]) / std[j]; x, out [N,D] (may alias), mean, std [D]. */
export function asinhStandardize(x: F64, mean: F64, std: F64, scale: number, out: F64, n: number, d: number): void {
  const inv = 1 / scale;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) out[i * d + j] = (Math.asinh(x[i * d + j] * inv) - mean[j]) / std[j];
  }
}
