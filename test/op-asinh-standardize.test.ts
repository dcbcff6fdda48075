// asinhStandardize beyond the shared table (test/ops/cases.ts): it is the pipeline's preprocessing,
// so every backend must agree with the host formula (preprocess.ts applyPreprocessor, here written
// out for any scale: the pipeline calls the op with scale 1 on values in asinh units) on realistic
// analyzer rows; element by element (not only in norm) over asinh's three regimes — the noisy
// baseline (series / log1p paths), mid-size pulses and huge values (log 2v path); odd sizes; bad
// arguments rejected with the op's name. WebGPU: skips loudly without an adapter, fails under CI=true.
import { describe, expect, it } from 'vitest';
import type { ComputeBackend } from '../bindings/backend.js';
import { ShapeError } from '../bindings/checks.js';
import { applyPreprocessor } from '../bindings/pipeline/preprocess.js';

/** A typical waveform scale in signal units (KAPPA noise sds of the built-in simulator). */
const ASINH_SCALE = 16;
interface Preprocessor { scale: number; mean: Float32Array; std: Float32Array }

/** applyPreprocessor on x / scale (the division in float64, as the op's contract states). */
function hostPreprocess(p: Preprocessor, x: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows * cols; i++) {
    const c = i % cols;
    out[i] = (Math.asinh(x[i] / p.scale) - p.mean[c]) / p.std[c];
  }
  return out;
}
import { opTestBackends } from './helpers/backends.js';
import { reproduceHint, Rng, testSeed } from './helpers/rng.js';

const SEED = testSeed();
const hint = reproduceHint(SEED, 'test/op-asinh-standardize.test.ts');

const backends = opTestBackends('test/op-asinh-standardize.test.ts');

/** Runs the op; out is poisoned with NaN first so an unwritten element shows. */
async function runOp(be: ComputeBackend, x: Float32Array, p: Preprocessor, rows: number, cols: number): Promise<Float32Array> {
  const tx = be.create([rows, cols]);
  const tm = be.create([cols]);
  const ts = be.create([cols]);
  const to = be.create([rows, cols]);
  be.upload(tx, x);
  be.upload(tm, p.mean);
  be.upload(ts, p.std);
  be.upload(to, new Float32Array(rows * cols).fill(NaN));
  be.asinhStandardize(tx, tm, ts, p.scale, to);
  const out = (await be.download(to)) as Float32Array;
  for (const t of [tx, tm, ts, to]) be.dispose(t);
  return out;
}

/** Signals in asinh's three regimes: baseline noise, pulses, huge (beyond 2^12 · scale). */
function signals(rng: Rng, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => {
    const r = rng.int(8);
    if (r < 3) return rng.normal() * 3; // baseline noise: |x/scale| mostly < 0.5
    if (r < 7) return (rng.int(5) ? 1 : -1) * rng.range(8, 3000); // pulses
    return (rng.int(2) ? 1 : -1) * rng.range(1e5, 1e9); // saturated / huge
  });
}

