// What the app needs from the pipeline, written as structural types so tests can inject a double
// (a tiny deterministic pipeline) while the shipped default is BloodCellPipeline itself, whose
// static `fromBytes`/`train` match `PipelineFactory`. Also: the one shared compute backend and a
// lock that runs one computation at a time on it (a backend's tensors and queues are not meant to
// be driven by interleaved requests).
import type { ComputeBackend } from '../bindings/backend.js';
import type { BackendKind } from '../bindings/backends/index.js';

// The data types and the class order are the pipeline's own, never restated here.
export type {
  ClassName, SampleInput, SampleSummary, ClassifyResult, PipelineMeta,
  Reference as Shares, PipelineProgress as TrainProgress,
} from '../bindings/pipeline/index.js';
import type { ClassifyResult, PipelineMeta, PipelineProgress as TrainProgress, Reference as Shares, SampleInput } from '../bindings/pipeline/index.js';
export { CLASSES as CLASS_NAMES } from '../bindings/pipeline/index.js';

export interface PipelineLike {
  readonly meta: PipelineMeta;
  classify(sample: SampleInput, opts?: { onProgress?(p: TrainProgress): void }): Promise<ClassifyResult>;
  toBytes(): Uint8Array;
  /** Frees backend tensors (optional: doubles need none). */
  dispose?(): void;
}

export interface PipelineFactory {
  fromBytes(bytes: Uint8Array, backend: ComputeBackend, source?: string): PipelineLike;
  train(samples: SampleInput[], references: Map<string, Shares>, opts: { backend: ComputeBackend; seed?: number; name?: string; onProgress?(p: TrainProgress): void }): Promise<PipelineLike>;
}

/** A backend kind to create lazily, or a ready backend (tests, embedders). */
export type BackendChoice = BackendKind | ComputeBackend;

/** Runs tasks one at a time, in arrival order. */
export class SerialLock {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(task: () => Promise<T>): Promise<T> {
    const p = this.tail.then(task, task);
    this.tail = p.catch(() => undefined);
    return p;
  }
}
