// The wasm kmeansAssign computes four centroids at a time from a transposed copy, yet each distance
// must be summed in the order of the per-centroid sqDist (assembly/common.ts) it replaced, so k-means
// and everything started from it (IDEC's centres, the pipeline's mixtures) stay bit-identical. Checked
// on the baseline build (mul then add; the relaxed build may fuse them) against that order in f32.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWasmBackend, type WasmBackend } from '../bindings/backends/wasm/index.js';
import { reproduceHint, Rng, testSeed } from './helpers/rng.js';

const SEED = testSeed();
const hint = reproduceHint(SEED, 'test/op-wasm-kmeans-order.test.ts');
const fr = Math.fround;

/** sqDist's order: lanes l of two accumulators over blocks of 8, then a block of 4 into the first,
 *  the lanes of their sum folded as (l0 + l1) + (l2 + l3), then the tail one by one; all in f32. */
function sqDistOrder(x: Float32Array, xo: number, c: Float32Array, co: number, d: number): number {
  const a = [0, 0, 0, 0];
  const b = [0, 0, 0, 0];
  const sq = (t: number) => {
    const e = fr(x[xo + t] - c[co + t]);
    return fr(e * e);
  };
  let t = 0;
  for (; t + 8 <= d; t += 8) {
    for (let l = 0; l < 4; l++) {
      a[l] = fr(a[l] + sq(t + l));
      b[l] = fr(b[l] + sq(t + 4 + l));
    }
  }
  if (t + 4 <= d) {
    for (let l = 0; l < 4; l++) a[l] = fr(a[l] + sq(t + l));
    t += 4;
  }
  const v = a.map((ai, l) => fr(ai + b[l]));
  let s = fr(fr(v[0] + v[1]) + fr(v[2] + v[3]));
  for (; t < d; t++) s = fr(s + sq(t));
  return s;
}

let be: WasmBackend;
beforeAll(async () => {
  be = await createWasmBackend({ relaxed: false, threads: 2 });
});
afterAll(() => be.destroy());

describe('wasm kmeansAssign', () => {
  it('sums every distance in the per-centroid order, bit for bit, and takes the first minimum', async () => {
    const rng = Rng.forCase(SEED, 'kmeansAssign order');
    for (const [n, d, k] of [[3000, 10, 24], [999, 8, 16], [500, 13, 7], [300, 3, 5], [200, 4, 4], [100, 21, 9]]) {
      const x = Float32Array.from(rng.normals(n * d, 2));
      const c = Float32Array.from(rng.normals(k * d, 2));
      // Exact repeats of centroid 0 and of row 0 as a centroid: equal distances and a zero one.
      if (k > 3) {
        c.copyWithin((k - 1) * d, 0, d);
        c.set(x.subarray(0, d), d);
      }
      const X = be.create([n, d]);
      const C = be.create([k, d]);
      const L = be.create([n], 'i32');
      const D = be.create([n]);
      be.upload(X, x);
      be.upload(C, c);
      be.kmeansAssign(X, C, L, D);
      const labels = (await be.download(L)) as Int32Array;
      const dist = (await be.download(D)) as Float32Array;
      for (const t of [X, C, L, D]) be.dispose(t);
      let bad = 0;
      for (let i = 0; i < n; i++) {
        let best = Infinity;
        let arg = 0;
        for (let j = 0; j < k; j++) {
          const s = sqDistOrder(x, i * d, c, j * d, d);
          if (s < best) [best, arg] = [s, j];
        }
        if (labels[i] !== arg || !Object.is(dist[i], best)) bad++;
      }
      expect(bad, `N=${n} D=${d} K=${k}: rows off the per-centroid order; ${hint}`).toBe(0);
    }
  });
});
