import { describe, expect, it } from 'vitest';
import {
  ari, balancedAccuracy, clusteringAccuracy, confusionMatrix, hungarianMax, hungarianMin, macroF1, matchClusters, nmi,
} from '../bindings/metrics/index.js';

function permutations(n: number): number[][] {
  if (n === 1) return [[0]];
  const out: number[][] = [];
  for (const p of permutations(n - 1)) for (let i = 0; i < n; i++) out.push([...p.slice(0, i), n - 1, ...p.slice(i)]);
  return out;
}

describe('Hungarian algorithm', () => {
  it('solves a hand-worked 3×3 case', () => {
    // Row 0 → col 1 (1), row 1 → col 0 (2), row 2 → col 2 (2): total 5; every other permutation costs ≥ 6.
    const r = hungarianMin([[4, 1, 3], [2, 0, 5], [3, 2, 2]]);
    expect(r.rowToCol).toEqual([1, 0, 2]);
    expect(r.total).toBe(5);
  });

  it('matches brute force on random square matrices', () => {
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    for (let trial = 0; trial < 40; trial++) {
      const n = 1 + (trial % 6);
      const c = Array.from({ length: n }, () => Array.from({ length: n }, () => Math.floor(rand() * 20)));
      let best = Infinity;
      for (const p of permutations(n)) best = Math.min(best, p.reduce((s, j, i) => s + c[i][j], 0));
      const r = hungarianMin(c);
      expect(r.total).toBe(best);
      expect(new Set(r.rowToCol).size).toBe(n);
    }
  });

  it('handles rectangular maximisation both ways', () => {
    // 2 rows, 3 columns: best is row0→col2 (9) + row1→col1 (8) = 17.
    expect(hungarianMax([[1, 2, 9], [7, 8, 1]]).total).toBe(17);
    // 3 rows, 2 columns: one row stays unmatched.
    const r = hungarianMax([[1, 7], [2, 8], [9, 1]]);
    expect(r.total).toBe(17);
    expect(r.rowToCol).toEqual([-1, 1, 0]);
  });
});

describe('clustering metrics (hand-computed)', () => {
  // Contingency (true × pred): true 0 → {pred0: 1, pred1: 2}, true 1 → {pred0: 1, pred2: 2}.
  const yTrue = [0, 0, 0, 1, 1, 1];
  const yPred = [1, 1, 0, 0, 2, 2];

  it('ACC uses the best one-to-one matching', () => {
    expect(clusteringAccuracy(yTrue, yPred)).toBeCloseTo(4 / 6, 12);
    expect(clusteringAccuracy(yTrue, yTrue.map((y) => 5 - y))).toBe(1);
    const m = matchClusters(yTrue, yPred);
    expect(m.get(1)).toBe(0);
    expect(m.get(2)).toBe(1);
    expect(m.get(0)).toBe(-1);
  });

  it('NMI (arithmetic mean) = (2/3 ln 2) / ((ln 2 + ln 3)/2)', () => {
    expect(nmi(yTrue, yPred)).toBeCloseTo(((4 / 3) * Math.log(2)) / Math.log(6), 12);
    expect(nmi(yTrue, [3, 3, 3, 7, 7, 7])).toBeCloseTo(1, 12);
    expect(nmi([0, 0, 1, 1], [0, 1, 0, 1])).toBeCloseTo(0, 12);
  });

  it('ARI = (2 − 1.2) / (4.5 − 1.2)', () => {
    expect(ari(yTrue, yPred)).toBeCloseTo(0.8 / 3.3, 12);
    expect(ari(yTrue, [4, 4, 4, 2, 2, 2])).toBeCloseTo(1, 12);
    // Crossed halves: Σ C(n_rc,2) = 0, E = 2·2/6, max = 2 → ARI = (0 − 2/3)/(2 − 2/3) = −0.5.
    expect(ari([0, 0, 1, 1], [0, 1, 0, 1])).toBeCloseTo(-0.5, 12);
  });

  it('rejects mismatched lengths', () => {
    expect(() => nmi([0, 1], [0])).toThrow(/length/);
  });
});

describe('classification metrics (hand-computed)', () => {
  const yTrue = [0, 0, 1, 1, 2, 2];
  const yPred = [0, 1, 1, 1, 2, 0];

  it('confusion matrix', () => {
    expect(confusionMatrix(yTrue, yPred)).toEqual([[1, 1, 0], [0, 2, 0], [1, 0, 1]]);
  });

  it('macro-F1 = mean(0.5, 0.8, 2/3)', () => {
    expect(macroF1(yTrue, yPred)).toBeCloseTo((0.5 + 0.8 + 2 / 3) / 3, 12);
  });

  it('balanced accuracy = mean(0.5, 1, 0.5)', () => {
    expect(balancedAccuracy(yTrue, yPred)).toBeCloseTo(2 / 3, 12);
  });
});
