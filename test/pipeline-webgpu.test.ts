// The whole pipeline trained on the WebGPU backend (lavapipe here: a software adapter, so at the
// tiny size of test/helpers/tiny-pipeline.ts): every op training uses runs there, the mixture EM
// included (em-rows.ts), and the model it writes is an ordinary model file. Checked by loading it
// on wasm and classifying the same samples on both backends: the same model on two backends must
// give the same per-event probabilities up to f32 rounding, and counts within a few events.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ComputeBackend } from '../bindings/backend.js';
import { createWasmBackend } from '../bindings/backends/wasm/index.js';
import { createWebGPUBackend } from '../bindings/backends/webgpu/index.js';
import { BloodCellPipeline } from '../bindings/pipeline/index.js';
import { simulateSample } from '../bindings/simulate/index.js';
import { asTrainingSet, trainTiny } from './helpers/tiny-pipeline.js';

let gpu: ComputeBackend | null = null;
let cpu: ComputeBackend;
beforeAll(async () => {
  gpu = await createWebGPUBackend();
  cpu = await createWasmBackend({ relaxed: false });
  if (!gpu) {
    if (process.env.CI === 'true') throw new Error('webgpu: no adapter under CI=true: this is a failure, not a skip');
    console.warn('\n*** SKIPPING test/pipeline-webgpu.test.ts: no WebGPU adapter. Under CI=true this fails. ***\n');
  }
});
afterAll(() => {
  gpu?.destroy();
  cpu?.destroy();
});

describe('pipeline training on webgpu', () => {
  it('trains end to end, and its model classifies alike on webgpu and wasm', async (ctx) => {
    if (!gpu) return ctx.skip();
    const sims = [0, 1, 2, 3].map((i) => simulateSample({ species: 'dog', cells: 600, seed: 31, sampleIndex: i }));
    const bytes = await trainTiny(gpu, sims, 5);
    const { inputs } = asTrainingSet(sims);
    const onGpu = BloodCellPipeline.fromBytes(bytes, gpu);
    const onCpu = BloodCellPipeline.fromBytes(bytes, cpu);
    try {
      for (const s of inputs) {
        const a = await onGpu.classify(s);
        const b = await onCpu.classify(s);
        expect(a.probabilities.every(Number.isFinite)).toBe(true);
        let worst = 0;
        for (let i = 0; i < a.probabilities.length; i++) worst = Math.max(worst, Math.abs(a.probabilities[i] - b.probabilities[i]));
        expect(worst, `${s.id}: largest probability difference webgpu vs wasm`).toBeLessThan(1e-3);
        for (const key of ['plt_pct', 'retic_pct', 'clump_pct'] as const) {
          const v = a.summary.percentages[key];
          expect(v >= 0 && v <= 100, `${s.id} ${key} = ${v}`).toBe(true);
          // A probability that ties near 0.5 may fall on the other side on the other backend.
          expect(Math.abs(v - b.summary.percentages[key]), `${s.id} ${key}`).toBeLessThan(100 * 3 / s.rows);
        }
      }
    } finally {
      onGpu.dispose();
      onCpu.dispose();
    }
  }, 600_000);
});
