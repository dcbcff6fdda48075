// The --int8 export (docs/embedding.md, "int8"): the host reference of the int8 arithmetic
// (bindings/export/int8.ts) against float64 dense layers and closed-form cases; the module, both
// builds, against the reference pipeline that runs stage 1's encoder through that arithmetic
// (test/helpers/int8-reference.ts); and int8 against fp32 on a trained model: probabilities close,
// percentages within 0.1 pp.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ComputeBackend } from '../bindings/backend.js';
import { createWasmBackend } from '../bindings/backends/wasm/index.js';
import { encodePipeline } from '../bindings/pipeline/model-file.js';
import { simulateSample } from '../bindings/simulate/index.js';
import { exportClassifier, readGenericModule, type EmbedFlavour } from '../bindings/export/module.js';
import { EmbeddedClassifier } from '../bindings/export/host.js';
import { int8Dense, int8Plan, quantiseRow, quantiseWeights } from '../bindings/export/int8.js';
import { handSignals, handState, type HandLayout } from './helpers/embed-models.js';
import { int8ReferencePipeline } from './helpers/int8-reference.js';
import { trainTinyDog } from './helpers/tiny-pipeline.js';
import { Rng, testSeed, reproduceHint } from './helpers/rng.js';

const FLAVOURS: EmbedFlavour[] = ['simd', 'scalar'];
const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

function worstDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  expect(a.length).toBeGreaterThan(0);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    worst = Number.isNaN(d) ? Infinity : Math.max(worst, d);
  }
  return worst;
}

