// Int8 inference of a dense stack (Mlp.quantise → denseInt8, issue 21): the same numbers as the
// exported module's int8 arithmetic (bindings/export/int8.ts int8Dense, written independently of
// the backends) on the layers wide enough for int8, the narrow last layer left in f32, close to
// the f32 forward, and no training afterwards.
import { afterAll, describe, expect, it } from 'vitest';
import { createReferenceBackend } from '../bindings/backends/reference/index.js';
import { createWasmBackend } from '../bindings/backends/wasm/index.js';
import { int8Dense, quantiseWeights } from '../bindings/export/int8.js';
import { INT8_MIN_OUTPUTS, Mlp, transpose } from '../bindings/models/mlp.js';
import { Rng, testSeed } from './helpers/rng.js';

const rng = new Rng(testSeed());
// The last layer is narrower than INT8_MIN_OUTPUTS: it stays f32 (checked below).
const layers = [{ in: 37, out: 64, act: 'relu' as const }, { in: 64, out: 19, act: 'relu' as const }, { in: 19, out: 6, act: 'identity' as const }];
const weights = layers.map((l) => ({ w: Float32Array.from(rng.normals(l.in * l.out, Math.sqrt(2 / l.in))), b: Float32Array.from(rng.normals(l.out, 0.1)) }));
const rows = 50;
const x = Float32Array.from(rng.normals(rows * 37, 1.5));
x.fill(0, 0, 37); // one all-zero event row

/** The chain by the export's int8 reference (weights [out × in] per layer, as model files hold
 *  them) for the layers wide enough for int8, then the narrow last layer in float64. */
function exportedChain(): Float64Array {
  let a: Float32Array = x;
  layers.slice(0, -1).forEach((l, i) => {
    expect(l.out).toBeGreaterThanOrEqual(INT8_MIN_OUTPUTS);
    const q = quantiseWeights(transpose(weights[i].w, l.in, l.out), l.out, l.in);
    a = int8Dense(a, rows, q, weights[i].b, l.act === 'relu');
  });
  const last = layers[layers.length - 1];
  expect(last.out).toBeLessThan(INT8_MIN_OUTPUTS);
  const { w, b } = weights[layers.length - 1];
  const y = new Float64Array(rows * last.out);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < last.out; o++) {
      let s = b[o];
      for (let i = 0; i < last.in; i++) s += a[r * last.in + i] * w[i * last.out + o];
      y[r * last.out + o] = s;
    }
  }
  return y;
}

const made: { destroy(): void }[] = [];
afterAll(() => made.forEach((b) => b.destroy()));

describe('Mlp in int8', () => {
  for (const [name, make] of [['reference', async () => createReferenceBackend()], ['wasm', async () => createWasmBackend({ relaxed: false, threads: 2 })]] as const) {
    it(`${name}: quantise() gives the export's int8 numbers, near the f32 forward, and refuses backward`, async () => {
      const be = await make();
      made.push(be);
      const mlp = new Mlp(be, 'enc', layers);
      layers.forEach((l, i) => {
        be.upload(mlp.w[i], weights[i].w);
        be.upload(mlp.b[i], weights[i].b);
      });
      const X = be.create([rows, 37]);
      be.upload(X, x);
      const f32 = Float32Array.from((await be.download(mlp.forward(X))) as Float32Array);
      expect(mlp.quantised).toBe(false);
      await mlp.quantise();
      expect(mlp.quantised).toBe(true);
      const q = (await be.download(mlp.forward(X))) as Float32Array;
      const want = exportedChain();
      for (let i = 0; i < want.length; i++) expect(q[i]).toBeCloseTo(want[i], 5);
      let num = 0, den = 0;
      for (let i = 0; i < q.length; i++) {
        num += (q[i] - f32[i]) ** 2;
        den += f32[i] ** 2;
      }
      // Three int8 layers: about 1 % of the output's norm (each quantisation step ~0.4 % per layer).
      expect(Math.sqrt(num / den)).toBeLessThan(0.03);
      expect(Math.sqrt(num / den)).toBeGreaterThan(0); // it did run in int8
      expect(() => mlp.backward(mlp.outputGrad(rows))).toThrow(/int8/);
      be.dispose(X);
      mlp.dispose();
    });
  }
});
