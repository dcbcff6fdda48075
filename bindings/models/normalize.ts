// Input normalisation, decided once at fit time and stored in the model file.
// 'none' for data already in [0, 1] (pixels, shares) — such data is reconstructed with sigmoid +
// binary cross-entropy; 'standard' (per-feature z-score) for anything else — reconstructed with MSE.
import type { Matrix } from './types.js';

export type Normalization =
  | { kind: 'none' }
  | { kind: 'standard'; mean: number[]; std: number[] };

export type NormalizationChoice = 'auto' | 'none' | 'standard';

export function inUnitInterval(x: Matrix): boolean {
  for (let i = 0; i < x.data.length; i++) if (!(x.data[i] >= 0 && x.data[i] <= 1)) return false;
  return true;
}

export function fitNormalization(x: Matrix, choice: NormalizationChoice): Normalization {
  for (let i = 0; i < x.data.length; i++) {
    if (!Number.isFinite(x.data[i])) throw new RangeError(`data: value at row ${Math.floor(i / x.cols)}, column ${i % x.cols} is not finite`);
  }
  if (choice === 'none' || (choice === 'auto' && inUnitInterval(x))) return { kind: 'none' };
  const mean = new Float64Array(x.cols);
  const sq = new Float64Array(x.cols);
  for (let r = 0; r < x.rows; r++) for (let c = 0; c < x.cols; c++) mean[c] += x.data[r * x.cols + c];
  for (let c = 0; c < x.cols; c++) mean[c] /= x.rows;
  for (let r = 0; r < x.rows; r++) for (let c = 0; c < x.cols; c++) sq[c] += (x.data[r * x.cols + c] - mean[c]) ** 2;
  // Constant features keep std 1 so they map to 0 instead of dividing by zero.
  const std = Array.from(sq, (s) => Math.sqrt(s / x.rows) || 1);
  return { kind: 'standard', mean: Array.from(mean), std };
}

export function applyNormalization(x: Matrix, norm: Normalization, expectCols: number): Matrix {
  if (x.cols !== expectCols) throw new RangeError(`data has ${x.cols} columns, the model expects ${expectCols}`);
  if (norm.kind === 'none') return x;
  const out = new Float32Array(x.data.length);
  for (let r = 0; r < x.rows; r++) {
    for (let c = 0; c < x.cols; c++) out[r * x.cols + c] = (x.data[r * x.cols + c] - norm.mean[c]) / norm.std[c];
  }
  return { rows: x.rows, cols: x.cols, data: out };
}
