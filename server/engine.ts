// What the app needs from the pipeline, written as structural types so tests can inject a double
// (a tiny deterministic pipeline) while the shipped default is BloodCellPipeline itself, whose
// static `fromBytes`/`train` match `PipelineFactory`. Also: the one shared compute backend and a
// lock that runs one computation at a time on it (a backend's tensors and queues are not meant to
// be driven by interleaved requests).
import type { ComputeBackend } from '../bindings/backend.js';
import type { BackendKind } from '../bindings/backends/index.js';

export const CLASS_NAMES = ['platelet', 'rbc', 'reticulocyte', 'clumped_rbc'] as const;
export type ClassName = (typeof CLASS_NAMES)[number];

export interface SampleInput {
  id: string;
  rows: number;
  cols: number;
  data: Float32Array;
}

export interface Shares {
  plt_pct: number;
  retic_pct: number;
  clump_pct: number;
}

export interface SampleSummary {
  id: string;
  cells: number;
  counts: Record<ClassName, number>;
  percentages: Shares;
}

export interface ClassifyResult {
  summary: SampleSummary;
  /** cells × 4, row-major, in CLASS_NAMES order. */
  probabilities: Float32Array;
  /** cells × 2 latent map, when asked for. */
  embedding2d?: Float32Array;
}

export interface PipelineMeta {
  name: string;
  species?: string;
  features: number;
  classes: readonly string[];
  createdAt: string;
  version: string;
}

export interface TrainProgress {
  stage: string;
  epoch?: number;
  of?: number;
  losses?: Record<string, number>;
  message?: string;
}

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
