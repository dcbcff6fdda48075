// The workload recorder (bench/lib/workload.ts) that tells the PyTorch version of the pipeline's
// training what to replay: it must count what really ran (EM iterations and passes, k-means passes,
// training steps, GEMM FLOP) and change nothing about the run it watches.
import { afterAll, describe, expect, it } from 'vitest';
import { recordWorkload } from '../bench/lib/workload.js';
import { createReferenceBackend } from '../bindings/backends/reference/index.js';
import { emKnownProportions } from '../bindings/pipeline/em-known.js';
import type { ClassMixture } from '../bindings/pipeline/mixture.js';
import { kmeansOnBackend } from '../bindings/models/kmeans.js';
import { uploadMatrix } from '../bindings/models/data.js';
import { Autoencoder } from '../bindings/models/autoencoder.js';
import { Rng, testSeed } from './helpers/rng.js';

const be = createReferenceBackend();
afterAll(() => be.destroy());
const rng = new Rng(testSeed());

function mixture(k: number, d: number, C: number): ClassMixture {
  const rho = new Float64Array(C * k).fill(1 / k);
  return { k, d, classes: C, mu: Float64Array.from(rng.normals(k * d, 2)), logVar: new Float64Array(k * d), rho };
}

describe('workload recorder', () => {
  it('counts an EM run by its passes and leaves its result unchanged', async () => {
    const [n, d, k, C, S, iterations] = [300, 3, 5, 3, 4, 7];
    const z = Float32Array.from(rng.normals(n * d, 2));
    const sampleOf = Int32Array.from({ length: n }, (_, i) => i % S);
    const theta = Array.from({ length: S }, () => [0.7, 0.2, 0.1]);
    const m0 = mixture(k, d, C);
    const plain = { ...m0, mu: Float64Array.from(m0.mu), logVar: Float64Array.from(m0.logVar), rho: Float64Array.from(m0.rho) };
    const watched = { ...m0, mu: Float64Array.from(m0.mu), logVar: Float64Array.from(m0.logVar), rho: Float64Array.from(m0.rho) };
    let phase = 'map';
    const { be: rec, workload } = recordWorkload(be, 256, () => phase);
    const llPlain = await emKnownProportions(be, plain, z, n, sampleOf, theta, iterations);
    const llWatched = await emKnownProportions(rec, watched, z, n, sampleOf, theta, iterations);
    expect(llWatched).toBe(llPlain);
    expect(Array.from(watched.mu)).toEqual(Array.from(plain.mu));
    expect(workload.em).toHaveLength(1);
    const r = workload.em[0];
    expect(r).toMatchObject({ phase: 'map', n, d, k, classes: C, samples: S, eSteps: iterations, statsPasses: iterations });
    // One balancing round at least per iteration, and the last iteration's log-likelihood pass.
    expect(r.posteriorPasses).toBeGreaterThanOrEqual(iterations + 1);
    phase = 'other';
    await emKnownProportions(rec, watched, z, n, sampleOf, theta, 2);
    expect(workload.em.map((e) => [e.phase, e.eSteps])).toEqual([['map', iterations], ['other', 2]]);
  });

  it('counts k-means passes per centre count and training steps with their GEMM FLOP', async () => {
    const { be: rec, workload } = recordWorkload(be, 16, () => 'fit');
    const [n, d] = [120, 4];
    const data = Float32Array.from(rng.normals(n * d, 1));
    const X = uploadMatrix(rec, { rows: n, cols: d, data });
    await kmeansOnBackend(rec, X, { rows: n, cols: d, data }, { k: 3, nInit: 2, seed: 1 });
    be.dispose(X);
    expect(workload.kmeans).toHaveLength(1);
    const km = workload.kmeans[0];
    expect(km).toMatchObject({ phase: 'fit', n, d });
    expect(km.assigns[3]).toBeGreaterThan(0);
    expect(km.updates).toBeGreaterThan(0);

    const ae = new Autoencoder(rec, { dims: [8, 2], seed: 1, normalization: 'none', loss: 'mse' });
    const x = { rows: 64, cols: d, data: data.subarray(0, 64 * d) };
    ae.build(x);
    await ae.pretrain(x, { epochs: 2, batchSize: 16, lr: 1e-3 });
    const w = workload.phases.fit;
    expect(w.steps).toEqual({ ae: 8, idec: 0, vade: 0 }); // 2 epochs × 64 / 16
    // Each step: forward and both backward GEMMs of every layer (4 → 8 → 2 → 8 → 4), the first
    // layer's input gradient possibly skipped; a step's FLOP lie between those two counts.
    const fwd = 2 * 16 * (4 * 8 + 8 * 2 + 2 * 8 + 8 * 4);
    expect(w.gemmFlop).toBeGreaterThanOrEqual(8 * (3 * fwd - 2 * 16 * 4 * 8));
    expect(w.gemmFlop).toBeLessThanOrEqual(8 * 3 * fwd + 2 * 64 * 4 * 8 * 4);
    ae.dispose();
  });
});
