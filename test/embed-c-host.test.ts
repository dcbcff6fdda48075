// The exported classifier without JavaScript: the scalar build through wasm2c (Debian's wabt) and
// cc into a native program (examples/embed/host.c), which streams a simulated sample from a file
// and must give BloodCellPipeline.classify's probabilities within 1e-5 and its counts and
// percentages. Needs wasm2c and cc: outside CI it skips loudly without them; under CI=true
// (.ci/run installs wabt) a missing tool is a failure.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ComputeBackend } from '../bindings/backend.js';
import { createWasmBackend } from '../bindings/backends/wasm/index.js';
import { BloodCellPipeline } from '../bindings/pipeline/index.js';
import { simulateSample } from '../bindings/simulate/index.js';
import { exportClassifier, readGenericModule, SUMMARY_FIELDS } from '../bindings/export/module.js';
import { EmbeddedClassifier } from '../bindings/export/host.js';
import { buildCHost, cHostTools, runCHost } from './helpers/c-host.js';
import { trainTinyDog } from './helpers/tiny-pipeline.js';

const tools = cHostTools('test/embed-c-host.test.ts');

let be: ComputeBackend;
let dir: string;
let model: Uint8Array;

beforeAll(async () => {
  if (!tools) return;
  dir = await mkdtemp(join(tmpdir(), 'hemaclust-c-host-'));
  be = await createWasmBackend({ threads: 1 });
  model = await trainTinyDog(be, 4, 60, 3);
}, 600_000);

afterAll(async () => {
  be?.destroy();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe.skipIf(!tools)('exported classifier through wasm2c and cc', () => {
  it('classifies a simulated sample as BloodCellPipeline.classify does', async () => {
    await buildCHost(dir, await exportClassifier(model, await readGenericModule('scalar'), 'scalar'));
    const s = simulateSample({ species: 'dog', cells: 2000, seed: 12, sampleIndex: 80 });
    const out = await runCHost(dir, s.signals);
    expect(out.meta.features).toBe(s.features.length);
    const pipe = BloodCellPipeline.fromBytes(model, be, 'model');
    const want = await pipe.classify({ id: 'c', rows: s.cells, cols: s.features.length, data: s.signals });
    pipe.dispose();
    const got = out.probabilities;
    expect(got.length).toBe(want.probabilities.length);
    let worst = 0;
    for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want.probabilities[i]!));
    expect(worst).toBeLessThanOrEqual(1e-5);
    const field = (k: (typeof SUMMARY_FIELDS)[number]) => out.summary[SUMMARY_FIELDS.indexOf(k)];
    expect({ platelet: field('platelet'), rbc: field('rbc'), reticulocyte: field('reticulocyte'), clumped_rbc: field('clumped_rbc') }).toEqual(want.summary.counts);
    expect({ plt_pct: field('plt_pct'), retic_pct: field('retic_pct'), clump_pct: field('clump_pct') }).toEqual(want.summary.percentages);
  }, 300_000);

  it('runs the --int8 export as the JavaScript host runs it, bit for bit', async () => {
    const wasm = await exportClassifier(model, await readGenericModule('scalar'), 'scalar', 'model', { int8: true });
    const sub = join(dir, 'int8');
    await mkdir(sub);
    await buildCHost(sub, wasm);
    const s = simulateSample({ species: 'dog', cells: 2000, seed: 12, sampleIndex: 81 });
    const out = await runCHost(sub, s.signals);
    expect(out.meta.precision).toBe('int8');
    const want = (await EmbeddedClassifier.load(wasm)).classify(s.signals, s.cells, s.features.length);
    expect(Buffer.from(want.probabilities.buffer).equals(Buffer.from(out.probabilities.buffer, out.probabilities.byteOffset, out.probabilities.byteLength))).toBe(true);
    expect(out.summary.slice(0, SUMMARY_FIELDS.length)).toEqual(SUMMARY_FIELDS.map((k) => want.summary[k]));
  }, 300_000);
});