describe('int8 host reference', () => {
  const seed = testSeed();
  const hint = reproduceHint(seed, 'test/embed-int8.test.ts');

  it('quantises weights per output channel: |W − q·s| ≤ s/2, the row maximum at ±127, a zero row at scale 0', () => {
    const rng = new Rng(seed);
    const [nout, nin] = [7, 13];
    const w = Float32Array.from(rng.normals(nout * nin, 0.3));
    w.fill(0, 2 * nin, 3 * nin);
    const { q, scale } = quantiseWeights(w, nout, nin);
    for (let o = 0; o < nout; o++) {
      let top = 0;
      for (let i = 0; i < nin; i++) {
        expect(Math.abs(w[o * nin + i]! - q[o * nin + i]! * scale[o]!), hint).toBeLessThanOrEqual(scale[o]! / 2 * (1 + 1e-6));
        top = Math.max(top, Math.abs(q[o * nin + i]!));
      }
      expect(top).toBe(o === 2 ? 0 : 127);
    }
    expect(scale[2]).toBe(0);
  });

  it('quantises a row to nearest, ties to even, as f32.nearest', () => {
    const q = new Int8Array(6);
    // max 127: the scale is 1 and the values are quantised as they are.
    expect(quantiseRow(Float32Array.from([127, 0.5, 1.5, -0.5, -2.5, 2.5000002]), 6, q)).toBe(1);
    expect(Array.from(q)).toEqual([127, 0, 2, 0, -2, 3]);
    expect(quantiseRow(new Float32Array(6), 6, q)).toBe(0);
    expect(Array.from(q)).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('is exact where inputs and weights are on their grids (scales 1)', () => {
    const rng = new Rng(seed, 1);
    const [rows, nin, nout] = [5, 9, 4];
    const x = Float32Array.from({ length: rows * nin }, (_, i) => (i % nin === 0 ? 127 : rng.int(255) - 127));
    const w = Float32Array.from({ length: nout * nin }, (_, i) => (i % nin === 1 ? -127 : rng.int(255) - 127));
    const b = Float32Array.from([0.5, -1, 2, 0]);
    const y = int8Dense(x, rows, quantiseWeights(w, nout, nin), b, false);
    for (let r = 0; r < rows; r++) {
      for (let o = 0; o < nout; o++) {
        let s = b[o]!;
        for (let i = 0; i < nin; i++) s += x[r * nin + i]! * w[o * nin + i]!;
        expect(y[r * nout + o]).toBe(s);
      }
    }
  });

  it.each([[1, 1, 3], [7, 9, 5], [13, 37, 11]])('%i rows × %i inputs → %i outputs: within the quantisation bound of the float64 layer', (rows, nin, nout) => {
    const rng = new Rng(seed, 2 + nin);
    const x = Float32Array.from(rng.normals(rows * nin, 2));
    const w = Float32Array.from(rng.normals(nout * nin, 0.2));
    const b = Float32Array.from(rng.normals(nout, 0.1));
    const layer = quantiseWeights(w, nout, nin);
    const y = int8Dense(x, rows, layer, b, true);
    const qx = new Int8Array(nin);
    for (let r = 0; r < rows; r++) {
      const xs = quantiseRow(x.subarray(r * nin, (r + 1) * nin), nin, qx);
      for (let o = 0; o < nout; o++) {
        // |x·w − qx·qw·xs·ws| ≤ Σ |x| ws/2 + |w| xs/2 + xs ws/4, plus f32 rounding of the dequantisation.
        let exact = b[o]!;
        let bound = 0;
        let mag = Math.abs(b[o]!);
        for (let i = 0; i < nin; i++) {
          const [xi, wi] = [x[r * nin + i]!, w[o * nin + i]!];
          exact += xi * wi;
          bound += (Math.abs(xi) * layer.scale[o]!) / 2 + (Math.abs(wi) * xs) / 2 + (xs * layer.scale[o]!) / 4;
          mag += Math.abs(xi * wi);
        }
        const got = y[r * nout + o]!;
        expect(Number.isFinite(got)).toBe(true);
        expect(Math.abs(got - Math.max(exact, 0)), hint).toBeLessThanOrEqual(bound + 1e-6 * mag);
      }
    }
  });
});

describe('int8 module against the int8 reference pipeline', () => {
  it.each(['waveform', 'uneven', 'scalar'] as HandLayout[])('%s layout, both builds, every layer int8 and the first kept fp32', async (kind) => {
    const st = handState(kind, 13);
    const bytes = encodePipeline(st);
    const F = st.meta.features;
    const x = handSignals(st, 1500, 5);
    for (const keepFirst of [false, true]) {
      const ref = int8ReferencePipeline(bytes, int8Plan(st.dims.length, keepFirst));
      const want = await ref.classify({ id: 'r', rows: 1500, cols: F, data: x });
      ref.dispose();
      const got = [];
      for (const flavour of FLAVOURS) {
        const wasm = await exportClassifier(bytes, await readGenericModule(flavour), flavour, kind, { int8: true, int8KeepFirst: keepFirst });
        const emb = await EmbeddedClassifier.load(wasm);
        expect(emb.meta()).toMatchObject({ precision: 'int8', int8Layers: int8Plan(st.dims.length, keepFirst) });
        const out = emb.classify(x, 1500, F, 333);
        // Integer sums and the same f32 steps: an int8 layer gives the reference's bits from the
        // same inputs, so the fp32 contract's 1e-5 holds (what differs is after the encoder). A first
        // layer kept fp32 sums in another order than the float64 reference: a next-layer value on a
        // rounding tie could then quantise one step apart; none does on these fixed inputs.
        expect(worstDiff(out.probabilities, want.probabilities)).toBeLessThanOrEqual(1e-5);
        expect({ plt_pct: out.summary.plt_pct, retic_pct: out.summary.retic_pct, clump_pct: out.summary.clump_pct }).toEqual(want.summary.percentages);
        got.push(out);
      }
      // With every layer int8 the two builds differ only in how the exact integer sums are formed.
      if (!keepFirst) expect(bits(got[0]!.probabilities).equals(bits(got[1]!.probabilities))).toBe(true);
      expect(got[0]!.summary).toEqual(got[1]!.summary);
    }
  }, 120_000);
});

describe('int8 against fp32 on a trained model', () => {
  let be: ComputeBackend;
  let trained: Uint8Array;

  beforeAll(async () => {
    be = await createWasmBackend({ threads: 1 });
    trained = await trainTinyDog(be, 3, 50, 2);
  }, 600_000);

  afterAll(() => be?.destroy());

  it.each(FLAVOURS)('%s build: mean |Δp| small, every percentage within 0.1 pp', async (flavour) => {
    const generic = await readGenericModule(flavour);
    const fp32 = await EmbeddedClassifier.load(await exportClassifier(trained, generic, flavour));
    const int8 = await EmbeddedClassifier.load(await exportClassifier(trained, generic, flavour, 'trained', { int8: true }));
    for (const index of [70, 71]) {
      const s = simulateSample({ species: 'dog', cells: 5000, seed: 9, sampleIndex: index });
      const a = fp32.classify(s.signals, s.cells, s.features.length);
      const b = int8.classify(s.signals, s.cells, s.features.length);
      let sum = 0;
      for (let i = 0; i < a.probabilities.length; i++) sum += Math.abs(a.probabilities[i]! - b.probabilities[i]!);
      const mean = sum / a.probabilities.length;
      // Measured here: mean |Δp| ≈ 1e-4, single events up to ≈ 1e-2 (events on a class boundary),
      // percentages one or two events apart. The bound leaves 10× for other platforms' training.
      expect(mean).toBeLessThanOrEqual(1e-3);
      for (const k of ['plt_pct', 'retic_pct', 'clump_pct'] as const) expect(Math.abs(b.summary[k] - a.summary[k])).toBeLessThanOrEqual(0.1);
      expect(b.summary.events).toBe(a.summary.events);
    }
  });
});
