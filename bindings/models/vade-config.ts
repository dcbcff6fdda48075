// VaDE's options and the defaults every caller shares (vade.ts is the model; the blood pipeline's
// stage 2 drives the same model with a per-sample prior).
import type { Autoencoder, AutoencoderConfig, PretrainOptions } from './autoencoder.js';
import type { ImageAffineOptions } from './augment.js';
import { defaultsOf, VADE_SPEC } from './specs.js';
import type { FitOptions, LrSchedule } from './types.js';

/** specs.ts VADE_SPEC's defaults. */
export const VADE_DEFAULTS = defaultsOf(VADE_SPEC.hyperparameters);
/** The floor of log σ²_c. */
export const MIN_LOG_VAR = VADE_DEFAULTS.minLogVar;

/** Unset fields take specs.ts VADE_SPEC's defaults. */
export interface VadeConfig extends AutoencoderConfig {
  k: number;
  /** ELBO training epochs. */
  epochs?: number;
  batchSize?: number;
  /** Adam learning rate for the networks and for π, μ_c, log σ²_c. */
  lr?: number;
  /** Learning rate of π, μ_c, log σ²_c (default: lr). */
  gmmLr?: number;
  schedule?: LrSchedule;
  /** Floor for log σ²_c. */
  minLogVar?: number;
  /** The mixture has collapsed when the effective number of components in use (exp of the entropy
   *  of the epoch's responsibility mass) falls below this fraction of its value at the GMM
   *  initialisation (0 turns the check and the recovery off). */
  collapseRatio?: number;
  /** On a collapse, roll back to the last healthy epoch (networks, mixture, Adam state) and go on
   *  with both learning rates times collapseLrFactor, at most this many times; then it is an error
   *  (0: an error at the first collapse). See vade-recovery.ts. */
  collapseRetries?: number;
  /** Learning-rate factor per rollback. */
  collapseLrFactor?: number;
  /** Image augmentation of every training minibatch (pretraining and ELBO) when fit is given no
   *  `augment` function: random shifts and rotations (augment.ts imageAffine). Plain data, so the
   *  model file records it. */
  augment?: ImageAffineOptions;
  /** EM iterations of the GMM initialisation. */
  gmmIterations?: number;
  pretrain?: PretrainOptions;
}

export interface VadeFitOptions extends FitOptions {
  pretrained?: Autoencoder;
}
