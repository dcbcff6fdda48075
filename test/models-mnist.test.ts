// Reduced real-data check: 2,000 MNIST digits from the `mnist` package (200 per class), a small
// layout, few epochs, fixed seed, on the wasm backend (the reference backend is too slow for this).
// Chance-level ACC for 10 balanced classes is ~0.11 (best matching of random labels a bit above);
// a working pipeline lands far above it. The full-size run is `npm run validate:mnist`.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { createWasmBackend } from '../bindings/backends/wasm/index.js';
import { clusteringScores } from '../bindings/metrics/index.js';
import { Autoencoder, IDEC, KMeans, VaDE, type Matrix } from '../bindings/models/index.js';

function mnist(perClass: number): { x: Matrix; y: Int32Array } {
  const require = createRequire(import.meta.url);
  const data = new Float32Array(perClass * 10 * 784);
  const y = new Int32Array(perClass * 10);
  for (let d = 0; d < 10; d++) {
    const raw = (require(`mnist/src/digits/${d}.json`) as { data: number[] }).data;
    for (let i = 0; i < perClass; i++) {
      const row = i * 10 + d; // interleaved classes
      data.set(raw.slice(i * 784, (i + 1) * 784), row * 784);
      y[row] = d;
    }
  }
  return { x: { rows: perClass * 10, cols: 784, data }, y };
}

describe('MNIST (2,000 digits, wasm backend)', () => {
  it('AE + k-means, IDEC and VaDE cluster real digits far above chance', async () => {
    const be = await createWasmBackend();
    const { x, y } = mnist(200);
    expect(x.data.every((v) => v >= 0 && v <= 1)).toBe(true);
    const dims = [256, 64, 10];
    const ae = await new Autoencoder(be, { dims, seed: 1 }).fit(x, { epochs: 20, batchSize: 64, lr: 1e-3 });
    expect(ae.config!.loss).toBe('bce');
    const z = await ae.transform(x);
    const km = await new KMeans(be, { k: 10, seed: 1, nInit: 5 }).fit({ rows: x.rows, cols: 10, data: z });
    const aeKm = clusteringScores(y, km.labels!);
    expect(aeKm.acc).toBeGreaterThan(0.4);
    expect(aeKm.nmi).toBeGreaterThan(0.3);

    const idec = await new IDEC(be, { k: 10, dims, seed: 1, maxIterations: 240, updateInterval: 40 }).fit(x, { pretrained: ae });
    const si = clusteringScores(y, await idec.predict(x));
    expect(si.acc).toBeGreaterThan(0.4);

    const vade = await new VaDE(be, { k: 10, dims, seed: 1, epochs: 5 }).fit(x, { pretrained: ae });
    const sv = clusteringScores(y, await vade.predict(x));
    expect(sv.acc).toBeGreaterThan(0.4);
    // Every cluster keeps a share of the mixture (no collapse onto a few components).
    const { pi } = await vade.mixture();
    expect(Math.min(...pi)).toBeGreaterThan(0.01);
    // Same seed, same backend → the same numbers, bit for bit (here on wasm; reference in models-core).
    const again = await new IDEC(be, { k: 10, dims, seed: 1, maxIterations: 40, updateInterval: 20 }).fit(x, { pretrained: ae });
    const once = await new IDEC(be, { k: 10, dims, seed: 1, maxIterations: 40, updateInterval: 20 }).fit(x, { pretrained: ae });
    expect(Array.from(await again.predictProba(x))).toEqual(Array.from(await once.predictProba(x)));
    console.log(`MNIST-2000: AE+k-means ACC ${aeKm.acc.toFixed(3)}, IDEC ${si.acc.toFixed(3)}, VaDE ${sv.acc.toFixed(3)}`);
    be.destroy();
  });
});
