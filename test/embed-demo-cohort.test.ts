// The demo cohort (`hemaclust demo`'s defaults: its species, seed, sample sizes and held-out
// samples) through the exported classifier, in both hosts an analyzer maker would use: the module
// instantiated by Node with an empty import object (SIMD and scalar builds), and the scalar build
// compiled to C by wasm2c and run as a native program. Every held-out sample must come out with
// the counts and percentages BloodCellPipeline.classify (what `hemaclust classify` runs) reports,
// and every event's probabilities within 1e-5; the --int8 export with every percentage within
// 0.1 pp (issue 20's target). The model is trained on the cohort's training samples with few
// epochs (the demo's full training takes minutes): what is compared is the module against the
// TypeScript path on the same model, which any trained model exercises.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ComputeBackend } from '../bindings/backend.js';
import { createWasmBackend } from '../bindings/backends/wasm/index.js';
import { DEMO } from '../bindings/cli/commands/demo.js';
import { BloodCellPipeline, type ClassifyResult, type SampleInput } from '../bindings/pipeline/index.js';
import { simulateSample } from '../bindings/simulate/index.js';
import { exportClassifier, readGenericModule, SUMMARY_FIELDS, type EmbedFlavour } from '../bindings/export/module.js';
import { EmbeddedClassifier } from '../bindings/export/host.js';
import { buildCHost, cHostTools, runCHost } from './helpers/c-host.js';
import { asTrainingSet, TINY_TRAINING } from './helpers/tiny-pipeline.js';

const DEMO_SEED = 1;
const PERCENTAGES = ['plt_pct', 'retic_pct', 'clump_pct'] as const;
let be: ComputeBackend;
let model: Uint8Array;
let heldOut: SampleInput[] = [];
let want: ClassifyResult[] = [];

beforeAll(async () => {
  be = await createWasmBackend({ threads: 1 });
  const sims = Array.from({ length: DEMO.train + DEMO.test }, (_, i) => simulateSample({ species: 'dog', cells: DEMO.cells, seed: DEMO_SEED, sampleIndex: i }));
  const { inputs, refs } = asTrainingSet(sims, sims.map((_, i) => `dog_${i + 1}`), true);
  const pipe = await BloodCellPipeline.train(inputs.slice(0, DEMO.train), refs, {
    backend: be, seed: DEMO_SEED, ...TINY_TRAINING, stage2Components: 8, cellsPerSample: 500,
  });
  model = pipe.toBytes();
  heldOut = inputs.slice(DEMO.train);
  want = [];
  for (const s of heldOut) want.push(await pipe.classify(s));
  pipe.dispose();
}, 600_000);

afterAll(() => be?.destroy());

function expectSame(got: { probabilities: Float32Array; counts: Record<string, number>; percentages: Record<string, number> }, w: ClassifyResult): void {
  expect(got.probabilities.length).toBe(w.probabilities.length);
  let worst = 0;
  for (let i = 0; i < got.probabilities.length; i++) worst = Math.max(worst, Math.abs(got.probabilities[i]! - w.probabilities[i]!));
  expect(worst).toBeLessThanOrEqual(1e-5);
  expect(got.counts).toEqual(w.summary.counts);
  expect(got.percentages).toEqual(w.summary.percentages);
}

/** The summary vector's counts and percentages, keyed as ClassifyResult's summary keys them. */
function fromSummary(field: (k: (typeof SUMMARY_FIELDS)[number]) => number) {
  return {
    counts: { platelet: field('platelet'), rbc: field('rbc'), reticulocyte: field('reticulocyte'), clumped_rbc: field('clumped_rbc') },
    percentages: { plt_pct: field('plt_pct'), retic_pct: field('retic_pct'), clump_pct: field('clump_pct') },
  };
}

describe('the demo cohort through the exported classifier', () => {
  it.each(['simd', 'scalar'] as EmbedFlavour[])('Node, empty import object, %s build: same counts and percentages as classify', async (flavour) => {
    const c = await EmbeddedClassifier.load(await exportClassifier(model, await readGenericModule(flavour), flavour));
    heldOut.forEach((s, i) => {
      const r = c.classify(s.data as Float32Array, s.rows, s.cols);
      expectSame({ probabilities: r.probabilities, ...fromSummary((k) => r.summary[k]) }, want[i]);
    });
  }, 120_000);

  it.each(['simd', 'scalar'] as EmbedFlavour[])('Node, --int8, %s build: every percentage within 0.1 pp of classify', async (flavour) => {
    const c = await EmbeddedClassifier.load(await exportClassifier(model, await readGenericModule(flavour), flavour, 'model', { int8: true }));
    heldOut.forEach((s, i) => {
      const r = c.classify(s.data as Float32Array, s.rows, s.cols);
      for (const k of PERCENTAGES) expect(Math.abs(r.summary[k] - want[i].summary.percentages[k])).toBeLessThanOrEqual(0.1);
    });
  }, 120_000);

  const tools = cHostTools('the C-host case of test/embed-demo-cohort.test.ts');
  it.skipIf(!tools)('C host (wasm2c + cc), scalar build: same counts and percentages as classify; --int8 within 0.1 pp', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hemaclust-demo-c-'));
    try {
      await buildCHost(dir, await exportClassifier(model, await readGenericModule('scalar'), 'scalar'));
      const int8Dir = join(dir, 'int8');
      await mkdir(int8Dir);
      await buildCHost(int8Dir, await exportClassifier(model, await readGenericModule('scalar'), 'scalar', 'model', { int8: true }));
      for (let i = 0; i < heldOut.length; i++) {
        const out = await runCHost(dir, heldOut[i].data as Float32Array);
        expect(out.meta.features).toBe(heldOut[i].cols);
        expectSame({ probabilities: out.probabilities, ...fromSummary((k) => out.summary[SUMMARY_FIELDS.indexOf(k)]) }, want[i]);
        const out8 = await runCHost(int8Dir, heldOut[i].data as Float32Array);
        for (const k of PERCENTAGES) expect(Math.abs(out8.summary[SUMMARY_FIELDS.indexOf(k)]! - want[i].summary.percentages[k])).toBeLessThanOrEqual(0.1);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 300_000);
});
