// Training-time augmentation: the image transform against hand-worked pixel moves, and the batch
// loader's host path against the backend's gatherRows path (an identity augmentation must train
// exactly the same weights), plus determinism per seed for every model that takes `augment`.
import { describe, expect, it } from 'vitest';
import { createReferenceBackend } from '../bindings/backends/reference/index.js';
import { Autoencoder, IDEC, VaDE, imageAffine, type Augment, type Matrix } from '../bindings/models/index.js';
import { HostRng } from '../bindings/models/rng.js';

const be = createReferenceBackend();

/** An rng stand-in whose uniform() always returns `u` (1 → the largest positive shift/rotation). */
const fixedRng = (u: number) => ({ uniform: () => u }) as unknown as HostRng;

describe('imageAffine', () => {
  it('shifts by whole pixels exactly, filling with zeros', () => {
    const w = 5, h = 4;
    const img = Float32Array.from({ length: w * h }, (_, i) => i + 1);
    const out = img.slice();
    imageAffine({ width: w, height: h, maxShift: 1, maxRotate: 0 })(out, 1, w * h, fixedRng(1));
    // tx = ty = +1: the output pixel (x, y) is the source pixel (x − 1, y − 1).
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) expect(out[y * w + x]).toBe(x >= 1 && y >= 1 ? img[(y - 1) * w + (x - 1)] : 0);
    }
  });

  it('rotates a quarter turn about the centre', () => {
    const n = 5;
    const img = new Float32Array(n * n);
    img[0 * n + 4] = 1; // top-right corner (x = 4, y = 0)
    const out = img.slice();
    imageAffine({ width: n, height: n, maxShift: 0, maxRotate: 90 })(out, 1, n * n, fixedRng(1));
    // With a = 90° the output pixel (x, y) reads the source at (c + dy, c − dx), (dx, dy) = (x − c, y − c),
    // c = 2: the output (4, 4) reads (4, 0), so the corner moves to (4, 4) and nowhere else.
    const hot = [...out].map((v, i) => [v, i] as const).filter(([v]) => Math.abs(v) > 1e-6);
    expect(hot.length).toBe(1);
    expect(hot[0][1]).toBe(4 * n + 4);
    expect(hot[0][0]).toBeCloseTo(1, 5);
  });

  it('is the identity with no shift and no rotation, and processes every row of a batch', () => {
    const img = Float32Array.from({ length: 3 * 16 }, (_, i) => Math.sin(i));
    const a = img.slice();
    imageAffine({ width: 4, height: 4, maxShift: 0, maxRotate: 0 })(a, 3, 16, new HostRng(1, 7));
    for (let i = 0; i < a.length; i++) expect(a[i]).toBeCloseTo(img[i], 6);
    const b = img.slice();
    imageAffine({ width: 4, height: 4, maxShift: 1, maxRotate: 0 })(b, 3, 16, new HostRng(2, 7));
    for (let r = 0; r < 3; r++) expect(b.subarray(r * 16, r * 16 + 16)).not.toEqual(img.subarray(r * 16, r * 16 + 16));
  });

  it('rejects rows of the wrong length and bad sizes', () => {
    expect(() => imageAffine({ width: 4, height: 4 })(new Float32Array(15), 1, 15, new HostRng(1, 7))).toThrow(/expected 4×4/);
    expect(() => imageAffine({ width: 0, height: 4 })).toThrow(/positive integers/);
    expect(() => imageAffine({ width: 4, height: 4, maxShift: -1 })).toThrow(/≥ 0/);
  });
});

/** 60 rows of 4×4 "images" in [0,1]: a bright bar whose position gives the class. */
function bars(): Matrix {
  const rng = new HostRng(3, 99);
  const data = new Float32Array(60 * 16);
  for (let i = 0; i < 60; i++) {
    for (let j = 0; j < 16; j++) data[i * 16 + j] = 0.1 * rng.uniform() + (j % 4 === i % 3 ? 0.8 : 0);
  }
  return { rows: 60, cols: 16, data };
}

describe('training with augment', () => {
  const x = bars();
  const cfg = { dims: [8, 2], seed: 4 };
  const pre = { epochs: 3, batchSize: 16, lr: 3e-3 };
  const identity: Augment = () => undefined;
  const shift = imageAffine({ width: 4, height: 4, maxShift: 1, maxRotate: 15 });

  it('an identity augmentation trains exactly what the device gather path trains', async () => {
    const plain = await new Autoencoder(be, cfg).fit(x, pre);
    const hostPath = await new Autoencoder(be, cfg).fit(x, { ...pre, augment: identity });
    expect(await hostPath.transform(x)).toEqual(await plain.transform(x));
  });

  it('a real augmentation changes training and is deterministic per seed (AE, IDEC, VaDE)', async () => {
    const plain = await new Autoencoder(be, cfg).fit(x, pre);
    const a1 = await new Autoencoder(be, cfg).fit(x, { ...pre, augment: shift });
    const a2 = await new Autoencoder(be, cfg).fit(x, { ...pre, augment: shift });
    expect(await a1.transform(x)).toEqual(await a2.transform(x));
    expect(await a1.transform(x)).not.toEqual(await plain.transform(x));
    const idec = async () => (await new IDEC(be, { k: 3, ...cfg, batchSize: 16, maxIterations: 20, updateInterval: 5 }).fit(x, { pretrained: a1, augment: shift })).predictProba(x);
    expect(await idec()).toEqual(await idec());
    const vade = async () => (await new VaDE(be, { k: 3, ...cfg, batchSize: 16, epochs: 2 }).fit(x, { pretrained: a1, augment: shift })).predictProba(x);
    expect(await vade()).toEqual(await vade());
  });
});
