// Moving host data to the backend: the whole training set once, minibatches by shuffled index +
// gatherRows, and inference in fixed-size chunks uploaded straight from the host.
import type { ComputeBackend, Tensor } from '../backend.js';
import type { Augment } from './augment.js';
import { HostRng, STREAM } from './rng.js';
import type { Matrix } from './types.js';

/** Shuffled minibatch indices. Every batch has exactly `batchSize` rows: the last batch of an epoch
 *  is topped up from the start of the permutation, so one set of buffers serves every step. */
export class Batcher {
  readonly batchSize: number;
  readonly batchesPerEpoch: number;
  private perm: Int32Array;
  private pos = 0;
  readonly idx: Tensor;
  private host: Int32Array;

  constructor(private be: ComputeBackend, readonly n: number, batchSize: number, private rng: HostRng) {
    this.batchSize = Math.min(batchSize, n);
    this.batchesPerEpoch = Math.ceil(n / this.batchSize);
    this.perm = rng.permutation(n);
    this.idx = be.create([this.batchSize], 'i32');
    this.host = new Int32Array(this.batchSize);
  }

  /** Uploads the next batch's indices into `idx` (reshuffling after each full pass) and returns them. */
  next(): Int32Array {
    for (let i = 0; i < this.batchSize; i++) {
      if (this.pos === this.n) {
        this.perm = this.rng.permutation(this.n);
        this.pos = 0;
      }
      this.host[i] = this.perm[this.pos++];
    }
    this.be.upload(this.idx, this.host);
    return this.host;
  }

  /** Starts a fresh pass (so epoch boundaries line up with passes). */
  restart(): void {
    this.perm = this.rng.permutation(this.n);
    this.pos = 0;
  }

  dispose(): void {
    this.be.dispose(this.idx);
  }
}

/** Draws the next minibatch of `batcher` into `xb`: on the backend by gatherRows, or, with an
 *  augmentation, copied from the host rows of `x`, transformed (its own Philox stream of `seed`),
 *  and uploaded. Returns the batch's row indices (also in `batcher.idx` on the backend). */
export class BatchLoader {
  private readonly aug: { fn: Augment; rng: HostRng; host: Float32Array } | null;

  constructor(private be: ComputeBackend, private batcher: Batcher, private X: Tensor, private x: Matrix,
    augment: Augment | undefined, seed: number) {
    this.aug = augment ? { fn: augment, rng: new HostRng(seed, STREAM.augment), host: new Float32Array(batcher.batchSize * x.cols) } : null;
  }

  next(xb: Tensor): Int32Array {
    const rows = this.batcher.next();
    if (!this.aug) {
      this.be.gatherRows(this.X, this.batcher.idx, xb);
      return rows;
    }
    const { fn, rng, host } = this.aug;
    const { cols, data } = this.x;
    for (let i = 0; i < rows.length; i++) host.set(data.subarray(rows[i] * cols, (rows[i] + 1) * cols), i * cols);
    fn(host, rows.length, cols, rng);
    this.be.upload(xb, host);
    return rows;
  }
}

export function uploadMatrix(be: ComputeBackend, x: Matrix): Tensor {
  const t = be.create([x.rows, x.cols]);
  be.upload(t, x.data);
  return t;
}

export const INFER_CHUNK = 1024;

/** Calls `fn` on consecutive row chunks of `x` uploaded to the backend. */
export async function forEachChunk(be: ComputeBackend, x: Matrix, fn: (t: Tensor, start: number, rows: number) => Promise<void>,
  chunk = INFER_CHUNK): Promise<void> {
  const tensors = new Map<number, Tensor>();
  try {
    for (let start = 0; start < x.rows; start += chunk) {
      const rows = Math.min(chunk, x.rows - start);
      let t = tensors.get(rows);
      if (!t) {
        t = be.create([rows, x.cols]);
        tensors.set(rows, t);
      }
      be.upload(t, x.data.subarray(start * x.cols, (start + rows) * x.cols));
      await fn(t, start, rows);
    }
  } finally {
    for (const t of tensors.values()) be.dispose(t);
  }
}
