// The ONNX Runtime peers of the bench (bench/peers/onnx-model.ts, onnx-peer.ts): the hand-written
// ONNX encoding must be a model both runtimes load and run, computing the same dense chain as a
// plain forward pass on fresh random weights; the child-process runner must report its threads.
import { describe, expect, it } from 'vitest';
import { denseEncoderOnnx } from '../bench/peers/onnx-model.js';
import { onnxRuntimeMissing, runOnnxEncoder } from '../bench/peers/onnx-peer.js';
import { Rng, testSeed } from './helpers/rng.js';

const rng = new Rng(testSeed());

function forward(dims: number[], layers: { weight: Float32Array; bias: Float32Array }[], x: Float32Array, rows: number): Float64Array {
  let a = Float64Array.from(x);
  layers.forEach((l, i) => {
    const [n, m] = [dims[i], dims[i + 1]];
    const y = new Float64Array(rows * m);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < m; j++) {
        let s = l.bias[j];
        for (let t = 0; t < n; t++) s += a[r * n + t] * l.weight[t * m + j];
        y[r * m + j] = i + 1 < layers.length ? Math.max(0, s) : s;
      }
    }
    a = y;
  });
  return a;
}

describe('ONNX encoder model', () => {
  it('rejects weights that do not match the widths', () => {
    expect(() => denseEncoderOnnx([3, 2], [{ weight: new Float32Array(5), bias: new Float32Array(2) }])).toThrow(/layer 0 is not 3×2/);
    expect(() => denseEncoderOnnx([3, 2, 1], [{ weight: new Float32Array(6), bias: new Float32Array(2) }])).toThrow(/2 layers expected/);
  });

  // Both runtimes are devDependencies, so they are here wherever the tests are.
  it('finds both runtimes', () => {
    expect(onnxRuntimeMissing('node')).toBeNull();
    expect(onnxRuntimeMissing('web')).toBeNull();
  });

  it('runs in ONNX Runtime Node as the plain forward pass does', async () => {
    const ort = await import('onnxruntime-node');
    const dims = [7, 13, 5, 3];
    const layers = dims.slice(1).map((out, l) => ({ weight: Float32Array.from(rng.normals(dims[l] * out, 0.5)), bias: Float32Array.from(rng.normals(out, 0.1)) }));
    const rows = 9;
    const x = Float32Array.from(rng.normals(rows * dims[0], 1));
    const session = await ort.InferenceSession.create(denseEncoderOnnx(dims, layers));
    const y = (await session.run({ x: new ort.Tensor('float32', x, [rows, dims[0]]) })).y;
    expect(y.dims).toEqual([rows, 3]);
    const want = forward(dims, layers, x, rows);
    const got = y.data as Float32Array;
    for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i], 4);
    await session.release();
  });

  it('times the encoder chain in an ONNX Runtime Web child at the threads asked', () => {
    const got = runOnnxEncoder('web', [16, 8, 4], 256, 64, 2);
    if ('why' in got) throw new Error(got.why);
    expect(got.threads).toBe(2);
    expect(got.seconds).toBeGreaterThan(0);
    expect(got.version).toMatch(/^\d+\.\d+/);
  });
});
