// ClassifyWorkers (sample-parallel classify on worker threads) against in-process classify on a
// 1-thread wasm backend: the same model bytes, the same wasm build and the same single-threaded
// arithmetic, so every result must be bit-identical. Also: results in the caller's order whatever
// order the workers finish in, errors that name the sample as in-process classify does, a dying
// worker, close() with work pending, and a model that does not load.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ComputeBackend } from '../bindings/backend.js';
import { run } from '../bindings/cli/main.js';
import { encodeNpy } from '../bindings/io/npy.js';
import { createWasmBackend } from '../bindings/backends/wasm/index.js';
import { BloodCellPipeline, type ClassifyResult, type Reference, type SampleInput } from '../bindings/pipeline/index.js';
import { ClassifyWorkers } from '../bindings/pipeline/classify-workers.js';
import { simulateSample } from '../bindings/simulate/index.js';

let be: ComputeBackend;
let bytes: Uint8Array;
let local: BloodCellPipeline;
let pool: ClassifyWorkers;

/** Fresh simulated samples (seeds never used for training). */
function samples(sizes: number[], seed: number): SampleInput[] {
  return sizes.map((cells, i) => {
    const s = simulateSample({ species: 'dog', cells, seed, sampleIndex: 50 + i });
    return { id: `x${seed}-${i}`, rows: s.cells, cols: s.features.length, data: s.signals };
  });
}

const bits = (a: Float32Array | undefined) => (a ? Buffer.from(a.buffer, a.byteOffset, a.byteLength) : null);

function expectIdentical(got: ClassifyResult, want: ClassifyResult): void {
  expect(got.summary).toEqual(want.summary);
  expect(got.probabilities.length).toBe(want.probabilities.length);
  expect(bits(got.probabilities)!.equals(bits(want.probabilities)!)).toBe(true);
  expect(want.embedding2d).toBeDefined();
  expect(bits(got.embedding2d)!.equals(bits(want.embedding2d)!)).toBe(true);
}

beforeAll(async () => {
  be = await createWasmBackend({ threads: 1 });
  const train = samples([600, 600, 600, 600], 3).map((s, i) => ({ ...s, id: `t${i}` }));
  const refs = new Map<string, Reference>(train.map((s, i) => {
    const r = simulateSample({ species: 'dog', cells: 600, seed: 3, sampleIndex: 50 + i }).reference;
    return [s.id, { plt_pct: r.pltPct, retic_pct: r.reticPct, clump_pct: r.clumpPct }];
  }));
  const trained = await BloodCellPipeline.train(train, refs, {
    backend: be, force: true, seed: 2, dims: [32, 16, 8], epochs: 1, stage2PretrainEpochs: 1, clusterIterations: 30, stage2Epochs: 1,
    stage2Components: 6, cellsPerSample: 400, batchSize: 128,
  });
  bytes = trained.toBytes();
  trained.dispose();
  local = BloodCellPipeline.fromBytes(bytes, be, 'test model');
  pool = await ClassifyWorkers.start(bytes, { workers: 2 });
}, 120_000);

afterAll(async () => {
  await pool?.close();
  local?.dispose();
  be?.destroy();
});

