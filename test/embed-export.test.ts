// The exported classifier (hemaclust export; docs/embedding.md) against BloodCellPipeline.classify:
// the module, instantiated with an empty import object, must give every event's probabilities
// within 1e-5 and the same counts, percentages and quality flags, in both builds (SIMD128 and
// scalar), whatever the chunk size. This is the guard against drift: the exporter reads the
// decoded model file, so a change of the pipeline's classify that the module does not follow
// fails here. One small trained model (as test/classify-workers.test.ts trains it) and three
// hand-made ones (test/helpers/embed-models.ts) for the layouts training may produce.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { run } from '../bindings/cli/main.js';
import type { ComputeBackend } from '../bindings/backend.js';
import { createWasmBackend } from '../bindings/backends/wasm/index.js';
import { encodePipeline } from '../bindings/pipeline/model-file.js';
import { BloodCellPipeline, type ClassifyResult } from '../bindings/pipeline/index.js';
import { simulateSample } from '../bindings/simulate/index.js';
import { exportClassifier, readGenericModule, type EmbedFlavour } from '../bindings/export/module.js';
import { EmbeddedClassifier, type EmbeddedSummary } from '../bindings/export/host.js';
import { handSignals, handState, type HandLayout } from './helpers/embed-models.js';
import { trainTinyDog } from './helpers/tiny-pipeline.js';

const FLAVOURS: EmbedFlavour[] = ['simd', 'scalar'];
let be: ComputeBackend;
let trained: Uint8Array;

beforeAll(async () => {
  be = await createWasmBackend({ threads: 1 });
  trained = await trainTinyDog(be, 3, 50, 2);
}, 600_000);

afterAll(() => be?.destroy());

