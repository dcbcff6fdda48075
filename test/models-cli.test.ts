// The cluster / embed / predict commands end to end on the reference backend with small NPY files.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { run } from '../bindings/cli/main.js';
import { readNpyFile, toFloat32, toInt32, writeNpyFile } from '../bindings/io/npy.js';
import { readSafetensorsFile } from '../bindings/io/safetensors.js';
import { HostRng } from '../bindings/models/rng.js';

const dir = mkdtempSync(join(tmpdir(), 'hemaclust-cli-'));
const X = join(dir, 'x.npy');
const Y = join(dir, 'y.npy');
const n = 300;

beforeAll(async () => {
  const rng = new HostRng(4, 1);
  const x = new Float64Array(n * 6); // float64 input on purpose: the CLI accepts f4 and f8
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 3;
    for (let j = 0; j < 6; j++) x[i * 6 + j] = (j === 2 * y[i] ? 8 : 0) + rng.normal();
  }
  await writeNpyFile(X, [n, 6], x);
  await writeNpyFile(Y, [n], y);
});

afterEach(() => vi.restoreAllMocks());

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void (out += a.join(' ') + '\n'));
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void (err += a.join(' ') + '\n'));
  const code = await run(args);
  vi.restoreAllMocks();
  return { code, out, err };
}

const common = ['--backend', 'reference', '--seed', '2', '--dims', '12,3', '--epochs', '150', '--cluster-epochs', '4', '--batch', '30'];

