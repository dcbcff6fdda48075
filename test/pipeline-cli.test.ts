// hemaclust train / classify / evaluate through the CLI entry on a tiny simulated cohort on disk.
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { run } from '../bindings/cli/main.js';
import { readNpyFile } from '../bindings/io/npy.js';
import { simulateCohort } from '../bindings/simulate/cohort.js';

let dir: string;
const QUICK = ['--backend', 'wasm', '--dims', '64,32,8', '--epochs', '3', '--stage2-epochs', '2', '--components', '8', '--cells-per-sample', '800', '--batch', '128'];

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a) => void out.push(a.join(' ')));
  const error = vi.spyOn(console, 'error').mockImplementation((...a) => void err.push(a.join(' ')));
  const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    const code = await run(args);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
    write.mockRestore();
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hemaclust-cli-'));
  await simulateCohort(join(dir, 'data'), { samples: 5, cellsPerSample: 1000, seed: 5, format: 'npy' });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('hemaclust train/classify/evaluate', () => {
  it('trains, classifies and evaluates a cohort', async () => {
    const model = join(dir, 'model.safetensors');
    // --force: a network this small on 5 × 1,000 events does not pass the clump gate (quality.ts).
    const t = await cli(['train', '--data', join(dir, 'data'), '--out', model, '--json', '--force', ...QUICK]);
    expect(t.err).toBe('');
    expect(t.code).toBe(0);
    expect(JSON.parse(t.out).samples).toBe(5);
    expect(typeof JSON.parse(t.out).quality.passed).toBe('boolean');

    const files = (await readdir(join(dir, 'data'))).filter((f) => f.endsWith('.npy')).sort().slice(0, 2).map((f) => join(dir, 'data', f));
    const c = await cli(['classify', '--model', model, ...files, '--out', join(dir, 'out'), '--backend', 'wasm', '--json']);
    expect(c.code).toBe(0);
    const summary = JSON.parse(c.out);
    expect(summary.samples).toHaveLength(2);
    expect(summary.samples[0].cells).toBe(1000);
    const probs = await readNpyFile(join(dir, 'out', `${summary.samples[0].id}.probabilities.npy`));
    expect(probs.shape).toEqual([1000, 4]);
    const csv = await readFile(join(dir, 'out', 'summary.csv'), 'utf8');
    expect(csv.split('\n')[0]).toBe('sample,cells,n_platelet,n_rbc,n_reticulocyte,n_clumped_rbc,plt_pct,retic_pct,clump_pct,flags');
    expect(summary.samples[0].quality.flags).toBeInstanceOf(Array);

    const e = await cli(['evaluate', '--model', model, '--data', join(dir, 'data'), '--backend', 'wasm', '--json']);
    expect(e.code).toBe(0);
    const ev = JSON.parse(e.out);
    expect(ev.samples).toHaveLength(5);
    expect(ev.confusion).toHaveLength(6);
    expect(ev.macroF1).toBeGreaterThan(0.3);
  }, 300_000);

  it('refuses references that belong to other samples with exit 1 and says why', async () => {
    // reference.csv with every row's values moved to the next sample.
    const lines = (await readFile(join(dir, 'data', 'reference.csv'), 'utf8')).trim().split('\n');
    const rows = lines.slice(1).map((l) => l.split(','));
    const rotated = rows.map((r, i) => [...r.slice(0, 3), ...rows[(i + 2) % rows.length].slice(3)].join(','));
    const ref = join(dir, 'rotated.csv');
    await writeFile(ref, [lines[0], ...rotated].join('\n') + '\n');
    const t = await cli(['train', '--data', join(dir, 'data'), '--reference', ref, '--out', join(dir, 'never.safetensors'), '--json', ...QUICK]);
    expect(t.code).toBe(1);
    expect(t.err).toMatch(/do not explain the training references/);
    expect(t.err).toMatch(/--force/);
    await expect(readFile(join(dir, 'never.safetensors'))).rejects.toThrow(/ENOENT/);
  }, 300_000);

  it('reports usage errors and a model/data mismatch clearly', async () => {
    expect((await cli(['train', '--out', 'x'])).err).toMatch(/--data DIR is required/);
    const bad = await cli(['classify', '--model', join(dir, 'missing.safetensors'), 'a.npy', '--out', dir, '--backend', 'wasm']);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/missing\.safetensors: cannot read model file/);
  });
});
