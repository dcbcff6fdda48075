// WorkerEngine (Node): the Engine with every computation off the event loop.
//
// - Classification runs on one long-lived worker thread (engine-thread.ts) holding the loaded
//   models. Requests wait in a queue here, one at a time on the thread, so a request whose client
//   left or whose deadline passed while it waited is dropped without computing.
// - Each training run gets a worker thread of its own, ended when the run ends: training and
//   classification do not wait on each other, a cancelled run is stopped by ending its thread, and
//   the memory a run used is given back to the system.
// - A thread that dies (out of memory, a crash in native code) fails the calls it held; the next
//   call starts a new one and reloads the models.
import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../bindings/worker-boot.js';
import type { BackendKind } from '../bindings/backends/index.js';
import type { ClassifyResult, Engine, EngineInfo, PipelineMeta, SampleInput, Shares, TrainRun } from './engine.js';

export interface ThreadInit {
  backend: BackendKind;
  /** URL of a module exporting `pipeline` or `BloodCellPipeline` (a PipelineFactory). */
  pipelineModule: string;
  trainOptions: Record<string, unknown>;
}

export type ToThread =
  | { type: 'load'; id: number; name: string; bytes: Uint8Array; source: string }
  | { type: 'unload'; id: number; name: string }
  | { type: 'classify'; id: number; name: string; sample: SampleInput }
  | { type: 'train'; id: number; samples: SampleInput[]; references: [string, Shares][]; seed?: number };

export type FromThread =
  | { type: 'ready'; info: EngineInfo }
  | { type: 'fail'; message: string }
  | { type: 'log'; line: string }
  | { type: 'progress'; id: number; progress: Record<string, unknown>; at: number }
  | { type: 'result'; id: number; ok: true; value: unknown }
  | { type: 'result'; id: number; ok: false; name: string; message: string };

type Call = Omit<Extract<ToThread, { type: 'load' }>, 'id'> | Omit<Extract<ToThread, { type: 'unload' }>, 'id'> | Omit<Extract<ToThread, { type: 'classify' }>, 'id'> | Omit<Extract<ToThread, { type: 'train' }>, 'id'>;

export interface WorkerEngineOptions {
  backend?: BackendKind;
  /** Default: the shipped BloodCellPipeline. Tests pass a module URL of a double. */
  pipelineModule?: string;
  trainOptions?: Record<string, unknown>;
  log?: (line: string) => void;
}

const FROM_SOURCE = import.meta.url.endsWith('.ts');

/** One worker thread and the calls it has not answered yet. */
class Thread {
  readonly ready: Promise<EngineInfo>;
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void; onProgress?: (p: Record<string, unknown>, at: number) => void }>();
  private nextId = 1;
  dead: string | null = null;

  constructor(init: ThreadInit, log: (line: string) => void) {
    this.worker = spawn(init);
    let lastError = '';
    this.ready = new Promise<EngineInfo>((resolve, reject) => {
      this.worker.on('message', (m: FromThread) => {
        if (m.type === 'ready') resolve(m.info);
        else if (m.type === 'fail') {
          reject(new Error(`the compute thread failed to start: ${m.message}`));
          void this.worker.terminate(); // its exit marks it dead, so the next call starts another
        }
        else if (m.type === 'log') log(m.line);
        else if (m.type === 'progress') this.pending.get(m.id)?.onProgress?.(m.progress, m.at);
        else if (m.type === 'result') {
          const p = this.pending.get(m.id);
          this.pending.delete(m.id);
          if (!p) return;
          if (m.ok) p.resolve(m.value);
          else p.reject(rebuildError(m.name, m.message));
        }
      });
      this.worker.on('error', (e: Error) => (lastError = e.message));
      this.worker.on('exit', (code: number) => {
        this.dead = lastError || `exit code ${code}`;
        const why = new Error(`the compute thread stopped (${this.dead})`);
        reject(why);
        for (const p of this.pending.values()) p.reject(why);
        this.pending.clear();
      });
    });
    this.ready.catch(() => undefined);
  }

  call<T>(msg: Call, transfer: ArrayBuffer[] = [], onProgress?: (p: Record<string, unknown>, at: number) => void): Promise<T> {
    if (this.dead) return Promise.reject(new Error(`the compute thread stopped (${this.dead})`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, onProgress });
      try {
        this.worker.postMessage({ ...msg, id }, transfer);
      } catch (e) {
        this.pending.delete(id);
        reject(e as Error);
      }
    });
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}

interface Queued {
  name: string;
  sample: SampleInput;
  signal?: AbortSignal;
  resolve(r: ClassifyResult): void;
  reject(e: unknown): void;
  onAbort?: () => void;
}

export class WorkerEngine implements Engine {
  private readonly init: ThreadInit;
  private readonly log: (line: string) => void;
  private classifier: Promise<Thread> | null = null;
  private live: Thread | null = null;
  private readonly models = new Map<string, { bytes: Uint8Array; source: string }>();
  private readonly queue: Queued[] = [];
  private busy = false;
  private current: EngineInfo | null = null;
  private readonly trainers = new Set<Thread>();
  private closed = false;

