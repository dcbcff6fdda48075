// Shared types for the models: host matrices, progress reports, divergence checks.
import type { Augment } from './augment.js';

/** A host matrix, row-major (what bindings/io readMatrix returns, minus format details). */
export interface Matrix {
  rows: number;
  cols: number;
  data: Float32Array;
}

export function asMatrix(x: Matrix, what = 'data'): Matrix {
  if (!x || !(x.data instanceof Float32Array)) throw new TypeError(`${what} must be {rows, cols, data: Float32Array}`);
  if (!Number.isInteger(x.rows) || !Number.isInteger(x.cols) || x.rows < 1 || x.cols < 1 || x.data.length !== x.rows * x.cols) {
    throw new RangeError(`${what}: ${x.data.length} values do not form a ${x.rows}×${x.cols} matrix`);
  }
  return x;
}

export interface Progress {
  /** 'pretrain' (autoencoder), 'kmeans', 'cluster' (DEC/IDEC), 'gmm-init', 'elbo', 'recover' (VaDE). */
  stage: string;
  /** 1-based epoch (for DEC/IDEC: the target-refresh period). */
  epoch: number;
  /** Mean losses over the epoch, by term (e.g. recon, kl). */
  losses: Record<string, number>;
  /** ACC/NMI/ARI (and the share of labels that changed for DEC/IDEC) when labels were given. */
  metrics?: Record<string, number>;
  /** A sentence for the user when the model did something on its own (e.g. 'recover': VaDE rolled
   *  back a collapsed mixture and lowered its learning rate). */
  message?: string;
}

export type ProgressCallback = (p: Progress) => void;

/** Throws if any loss is NaN or ±Inf, naming the model, the term and the epoch. */
export function checkLosses(model: string, epoch: number, losses: Record<string, number>): void {
  for (const [term, v] of Object.entries(losses)) {
    if (!Number.isFinite(v)) {
      const what = Number.isNaN(v) ? 'NaN' : v > 0 ? 'Inf' : '-Inf';
      throw new Error(`${model}: loss '${term}' became ${what} at epoch ${epoch}`);
    }
  }
}

export interface FitOptions {
  /** Ground-truth labels (only for progress metrics; training never sees them). */
  labels?: ArrayLike<number>;
  /** With labels: score them every this many epochs and at the last one (default 1). Models that
   *  must predict the whole set to score (VaDE) skip that pass on the other epochs. */
  metricsEvery?: number;
  onProgress?: ProgressCallback;
  /** Transforms each training minibatch on the host (see augment.ts); whole-set passes (targets,
   *  initialisation, predictions) always use the clean rows. */
  augment?: Augment;
}

/** FitOptions.metricsEvery, checked (default 1): a model calls this before any training work. */
export function checkMetricsEvery(metricsEvery = 1): number {
  if (!(Number.isInteger(metricsEvery) && metricsEvery >= 1)) throw new Error(`metricsEvery must be a whole number ≥ 1 (got ${metricsEvery})`);
  return metricsEvery;
}

/** Whether epoch `epoch` of `epochs` scores the labels every `metricsEvery` epochs (see FitOptions). */
export function scoresEpoch(epoch: number, epochs: number, metricsEvery: number): boolean {
  return epoch % metricsEvery === 0 || epoch === epochs;
}

/** Learning-rate schedules over epochs (1-based). */
export type LrSchedule = 'constant' | 'step' | 'cosine';

/** The step schedule: ×STEP_GAMMA every STEP_EVERY epochs, the decay of VaDE's reference code (Jiang et al. 2017). */
const STEP_EVERY = 10;
const STEP_GAMMA = 0.9;

export function learningRate(base: number, schedule: LrSchedule, epoch: number, epochs: number,
  stepEvery = STEP_EVERY, stepGamma = STEP_GAMMA): number {
  if (schedule === 'step') return base * stepGamma ** Math.floor((epoch - 1) / stepEvery);
  if (schedule === 'cosine') return base * 0.5 * (1 + Math.cos((Math.PI * (epoch - 1)) / Math.max(1, epochs)));
  return base;
}
