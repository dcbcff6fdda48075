// MNIST digits from the `mnist` package (10,000 real handwritten digits, 28×28, pixels in [0,1]),
// for the validation scripts: a class-balanced subset and an area-averaging downsampler.
import { createRequire } from 'node:module';
import type { Matrix } from '../bindings/models/index.js';

/** Up to `n` digits, taken round-robin over the ten classes so every class is represented. */
export function loadMnist(n: number): { x: Matrix; y: Int32Array } {
  const require = createRequire(import.meta.url);
  const raw: number[][] = [];
  for (let d = 0; d < 10; d++) raw.push((require(`mnist/src/digits/${d}.json`) as { data: number[] }).data);
  const counts = raw.map((r) => Math.floor(r.length / 784));
  const total = Math.min(n, counts.reduce((a, b) => a + b, 0));
  const data = new Float32Array(total * 784);
  const y = new Int32Array(total);
  const next = new Array<number>(10).fill(0);
  for (let row = 0, d = 0; row < total; d = (d + 1) % 10) {
    if (next[d] >= counts[d]) continue;
    const i = next[d]++;
    data.set(raw[d].slice(i * 784, (i + 1) * 784), row * 784);
    y[row++] = d;
  }
  return { x: { rows: total, cols: 784, data }, y };
}

/**
 * Square images of side `from` resampled to side `to` by area averaging: each output pixel is the
 * mean of the source area it covers, fractional pixels weighted by their overlap (28 → 8 covers
 * 3.5 × 3.5 source pixels per output pixel). Values stay in [0,1].
 */
export function downsample(x: Matrix, from: number, to: number): Matrix {
  if (x.cols !== from * from) throw new RangeError(`downsample: rows have ${x.cols} values, not ${from}×${from}`);
  if (to === from) return x;
  const s = from / to;
  // overlap[o][i]: how much of source index i lies in output cell o (1-D; the 2-D weight is a product).
  const overlap: number[][] = [];
  for (let o = 0; o < to; o++) {
    const w = new Array<number>(from).fill(0);
    for (let i = 0; i < from; i++) w[i] = Math.max(0, Math.min(i + 1, (o + 1) * s) - Math.max(i, o * s));
    overlap.push(w);
  }
  const out = new Float32Array(x.rows * to * to);
  for (let r = 0; r < x.rows; r++) {
    const src = x.data.subarray(r * from * from, (r + 1) * from * from);
    for (let oy = 0; oy < to; oy++) for (let ox = 0; ox < to; ox++) {
      let acc = 0;
      for (let i = 0; i < from; i++) {
        const wy = overlap[oy][i];
        if (!wy) continue;
        for (let j = 0; j < from; j++) if (overlap[ox][j]) acc += wy * overlap[ox][j] * src[i * from + j];
      }
      out[r * to * to + oy * to + ox] = acc / (s * s);
    }
  }
  return { rows: x.rows, cols: to * to, data: out };
}
