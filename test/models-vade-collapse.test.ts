// VaDE's collapse detector: the effective number of components (exp of the entropy of the epoch's
// responsibility mass) against its value at the GMM initialisation.
import { describe, expect, it } from 'vitest';
import { createReferenceBackend } from '../bindings/backends/reference/index.js';
import { VaDE, type Matrix, type Progress } from '../bindings/models/index.js';
import { effectiveComponents } from '../bindings/models/vade.js';
import { HostRng } from '../bindings/models/rng.js';

const be = createReferenceBackend();

/** Four tight, well separated Gaussian blobs in 8-D. */
function blobs(n: number): Matrix {
  const rng = new HostRng(7, 99);
  const d = 8;
  const data = new Float32Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) data[i * d + j] = (j === 2 * (i % 4) ? 10 : 0) + 0.3 * rng.normal();
  return { rows: n, cols: d, data };
}

const x = blobs(160);
const make = (lr: number, collapseRatio?: number) => new VaDE(be, {
  k: 4, dims: [16, 2], seed: 3, batchSize: 32, epochs: 6, lr, collapseRatio, pretrain: { epochs: 40, batchSize: 32, lr: 3e-3 },
});

describe('effectiveComponents', () => {
  it('is k for equal weights, 1 for one component, 0 for none, and scale-free', () => {
    expect(effectiveComponents([1, 1, 1, 1])).toBeCloseTo(4, 12);
    expect(effectiveComponents([0, 5, 0])).toBeCloseTo(1, 12);
    expect(effectiveComponents([0, 0])).toBe(0);
    expect(effectiveComponents([3, 1])).toBeCloseTo(effectiveComponents([0.75, 0.25]), 12);
    // H = −(0.75 ln 0.75 + 0.25 ln 0.25)
    expect(effectiveComponents([3, 1])).toBeCloseTo(Math.exp(-(0.75 * Math.log(0.75) + 0.25 * Math.log(0.25))), 12);
  });
});

describe('VaDE collapse detector', () => {
  it('reports the effective components each epoch and keeps quiet on a healthy run', async () => {
    const log: Progress[] = [];
    await make(2e-3).fit(x, { onProgress: (p) => log.push(p) });
    const elbo = log.filter((p) => p.stage === 'elbo');
    expect(elbo).toHaveLength(6);
    for (const p of elbo) expect(p.metrics!.components).toBeGreaterThan(3);
  });

  it('stops a collapsing run with an error naming the epoch, and the same run unchecked really collapses', async () => {
    // A far too large learning rate wrecks the embedding and one component takes nearly every row
    // (measured: effective components 3.2, 2.7, 2.1, 1.5, 1.2, 1.2 over the six epochs).
    await expect(make(1).fit(x)).rejects.toThrow(/VaDE: the mixture collapsed at epoch \d+: component \d+ holds [\d.]+% .*lower learning rate/);
    const log: Progress[] = [];
    await make(1, 0).fit(x, { onProgress: (p) => log.push(p) });
    const last = log.filter((p) => p.stage === 'elbo').pop()!;
    expect(last.metrics!.components).toBeLessThan(2);
  });
});
