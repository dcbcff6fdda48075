// Input normalisation of analyzer signals, fitted on the training cells and stored in the model.
// Pulse heights span two orders of magnitude (a platelet's FSC is ~1/20 of a red cell's; a
// reticulocyte's RNA fluorescence ~10× a mature cell's autofluorescence), so each value is first
// compressed by asinh(x / scale) — logarithmic for large pulses, linear around the noisy baseline
// (where log1p would blow up negative noise) — then z-scored per feature.

import { ColumnMoments } from '../models/normalize.js';

export interface Preprocessor {
  /** asinh scale in signal units. */
  scale: number;
  mean: Float32Array;
  std: Float32Array;
}

export const ASINH_SCALE = 16;

/** Fits mean/std of asinh(x/scale) per feature over the rows of all `parts` (each rows × cols). */
export function fitPreprocessor(parts: { rows: number; cols: number; data: Float32Array }[], scale = ASINH_SCALE): Preprocessor {
  const m = new ColumnMoments(parts[0].cols);
  for (const p of parts) m.add(p.data, p.rows, (v) => Math.asinh(v / scale));
  const { mean, std } = m.result();
  return { scale, mean: Float32Array.from(mean), std: Float32Array.from(std) };
}

/** rows × cols raw signals → normalised copy. */
export function applyPreprocessor(p: Preprocessor, data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  const inv = 1 / p.scale;
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let c = 0; c < cols; c++) out[o + c] = (Math.asinh(data[o + c] * inv) - p.mean[c]) / p.std[c];
  }
  return out;
}
