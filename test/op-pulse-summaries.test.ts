// pulseSummaries beyond the shared table (test/ops/cases.ts): it replaces the host function
// pipeline/pulse-features.ts pulseSummaries at classify time, so every backend is compared with that
// host code element by element (not only in norm), on simulated analyzer events (4 channels × 32
// samples) and on synthetic rows at odd channel widths; outputs poisoned with NaN; 2 wasm threads
// bit-identical to 1; bad arguments rejected with the op's name. WebGPU: skips loudly without an
// adapter, fails under CI=true.
//
// Tolerances per element, |got − host| ≤ tol · |host| (host = float64):
//   reference  0 after rounding to f32 (it runs the host's float64 arithmetic);
//   wasm       2⁻²³ (one f32 rounding of the float64 value; its f64 sum differs from the host's
//              only in summation order, and its asinh is another correctly-rounded-to-1-ulp f64);
//   webgpu     heights 2e-6 (one f32 asinh, as asinhStandardize's test), widths (T + 4)·2⁻²⁴: an
//              f32 running sum of T non-negative terms (no cancellation) plus the divide.
import { describe, expect, it } from 'vitest';
import type { ComputeBackend } from '../bindings/backend.js';
import { ShapeError } from '../bindings/checks.js';
import { fitPreprocessor, toAsinhUnits } from '../bindings/pipeline/preprocess.js';
import { detectLayout } from '../bindings/pipeline/layout.js';
import { pulseSummaries } from '../bindings/pipeline/pulse-features.js';

const ASINH_SCALE = 16;
import { simulateSample } from '../bindings/simulate/sample.js';
import { opTestBackends } from './helpers/backends.js';
import { reproduceHint, Rng, testSeed } from './helpers/rng.js';

const SEED = testSeed();
const hint = reproduceHint(SEED, 'test/op-pulse-summaries.test.ts');

const backends = opTestBackends('test/op-pulse-summaries.test.ts');

/** Runs the op; out is poisoned with NaN first so an unwritten element shows. */
async function runOp(be: ComputeBackend, x: Float32Array, rows: number, cols: number, channels: number, scale: number): Promise<Float32Array> {
  const tx = be.create([rows, cols]);
  const to = be.create([rows, 2 * channels]);
  be.upload(tx, x);
  be.upload(to, new Float32Array(rows * 2 * channels).fill(NaN));
  be.pulseSummaries(tx, scale, to);
  const out = (await be.download(to)) as Float32Array;
  be.dispose(tx);
  be.dispose(to);
  return out;
}

/** The host code for any channel count and scale (pulse-features.ts: 4 channels in asinh units,
 *  scale 1; the same loop otherwise). */
function hostSummaries(x: Float32Array, rows: number, cols: number, channels: number, scale: number): Float64Array {
  if (channels === 4 && cols >= 16 && scale === 1) {
    return pulseSummaries(detectLayout(null, cols), x, cols, Int32Array.from({ length: rows }, (_, i) => i));
  }
  const T = cols / channels;
  const out = new Float64Array(rows * 2 * channels);
  for (let i = 0; i < rows; i++) {
    for (let c = 0; c < channels; c++) {
      let peak = -Infinity;
      let area = 0;
      for (let t = 0; t < T; t++) {
        const v = x[i * cols + c * T + t];
        if (v > peak) peak = v;
        if (v > 0) area += v;
      }
      out[i * 2 * channels + 2 * c] = Math.asinh(peak / scale);
      out[i * 2 * channels + 2 * c + 1] = area / Math.max(peak, scale);
    }
  }
  return out;
}

/** Synthetic rows: noise, all-negative channels, pulses above and below the scale. */
function synthetic(rng: Rng, rows: number, channels: number, T: number): Float32Array {
  const x = new Float32Array(rows * channels * T);
  for (let b = 0; b < rows * channels; b++) {
    const kind = rng.int(4);
    const height = rng.range(2, 3000) * (rng.int(3) ? 1 : 0.01);
    const at = rng.int(T);
    for (let t = 0; t < T; t++) {
      const noise = rng.normal() * 2.5;
      x[b * T + t] = kind === 1 ? -Math.abs(noise) - 0.25 : kind === 0 ? noise : noise + height * Math.exp(-((t - at) ** 2) / 6);
    }
  }
  return x;
}

function tolerance(name: string, column: number, T: number): number {
  if (name === 'reference') return 0;
  if (name.startsWith('wasm')) return 2 ** -23;
  return column % 2 === 0 ? 2e-6 : (T + 4) * 2 ** -24;
}

