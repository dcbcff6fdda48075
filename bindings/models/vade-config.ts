// VaDE's options, the buffers of one ELBO step, and the defaults every caller shares (vade.ts is
// the model; the blood pipeline's stage 2 drives the same model with a per-sample prior).
import type { Tensor } from '../backend.js';
import type { Autoencoder, AutoencoderConfig, PretrainOptions } from './autoencoder.js';
import type { ImageAffineOptions } from './augment.js';
import type { Param } from './mlp.js';
import type { FitOptions, LrSchedule } from './types.js';

/** The floor of log σ²_c: a component may not become narrower than 1e-2 in sd. */
export const MIN_LOG_VAR = Math.log(1e-4);
/** Jiang et al.'s settings: Adam at 2e-3, 100 epochs, minibatches of 256; EM iterations of the GMM
 *  that starts the prior. */
export const DEFAULT_LR = 2e-3;
export const DEFAULT_EPOCHS = 100;
export const DEFAULT_BATCH = 256;
export const GMM_INIT_ITERATIONS = 30;

export interface VadeConfig extends AutoencoderConfig {
  k: number;
  /** ELBO training epochs (default 100). */
  epochs?: number;
  batchSize?: number;
  /** Adam learning rate for the networks (default 2e-3, Jiang et al.) and for π, μ_c, log σ²_c. */
  lr?: number;
  gmmLr?: number;
  schedule?: LrSchedule;
  /** Floor for log σ²_c (default log 1e-4). */
  minLogVar?: number;
  /** The mixture has collapsed when the effective number of components in use (exp of the entropy
   *  of the epoch's responsibility mass) falls below this fraction of its value at the GMM
   *  initialisation (default 0.6; 0 turns the check and the recovery off). */
  collapseRatio?: number;
  /** On a collapse, roll back to the last healthy epoch (networks, mixture, Adam state) and go on
   *  with both learning rates times collapseLrFactor, at most this many times; then it is an error
   *  (default 3; 0: an error at the first collapse). See vade-recovery.ts. */
  collapseRetries?: number;
  /** Learning-rate factor per rollback (default 0.25). */
  collapseLrFactor?: number;
  /** Image augmentation of every training minibatch (pretraining and ELBO) when fit is given no
   *  `augment` function: random shifts and rotations (augment.ts imageAffine). Plain data, so the
   *  model file records it. */
  augment?: ImageAffineOptions;
  /** EM iterations of the GMM initialisation (default 30). */
  gmmIterations?: number;
  pretrain?: PretrainOptions;
}

export interface VadeWorkspace {
  B: number;
  xb: Tensor; eps: Tensor; z: Tensor; dz: Tensor; dMu: Tensor; dLv: Tensor; dh: Tensor | null;
  logResp: Tensor; gamma: Tensor; dPi: Tensor; dMuC: Tensor; dLvC: Tensor; lossR: Tensor; lossKl: Tensor;
  reconScale: number;
  gmmParams: Param[];
  dispose(): void;
}

export interface VadeFitOptions extends FitOptions {
  pretrained?: Autoencoder;
}