describe('ClassifyWorkers', () => {
  it('gives the in-process results bit for bit, in the caller\'s order', async () => {
    expect(pool.size).toBe(2);
    expect(pool.devices).toEqual([be.info().device, be.info().device]);
    // A large sample first: the small ones behind it finish earlier on the other worker.
    const xs = samples([12000, 150, 900, 60, 2500, 333], 21);
    const finished: number[] = [];
    const got = await Promise.all(xs.map((s, i) => pool.classify(s).then((r) => (finished.push(i), r))));
    expect(finished[0]).not.toBe(0);
    for (let i = 0; i < xs.length; i++) {
      expect(got[i].summary.id).toBe(xs[i].id);
      expectIdentical(got[i], await local.classify(xs[i]));
    }
  });

  it('copies a view over part of a larger buffer and leaves the caller\'s data alone', async () => {
    const [s] = samples([700], 22);
    const F = s.cols;
    const big = new Float32Array((s.rows + 10) * F).fill(NaN); // NaN around the view: a wrong offset fails
    big.set(s.data, 5 * F);
    const view = { ...s, data: big.subarray(5 * F, (5 + s.rows) * F) };
    expectIdentical(await pool.classify(view), await local.classify(s));
    expect(view.data.length).toBe(s.rows * F);
    expect(Buffer.from(view.data.buffer, view.data.byteOffset, view.data.byteLength).equals(bits(s.data)!)).toBe(true);
  });

  it('reads shared-memory data in place and moves a transferred array, with the same results', async () => {
    const [a, b] = samples([800, 650], 24);
    const F = a.cols;
    // A view into the middle of a SharedArrayBuffer with NaN around it: a wrong offset fails.
    const sab = new Float32Array(new SharedArrayBuffer((a.rows + 6) * F * 4)).fill(NaN);
    sab.set(a.data, 3 * F);
    const shared = { ...a, data: sab.subarray(3 * F, (3 + a.rows) * F) };
    expectIdentical(await pool.classify(shared), await local.classify(a));
    expect(Buffer.from(sab.buffer, 3 * F * 4, a.rows * F * 4).equals(bits(a.data)!)).toBe(true);
    const want = await local.classify(b);
    const moved = { ...b, data: b.data.slice() };
    expectIdentical(await pool.classify(moved, { transfer: true }), want);
    expect(moved.data.length).toBe(0); // detached: the events went to the worker
    // Without `transfer` a whole array is copied, the caller keeps it.
    const kept = { ...b, data: b.data.slice() };
    expectIdentical(await pool.classify(kept), want);
    expect(kept.data.length).toBe(b.rows * F);
  });

  it('rejects a bad sample with in-process classify\'s error and stays usable', async () => {
    const [good, wide] = samples([400, 30], 23);
    const wrongWidth: SampleInput = { id: 'narrow', rows: 30, cols: wide.cols - 1, data: wide.data.subarray(0, 30 * (wide.cols - 1)) };
    const nan = { ...wide, id: 'has-nan', data: Float32Array.from(wide.data) };
    nan.data[7 * nan.cols + 3] = NaN;
    const f64 = { ...wide, id: 'f64', data: Float64Array.from(wide.data) as unknown as Float32Array };
    for (const bad of [wrongWidth, nan, f64]) {
      const want = await local.classify(bad).then(() => null, (e: Error) => e);
      expect(want).toBeInstanceOf(Error);
      const got = await pool.classify(bad).then(() => null, (e: Error) => e);
      expect(got?.message).toBe(want!.message);
      expect(got?.name).toBe(want!.name);
    }
    // Data that cannot be sent to a worker at all: rejected by postMessage, no worker is tied up.
    await expect(pool.classify({ ...good, data: (() => 1) as unknown as Float32Array })).rejects.toThrow(/could not be cloned/);
    expectIdentical(await pool.classify(good), await local.classify(good));
    expect(pool.size).toBe(2);
  });

  it('rejects everything pending on close() and refuses work after it', async () => {
    const p = await ClassifyWorkers.start(bytes, { workers: 1 });
    const xs = samples([3000, 200, 200], 24);
    // Queued behind a busy worker, a sample that cannot be sent must not hold up the one after it.
    const unsendable = { ...xs[1], data: (() => 1) as unknown as Float32Array };
    const queued = [p.classify(xs[1]), p.classify(unsendable).then(() => 'sent', (e: Error) => e.message), p.classify(xs[2])];
    const [r1, bad, r2] = await Promise.all(queued);
    expect(bad).toMatch(/could not be cloned/);
    expect([(r1 as ClassifyResult).summary.id, (r2 as ClassifyResult).summary.id]).toEqual([xs[1].id, xs[2].id]);
    const pending = xs.map((s) => p.classify(s).then(() => 'resolved', (e: Error) => e.message));
    await p.close();
    const why = await Promise.all(pending);
    xs.forEach((s, i) => expect(why[i]).toBe(`ClassifyWorkers closed before sample '${s.id}' was classified`));
    await expect(p.classify(xs[1])).rejects.toThrow('ClassifyWorkers is closed');
  });

  it('fails to start, without hanging, on bytes that are no model', async () => {
    await expect(ClassifyWorkers.start(new Uint8Array(64), { workers: 2 })).rejects.toThrow(/worker \d failed to start: classify worker model/);
    await expect(ClassifyWorkers.start(bytes, { workers: 0 })).rejects.toThrow(/workers must be a positive integer/);
  });

  it('hemaclust classify --workers: the same files as in-process, summaries in file order', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hemaclust-cw-'));
    try {
      const model = join(dir, 'model.safetensors');
      await writeFile(model, bytes);
      const xs = samples([4000, 120, 800], 26); // the first file finishes last
      const files = xs.map((s) => join(dir, `${s.id}.npy`));
      await Promise.all(xs.map((s, i) => writeFile(files[i], encodeNpy([s.rows, s.cols], s.data))));
      const cli = async (...args: string[]) => {
        const out: string[] = [];
        const log = vi.spyOn(console, 'log').mockImplementation((...a) => void out.push(a.join(' ')));
        try {
          return { code: await run(['classify', '--model', model, ...files, '--backend', 'wasm', '--json', ...args]), out: out.join('\n') };
        } finally {
          log.mockRestore();
        }
      };
      const one = await cli('--out', join(dir, 'w1'), '--workers', '1');
      const two = await cli('--out', join(dir, 'w2'), '--workers', '2');
      expect([one.code, two.code]).toEqual([0, 0]);
      expect(JSON.parse(two.out).samples.map((s: { id: string }) => s.id)).toEqual(xs.map((s) => s.id));
      expect(JSON.parse(two.out)).toEqual(JSON.parse(one.out));
      for (const name of ['summary.csv', ...xs.map((s) => `${s.id}.probabilities.npy`)]) {
        expect((await readFile(join(dir, 'w2', name))).equals(await readFile(join(dir, 'w1', name)))).toBe(true);
      }
      const err = vi.spyOn(console, 'error').mockImplementation(() => undefined);
      try {
        expect((await cli('--out', join(dir, 'w0'), '--workers', '0')).code).toBe(2);
      } finally {
        err.mockRestore();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  // Last: it kills the shared pool's workers.
  it('rejects the sample of a worker that dies, keeps going on the others, then says all died', async () => {
    const workers = (pool as unknown as { slots: { worker: Worker }[] }).slots.map((s) => s.worker);
    const [big, small, after] = samples([20000, 300, 300], 25);
    const dying = pool.classify(big).then(() => 'resolved', (e: Error) => e.message);
    const survivor = pool.classify(small);
    // Terminated at once: the sample was handed to worker 0 synchronously and takes far longer
    // than terminate() needs to stop the worker.
    await workers[0].terminate();
    expect(await dying).toMatch(/^ClassifyWorkers: worker 0 died \(exit code 1\) while classifying sample 'x25-0'; 1 of 2 workers remain$/);
    expectIdentical(await survivor, await local.classify(small));
    expect(pool.size).toBe(1);
    expectIdentical(await pool.classify(after), await local.classify(after));

    const queued = [pool.classify(big), pool.classify(small)].map((q) => q.then(() => 'resolved', (e: Error) => e.message));
    await workers[1].terminate();
    const msgs = await Promise.all(queued);
    expect(msgs[0]).toMatch(/worker 1 died \(exit code 1\) while classifying sample 'x25-0'; 0 of 2 workers remain/);
    expect(msgs[1]).toBe('ClassifyWorkers: all 2 workers have died (last: worker 1, exit code 1)');
    await expect(pool.classify(small)).rejects.toThrow('all 2 workers have died');
  });
});
