// ColumnMoments: the one per-column mean/std routine behind every z-score the library fits.
import { describe, expect, it } from 'vitest';
import { ColumnMoments, fitNormalization } from '../bindings/models/normalize.js';
import { fitPreprocessor } from '../bindings/pipeline/preprocess.js';
import { HostRng } from '../bindings/models/rng.js';

/** Two-pass mean and population std of each column (the textbook definition). */
function twoPass(data: ArrayLike<number>, rows: number, cols: number) {
  const mean = new Float64Array(cols);
  const std = new Float64Array(cols);
  for (let c = 0; c < cols; c++) {
    let s = 0;
    for (let r = 0; r < rows; r++) s += data[r * cols + c];
    mean[c] = s / rows;
    let q = 0;
    for (let r = 0; r < rows; r++) q += (data[r * cols + c] - mean[c]) ** 2;
    std[c] = Math.sqrt(q / rows);
  }
  return { mean, std };
}

describe('ColumnMoments', () => {
  const rng = new HostRng(11, 3);
  const rows = 301, cols = 5;
  // Columns with very different offsets and spreads, one of them a large offset over a tiny spread
  // (where sum-of-squares formulas lose digits).
  const data = Float64Array.from({ length: rows * cols }, (_, i) => [0, -40, 1e6, 3, 0][i % cols] + [1, 7, 1e-2, 0.5, 2][i % cols] * rng.normal());

  it('equals the two-pass mean and std, whether the rows come in one block or several', () => {
    const want = twoPass(data, rows, cols);
    const one = new ColumnMoments(cols).add(data, rows).result();
    const split = new ColumnMoments(cols).add(data.subarray(0, 100 * cols), 100).add(data.subarray(100 * cols), rows - 100).result();
    for (const got of [one, split]) {
      for (let c = 0; c < cols; c++) {
        expect(got.mean[c]).toBeCloseTo(want.mean[c], 9);
        expect(Math.abs(got.std[c] - want.std[c]) / want.std[c]).toBeLessThan(1e-9);
      }
    }
  });

  it('applies the map before accumulating, and gives constant columns (and no rows) std 1', () => {
    const got = new ColumnMoments(2).add([4, 7, 4, 9, 4, 11], 3, (v) => v / 2).result();
    expect(Array.from(got.mean)).toEqual([2, 4.5]);
    expect(got.std[0]).toBe(1);
    expect(got.std[1]).toBeCloseTo(Math.sqrt(2 / 3), 12);
    expect(Array.from(new ColumnMoments(3).result().std)).toEqual([1, 1, 1]);
  });

  it('is what fitNormalization and fitPreprocessor store', () => {
    const x = { rows, cols, data: Float32Array.from(data) };
    const want = twoPass(x.data, rows, cols);
    const norm = fitNormalization(x, 'standard');
    if (norm.kind !== 'standard') throw new Error('expected a standard normalisation');
    for (let c = 0; c < cols; c++) expect(norm.mean[c]).toBeCloseTo(want.mean[c], 6);
    const pre = fitPreprocessor({ kind: 'matrix', points: 0, groups: [], featureNames: null, inputColumns: cols }, x.data, rows, cols);
    const asinhData = Float64Array.from(x.data, (v, i) => Math.asinh((v - pre.offset[i % cols]) / pre.scale[i % cols]));
    const wantA = twoPass(asinhData, rows, cols);
    for (let c = 0; c < cols; c++) {
      expect(pre.mean[c]).toBeCloseTo(wantA.mean[c], 5);
      expect(Math.abs(pre.std[c] - wantA.std[c]) / wantA.std[c]).toBeLessThan(1e-6);
    }
  });
});