async function compareAll(label: string, x: Float32Array, rows: number, cols: number, channels: number, scale: number) {
  const T = cols / channels;
  const want = hostSummaries(x, rows, cols, channels, scale);
  let compared = 0;
  for (const { name, be } of backends) {
    if (!be) continue;
    const got = await runOp(be, x, rows, cols, channels, scale);
    let worst = 0;
    let at = 0;
    for (let i = 0; i < want.length; i++) {
      const w = want[i];
      const tol = tolerance(name, i % (2 * channels), T);
      // Reference: exactly the f32 rounding of the host value; others: relative to it.
      const r = tol === 0 ? (got[i] === Math.fround(w) ? 0 : Infinity) : Math.abs(got[i] - w) / (tol * Math.abs(w) + 1e-30);
      if (!(r <= worst)) {
        worst = r;
        at = i;
      }
    }
    expect(worst, `${label}, ${name}: element ${at} (row ${Math.floor(at / (2 * channels))}, column ${at % (2 * channels)}): got ${got[at]}, host ${want[at]}; ${hint}`)
      .toBeLessThanOrEqual(1);
    compared++;
  }
  expect(compared).toBeGreaterThanOrEqual(3);
}

describe('pulseSummaries is the host pulse summary on every backend', () => {
  it('simulated analyzer events (4 channels × 32 samples, dog and cat)', async () => {
    for (const species of ['dog', 'cat'] as const) {
      const s = simulateSample({ species, cells: 1500, seed: SEED % 100000, sampleIndex: 3 });
      const cols = s.features.length;
      expect(cols).toBe(4 * s.points);
      const layout = detectLayout(s.features, cols);
      const units = toAsinhUnits(fitPreprocessor(layout, s.signals, s.cells, cols), Float32Array.from(s.signals), s.cells, cols);
      await compareAll(`simulated ${species}`, units, s.cells, cols, 4, 1);
    }
  });

  for (const [rows, channels, T, scale] of [[1, 1, 1, 16], [7, 3, 5, 16], [13, 4, 7, 3.7], [1001, 4, 33, 16], [9, 2, 4, 0.5]] as const) {
    it(`${rows} rows, ${channels} channels of ${T} samples, scale ${scale}`, async () => {
      const rng = Rng.forCase(SEED, `pulseSummaries ${rows} ${channels} ${T} ${scale}`);
      await compareAll(`${rows}x${channels}x${T}`, synthetic(rng, rows, channels, T), rows, channels * T, channels, scale);
    });
  }

  it('2 wasm threads give exactly the 1-thread result (row slices of one kernel)', async () => {
    const rng = Rng.forCase(SEED, 'pulseSummaries threads');
    const [rows, channels, T] = [2049, 4, 32];
    const x = synthetic(rng, rows, channels, T);
    const one = await runOp(backends[1].be!, x, rows, channels * T, channels, ASINH_SCALE);
    const two = await runOp(backends[2].be!, x, rows, channels * T, channels, ASINH_SCALE);
    expect(one.some(Number.isNaN)).toBe(false);
    expect(Buffer.from(two.buffer).equals(Buffer.from(one.buffer)), hint).toBe(true);
  });

  it('rejects wrong shapes, dtypes and scales, naming the op', () => {
    for (const { be } of backends) {
      if (!be) continue;
      const x = be.create([5, 12]);
      const out = be.create([5, 8]);
      const odd = be.create([5, 7]);
      const bad = be.create([5, 10]); // 5 channels do not divide 12 samples
      const rowsOff = be.create([4, 8]);
      const xi = be.create([5, 12], 'i32');
      const v = be.create([12]);
      expect(() => be.pulseSummaries(x, 16, odd)).toThrow(ShapeError);
      expect(() => be.pulseSummaries(x, 16, bad)).toThrow(/pulseSummaries: out must be \[N, 2C\] for x \[N, C·T\]/);
      expect(() => be.pulseSummaries(x, 16, rowsOff)).toThrow(/pulseSummaries: x and out must have the same number of rows/);
      expect(() => be.pulseSummaries(xi, 16, out)).toThrow(/pulseSummaries: x must be f32/);
      expect(() => be.pulseSummaries(v, 16, out)).toThrow(/pulseSummaries: x must have rank 2/);
      for (const s of [0, -1, NaN, Infinity]) expect(() => be.pulseSummaries(x, s, out)).toThrow(/scale must be a positive finite/);
      expect(be.supportsOp('pulseSummaries')).toBe(true);
      for (const t of [x, out, odd, bad, rowsOff, xi, v]) be.dispose(t);
    }
  });
});
