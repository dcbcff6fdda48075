// Model API tests on the reference backend with small synthetic data: gradients of the layer
// stack, determinism, save/load round trips, divergence detection, progress metrics.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createReferenceBackend } from '../bindings/backends/reference/index.js';
import { clusteringAccuracy } from '../bindings/metrics/index.js';
import {
  Autoencoder, DEC, IDEC, KMeans, VaDE, loadModel, saveModel, type Matrix, type Progress,
} from '../bindings/models/index.js';
import { Mlp } from '../bindings/models/mlp.js';
import { HostRng } from '../bindings/models/rng.js';

const be = createReferenceBackend();
const dir = mkdtempSync(join(tmpdir(), 'hemaclust-models-'));

/** Three Gaussian blobs in 6-D, well separated (centres 8 apart on different axes). */
function blobs(n: number, seed: number, unit = false): { x: Matrix; y: Int32Array } {
  const rng = new HostRng(seed, 99);
  const d = 6;
  const data = new Float32Array(n * d);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 3;
    for (let j = 0; j < d; j++) {
      const v = (j === 2 * y[i] ? 8 : 0) + rng.normal();
      data[i * d + j] = unit ? 1 / (1 + Math.exp(-v)) : v;
    }
  }
  return { x: { rows: n, cols: d, data }, y };
}

const small = { dims: [16, 3], seed: 5, pretrain: { epochs: 80, batchSize: 30, lr: 3e-3 } };
const { x, y } = blobs(150, 1);

describe('Mlp forward/backward', () => {
  it('matches central finite differences of an MSE loss (weights, biases, input)', async () => {
    const mlp = new Mlp(be, 'net', [{ in: 4, out: 5, act: 'tanh' }, { in: 5, out: 3, act: 'sigmoid' }, { in: 3, out: 2, act: 'identity' }]);
    mlp.init(new HostRng(3, 1), 'glorot');
    const xin = be.create([3, 4]);
    be.upload(xin, Float32Array.from({ length: 12 }, (_, i) => Math.sin(i + 1)));
    const target = be.create([3, 2]);
    be.upload(target, [0.5, -0.25, 1, 0, -1, 0.75]);
    const loss = be.create([1]);
    const dx = be.create([3, 4]);
    const lossAt = async () => {
      be.mseLoss(mlp.forward(xin), target, loss);
      return (await be.download(loss))[0];
    };
    const out = mlp.forward(xin);
    const dOut = mlp.outputGrad(3);
    be.mseLossBackward(out, target, dOut);
    mlp.backward(dOut, dx);
    const checks = [
      { value: mlp.w[0], grad: mlp.gw[0] }, { value: mlp.b[1], grad: mlp.gb[1] },
      { value: mlp.w[2], grad: mlp.gw[2] }, { value: xin, grad: dx },
    ];
    let compared = 0;
    for (const { value, grad } of checks) {
      const g = await be.download(grad);
      const v = Float64Array.from(await be.download(value));
      for (let i = 0; i < v.length; i++) {
        const h = 1e-3;
        const orig = v[i];
        v[i] = orig + h; be.upload(value, v); const lp = await lossAt();
        v[i] = orig - h; be.upload(value, v); const lm = await lossAt();
        v[i] = orig; be.upload(value, v);
        // f32 rounding of the perturbed inputs bounds the accuracy at ~1e-7/h.
        expect(Math.abs((lp - lm) / (2 * h) - g[i])).toBeLessThan(2e-4 + 1e-3 * Math.abs(g[i]));
        compared++;
      }
    }
    expect(compared).toBe(20 + 3 + 6 + 12);
  });
});

