// The model files are meant to be read outside hemaclust (PyTorch, NumPy): examples/read_model.py
// reads one with the Python standard library alone, following only the documented layout
// (docs/model-files.md), and runs the encoder. Its embedding must equal our `transform`.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createReferenceBackend } from '../bindings/backends/reference/index.js';
import { IDEC, VaDE, saveModel, type Matrix } from '../bindings/models/index.js';
import { HostRng } from '../bindings/models/rng.js';

const be = createReferenceBackend();
const dir = mkdtempSync(join(tmpdir(), 'hemaclust-py-'));
const script = join(import.meta.dirname, '..', 'examples', 'read_model.py');

function data(rows: number, cols: number, seed: number): Matrix {
  const rng = new HostRng(seed, 99);
  return { rows, cols, data: Float32Array.from({ length: rows * cols }, (_, i) => 3 * rng.normal() + (i % cols)) };
}

function readWithPython(path: string, x: Matrix) {
  const rows = Array.from({ length: x.rows }, (_, r) => Array.from(x.data.subarray(r * x.cols, (r + 1) * x.cols)));
  const out = execFileSync('python3', [script, path], { input: JSON.stringify(rows), encoding: 'utf8' });
  return JSON.parse(out) as { metadata: Record<string, string>; tensors: Record<string, number[]>; embedding: number[][] };
}

describe('model files read by plain Python (examples/read_model.py)', () => {
  const x = data(40, 7, 1);
  const probe = data(5, 7, 2);

  for (const [kind, make] of [
    ['idec', () => new IDEC(be, { k: 3, dims: [6, 4, 2], seed: 3, maxIterations: 10, pretrain: { epochs: 2, batchSize: 16 } })],
    ['vade', () => new VaDE(be, { k: 3, dims: [6, 4, 2], seed: 3, epochs: 2, batchSize: 16, pretrain: { epochs: 2, batchSize: 16 } })],
  ] as const) {
    it(`${kind}: tensor names, [out, in] weights, metadata and the encoder output match transform`, async () => {
      const model = await make().fit(x);
      const path = join(dir, `${kind}.safetensors`);
      await saveModel(model, path, { classes: ['a', 'b', 'c'] });
      const py = readWithPython(path, probe);
      const arch = JSON.parse(py.metadata.architecture);
      expect(arch.model).toBe(kind);
      expect(JSON.parse(py.metadata.normalization).kind).toBe('standard');
      expect(JSON.parse(py.metadata.classes)).toEqual(['a', 'b', 'c']);
      expect(py.tensors['encoder.0.weight']).toEqual([6, 7]);
      if (kind === 'vade') {
        expect(py.tensors['encoder_mu.0.weight']).toEqual([2, 4]);
        expect(py.tensors['gmm.mu']).toEqual([3, 2]);
      } else {
        expect(py.tensors['encoder.2.weight']).toEqual([2, 4]);
        expect(py.tensors.cluster_centers).toEqual([3, 2]);
      }
      const ours = await model.transform(probe);
      expect(py.embedding.length).toBe(5);
      py.embedding.flat().forEach((v, i) => expect(v).toBeCloseTo(ours[i], 4));
    });
  }
});
