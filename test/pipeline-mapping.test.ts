// Cluster → class mapping from references only, and the mixture EM, on synthetic numbers whose
// answer is known by construction.
import { describe, expect, it } from 'vitest';
import { bestScaledSubset, bestSubset, clusterShares, fitProportionMap, projectSimplex } from '../bindings/pipeline/mapping.js';
import { estimateProportions, logGauss, type ClassMixture } from '../bindings/pipeline/mixture.js';
import { emKnownProportions, fitClassMap } from '../bindings/pipeline/em-known.js';
import { HostRng } from '../bindings/models/rng.js';
import { createReferenceBackend } from '../bindings/backends/reference/index.js';

/** Per-sample shares of k clusters built from class proportions and a hidden cluster → class map. */
function synthShares(theta: number[][], classOf: number[], within: number[]): number[][] {
  return theta.map((t) => classOf.map((c, j) => t[c] * within[j]));
}

describe('pipeline mapping', () => {
  const rng = new HostRng(7, 1);
  const S = 10;
  const theta = Array.from({ length: S }, () => {
    const r = 0.005 + 0.1 * rng.uniform();
    const c = 0.05 * rng.uniform();
    return [1 - r - c, r, c];
  });
  // 6 clusters: rbc split in 3, retic in 2, clumps in 1 (within-class shares sum to 1 per class).
  const classOf = [0, 1, 0, 2, 1, 0];
  const within = [0.5, 0.7, 0.3, 1, 0.3, 0.2];

  it('recovers the hidden map, and permuting the clusters permutes the answer only', () => {
    const shares = synthShares(theta, classOf, within);
    expect(fitProportionMap(shares, theta).classOf).toEqual(classOf);
    const perm = [4, 2, 5, 0, 3, 1];
    const permuted = shares.map((row) => perm.map((j) => row[j]));
    expect(fitProportionMap(permuted, theta).classOf).toEqual(perm.map((j) => classOf[j]));
  });

  it('bestSubset finds the platelet clusters and is permutation-equivariant', () => {
    const plt = theta.map((_, s) => 0.01 + 0.01 * s);
    const shares = plt.map((p) => [0.6 * p, (1 - p) * 0.5, 0.4 * p, (1 - p) * 0.5]);
    expect(bestSubset(shares, plt).members).toEqual([true, false, true, false]);
    const perm = [3, 2, 1, 0];
    expect(bestSubset(shares.map((r) => perm.map((j) => r[j])), plt).members).toEqual([false, true, false, true]);
  });

  it('bestScaledSubset leaves out a debris-like cluster that bestSubset takes in to cover lost platelets', () => {
    // Three platelet clusters that together hold 88 % of the platelets (the rest sit elsewhere), one
    // debris cluster whose share (0.1–0.6 %) does not follow the platelet share.
    const plt = Array.from({ length: S }, (_, s) => 0.01 + 0.007 * s);
    const debris = Array.from({ length: S }, () => 0.001 + 0.005 * rng.uniform());
    const shares = plt.map((p, s) => [0.5 * 0.88 * p, debris[s], 0.3 * 0.88 * p, 0.2 * 0.88 * p, 1 - 0.88 * p - debris[s]]);
    const { members, scale } = bestScaledSubset(shares, plt, 0.8, 1.25);
    expect(members).toEqual([true, false, true, true, false]);
    expect(scale).toBeCloseTo(1 / 0.88, 6);
    // Without the factor, the debris cluster is taken in (this is the failure the factor fixes).
    expect(bestSubset(shares, plt).members[1]).toBe(true);
    const perm = [2, 4, 0, 3, 1];
    expect(bestScaledSubset(shares.map((r) => perm.map((j) => r[j])), plt, 0.8, 1.25).members).toEqual([true, false, true, true, false]);
  });

  it('clusterShares normalises per sample and honours the mask', () => {
    const s = clusterShares([0, 1, 1, 0, 1], [0, 0, 0, 1, 1], 2, 2, [1, 1, 1, 1, 0]);
    expect(s[0][0]).toBeCloseTo(1 / 3);
    expect(s[0][1]).toBeCloseTo(2 / 3);
    expect(s[1]).toEqual([1, 0]);
  });

  it('projectSimplex returns a point on the simplex', () => {
    const p = projectSimplex([0.9, -0.2, 0.7]);
    expect(p.every((v) => v >= 0)).toBe(true);
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });
});

