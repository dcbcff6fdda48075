// Sample-parallel classify (Node only): N worker threads, each with its own BloodCellPipeline on its
// own backend (wasm with `threadsPerWorker` threads, or the reference), and samples queued and
// handed to the next idle worker.
//
// Why: BloodCellPipeline#classify splits its backend ops across the wasm worker pool, but its
// per-sample proportion EM and glue run serially on the calling thread, which caps in-op threading
// (Amdahl's law). Samples are independent, so a batch of them scales by running
// whole samples side by side, one pipeline per core.
//
// Not reachable from the browser build: nothing bundled for it imports this file (it is not
// exported from index.ts or node.ts, which index.ts loads lazily).
//
//   const pool = await ClassifyWorkers.start(pipe.toBytes(), { workers: 2 });
//   const results = await Promise.all(samples.map((s) => pool.classify(s)));  // caller's order
//   await pool.close();
import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../worker-boot.js';
import type { ClassifyResult, SampleInput } from './index.js';

export interface ClassifyWorkersOptions {
  /** Worker threads, each classifying one sample at a time. */
  workers: number;
  /** Each worker's backend (default 'wasm'). */
  backend?: 'wasm' | 'reference';
  /** Threads of each worker's wasm backend (default 1: the cores go to whole samples). */
  threadsPerWorker?: number;
  /** Each worker's wasm build, as createWasmBackend's `relaxed` (default 'auto'). */
  relaxed?: 'auto' | boolean;
}

/** What a worker starts from (workerData). */
export interface ClassifyWorkerInit {
  model: Uint8Array;
  backend: 'wasm' | 'reference';
  threads: number;
  relaxed: 'auto' | boolean;
}

/** Messages between the pool and a worker (classify-worker.ts). */
export type ToWorker = { type: 'classify'; sample: SampleInput };
export type FromWorker =
  | { type: 'ready'; device: string }
  | { type: 'fail'; message: string }
  | { type: 'done'; result: ClassifyResult }
  | { type: 'error'; name: string; message: string };

interface Job {
  sample: SampleInput;
  transfer: boolean;
  resolve(r: ClassifyResult): void;
  reject(e: Error): void;
}

interface Slot {
  index: number;
  worker: Worker;
  job: Job | null;
  alive: boolean;
  /** The uncaught error a worker reported before it exited, for the death message. */
  lastError: string | null;
}

export class ClassifyWorkers {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private closed = false;
  private deathNote = '';
  private deviceList: string[] = [];

  private constructor() {}

  /** Each worker's backend, as its info().device says. */
  get devices(): readonly string[] {
    return this.deviceList;
  }

