// Training-time data augmentation: each minibatch is copied to the host, transformed row by row,
// and uploaded, so the model trains on a fresh random variant of every row each epoch.
// Why: on small data sets a deep autoencoder learns the nuisance (where a digit sits, how it is
// slanted) as much as the content; training on randomly shifted/rotated copies makes the embedding
// invariant to them, and clusters then follow the content (Guo et al. 2018, "Deep Embedded
// Clustering with Data Augmentation", ACML: DEC/IDEC trained on augmented MNIST).
// Augmentation sees the model's input space (after normalisation) and never changes targets
// computed over the whole set (DEC/IDEC's P, k-means and GMM initialisation use clean rows).
import type { HostRng } from './rng.js';

/** Transforms `rows` consecutive rows of `cols` values in `batch` in place. */
export type Augment = (batch: Float32Array, rows: number, cols: number, rng: HostRng) => void;

export interface ImageAffineOptions {
  width: number;
  height: number;
  /** Largest shift in pixels along each axis (uniform in [−maxShift, maxShift]). */
  maxShift?: number;
  /** Largest rotation in degrees (uniform in [−maxRotate, maxRotate]). */
  maxRotate?: number;
}

/** Default largest shift, in pixels: a couple of pixels moves a stroke without pushing it off a 28×28 image. */
const DEFAULT_MAX_SHIFT = 2;
/** Default largest rotation, in degrees: small enough not to change which digit an image shows. */
const DEFAULT_MAX_ROTATE = 10;

/** Random shift + rotation of single-channel images stored row-major, bilinear, zero outside. */
export function imageAffine(opts: ImageAffineOptions): Augment {
  const { width: w, height: h } = opts;
  const maxShift = opts.maxShift ?? DEFAULT_MAX_SHIFT;
  const maxRotate = opts.maxRotate ?? DEFAULT_MAX_ROTATE;
  if (!Number.isInteger(w) || !Number.isInteger(h) || w < 1 || h < 1) throw new RangeError(`imageAffine: width and height must be positive integers (got ${w}×${h})`);
  if (!(maxShift >= 0) || !(maxRotate >= 0)) throw new RangeError('imageAffine: maxShift and maxRotate must be ≥ 0');
  const src = new Float32Array(w * h);
  const cx = (w - 1) / 2;
  const cy = (h - 1) / 2;
  return (batch, rows, cols, rng) => {
    if (cols !== w * h) throw new RangeError(`imageAffine: rows have ${cols} values, expected ${w}×${h} = ${w * h}`);
    for (let r = 0; r < rows; r++) {
      const row = batch.subarray(r * cols, (r + 1) * cols);
      src.set(row);
      const a = ((2 * rng.uniform() - 1) * maxRotate * Math.PI) / 180;
      const tx = (2 * rng.uniform() - 1) * maxShift;
      const ty = (2 * rng.uniform() - 1) * maxShift;
      const cos = Math.cos(a);
      const sin = Math.sin(a);
      // Inverse map: output pixel (x, y) reads the source at R(−a)·((x, y) − c − t) + c.
      for (let y = 0; y < h; y++) {
        const dy = y - cy - ty;
        for (let x = 0; x < w; x++) {
          const dx = x - cx - tx;
          row[y * w + x] = bilinear(src, w, h, cos * dx + sin * dy + cx, -sin * dx + cos * dy + cy);
        }
      }
    }
  };
}

// Written without closures or allocation: it runs once per pixel of every training image, on the
// main thread while the wasm workers wait (a closure per call made augmentation ~28% of an epoch).
function bilinear(img: Float32Array, w: number, h: number, x: number, y: number): number {
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  if (x0 < -1 || y0 < -1 || x0 >= w || y0 >= h) return 0;
  const fx = x - x0;
  const fy = y - y0;
  const inX0 = x0 >= 0, inX1 = x0 + 1 < w, inY0 = y0 >= 0, inY1 = y0 + 1 < h;
  const r0 = y0 * w + x0;
  const r1 = r0 + w;
  const v00 = inX0 && inY0 ? img[r0] : 0;
  const v10 = inX1 && inY0 ? img[r0 + 1] : 0;
  const v01 = inX0 && inY1 ? img[r1] : 0;
  const v11 = inX1 && inY1 ? img[r1 + 1] : 0;
  return (1 - fy) * ((1 - fx) * v00 + fx * v10) + fy * ((1 - fx) * v01 + fx * v11);
}
