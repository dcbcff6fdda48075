// The cluster / embed / predict commands end to end on the reference backend with small NPY files.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { run } from '../bindings/cli/main.js';
import { readNpyFile, toFloat32, toInt32, writeNpyFile } from '../bindings/io/npy.js';
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
      const r = await cli(['cluster', '--data', X, '--labels', Y, '--method', method, '--k', '3', '--quiet', ...common]);
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/ACC (0\.9\d+|1\.0000)/);
    }
    expect((await cli(['cluster', '--data', X, '--k', '3', '--method', 'gmm'])).code).toBe(2);
    expect((await cli(['cluster', '--data', X])).code).toBe(2);
    const bad = await cli(['cluster', '--data', X, '--labels', X, '--k', '3', '--backend', 'reference']);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/x\.npy/);
  });
});