describe('hemaclust cluster / embed / predict', () => {
  it('clusters with labels, prints metrics as JSON, saves a model that embed and predict use', async () => {
    const model = join(dir, 'idec.safetensors');
    const r = await cli(['cluster', '--data', X, '--labels', Y, '--method', 'idec', '--k', '3', '--out', model, '--json', ...common]);
    expect(r.code).toBe(0);
    const res = JSON.parse(r.out);
    expect(res.method).toBe('idec');
    expect(res.sizes.reduce((a: number, b: number) => a + b, 0)).toBe(n);
    expect(res.metrics.acc).toBeGreaterThan(0.9);
    expect(Object.keys(res.metrics).sort()).toEqual(['acc', 'ari', 'balancedAccuracy', 'macroF1', 'nmi']);
    expect(r.err).toMatch(/idec pretrain 1: recon=/); // progress goes to stderr, keeping stdout JSON

    const Z = join(dir, 'z.npy');
    expect((await cli(['embed', '--model', model, '--data', X, '--out', Z, '--backend', 'reference'])).code).toBe(0);
    const z = await readNpyFile(Z);
    expect(z.shape).toEqual([n, 3]);

    const P = join(dir, 'p.npy');
    const L = join(dir, 'l.npy');
    const pr = await cli(['predict', '--model', model, '--data', X, '--out', P, '--labels-out', L, '--backend', 'reference', '--json']);
    expect(pr.code).toBe(0);
    const p = await readNpyFile(P);
    expect(p.shape).toEqual([n, 3]);
    expect(p.dtype).toBe('f4');
    const probs = toFloat32(p);
    for (let i = 0; i < n; i++) expect(probs[3 * i] + probs[3 * i + 1] + probs[3 * i + 2]).toBeCloseTo(1, 5);
    const labels = toInt32(await readNpyFile(L));
    const counts = JSON.parse(pr.out).counts as Record<string, number>;
    expect(Object.values(counts)).toEqual(res.sizes);
    expect(labels.length).toBe(n);
  });

  it('runs k-means and VaDE, and rejects bad usage with exit code 2', async () => {
    for (const method of ['kmeans', 'vade']) {
      const r = await cli(['cluster', '--data', X, '--labels', Y, '--method', method, '--k', '3', '--quiet', ...(method === 'kmeans' ? common.slice(0, 4) : common)]);
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/ACC (0\.9\d+|1\.0000)/);
    }
    expect((await cli(['cluster', '--data', X, '--k', '3', '--method', 'gmm'])).code).toBe(2);
    expect((await cli(['cluster', '--data', X])).code).toBe(2);
    const bad = await cli(['cluster', '--data', X, '--labels', X, '--k', '3', '--backend', 'reference']);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/x\.npy/);
  });

  const configOf = async (path: string) => JSON.parse((await readSafetensorsFile(path)).metadata.config as string);

  it('passes every VaDE training option to the model and its file', async () => {
    const model = join(dir, 'vade-opts.safetensors');
    const r = await cli(['cluster', '--data', X, '--method', 'vade', '--k', '3', '--out', model, '--json', '--quiet', '--backend', 'reference',
      '--seed', '5', '--dims', '12,3', '--pretrain-epochs', '20', '--pretrain-lr', '2e-3', '--pretrain-schedule', 'cosine', '--noise', '0.1',
      '--init', 'he', '--loss', 'mse', '--normalization', 'standard', '--activation', 'tanh', '--embedding-activation', 'identity', '--cluster-epochs', '3', '--batch-size', '30', '--lr', '1e-3',
      '--cluster-lr', '5e-4', '--augment', '1,5', '--image', '3x2', '--schedule', 'constant', '--gmm-iterations', '10',
      '--min-log-var=-8', '--collapse-ratio', '0.7', '--collapse-retries', '2', '--collapse-lr-factor', '0.5']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).recoveries).toEqual([]);
    expect(await configOf(model)).toEqual({
      k: 3, seed: 5, dims: [12, 3], batchSize: 30, init: 'he', loss: 'mse', normalization: 'standard', lr: 1e-3, gmmLr: 5e-4,
      hiddenActivation: 'tanh', embeddingActivation: 'identity',
      pretrain: { epochs: 20, batchSize: 30, lr: 2e-3, schedule: 'cosine', noise: 0.1 },
      augment: { width: 3, height: 2, maxShift: 1, maxRotate: 5 }, epochs: 3, schedule: 'constant', gmmIterations: 10,
      minLogVar: -8, collapseRatio: 0.7, collapseRetries: 2, collapseLrFactor: 0.5,
    });
  });

  it('passes every DEC/IDEC and k-means training option to the model and its file', async () => {
    const model = join(dir, 'dec-opts.safetensors');
    const r = await cli(['cluster', '--data', X, '--method', 'dec', '--k', '3', '--out', model, '--quiet', '--backend', 'reference',
      '--dims', '12,3', '--epochs', '10', '--batch', '50', '--cluster-epochs', '2', '--lr', '0.02', '--cluster-lr', '0.01',
      '--augment', '0,0', '--image', '2x3', '--kmeans-init', '4', '--gamma', '0.2', '--alpha', '2', '--optimizer', 'adam',
      '--update-interval', '3', '--tol', '0']);
    expect(r.code).toBe(0);
    expect(await configOf(model)).toEqual({
      k: 3, seed: 1, dims: [12, 3], batchSize: 50, lr: 0.02, clusterLr: 0.01, kmeansInit: 4, gamma: 0.2, alpha: 2,
      optimizer: 'adam', updateInterval: 3, tol: 0, maxIterations: 2 * 6,
      pretrain: { epochs: 10, batchSize: 50 }, augment: { width: 2, height: 3, maxShift: 0, maxRotate: 0 },
    });
    const km = join(dir, 'km-opts.safetensors');
    expect((await cli(['cluster', '--data', X, '--method', 'kmeans', '--k', '3', '--out', km, '--quiet', '--backend', 'reference', '--kmeans-init', '3', '--kmeans-max-iter', '7'])).code).toBe(0);
    expect(await configOf(km)).toEqual({ k: 3, seed: 1, nInit: 3, maxIter: 7 });
  });

  it('rejects training options that are malformed, contradictory or meant for another method', async () => {
    const base = ['cluster', '--data', X, '--k', '3', '--backend', 'reference', '--quiet'];
    for (const [extra, msg] of [
      [['--method', 'vade', '--gamma', '0.2'], /--gamma applies to dec or idec, not to --method vade/],
      [['--method', 'idec', '--collapse-retries', '1'], /--collapse-retries applies to vade/],
      [['--method', 'kmeans', '--lr', '1e-3'], /--lr applies to dec, idec or vade/],
      [['--method', 'idec', '--kmeans-max-iter', '5'], /--kmeans-max-iter applies to kmeans, not to --method idec/],
      [['--method', 'vade', '--activation', 'gelu'], /--activation must be one of relu\|tanh\|sigmoid\|identity/],
      [['--method', 'vade', '--augment', '3'], /--augment must be SHIFT,ROTATE/],
      [['--method', 'vade', '--augment', '1,5'], /not square images; give --image WxH/],
      [['--method', 'vade', '--augment', '1,5', '--image', '4x4'], /--image 4x4 holds 16 values, the rows have 6/],
      [['--method', 'vade', '--epochs', '5', '--pretrain-epochs', '6'], /--pretrain-epochs and --epochs are the same option and disagree/],
      [['--method', 'vade', '--collapse-ratio', '1'], /--collapse-ratio must be in \[0, 1\)/],
      [['--method', 'vade', '--lr=-1'], /--lr must be a number > 0/],
      [['--method', 'idec', '--optimizer', 'rmsprop'], /--optimizer must be one of adam\|sgd/],
      [['--method', 'vade', '--init', 'zeros'], /--init must be one of glorot\|he\|auto/],
    ] as const) {
      const r = await cli([...base, ...extra]);
      expect(r.code, extra.join(' ')).toBe(2);
      expect(r.err).toMatch(msg);
    }
  });
});