describe('KMeans', () => {
  it('recovers well-separated blobs, deterministically per seed', async () => {
    const a = await new KMeans(be, { k: 3, seed: 7, nInit: 3 }).fit(x);
    const b = await new KMeans(be, { k: 3, seed: 7, nInit: 3 }).fit(x);
    expect(clusteringAccuracy(y, a.labels!)).toBeGreaterThan(0.95);
    expect(Array.from(b.centroids!)).toEqual(Array.from(a.centroids!));
    expect(Array.from(await a.predict(x))).toEqual(Array.from(a.labels!));
    const p = await a.predictProba(x);
    expect(p.length).toBe(150 * 3);
    expect(p[0] + p[1] + p[2]).toBeCloseTo(1, 5);
  });
});

describe('Autoencoder', () => {
  it('reduces its reconstruction loss and is deterministic per seed', async () => {
    const log: Progress[] = [];
    const a = await new Autoencoder(be, small).fit(x, { ...small.pretrain, onProgress: (p) => log.push(p) });
    expect(log.map((p) => p.epoch)).toEqual(Array.from({ length: 80 }, (_, i) => i + 1));
    expect(log[79].losses.recon).toBeLessThan(0.7 * log[0].losses.recon);
    const b = await new Autoencoder(be, small).fit(x, small.pretrain);
    expect(Array.from(await b.transform(x))).toEqual(Array.from(await a.transform(x)));
    const c = await new Autoencoder(be, { ...small, seed: 6 }).fit(x, small.pretrain);
    expect(Array.from(await c.transform(x))).not.toEqual(Array.from(await a.transform(x)));
  });

  it('trains as a denoising autoencoder with Philox noise and a cosine schedule, deterministically', async () => {
    const opts = { epochs: 3, batchSize: 30, lr: 3e-3, noise: 0.3, schedule: 'cosine' as const };
    const a = await new Autoencoder(be, small).fit(x, opts);
    const b = await new Autoencoder(be, small).fit(x, opts);
    const clean = await new Autoencoder(be, small).fit(x, { ...opts, noise: 0 });
    const za = Array.from(await a.transform(x));
    expect(Array.from(await b.transform(x))).toEqual(za);
    expect(Array.from(await clean.transform(x))).not.toEqual(za);
    expect(za.every(Number.isFinite)).toBe(true);
  });

  it('uses BCE on logits for data in [0,1] and MSE on z-scored data otherwise', async () => {
    const unit = blobs(60, 2, true).x;
    const a = await new Autoencoder(be, small).fit(unit, { epochs: 1 });
    expect(a.config!.loss).toBe('bce');
    expect(a.config!.normalization.kind).toBe('none');
    const b = await new Autoencoder(be, small).fit(x, { epochs: 1 });
    expect(b.config!.loss).toBe('mse');
    expect(b.config!.normalization.kind).toBe('standard');
  });
});

