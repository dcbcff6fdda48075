// Level A's shared clump-target offset (clump-offset.ts): the targets, and the score that chooses u —
// how well the clump shares inference estimates follow the references up to one bounded constant.
import { describe, expect, it } from 'vitest';
import { HostRng } from '../bindings/models/rng.js';
import { levelATargets, MAX_CLUMP_OFFSET, offsetTrackingError } from '../bindings/pipeline/clump-offset.js';
import type { ClassMixture } from '../bindings/pipeline/mixture.js';
import { createReferenceBackend } from '../bindings/backends/reference/index.js';

describe('clump-target offset', () => {
  it('adds u to every clump reference and gives the rest to single', () => {
    const t = levelATargets([[0.9, 0.08, 0.02], [0.95, 0.01, 0.04]], 0.005);
    expect(t[0][1]).toBeCloseTo(0.025, 12);
    expect(t[0][0]).toBeCloseTo(0.975, 12);
    expect(t[1][1]).toBeCloseTo(0.045, 12);
    expect(levelATargets([[0, 0, 0.999]], 0.01)[0]).toEqual([0, 1]);
  });

  // 1-d events: single cells at 0, clumps at 10, an unreferenced blob at 20 (well apart, so the free
  // EM recovers each component's share). Clump references vary by sample; the blob does not.
  const rng = new HostRng(11, 2);
  const S = 8;
  const perSample = 4000;
  const clumpRef = Array.from({ length: S }, () => 0.01 + 0.05 * rng.uniform());
  const cohort = (blobShare: number) => {
    const z = new Float64Array(S * perSample);
    const sampleOf = new Int32Array(S * perSample);
    for (let s = 0; s < S; s++) {
      const nBlob = Math.round(blobShare * perSample);
      const nClump = Math.round(clumpRef[s] * perSample);
      for (let i = 0; i < perSample; i++) {
        const centre = i < nBlob ? 20 : i < nBlob + nClump ? 10 : 0;
        z[s * perSample + i] = centre + rng.normal();
        sampleOf[s * perSample + i] = s;
      }
    }
    return { z, sampleOf, n: S * perSample };
  };
  /** Components 0 (single), 1 (clump), 2 (blob) mapped to the classes in `classOf`. */
  const mixture = (classOf: number[]): ClassMixture => {
    const rho = new Float64Array(2 * 3);
    for (let c = 0; c < 2; c++) {
      const mine = classOf.filter((x) => x === c).length;
      classOf.forEach((x, j) => (rho[c * 3 + j] = x === c ? 1 / mine : 0));
    }
    return { k: 3, d: 1, classes: 2, mu: Float64Array.from([0, 10, 20]), logVar: new Float64Array(3), rho };
  };
  const init = [0.95, 0.05];

  const be = createReferenceBackend();

  it('costs nothing for a constant-share component called clump, and finds its share as the offset', async () => {
    const { z, sampleOf, n } = cohort(0.01);
    const withBlob = await offsetTrackingError(be, mixture([0, 1, 1]), z, n, sampleOf, clumpRef, 1, init);
    expect(withBlob.offset).toBeGreaterThan(0.008);
    expect(withBlob.offset).toBeLessThan(0.012);
    expect(withBlob.error).toBeLessThan(S * 0.002 ** 2);
    // The blob called single: no offset, still tracking.
    const blobSingle = await offsetTrackingError(be, mixture([0, 1, 0]), z, n, sampleOf, clumpRef, 1, init);
    expect(blobSingle.offset).toBeLessThan(0.002);
    expect(blobSingle.error).toBeLessThan(S * 0.002 ** 2);
  });

  it('charges the variation of a clump component mapped to single', async () => {
    const { z, sampleOf, n } = cohort(0.01);
    // The real clumps called single, the blob clump: the clump share no longer follows the references.
    const wrong = await offsetTrackingError(be, mixture([0, 0, 1]), z, n, sampleOf, clumpRef, 1, init);
    const mean = clumpRef.reduce((a, r) => a + r, 0) / S;
    const spread = clumpRef.reduce((a, r) => a + (r - mean) ** 2, 0);
    expect(wrong.error).toBeGreaterThan(0.8 * spread);
    expect(wrong.error).toBeGreaterThan(50 * (await offsetTrackingError(be, mixture([0, 1, 1]), z, n, sampleOf, clumpRef, 1, init)).error);
  });

  it('bounds the free constant: a big constant-share component called clump is paid beyond the bound', async () => {
    const { z, sampleOf, n } = cohort(0.06);
    const big = await offsetTrackingError(be, mixture([0, 1, 1]), z, n, sampleOf, clumpRef, 1, init);
    expect(big.offset).toBe(MAX_CLUMP_OFFSET);
    expect(big.error).toBeGreaterThan(S * (0.06 - MAX_CLUMP_OFFSET - 0.005) ** 2);
  });
});