  constructor(opts: WorkerEngineOptions = {}) {
    this.init = {
      backend: opts.backend ?? 'auto',
      pipelineModule: opts.pipelineModule ?? new URL(`../bindings/pipeline/index.${FROM_SOURCE ? 'ts' : 'js'}`, import.meta.url).href,
      trainOptions: opts.trainOptions ?? {},
    };
    this.log = opts.log ?? (() => undefined);
  }

  /** The classify thread, started (again) when needed, with every stored model loaded. Callers
   *  arriving while it starts share the one start. */
  private thread(): Promise<Thread> {
    if (this.closed) return Promise.reject(new Error('the engine is closed'));
    if (this.classifier && !this.classifierDead()) return this.classifier;
    const t = new Thread(this.init, this.log);
    this.live = t;
    const started = (async () => {
      this.current = await t.ready;
      for (const [name, m] of this.models) await t.call({ type: 'load', name, bytes: m.bytes, source: m.source });
      return t;
    })();
    started.catch(() => undefined);
    this.classifier = started;
    return started;
  }

  private classifierDead(): boolean {
    return this.live?.dead != null;
  }

  async load(name: string, bytes: Uint8Array, source: string): Promise<PipelineMeta> {
    const t = await this.thread();
    const meta = await t.call<PipelineMeta>({ type: 'load', name, bytes, source });
    this.models.set(name, { bytes, source });
    return meta;
  }

  classify(name: string, sample: SampleInput, signal?: AbortSignal): Promise<ClassifyResult> {
    return new Promise<ClassifyResult>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const q: Queued = { name, sample, signal, resolve, reject };
      if (signal) {
        q.onAbort = () => {
          const i = this.queue.indexOf(q);
          if (i < 0) return; // already running: it finishes (bounded) and its slot is held until then
          this.queue.splice(i, 1);
          reject(signal.reason);
        };
        signal.addEventListener('abort', q.onAbort, { once: true });
      }
      this.queue.push(q);
      this.pump();
    });
  }

  private pump(): void {
    if (this.busy) return;
    const q = this.queue.shift();
    if (!q) return;
    this.busy = true;
    if (q.onAbort) q.signal!.removeEventListener('abort', q.onAbort);
    const { message, transfer } = classifyMessage(q.name, q.sample);
    this.thread()
      .then((t) => t.call<ClassifyResult>(message, transfer))
      .then(q.resolve, q.reject)
      .finally(() => {
        this.busy = false;
        this.pump();
      });
  }

  async train(run: TrainRun, signal: AbortSignal): Promise<{ bytes: Uint8Array; meta: PipelineMeta }> {
    signal.throwIfAborted();
    const t = new Thread(this.init, this.log);
    this.trainers.add(t);
    const onAbort = () => void t.terminate();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const info = await t.ready;
      this.current ??= info;
      const transfer: ArrayBuffer[] = [];
      const samples = run.samples.map((s) => {
        const data = ownBuffer(s.data);
        transfer.push(data.buffer as ArrayBuffer);
        return { id: s.id, rows: s.rows, cols: s.cols, data };
      });
      return await t.call<{ bytes: Uint8Array; meta: PipelineMeta }>({ type: 'train', samples, references: [...run.references], seed: run.seed }, transfer, run.onProgress);
    } catch (e) {
      if (signal.aborted) throw signal.reason;
      throw e;
    } finally {
      signal.removeEventListener('abort', onAbort);
      this.trainers.delete(t);
      await t.terminate();
    }
  }

  unload(name: string): void {
    this.models.delete(name);
    const t = this.live;
    if (t && !t.dead) t.call({ type: 'unload', name }).catch(() => undefined);
  }

  info(): EngineInfo | null {
    return this.current;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const q of this.queue.splice(0)) q.reject(new Error('the server is shutting down'));
    await Promise.all([...this.trainers].map((t) => t.terminate()));
    await this.live?.terminate();
  }
}

/** A classify message; the sample's data is moved (not copied) to the thread when it owns its
 *  buffer, else copied into one it owns (cloning a view clones its whole buffer). */
function classifyMessage(name: string, s: SampleInput): { message: Call; transfer: ArrayBuffer[] } {
  const data = ownBuffer(s.data);
  return { message: { type: 'classify', name, sample: { id: s.id, rows: s.rows, cols: s.cols, data } }, transfer: [data.buffer as ArrayBuffer] };
}

function ownBuffer(d: Float32Array): Float32Array {
  const whole = !(d.buffer instanceof SharedArrayBuffer) && d.byteOffset === 0 && d.byteLength === d.buffer.byteLength;
  return whole ? d : d.slice();
}

function rebuildError(name: string, message: string): Error {
  const Ctor = name === 'RangeError' ? RangeError : name === 'TypeError' ? TypeError : Error;
  return new Ctor(message);
}

/** The engine thread: engine-thread.(ts|js) beside this file (bindings/worker-boot.ts). */
function spawn(init: ThreadInit): Worker {
  return startModuleWorker(import.meta.url, 'engine-thread', init);
}
