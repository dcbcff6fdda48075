// Stage 1's platelet side (platelet-side.ts): platelet | other by a mixture whose per-sample
// proportions the references fix in training and each sample re-estimates at classify time.
//  - On synthetic platelet-side events (platelets and debris, the debris share independent of the
//    platelet share, its tail reaching the platelets' smallest events), the
//    fitted side recovers held-out samples' platelet shares from the references alone.
//  - A file written with platelet sub-clusters (one fixed prior) reads as exactly the posterior it
//    used to give: Σ over member sub-clusters of ρN over Σ of all.
import { describe, expect, it } from 'vitest';
import { createBackend } from '../bindings/backends/index.js';
import { fitPlateletSplit, sideKeep, sideRows } from '../bindings/pipeline/platelet-side.js';
import { legacySide } from '../bindings/pipeline/model-file.js';
import { classLogLik, logGauss } from '../bindings/pipeline/mixture.js';
import { reproduceHint, Rng, testSeed } from './helpers/rng.js';
import { stackSamples } from './helpers/split-samples.js';

const SEED = testSeed();
const hint = reproduceHint(SEED, 'test/platelet-side.test.ts');

/** One sample: `n` events, of which platelets (share plt) and debris (share deb) are on the
 *  platelet side (pPlt 1), the rest red cells (pPlt 0). Features: (size, shape, stain). */
function sample(rng: Rng, n: number, plt: number, deb: number) {
  const x = new Float64Array(n * 3);
  const pPlt = new Float32Array(n);
  const truth = new Uint8Array(n); // 1 platelet
  for (let i = 0; i < n; i++) {
    const u = rng.uniform();
    const row = u < plt ? [2 + 0.5 * rng.normal(), 1 + 0.3 * rng.normal(), 0.2 * rng.normal()]
      : u < plt + deb ? [0.8 + 0.4 * rng.normal(), 0 + 0.4 * rng.normal(), 0.8 + 0.3 * rng.normal()]
        : [6 + 0.4 * rng.normal(), 3 + 0.3 * rng.normal(), 0.3 * rng.normal()];
    x.set(row, i * 3);
    pPlt[i] = u < plt + deb ? 1 : 0;
    truth[i] = u < plt ? 1 : 0;
  }
  return { x, pPlt, truth, n };
}

describe('platelet side', () => {
  it('finds the platelets among debris from the per-sample references alone', async () => {
    const rng = Rng.forCase(SEED, 'side fit');
    const be = await createBackend('reference');
    const draw = () => sample(rng, 3000, 0.01 + 0.08 * rng.uniform(), 0.03 * rng.uniform());
    const train = Array.from({ length: 10 }, draw);
    const { x, pPlt, sampleOf, n } = stackSamples(train);
    const refs = train.map((s) => s.truth.reduce((a, v) => a + v, 0) / s.n);
    const rows = Array.from({ length: n }, (_, i) => i).filter((i) => pPlt[i] >= 0.5);
    const side = await fitPlateletSplit(be, x, 3, 'pulse', rows, sampleOf, refs, { components: [4, 6], seed: 3, emIterations: 60, smoothing: 0.05, floor: 1e-3 });
    expect(side, hint).not.toBeNull();
    for (const s of Array.from({ length: 4 }, draw)) {
      const sideEvents = Array.from({ length: s.n }, (_, i) => i).filter((i) => s.pPlt[i] >= 0.5);
      const z = sideRows(side!, s.x, null, s.n);
      const keep = sideKeep(side!, classLogLik(side!.mixture, logGauss(side!.mixture, z, s.n), s.n), s.n, sideEvents);
      let called = 0;
      let right = 0;
      for (const i of sideEvents) {
        const plt = keep[i] >= 0.5 ? 1 : 0;
        called += plt;
        right += plt === s.truth[i] ? 1 : 0;
      }
      const truePlt = s.truth.reduce((a, v) => a + v, 0);
      // The debris share alone is up to 3 pp: calling the whole side platelet would miss by that.
      expect(Math.abs(called - truePlt) / s.n, `platelet share error; ${hint}`).toBeLessThan(0.003);
      expect(right / sideEvents.length, `platelet-side accuracy; ${hint}`).toBeGreaterThan(0.97);
    }
  });

  it('reads platelet sub-clusters of older files as the posterior they gave', () => {
    const rng = Rng.forCase(SEED, 'legacy');
    const k = 5;
    const d = 3;
    const n = 200;
    const mu = rng.normals(k * d, 2);
    const logVar = rng.normals(k * d, 0.3);
    const rho = Float64Array.from(rng.simplexRows(1, k, 1));
    const members = [true, false, true, false, true];
    const side = legacySide({ k, members }, d, mu, logVar, rho);
    const z = rng.normals(n * d, 2);
    const keep = sideKeep(side, classLogLik(side.mixture, logGauss(side.mixture, sideRows(side, z, null, n), n), n), n, [0, 1, 2]);
    const ld = logGauss(side.mixture, z, n);
    for (let i = 0; i < n; i++) {
      let all = 0;
      let plt = 0;
      for (let j = 0; j < k; j++) {
        const v = rho[j] * Math.exp(ld[i * k + j]);
        all += v;
        if (members[j]) plt += v;
      }
      // keep is f32, as classify stores it.
      expect(Math.abs(keep[i] - plt / all), `row ${i}; ${hint}`).toBeLessThan(1e-6);
    }
  });
});