describe('pipeline mixture EM', () => {
  // Two classes in 1-D: class 0 ~ N(0,1), class 1 ~ N(4,1); per-sample proportions differ.
  const m = (): ClassMixture => ({ k: 2, d: 1, classes: 2, mu: Float64Array.from([0, 4]), logVar: Float64Array.from([0, 0]), rho: Float64Array.from([1, 0, 0, 1]) });
  const draw = (n: number, p1: number, seed: number) => {
    const rng = new HostRng(seed, 2);
    return Float64Array.from({ length: n }, () => (rng.uniform() < p1 ? 4 : 0) + rng.normal());
  };

  it('estimateProportions recovers a new sample\'s class share with the components fixed', () => {
    const z = draw(20000, 0.2, 3);
    const mix = m();
    const { theta, post } = estimateProportions(mix, logGauss(mix, z, z.length), z.length);
    expect(theta[1]).toBeGreaterThan(0.19);
    expect(theta[1]).toBeLessThan(0.21);
    expect(post.length).toBe(2 * z.length);
    expect(post[0] + post[1]).toBeCloseTo(1, 10);
  });

  it('emKnownProportions moves misplaced components back to their class', async () => {
    const zs = [draw(4000, 0.05, 4), draw(4000, 0.4, 5)];
    const z = Float64Array.from([...zs[0], ...zs[1]]);
    const sampleOf = Int32Array.from({ length: z.length }, (_, i) => (i < 4000 ? 0 : 1));
    const mix = m();
    mix.mu[0] = 1.5; // poor start
    mix.mu[1] = 2.5;
    await emKnownProportions(createReferenceBackend(), mix, z, z.length, sampleOf, [[0.95, 0.05], [0.6, 0.4]], 50);
    expect(mix.mu[0]).toBeCloseTo(0, 0);
    expect(mix.mu[1]).toBeCloseTo(4, 0);
  });

  it('fitClassMap takes a component away from a class whose references its share does not follow', async () => {
    // Class 0: 90 % at 0, 10 % at 8; class 1 at 4 with a share that varies across samples. The
    // component at 8 starts mostly in class 1 (a wrong least-squares map); the map must hand it back.
    const thetas = [0.01, 0.08, 0.03, 0.12, 0.05, 0.02].map((t) => [1 - t, t]);
    const rng = new HostRng(9, 3);
    const z: number[] = [];
    const sampleOf: number[] = [];
    thetas.forEach((t, s) => {
      for (let i = 0; i < 3000; i++) {
        const c1 = rng.uniform() < t[1];
        z.push((c1 ? 4 : rng.uniform() < 0.1 ? 8 : 0) + 0.5 * rng.normal());
        sampleOf.push(s);
      }
    });
    const mix: ClassMixture = { k: 3, d: 1, classes: 2, mu: Float64Array.from([0, 4, 8]), logVar: Float64Array.from([Math.log(0.25), Math.log(0.25), Math.log(0.25)]),
      rho: Float64Array.from([0.9, 0.05, 0.05, 0.05, 0.45, 0.5]) };
    const { classOf } = await fitClassMap(createReferenceBackend(), mix, z, z.length, sampleOf, thetas, { softIterations: 30, hardIterations: 10, smoothing: 0, floor: 1e-3 });
    expect(classOf).toEqual([0, 1, 0]);
    // Hard map: ρ is zero off the map and on the simplex within each class; ρ[0, ·] ≈ (0.9, 0, 0.1).
    expect(Array.from(mix.rho, (v) => v > 0)).toEqual([true, false, true, false, true, false]);
    expect(mix.rho[2]).toBeCloseTo(0.1, 1);
    for (let c = 0; c < 2; c++) expect(mix.rho[c * 3] + mix.rho[c * 3 + 1] + mix.rho[c * 3 + 2]).toBeCloseTo(1, 10);
    // A new sample's share of class 1 comes back from the fitted mixture.
    const zn: number[] = [];
    for (let i = 0; i < 20000; i++) zn.push((rng.uniform() < 0.06 ? 4 : rng.uniform() < 0.1 ? 8 : 0) + 0.5 * rng.normal());
    const { theta } = estimateProportions(mix, logGauss(mix, zn, zn.length), zn.length);
    expect(Math.abs(theta[1] - 0.06)).toBeLessThan(0.006);
  });
});
