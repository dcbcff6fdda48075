// What the app needs from the pipeline, written as structural types so tests can inject a double
// (a tiny deterministic pipeline) while the shipped default is BloodCellPipeline itself, whose
// static `fromBytes`/`train` match `PipelineFactory`.
//
// The app never calls a pipeline directly: it talks to an `Engine`, which owns the pipelines and
// the compute backend. Two engines exist:
// - InlineEngine (here): pipelines on this thread, one computation at a time (a backend's tensors
//   and queues are not meant to be driven by interleaved requests). For runtimes without worker
//   threads and for tests that inject a double; a real training run blocks the event loop here.
// - WorkerEngine (engine-worker.ts, Node): classification on one worker thread and each training
//   run on a worker of its own, so the event loop stays free for /health, polls and SSE.
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

export interface EngineInfo {
  name: string;
  device: string;
}

export interface TrainRun {
  samples: SampleInput[];
  references: Map<string, Shares>;
  seed?: number;
  /** Told each progress report, with the time (ms since the epoch) the pipeline made it. */
  onProgress(p: Record<string, unknown>, at: number): void;
}

export interface Engine {
  /** Loads model bytes under `name` (replacing a model of that name only when the new one loads);
   *  rejects when the bytes are not a loadable model. */
  load(name: string, bytes: Uint8Array, source: string): Promise<PipelineMeta>;
  /** Classifies with a loaded model. A call still waiting for its turn when `signal` fires is dropped. */
  classify(name: string, sample: SampleInput, signal?: AbortSignal): Promise<ClassifyResult>;
  /** Trains a new model; `signal` cancels the run. */
  train(run: TrainRun, signal: AbortSignal): Promise<{ bytes: Uint8Array; meta: PipelineMeta }>;
  unload(name: string): void;
  /** The backend in use, once one has been created. */
  info(): EngineInfo | null;
  close(): Promise<void>;
}

/** Runs tasks one at a time, in arrival order. */
export class SerialLock {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(task: () => Promise<T>): Promise<T> {
    const p = this.tail.then(task, task);
    this.tail = p.catch(() => undefined);
    return p;
  }
}

/** Pipelines on the calling thread, one computation at a time on one backend. */
export class InlineEngine implements Engine {
  private backend: Promise<ComputeBackend> | null = null;
  private created: ComputeBackend | null = null;
  private readonly pipelines = new Map<string, PipelineLike>();
  private readonly lock = new SerialLock();

  constructor(
    private readonly factory: () => Promise<PipelineFactory>,
    private readonly choice: BackendChoice,
    private readonly trainOptions: Record<string, unknown> = {},
    private readonly log: (line: string) => void = () => undefined,
  ) {}

  private getBackend(): Promise<ComputeBackend> {
    return (this.backend ??= (typeof this.choice === 'object'
      ? Promise.resolve(this.choice)
      : import('../bindings/backends/index.js').then((m) => m.createBackend(this.choice as BackendKind, { log: this.log }))
    ).then((b) => (this.created = b)));
  }

  async load(name: string, bytes: Uint8Array, source: string): Promise<PipelineMeta> {
    const [f, be] = await Promise.all([this.factory(), this.getBackend()]);
    const p = f.fromBytes(bytes, be, source);
    const old = this.pipelines.get(name);
    this.pipelines.set(name, p);
    if (old && old !== p) void this.lock.run(async () => old.dispose?.());
    return p.meta;
  }

  classify(name: string, sample: SampleInput, signal?: AbortSignal): Promise<ClassifyResult> {
    return this.lock.run(async () => {
      signal?.throwIfAborted();
      const p = this.pipelines.get(name);
      if (!p) throw new Error(`model '${name}' is not loaded`);
      return p.classify(sample);
    });
  }

  async train(run: TrainRun, signal: AbortSignal): Promise<{ bytes: Uint8Array; meta: PipelineMeta }> {
    const [f, be] = await Promise.all([this.factory(), this.getBackend()]);
    return this.lock.run(async () => {
      signal.throwIfAborted();
      const model = await f.train(run.samples, run.references, { ...this.trainOptions, backend: be, seed: run.seed, onProgress: (p) => run.onProgress({ ...p }, Date.now()) });
      try {
        return { bytes: model.toBytes(), meta: model.meta };
      } finally {
        model.dispose?.();
      }
    });
  }

  unload(name: string): void {
    const p = this.pipelines.get(name);
    this.pipelines.delete(name);
    if (p) void this.lock.run(async () => p.dispose?.());
  }

  info(): EngineInfo | null {
    if (!this.created) return null;
    const i = this.created.info();
    return { name: i.name, device: i.device };
  }

  async close(): Promise<void> {
    await this.lock.run(async () => undefined);
    for (const p of this.pipelines.values()) p.dispose?.();
    this.pipelines.clear();
    if (this.created && typeof this.choice !== 'object') this.created.destroy();
  }
}