/** classify's flags as the module's bits (quality.ts sampleFlags, in its order). */
function flagBits(flags: string[]): number {
  const keys = [/^plt_pct /, /^retic_pct /, /^clump_pct /, /^signal level shifted/, /% of red-cell events unlike/, / events \(training samples had/];
  let bits = 0;
  for (const f of flags) keys.forEach((k, i) => (bits |= k.test(f) ? 1 << i : 0));
  return bits;
}

function expectSame(want: ClassifyResult, got: { probabilities: Float32Array; summary: EmbeddedSummary }): void {
  expect(got.probabilities.length).toBe(want.probabilities.length);
  let worst = 0;
  for (let i = 0; i < want.probabilities.length; i++) {
    const d = Math.abs(got.probabilities[i]! - want.probabilities[i]!);
    worst = Number.isNaN(d) ? Infinity : Math.max(worst, d);
  }
  expect(worst).toBeLessThanOrEqual(1e-5);
  const s = got.summary;
  expect(s.events).toBe(want.summary.cells);
  expect({ platelet: s.platelet, rbc: s.rbc, reticulocyte: s.reticulocyte, clumped_rbc: s.clumped_rbc }).toEqual(want.summary.counts);
  expect({ plt_pct: s.plt_pct, retic_pct: s.retic_pct, clump_pct: s.clump_pct }).toEqual(want.summary.percentages);
  const q = want.summary.quality;
  expect(s.quality_present).toBe(q ? 1 : 0);
  if (!q) return;
  expect(s.low_likelihood).toBeCloseTo(q.lowLikelihood, 12);
  // The module's medians come from histograms of 1/128-spread bins (assembly/embed/quality.ts).
  expect(Math.abs(s.signal_shift - Math.min(q.signalShift, 16))).toBeLessThanOrEqual(1 / 256 + 1e-9);
  let mask = ~0;
  if (Math.abs(q.signalShift - 1.5) <= 1 / 256) mask &= ~8; // within a bin of the threshold: either answer is right
  expect(s.quality_flags & mask).toBe(flagBits(q.flags) & mask);
}

describe('exported classifier: the trained model', () => {
  it('imports nothing and describes itself', async () => {
    for (const flavour of FLAVOURS) {
      const wasm = await exportClassifier(trained, await readGenericModule(flavour), flavour);
      expect(WebAssembly.Module.imports(new WebAssembly.Module(wasm as Uint8Array<ArrayBuffer>))).toEqual([]);
      const meta = (await EmbeddedClassifier.load(wasm)).meta() as { classes: string[]; features: number; featureNames: string[]; flavour: string; model: { format: string } };
      expect(meta.classes).toEqual(['platelet', 'rbc', 'reticulocyte', 'clumped_rbc']);
      expect(meta.featureNames.length).toBe(meta.features);
      expect(meta.flavour).toBe(flavour);
      expect(meta.model.format).toBe('hemaclust-pipeline/4');
    }
  });

  it.each(FLAVOURS)('%s build: classify\'s probabilities within 1e-5, its counts, percentages and flags', async (flavour) => {
    const pipe = BloodCellPipeline.fromBytes(trained, be, 'trained');
    const emb = await EmbeddedClassifier.load(await exportClassifier(trained, await readGenericModule(flavour), flavour));
    try {
      for (const [cells, index, chunk] of [[4000, 70, 512], [777, 71, 100], [2500, 72, 333], [1, 73, 512], [40, 74, 1]] as const) {
        const s = simulateSample({ species: 'dog', cells, seed: 9, sampleIndex: index });
        const want = await pipe.classify({ id: 'x', rows: s.cells, cols: s.features.length, data: s.signals });
        expectSame(want, emb.classify(s.signals, s.cells, s.features.length, chunk));
      }
    } finally {
      pipe.dispose();
    }
  });
});

describe('exported classifier: hand-made models of every layout', () => {
  it.each(['waveform', 'uneven', 'scalar'] as HandLayout[])('%s layout, both builds', async (kind) => {
    const bytes = encodePipeline(handState(kind, 11));
    const pipe = BloodCellPipeline.fromBytes(bytes, be, kind);
    try {
      for (const flavour of FLAVOURS) {
        const emb = await EmbeddedClassifier.load(await exportClassifier(bytes, await readGenericModule(flavour), flavour));
        for (const [rows, seed] of [[1500, 1], [64, 2]]) {
          const F = pipe.meta.features;
          const x = handSignals(handState(kind, 11), rows, seed);
          expectSame(await pipe.classify({ id: 'h', rows, cols: F, data: x }), emb.classify(x, rows, F, 200));
        }
      }
    } finally {
      pipe.dispose();
    }
  });

  it('refuses a model without channel roles', async () => {
    const st = handState('waveform', 3);
    st.layout = { kind: 'matrix', points: 0, groups: [], featureNames: null, inputColumns: st.meta.features };
    st.stage2.levels = null;
    st.stage2.pulse = null;
    st.domain = null;
    st.stage1.side = null;
    await expect(exportClassifier(encodePipeline(st), await readGenericModule('simd'), 'simd')).rejects.toThrow(/no channel roles/);
  });
});

describe('hemaclust export', () => {
  it('writes the module for --model, the scalar build with --no-simd, the int8 one with --int8, and refuses missing options', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hemaclust-export-'));
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const err = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const st = handState('scalar', 4);
      await writeFile(join(dir, 'm.safetensors'), encodePipeline(st));
      expect(await run(['export', '--model', join(dir, 'm.safetensors'), '--out', join(dir, 'a.wasm'), '--json'])).toBe(0);
      expect(JSON.parse(String(log.mock.calls.at(-1)![0]))).toMatchObject({ flavour: 'simd', features: st.meta.features, format: 'hemaclust-embedded/1' });
      expect(await run(['export', '--model', join(dir, 'm.safetensors'), '--out', join(dir, 'b.wasm'), '--no-simd'])).toBe(0);
      for (const [f, flavour] of [['a.wasm', 'simd'], ['b.wasm', 'scalar']]) {
        const c = await EmbeddedClassifier.load(new Uint8Array(await readFile(join(dir, f!))));
        expect(c.meta().flavour).toBe(flavour);
      }
      expect(await run(['export', '--model', join(dir, 'm.safetensors'), '--out', join(dir, 'c.wasm'), '--int8', '--json'])).toBe(0);
      expect(JSON.parse(String(log.mock.calls.at(-1)![0]))).toMatchObject({ flavour: 'simd', precision: 'int8' });
      expect(await run(['export', '--out', join(dir, 'c.wasm')])).toBe(2);
      expect(await run(['export', '--model', join(dir, 'none.safetensors'), '--out', join(dir, 'c.wasm')])).toBe(1);
    } finally {
      log.mockRestore();
      err.mockRestore();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('EmbeddedClassifier.inModelOrder', () => {
  it('reorders a file\'s columns by name to the order the module reads, and names a missing one', async () => {
    const st = handState('scalar', 5);
    const c = await EmbeddedClassifier.load(await exportClassifier(encodePipeline(st), await readGenericModule('simd'), 'simd'));
    const names = c.meta().featureNames as string[];
    const rows = 7;
    const x = handSignals(st, rows, 9);
    const F = names.length;
    // The file holds the same columns reversed, plus one the model does not read.
    const fileCols = [...names].reverse().concat('TIME');
    const file = new Float32Array(rows * fileCols.length);
    for (let r = 0; r < rows; r++) fileCols.forEach((n, j) => (file[r * fileCols.length + j] = n === 'TIME' ? -1 : x[r * F + names.indexOf(n)]!));
    expect(c.inModelOrder(file, rows, fileCols)).toEqual(x);
    expect(() => c.inModelOrder(file, rows, fileCols.map((n) => (n === names[2] ? 'other' : n)))).toThrow(new RegExp(`column '${names[2]}'`));
  });
});
