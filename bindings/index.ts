// The public API of hemaclust for Node (the browser entry is bindings/browser.ts).
// One import gives the backends, the models, the blood-cell pipeline and the readers.
export type { ComputeBackend, Backend, OpSet, Tensor, DType, Activation, BackendInfo } from './backend.js';
export { OP_NAMES, ACTIVATIONS } from './backend.js';
export { ShapeError } from './checks.js';
export { createBackend, isSoftwareAdapter, BACKEND_KINDS, type BackendKind, type CreateBackendOptions } from './backends/index.js';
export * from './models/index.js';
export * from './metrics/index.js';
export { BloodCellPipeline, CLASSES, validateSample } from './pipeline/index.js';
export { ClassifyWorkers, type ClassifyWorkersOptions } from './pipeline/classify-workers.js'; // Node only: worker threads
export type { SampleInput, SampleSummary, ClassifyResult, Reference, PipelineMeta, PipelineProgress, ClassName } from './pipeline/index.js';
export { readMatrix, parseMatrix, detectFormat, FormatError, parseNpy, encodeNpy, readNpyFile, writeNpyFile, parseCsv, readCsvFile, parseFcs, encodeFcs, streamFcsEvents, type MatrixFormat } from './io/index.js';
export { simulateSample, simulateCohort } from './simulate/index.js';
export { exportClassifier, readGenericModule, type EmbedFlavour } from './export/module.js'; // docs/embedding.md
export { EmbeddedClassifier, EmbeddedError } from './export/host.js';