describe.each([
  ['DEC', (s: number) => new DEC(be, { ...small, seed: s, k: 3, batchSize: 30, updateInterval: 10, maxIterations: 60 })],
  ['IDEC', (s: number) => new IDEC(be, { ...small, seed: s, k: 3, batchSize: 30, updateInterval: 10, maxIterations: 60 })],
  ['VaDE', (s: number) => new VaDE(be, { ...small, seed: s, k: 3, batchSize: 30, epochs: 3 })],
] as const)('%s', (name, make) => {
  it('clusters the blobs, reports progress with metrics, is deterministic and survives save/load', async () => {
    const log: Progress[] = [];
    const m = await make(5).fit(x, { labels: y, onProgress: (p) => log.push(p) });
    const labels = await m.predict(x);
    expect(clusteringAccuracy(y, labels)).toBeGreaterThan(0.9);
    const stages = new Set(log.map((p) => p.stage));
    expect(stages.has('pretrain')).toBe(true);
    const last = log[log.length - 1];
    expect(last.stage).toBe(name === 'VaDE' ? 'elbo' : 'cluster');
    expect(Object.keys(last.losses)).toEqual(expect.arrayContaining(name === 'DEC' ? ['kl'] : ['kl', 'recon']));
    expect(last.metrics!.acc).toBeGreaterThan(0.9);

    const again = await make(5).fit(x);
    expect(Array.from(await again.predictProba(x))).toEqual(Array.from(await m.predictProba(x)));

    const path = join(dir, `${name}.safetensors`);
    await m.save(path, { classes: ['a', 'b', 'c'] });
    const loaded = await loadModel(be, path);
    expect(loaded.kind).toBe(name.toLowerCase());
    expect(loaded.classes).toEqual(['a', 'b', 'c']);
    const lm = loaded.model as typeof m;
    expect(Array.from(await lm.predict(x))).toEqual(Array.from(labels));
    const p0 = await m.predictProba(x);
    const p1 = await lm.predictProba(x);
    for (let i = 0; i < p0.length; i++) expect(Math.abs(p0[i] - p1[i])).toBeLessThan(1e-5);
    const z0 = await m.transform(x);
    const z1 = await lm.transform(x);
    for (let i = 0; i < z0.length; i++) expect(Math.abs(z0[i] - z1[i])).toBeLessThan(1e-4);
    // A second save of the loaded model is byte-identical: the file holds exactly the state.
    const path2 = join(dir, `${name}-2.safetensors`);
    await saveModel(lm, path2, { classes: ['a', 'b', 'c'] });
    expect(readFileSync(path2).equals(readFileSync(path))).toBe(true);
  });

  it('stops with an error naming the epoch and the loss term when the loss diverges', async () => {
    const m = make(5);
    const huge = name === 'VaDE' ? { lr: 1e30 } : { lr: 1e30, optimizer: 'sgd' as const };
    Object.assign(m instanceof VaDE ? m.options : m.config, huge);
    await expect(m.fit(x)).rejects.toThrow(new RegExp(`^${name}: loss '(kl|recon)' became (NaN|Inf|-Inf) at epoch \\d+$`));
  });
});

describe('VaDE metricsEvery', () => {
  it('scores the labels only every N epochs and at the last one, and rejects a bad N before training', async () => {
    const log: Progress[] = [];
    const m = new VaDE(be, { ...small, seed: 5, k: 3, batchSize: 30, epochs: 5 });
    await m.fit(x, { labels: y, metricsEvery: 2, onProgress: (p) => p.stage === 'elbo' && log.push(p) });
    expect(log.map((p) => p.epoch)).toEqual([1, 2, 3, 4, 5]);
    expect(log.map((p) => 'acc' in p.metrics!)).toEqual([false, true, false, true, true]);
    // The collapse guard's component count is reported on every epoch all the same.
    expect(log.every((p) => Number.isFinite(p.metrics!.components))).toBe(true);
    const seen: string[] = [];
    await expect(new VaDE(be, { ...small, seed: 5, k: 3, batchSize: 30, epochs: 2 })
      .fit(x, { labels: y, metricsEvery: 0, onProgress: (p) => seen.push(p.stage) })).rejects.toThrow(/metricsEvery must be a whole number ≥ 1 \(got 0\)/);
    expect(seen).toEqual([]);
  });
});

describe('model files', () => {
  it('round-trips KMeans and a plain Autoencoder, and rejects a model of the wrong kind', async () => {
    const km = await new KMeans(be, { k: 3, seed: 1, nInit: 2 }).fit(x);
    const p = join(dir, 'km.safetensors');
    await km.save(p);
    const back = await KMeans.load(be, p);
    expect(Array.from(back.centroids!)).toEqual(Array.from(km.centroids!));
    expect(Array.from(await back.predict(x))).toEqual(Array.from(await km.predict(x)));
    await expect(VaDE.load(be, p)).rejects.toThrow(/km\.safetensors: holds a KMeans, not a VaDE/);

    const ae = await new Autoencoder(be, small).fit(x, { epochs: 2 });
    const pa = join(dir, 'ae.safetensors');
    await ae.save(pa);
    const aeBack = await Autoencoder.load(be, pa);
    const z0 = await ae.transform(x);
    const z1 = await aeBack.transform(x);
    for (let i = 0; i < z0.length; i++) expect(Math.abs(z0[i] - z1[i])).toBeLessThan(1e-4);
  });
});