  /** Starts `opts.workers` workers on the model bytes (BloodCellPipeline#toBytes) and waits until
   *  each has loaded it; if any fails, all are stopped and the error names the failure. */
  static async start(model: Uint8Array, opts: ClassifyWorkersOptions): Promise<ClassifyWorkers> {
    const n = opts.workers;
    const threads = opts.threadsPerWorker ?? 1;
    const backend = opts.backend ?? 'wasm';
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`ClassifyWorkers: workers must be a positive integer (got ${n})`);
    if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`ClassifyWorkers: threadsPerWorker must be a positive integer (got ${threads})`);
    if (backend !== 'wasm' && backend !== 'reference') throw new RangeError(`ClassifyWorkers: backend must be 'wasm' or 'reference' (got '${backend}')`);
    const init: ClassifyWorkerInit = { model, backend, threads, relaxed: opts.relaxed ?? 'auto' };
    const pool = new ClassifyWorkers();
    const ready: Promise<string>[] = [];
    try {
      for (let index = 0; index < n; index++) {
        const slot: Slot = { index, worker: spawnWorker(init), job: null, alive: true, lastError: null };
        pool.slots.push(slot);
        pool.listen(slot); // from the start: a worker that dies before the others are ready is known dead
        ready.push(waitReady(slot.worker, index));
      }
    } catch (e) {
      await pool.close();
      throw e;
    }
    const started = await Promise.allSettled(ready);
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await pool.close();
      throw failed.reason as Error;
    }
    pool.deviceList = started.map((r) => (r as PromiseFulfilledResult<string>).value);
    for (const s of pool.slots) s.worker.unref(); // an idle pool must not keep the process alive
    return pool;
  }

  /** Workers still alive. */
  get size(): number {
    return this.slots.filter((s) => s.alive).length;
  }

  /** The same result as BloodCellPipeline#classify on this sample. Its data reaches the worker
   *  without a copy when it lies on a SharedArrayBuffer (read in place: leave it unchanged until the
   *  promise settles) or when `transfer` is set and the data is a whole ArrayBuffer (it moves to the
   *  worker: the caller's array is detached, length 0, once a worker takes the sample); otherwise it
   *  is copied. */
  classify(sample: SampleInput, opts: { transfer?: boolean } = {}): Promise<ClassifyResult> {
    return new Promise<ClassifyResult>((resolve, reject) => {
      if (this.closed) return reject(new Error('ClassifyWorkers is closed'));
      if (this.size === 0) return reject(new Error(this.deathNote));
      this.queue.push({ sample, transfer: opts.transfer === true, resolve, reject });
      this.pump();
    });
  }

  /** Stops every worker; queued and in-flight samples are rejected. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const pending = [...this.slots.map((s) => s.job).filter((j): j is Job => j !== null), ...this.queue.splice(0)];
    for (const s of this.slots) s.job = null;
    for (const j of pending) j.reject(new Error(`ClassifyWorkers closed before sample '${j.sample?.id}' was classified`));
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  /** Hands queued samples to idle workers, in queue order. */
  private pump(): void {
    while (this.queue.length > 0) {
      const slot = this.slots.find((s) => s.alive && !s.job);
      if (!slot) return;
      const job = this.queue.shift()!;
      try {
        const { message, transfer } = classifyMessage(job.sample, job.transfer);
        slot.worker.postMessage(message, transfer);
      } catch (e) {
        job.reject(e as Error); // e.g. data that cannot be cloned; the worker stays idle for the next
        continue;
      }
      slot.job = job;
      slot.worker.ref(); // work in flight keeps the process alive until its answer arrives
    }
  }

  private listen(slot: Slot): void {
    const finish = (settle: (j: Job) => void) => {
      const job = slot.job;
      slot.job = null;
      slot.worker.unref();
      if (job) settle(job);
      this.pump();
    };
    slot.worker.on('message', (m: FromWorker) => {
      if (m.type === 'done') finish((j) => j.resolve(m.result));
      else if (m.type === 'error') finish((j) => j.reject(rebuildError(m.name, m.message)));
    });
    slot.worker.on('error', (e: Error) => (slot.lastError = e.message));
    slot.worker.on('exit', (code: number) => {
      if (this.closed) return;
      slot.alive = false;
      const why = slot.lastError ?? `exit code ${code}`;
      const left = this.size;
      this.deathNote = `ClassifyWorkers: all ${this.slots.length} workers have died (last: worker ${slot.index}, ${why})`;
      const job = slot.job;
      slot.job = null;
      job?.reject(new Error(`ClassifyWorkers: worker ${slot.index} died (${why}) while classifying sample '${job.sample?.id}'; ${left} of ${this.slots.length} workers remain`));
      if (left === 0) for (const j of this.queue.splice(0)) j.reject(new Error(this.deathNote));
      else this.pump();
    });
  }
}

/** The sample as a message. Data on a SharedArrayBuffer is shared as it is (no copy); a view over a
 *  whole ArrayBuffer is transferred when the caller allows it; a view over part of a larger buffer
 *  is copied out first (cloning a view clones its whole buffer) and that copy is transferred; other
 *  data is cloned. */
function classifyMessage(sample: SampleInput, allowTransfer: boolean): { message: ToWorker; transfer: ArrayBuffer[] } {
  let data = sample?.data;
  const transfer: ArrayBuffer[] = [];
  if (ArrayBuffer.isView(data) && !(data.buffer instanceof SharedArrayBuffer)) {
    const whole = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength;
    if (!whole) data = data.slice() as typeof data;
    if (!whole || allowTransfer) transfer.push(data.buffer as ArrayBuffer);
  }
  return { message: { type: 'classify', sample: { id: sample?.id, rows: sample?.rows, cols: sample?.cols, data } }, transfer };
}

/** The worker's error as the same class and message in-process classify throws. */
function rebuildError(name: string, message: string): Error {
  const Ctor = name === 'RangeError' ? RangeError : name === 'TypeError' ? TypeError : Error;
  return new Ctor(message);
}

function waitReady(worker: Worker, index: number): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let lastError = '';
    const fail = (why: string) => reject(new Error(`ClassifyWorkers: worker ${index} failed to start: ${why}`));
    const onMessage = (m: FromWorker) => {
      if (m.type !== 'ready' && m.type !== 'fail') return;
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
      if (m.type === 'ready') resolve(m.device);
      else fail(m.message);
    };
    const onError = (e: Error) => (lastError = e.message);
    const onExit = (code: number) => fail(lastError || `exit code ${code}`);
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}

/** A worker on classify-worker.(ts|js) beside this file (worker-boot.ts). */
function spawnWorker(init: ClassifyWorkerInit): Worker {
  return startModuleWorker(import.meta.url, 'classify-worker', init);
}
