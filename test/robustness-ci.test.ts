// The robustness matrix, reduced to what CI affords (bench/robustness/matrix.ts; the full tables:
// `npm run robustness`, bench/results/robustness-*.md). Two simulated analyzers the pipeline was
// never tuned on — 1/50 of the built-in units with skewed pulses on 24 time points, and a
// vendor's scalar-parameter export with impedance first and gains from ×0.01 to ×100 — each
// trained with a small network on references only and scored on held-out samples against the
// per-event truth. The bars are lower than the full matrix's (a small network, few samples): they
// catch a pipeline that reads units or layout wrongly (the case: platelet F1 0.00).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ComputeBackend } from '../bindings/backend.js';
import { createWasmBackend } from '../bindings/backends/wasm/index.js';
import { runMatrixCell } from '../bench/robustness/matrix.js';

const SMALL = {
  train: 8, test: 2, cells: 3000,
  trainOptions: { dims: [64, 32, 8], epochs: 6, stage2PretrainEpochs: 2, clusterIterations: 400, stage2Epochs: 4, stage2Components: 12, cellsPerSample: 2000, batchSize: 128 },
};

let be: ComputeBackend;
beforeAll(async () => {
  be = await createWasmBackend();
});
afterAll(() => be?.destroy());

describe('robustness matrix (reduced)', () => {
  for (const domain of ['low-gain', 'scalar-vendor']) {
    it(`${domain}: platelets found, classes far above chance, the gate passes`, async () => {
      const row = await runMatrixCell(be, domain, 1, SMALL);
      const f1 = row.perClassF1;
      console.log(`robustness-ci ${domain}: macro-F1 ${row.macroF1.toFixed(3)} (plt ${f1.platelet?.toFixed(3)}, rbc ${f1.rbc?.toFixed(3)}, retic ${f1.reticulocyte?.toFixed(3)}, ` +
        `clump ${f1.clumped_rbc?.toFixed(3)}), max err ${row.maxAbsError.plt_pct.toFixed(2)} / ${row.maxAbsError.retic_pct.toFixed(2)} / ${row.maxAbsError.clump_pct.toFixed(2)} pp, bound ${row.bound.macroF1.toFixed(3)}`);
      expect(row.gatePassed, JSON.stringify(row)).toBe(true);
      expect(f1.platelet!, JSON.stringify(row)).toBeGreaterThan(0.85);
      expect(f1.rbc!, JSON.stringify(row)).toBeGreaterThan(0.9);
      expect(row.macroF1, JSON.stringify(row)).toBeGreaterThan(0.7);
      expect(row.maxAbsError.plt_pct, JSON.stringify(row)).toBeLessThan(1.5);
      // The supervised bound is a real classifier on these events, not a placeholder.
      expect(row.bound.macroF1).toBeGreaterThan(0.8);
    }, 600_000);
  }
});
