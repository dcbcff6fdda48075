// VaDE's collapse detector (the effective number of components — exp of the entropy of the epoch's
// responsibility mass — against its value at the GMM initialisation) and its recovery: roll back to
// the last healthy epoch and go on at a quarter of the learning rate, a bounded number of times.
import { describe, expect, it } from 'vitest';
import { createReferenceBackend } from '../bindings/backends/reference/index.js';
import { VaDE, type Matrix, type Progress, type VadeConfig } from '../bindings/models/index.js';
import { effectiveComponents } from '../bindings/models/vade-recovery.js';
import { CollapseGuard } from '../bindings/models/vade-recovery.js';
import { Adam } from '../bindings/models/optim.js';
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
const make = (lr: number, more: Partial<VadeConfig> = {}) => new VaDE(be, {
  k: 4, dims: [16, 2], seed: 3, batchSize: 32, epochs: 6, lr, pretrain: { epochs: 40, batchSize: 32, lr: 3e-3 }, ...more,
});
const elbo = (log: Progress[]) => log.filter((p) => p.stage === 'elbo');

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

describe('VaDE collapse detector and recovery', () => {
  it('reports the effective components each epoch and keeps quiet on a healthy run', async () => {
    const log: Progress[] = [];
    const m = await make(2e-3).fit(x, { onProgress: (p) => log.push(p) });
    expect(elbo(log)).toHaveLength(6);
    for (const p of elbo(log)) expect(p.metrics!.components).toBeGreaterThan(3.9);
    expect(log.some((p) => p.stage === 'recover')).toBe(false);
    expect(m.recoveries).toEqual([]);
  });

  it('the same collapsing run unchecked really collapses', async () => {
    // 500× the default lr: measured effective components 3.2, 2.7, 2.1, 1.5, 1.2, 1.2.
    const log: Progress[] = [];
    await make(1, { collapseRatio: 0 }).fit(x, { onProgress: (p) => log.push(p) });
    expect(elbo(log).pop()!.metrics!.components).toBeLessThan(2);
  });

  it('rolls a collapsing run back, lowers the step, says so, and ends with a healthy mixture', async () => {
    const log: Progress[] = [];
    const m = await make(1).fit(x, { onProgress: (p) => log.push(p) });
    const rec = log.filter((p) => p.stage === 'recover');
    // Measured: collapse at epoch 2 at lr 1 and again at 0.25, healthy from the start at 0.0625.
    expect(rec.length).toBeGreaterThanOrEqual(1);
    expect(rec.length).toBeLessThanOrEqual(3);
    rec.forEach((p, i) => {
      expect(p.message).toMatch(/the mixture collapsed at epoch \d+: .*rolled back to (the GMM initialisation|epoch \d+) \(networks, mixture and Adam state/);
      expect(p.metrics!.attempt).toBe(i + 1);
      expect(p.metrics!.lrScale).toBeCloseTo(0.25 ** (i + 1), 12);
      expect(p.metrics!.rollbackTo).toBeLessThan(p.epoch);
    });
    expect(m.recoveries).toEqual(rec.map((p) => p.message));
    // Training resumes right after the restored epoch and still runs to the last epoch.
    const after = log[log.indexOf(rec[0]) + 1];
    expect(after.stage).toBe('elbo');
    expect(after.epoch).toBe(rec[0].metrics!.rollbackTo + 1);
    expect(elbo(log).pop()!.epoch).toBe(6);
    // Healthy at the end: every epoch since the last rollback kept ≥ 3.5 of 4 components, and π is
    // near uniform on these four equal blobs; the prediction uses all four clusters.
    for (const p of log.slice(log.indexOf(rec[rec.length - 1]) + 1)) expect(p.metrics!.components).toBeGreaterThan(3.5);
    const { pi } = await m.mixture();
    for (const v of pi) expect(v).toBeGreaterThan(0.15);
    expect(new Set(await m.predict(x)).size).toBe(4);
  });

  it('restores exactly the saved parameters and Adam state, and snapshots only clearly healthy epochs', async () => {
    const w = be.create([3, 2]);
    const g = be.create([3, 2]);
    be.upload(w, [1, 2, 3, 4, 5, 6]);
    be.upload(g, [0.5, -1, 2, 0.1, -0.3, 1]);
    const params = [{ name: 'w', value: w, grad: g }];
    const opt = new Adam(be, params);
    opt.step(0.1);
    const guard = new CollapseGuard(be, params, opt, 4, { ratio: 0.75, retries: 2, lrFactor: 0.25 });
    await guard.save(1, 3.9); // ≥ 0.95 × 4: kept
    const saved = Array.from(await be.download(w));
    const savedAdam = await opt.exportState();
    opt.step(0.1);
    await guard.save(2, 3.7); // healthy by the failure line (≥ 3) but below 0.95 × 4: not kept
    opt.step(0.1);
    expect(guard.check(3, Float64Array.from([1, 1, 1, 1]), 3.1, 0.1)).toBeNull(); // above 0.75 × 4
    const rec = guard.check(3, Float64Array.from([97, 1, 1, 1]), 1.2, 0.1)!;
    expect(rec.rollbackTo).toBe(1);
    expect(rec.message).toMatch(/collapsed at epoch 3: component 0 holds 97\.0% .*rolled back to epoch 1 .*0\.25 × the learning rate \(0\.025\), retry 1 of 2/);
    expect(Array.from(await be.download(w))).toEqual(saved);
    expect(await opt.exportState()).toEqual(savedAdam);
    expect(guard.lrScale).toBe(0.25);
    guard.check(4, Float64Array.from([97, 1, 1, 1]), 1.2, 0.025);
    expect(() => guard.check(5, Float64Array.from([97, 1, 1, 1]), 1.2, 0.00625)).toThrow(/Recovery failed: rolled back 2 times, the learning rate down to 0\.00625/);
    opt.dispose();
  });

  it('errors clearly when recovery fails too, and at the first collapse with collapseRetries 0', async () => {
    // lr 1 collapses again after one rollback (at 0.25): with a single retry that is the end.
    const log: Progress[] = [];
    await expect(make(1, { collapseRetries: 1 }).fit(x, { onProgress: (p) => log.push(p) })).rejects.toThrow(
      /VaDE: the mixture collapsed at epoch \d+: component \d+ holds [\d.]+% .*Recovery failed: rolled back 1 time, the learning rate down to 0\.25\. .*lower learning rate/);
    expect(log.filter((p) => p.stage === 'recover')).toHaveLength(1);
    await expect(make(1, { collapseRetries: 0 }).fit(x)).rejects.toThrow(/VaDE: the mixture collapsed at epoch \d+: component \d+ holds [\d.]+% .*lower learning rate than 1 /);
  });

  it('rejects bad recovery options before any training', async () => {
    const seen: string[] = [];
    for (const bad of [{ collapseRetries: -1 }, { collapseRetries: 1.5 }, { collapseLrFactor: 1 }, { collapseLrFactor: 0 }, { collapseRatio: 1 }]) {
      await expect(make(1, bad).fit(x, { onProgress: (p) => seen.push(p.stage) })).rejects.toThrow(/collapse(Retries|LrFactor|Ratio) must be/);
    }
    expect(seen).toEqual([]);
  });
});
