// Level A's principal axes (axes.ts): the Jacobi eigen-solver against the eigen equation on fresh
// random symmetric matrices, and the rotation's invariants (orthonormal axes, kept distances,
// decreasing variance, deterministic signs).
import { describe, expect, it } from 'vitest';
import { principalAxes, rotateRows, symmetricEigen } from '../bindings/pipeline/axes.js';
import { Rng } from './helpers/rng.js';

const SEED = Number(process.env.TEST_SEED ?? Date.now() % 2 ** 31);
const hint = `seed ${SEED}`;

describe('symmetricEigen', () => {
  it('solves M v = λ v with orthonormal v on random symmetric matrices', () => {
    const rng = Rng.forCase(SEED, 'eigen');
    for (const w of [1, 2, 3, 6, 9]) {
      const a = rng.normals(w * w, 2);
      const m = Float64Array.from({ length: w * w }, (_, i) => a[i] + a[(i % w) * w + Math.floor(i / w)]);
      const { values, vectors } = symmetricEigen(m, w);
      for (let k = 0; k < w; k++) {
        for (let r = 0; r < w; r++) {
          let mv = 0;
          for (let c = 0; c < w; c++) mv += m[r * w + c] * vectors[c * w + k];
          expect(Math.abs(mv - values[k] * vectors[r * w + k]), `w ${w} axis ${k} row ${r}; ${hint}`).toBeLessThan(1e-9);
        }
        for (let k2 = 0; k2 < w; k2++) {
          let dot = 0;
          for (let r = 0; r < w; r++) dot += vectors[r * w + k] * vectors[r * w + k2];
          expect(Math.abs(dot - (k === k2 ? 1 : 0)), `w ${w} axes ${k},${k2}; ${hint}`).toBeLessThan(1e-12);
        }
      }
    }
  });
});

describe('principalAxes', () => {
  it('puts a correlated ridge on the first axis, keeps distances, orders variance, fixes signs', () => {
    const rng = Rng.forCase(SEED, 'axes');
    const n = 4000;
    const w = 3;
    // Three columns that all grow with one hidden size (like FSC, SSC and IMP heights) plus noise.
    const size = rng.normals(n, 1);
    const noise = rng.normals(n * w, 0.1);
    const x = Float64Array.from({ length: n * w }, (_, i) => (1 + (i % w)) * size[Math.floor(i / w)] + noise[i]);
    const R = principalAxes(x, n, w);
    const y = rotateRows(x, n, w, R);
    const variance = (k: number) => {
      let m = 0;
      let v = 0;
      for (let i = 0; i < n; i++) m += y[i * w + k] / n;
      for (let i = 0; i < n; i++) v += (y[i * w + k] - m) ** 2 / n;
      return v;
    };
    const vars = [0, 1, 2].map(variance);
    expect(vars[0], hint).toBeGreaterThan(vars[1]);
    expect(vars[1], hint).toBeGreaterThanOrEqual(vars[2]);
    expect(vars[0] / (vars[0] + vars[1] + vars[2]), hint).toBeGreaterThan(0.99);
    for (let i = 0; i < 50; i++) {
      const j = (i * 37 + 11) % n;
      const d0 = Math.hypot(...[0, 1, 2].map((k) => x[i * w + k] - x[j * w + k]));
      const d1 = Math.hypot(...[0, 1, 2].map((k) => y[i * w + k] - y[j * w + k]));
      expect(Math.abs(d0 - d1), `${hint}`).toBeLessThan(1e-9);
    }
    // Each axis's largest component is positive: flipping the data's sign gives the same axes.
    for (let a = 0; a < w; a++) {
      let big = 0;
      for (let b = 1; b < w; b++) if (Math.abs(R[b * w + a]) > Math.abs(R[big * w + a])) big = b;
      expect(R[big * w + a], hint).toBeGreaterThan(0);
    }
    const R2 = principalAxes(x.map((v) => -v), n, w);
    for (let i = 0; i < w * w; i++) expect(Math.abs(R2[i] - R[i]), hint).toBeLessThan(1e-9);
  });
});
