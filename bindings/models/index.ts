// The model API: scikit-learn-like, backend-agnostic (every model only calls ComputeBackend ops).
//   fit(x, {labels?, onProgress?, augment?}) · predict(x) → Int32Array · predictProba(x) → [rows×k]
//   transform(x) → latent features · saveModel(model, path) / loadModel(backend, path)
export { Autoencoder, DEC_DIMS, PRETRAIN_DEFAULTS, type AutoencoderConfig, type PretrainOptions } from './autoencoder.js';
export { KMeans, kmeansOnBackend, type KMeansConfig, type KMeansResult } from './kmeans.js';
export { DEC, IDEC, DeepEmbeddedClustering, argmaxRows, type DecConfig, type DecFitOptions } from './dec.js';
export { VaDE, type VadeConfig, type VadeFitOptions } from './vade.js';
export { imageAffine, type Augment, type ImageAffineOptions } from './augment.js';
export { fitDiagonalGmm, type GmmParams } from './gmm.js';
export { saveModel, loadModel, modelKind, type ClusterModel, type ModelKind, type LoadedModel, type SaveOptions } from './serialize.js';
export { checkLosses, learningRate, type Matrix, type Progress, type ProgressCallback, type FitOptions, type LrSchedule } from './types.js';
export { LIBRARY_VERSION, MODEL_FORMAT } from './version.js';
