// The pipeline's training options, declared once: each default and what it decides. train.ts
// reads the defaults, `hemaclust train` (and `demo`, which takes the same flags) its help and
// defaults, and the model's metadata records the values a model was trained with.
import { defaultsOf, hp } from '../models/specs.js';

export const PIPELINE_TRAINING = {
  seed: hp(1, 'integer seed: same seed + same backend → same model'),
  dims: hp([256, 64, 10] as readonly number[], 'encoder widths of both stages, hidden… then embedding'),
  epochs: hp(12, 'stage-1 autoencoder pretraining epochs'),
  stage2PretrainEpochs: hp(4, 'stage-2 autoencoder fine-tuning epochs on the red cells'),
  clusterIterations: hp(1200, 'stage-1 IDEC iterations at most'),
  stage1Clusters: hp(4, 'stage-1 IDEC clusters'),
  stage2Epochs: hp(10, 'stage-2 VaDE epochs'),
  stage2Components: hp(24, 'stage-2 mixture components'),
  batchSize: hp(256, 'minibatch size'),
  cellsPerSample: hp(4000, 'training events drawn per sample, at most'),
};

export const TRAINING_DEFAULTS = defaultsOf(PIPELINE_TRAINING);
