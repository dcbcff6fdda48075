// Platelets on stage 1's red side (red-side.ts), on synthetic samples: stage 1 puts part of each
// sample's platelets (large ones) on the red side. The split finds them from the references
// alone and is kept; where stage 1's platelet side holds every platelet, the references (rounded
// and noisy, so some samples show a small excess) do not ask for a split and none is kept.
import { describe, expect, it } from 'vitest';
import { createBackend } from '../bindings/backends/index.js';
import { fitRedSide } from '../bindings/pipeline/red-side.js';
import { sideKeep, sideRows } from '../bindings/pipeline/platelet-side.js';
import { classLogLik, logGauss } from '../bindings/pipeline/mixture.js';
import { reproduceHint, Rng, testSeed } from './helpers/rng.js';
import { stackSamples } from './helpers/split-samples.js';

const SEED = testSeed();
const hint = reproduceHint(SEED, 'test/red-side.test.ts');

/** One sample of n events: platelets (share plt, of which a share `large` on the red side), the
 *  rest red cells. Features: (size, shape, stain). pPlt: stage 1's call (1 platelet side). */
function sample(rng: Rng, n: number, plt: number, large: number) {
  const x = new Float64Array(n * 3);
  const pPlt = new Float32Array(n);
  const truth = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const isPlt = rng.uniform() < plt;
    const big = isPlt && rng.uniform() < large;
    const row = !isPlt ? [5 + 0.4 * rng.normal(), 3 + 0.3 * rng.normal(), 0.3 * rng.normal()]
      : big ? [4.6 + 0.4 * rng.normal(), 1.2 + 0.3 * rng.normal(), 1 + 0.3 * rng.normal()]
        : [2 + 0.5 * rng.normal(), 1 + 0.3 * rng.normal(), 1 + 0.3 * rng.normal()];
    x.set(row, i * 3);
    pPlt[i] = isPlt && !big ? 1 : 0;
    truth[i] = isPlt ? 1 : 0;
  }
  return { x, pPlt, truth, n };
}

async function fit(large: number, rng: Rng, refOffset: (s: number) => number = () => 0, log?: (m: string) => void) {
  const be = await createBackend('reference');
  const train = Array.from({ length: 10 }, () => sample(rng, 3000, 0.02 + 0.08 * rng.uniform(), large));
  const { x, pPlt, sampleOf, n } = stackSamples(train);
  // References as an analyzer reports them: to 0.1 pp, with a little measurement noise.
  const refs = train.map((s, i) => Math.max(0, Math.round(1000 * (s.truth.reduce((a, v) => a + v, 0) / s.n + refOffset(i) + 0.001 * rng.normal())) / 1000));
  return fitRedSide(be, x, 3, pPlt, new Float32Array(n).fill(1), sampleOf, refs, { components: [4, 6], seed: 5, emIterations: 60, smoothing: 0.05, floor: 1e-3 }, log);
}

describe('red side', () => {
  it('finds the platelets stage 1 left with the red cells, from the references alone', async () => {
    const rng = Rng.forCase(SEED, 'large platelets');
    const red = await fit(0.3, rng);
    expect(red, `a split is kept; ${hint}`).not.toBeNull();
    for (const s of Array.from({ length: 3 }, () => sample(rng, 3000, 0.02 + 0.08 * rng.uniform(), 0.3))) {
      const redEvents = Array.from({ length: s.n }, (_, i) => i).filter((i) => s.pPlt[i] < 0.5);
      const z = sideRows(red!.split, s.x, null, s.n);
      const keep = sideKeep(red!.split, classLogLik(red!.split.mixture, logGauss(red!.split.mixture, z, s.n), s.n), s.n, redEvents);
      let found = 0;
      let missed = 0;
      for (const i of redEvents) {
        const call = keep[i] >= 0.5 ? 1 : 0;
        found += call;
        missed += s.truth[i] !== call ? 1 : 0;
      }
      const onRed = redEvents.reduce((a, i) => a + s.truth[i], 0);
      // Without the split every one of them is missed: up to 3 % of the events.
      expect(Math.abs(found - onRed) / s.n, `red-side platelet share; ${hint}`).toBeLessThan(0.003);
      expect(missed / s.n, `red-side errors; ${hint}`).toBeLessThan(0.004);
    }
  });

  it('does not look for a split when the platelet side alone meets the platelet tolerance', async () => {
    const log: string[] = [];
    const red = await fit(0, Rng.forCase(SEED, 'no large platelets'), undefined, (m) => log.push(m));
    expect(red, hint).toBeNull();
    expect(log.join('\n'), hint).toMatch(/not searched/);
  });

  it('keeps no split that does not follow the references, where it looked for one', async () => {
    // References 1 pp above the data on every other sample (wrong ones): the platelet side misses
    // them beyond the tolerance, so a split is fitted, and no red-side platelets follow them.
    const log: string[] = [];
    const red = await fit(0, Rng.forCase(SEED, 'wrong references'), (s) => (s % 2 ? 0 : 0.01), (m) => log.push(m));
    expect(red, hint).toBeNull();
    expect(log.join('\n'), hint).toMatch(/not kept/);
  });
});