describe('asinhStandardize is the pipeline preprocessing on every backend', () => {
  for (const [rows, cols, scale] of [[1, 1, ASINH_SCALE], [7, 13, ASINH_SCALE], [1001, 130, ASINH_SCALE], [33, 128, 3.7], [65, 24, 1]] as const) {
    it(`${rows} x ${cols}, scale ${scale}: element-wise against applyPreprocessor`, async () => {
      const rng = Rng.forCase(SEED, `asinhStandardize ${rows}x${cols} ${scale}`);
      const x = signals(rng, rows * cols);
      const p: Preprocessor = { scale, mean: Float32Array.from(rng.normals(cols, 2)), std: Float32Array.from(rng.uniforms(cols, 0.2, 3)) };
      const want = hostPreprocess(p, x, rows, cols);
      if (scale === 1) expect(Array.from(applyPreprocessor({ ...p, offset: new Float32Array(cols), scale: new Float32Array(cols).fill(1) }, x, rows, cols))).toEqual(Array.from(want));
      let compared = 0;
      for (const { name, be } of backends) {
        if (!be) continue;
        const got = await runOp(be, x, p, rows, cols);
        // Per element: |got − want| ≤ 2e-6 · (|asinh| + |mean|) / std, the f32 rounding of the two
        // terms before their difference (a plain relative bound would fail where they cancel).
        let worst = 0;
        let at = -1;
        for (let i = 0; i < want.length; i++) {
          const c = i % cols;
          const a = Math.asinh(x[i] / scale);
          const bound = (2e-6 * (Math.abs(a) + Math.abs(p.mean[c]))) / p.std[c] + 1e-30;
          const r = Math.abs(got[i] - want[i]) / bound;
          if (!(r <= worst)) {
            worst = r;
            at = i;
          }
        }
        expect(worst, `${name}: element ${at} (x=${x[at]}): got ${got[at]}, applyPreprocessor ${want[at]}; ${hint}`).toBeLessThanOrEqual(1);
        if (name === 'reference') expect(got).toEqual(want); // both round the same float64 value to f32
        compared++;
      }
      expect(compared).toBeGreaterThanOrEqual(3);
    });
  }

  it('2 wasm threads give exactly the 1-thread result (row slices of one kernel)', async () => {
    const rng = Rng.forCase(SEED, 'asinhStandardize threads');
    const [rows, cols] = [2049, 131];
    const x = signals(rng, rows * cols);
    const p: Preprocessor = { scale: ASINH_SCALE, mean: Float32Array.from(rng.normals(cols)), std: Float32Array.from(rng.uniforms(cols, 0.5, 2)) };
    const one = await runOp(backends[1].be!, x, p, rows, cols);
    const two = await runOp(backends[2].be!, x, p, rows, cols);
    expect(one.some(Number.isNaN)).toBe(false);
    expect(Buffer.from(two.buffer).equals(Buffer.from(one.buffer)), hint).toBe(true);
  });

  it('works in place (out = x)', async () => {
    const rng = Rng.forCase(SEED, 'asinhStandardize in place');
    const [rows, cols] = [9, 5];
    const x = signals(rng, rows * cols);
    const p: Preprocessor = { scale: ASINH_SCALE, mean: Float32Array.from(rng.normals(cols)), std: Float32Array.from(rng.uniforms(cols, 0.5, 2)) };
    const want = await runOp(backends[1].be!, x, p, rows, cols);
    for (const { name, be } of backends.slice(0, 3)) {
      const t = be!.create([rows, cols]);
      const tm = be!.create([cols]);
      const ts = be!.create([cols]);
      be!.upload(t, x);
      be!.upload(tm, p.mean);
      be!.upload(ts, p.std);
      be!.asinhStandardize(t, tm, ts, p.scale, t);
      const got = (await be!.download(t)) as Float32Array;
      for (let i = 0; i < got.length; i++) expect(Math.abs(got[i] - want[i]), `${name} [${i}]`).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(want[i])));
      for (const u of [t, tm, ts]) be!.dispose(u);
    }
  });

  it('rejects wrong shapes, dtypes and scales, naming the op', () => {
    for (const { be } of backends) {
      if (!be) continue;
      const x = be.create([4, 3]);
      const m3 = be.create([3]);
      const m2 = be.create([2]);
      const out = be.create([4, 3]);
      const out2 = be.create([3, 4]);
      const xi = be.create([4, 3], 'i32');
      expect(() => be.asinhStandardize(x, m2, m3, 16, out)).toThrow(ShapeError);
      expect(() => be.asinhStandardize(x, m3, m2, 16, out)).toThrow(/asinhStandardize: std must be \[D\]/);
      expect(() => be.asinhStandardize(x, m3, m3, 16, out2)).toThrow(/asinhStandardize: x, out must have the same shape/);
      expect(() => be.asinhStandardize(xi, m3, m3, 16, out)).toThrow(/asinhStandardize: x must be f32/);
      expect(() => be.asinhStandardize(m3, m3, m3, 16, out)).toThrow(/asinhStandardize: x must have rank 2/);
      for (const s of [0, -1, NaN, Infinity]) expect(() => be.asinhStandardize(x, m3, m3, s, out)).toThrow(/scale must be a positive finite/);
      expect(be.supportsOp('asinhStandardize')).toBe(true);
      for (const t of [x, m3, m2, out, out2, xi]) be.dispose(t);
    }
  });
});
