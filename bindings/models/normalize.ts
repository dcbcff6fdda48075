// Input normalisation, decided once at fit time and stored in the model file.
// 'none' for data already in [0, 1] (pixels, shares) — such data is reconstructed with sigmoid +
// binary cross-entropy; 'standard' (per-feature z-score) for anything else — reconstructed with MSE.
import type { Matrix } from './types.js';

export type Normalization =
  | { kind: 'none' }
  | { kind: 'standard'; mean: number[]; std: number[] };

export type NormalizationChoice = 'auto' | 'none' | 'standard';

/**
 * Per-column mean and population standard deviation, accumulated in float64 over any number of row
 * blocks (Welford's update, so no cancellation from subtracting large sums). One routine for every
 * z-score the library fits: model inputs, the pipeline's asinh features and its pulse summaries.
 */
export class ColumnMoments {
  private readonly mean: Float64Array;
  private readonly m2: Float64Array;
  private n = 0;

  constructor(readonly cols: number) {
    this.mean = new Float64Array(cols);
    this.m2 = new Float64Array(cols);
  }

  /** Adds `rows` rows of `data` (row-major, `cols` wide), each value passed through `map` if given. */
  add(data: ArrayLike<number>, rows: number, map?: (v: number, col: number) => number): this {
    const { cols, mean, m2 } = this;
    for (let r = 0; r < rows; r++) {
      const n = ++this.n;
      for (let c = 0; c < cols; c++) {
        const v = map ? map(data[r * cols + c], c) : data[r * cols + c];
        const d = v - mean[c];
        mean[c] += d / n;
        m2[c] += d * (v - mean[c]);
      }
    }
    return this;
  }

  /** Means and standard deviations; a constant column (or no rows) gets std 1, so it maps to 0
   *  instead of dividing by zero. */
  result(): { mean: Float64Array; std: Float64Array } {
    const std = Float64Array.from(this.m2, (q) => Math.sqrt(q / Math.max(this.n, 1)) || 1);
    return { mean: Float64Array.from(this.mean), std };
  }
}

export function inUnitInterval(x: Matrix): boolean {
  for (let i = 0; i < x.data.length; i++) if (!(x.data[i] >= 0 && x.data[i] <= 1)) return false;
  return true;
}

export function fitNormalization(x: Matrix, choice: NormalizationChoice): Normalization {
  for (let i = 0; i < x.data.length; i++) {
    if (!Number.isFinite(x.data[i])) throw new RangeError(`data: value at row ${Math.floor(i / x.cols)}, column ${i % x.cols} is not finite`);
  }
  if (choice === 'none' || (choice === 'auto' && inUnitInterval(x))) return { kind: 'none' };
  const { mean, std } = new ColumnMoments(x.cols).add(x.data, x.rows).result();
  return { kind: 'standard', mean: Array.from(mean), std: Array.from(std) };
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
