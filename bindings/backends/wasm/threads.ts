// Worker pool for gemm: W workers instantiate the same module over the same shared memory and each
// computes a horizontal slice of C (the gemm kernel takes a row range and its own packing panels);
// the calling thread computes the first slice itself. Jobs are handed over through a small control
// block in the shared memory with Atomics (wait/notify), not postMessage, so a call costs
// microseconds. Node uses worker_threads (eval'd source), browsers a Worker from a Blob URL; both
// run WORKER_SOURCE below, so the two paths share one protocol.
import type { KernelExports } from './exports.js';
import type { LoadedModule } from './loader.js';
import type { WasmAllocator } from './memory.js';

export interface WorkerPool {
  /** Number of worker threads (the caller's thread is extra). */
  readonly size: number;
  /** Whether a gemm of this shape is big enough to be worth waking the workers. */
  worthSplitting(m: number, n: number, k: number): boolean;
  /** C = alpha*op(A)*op(B) + beta*C over all rows, split across the caller and the workers. */
  gemm(a: number, b: number, c: number, m: number, n: number, k: number, transA: number, transB: number,
    alpha: number, beta: number, packA: number, packB: number): void;
  terminate(): void;
}

// Control block layout (i32 slots).
const SEQ = 0; // job counter, bumped by the caller to wake workers
const DONE = 1; // workers that finished the current job
const CMD = 2; // 1 = gemm, 2 = exit
const ERR = 3; // set to 1 by a worker whose kernel threw
const ARGS = 4; // a, b, c, m, n, k, transA, transB, alpha(f32), beta(f32)
const ROWS = 16; // per worker: m0, m1
const CMD_GEMM = 1;
const CMD_EXIT = 2;

/** Runs in every worker (Node worker_threads with eval, or a browser Worker). Plain JS. */
const WORKER_SOURCE = `
const SEQ = ${SEQ}, DONE = ${DONE}, CMD = ${CMD}, ERR = ${ERR}, ARGS = ${ARGS}, ROWS = ${ROWS};
const CMD_EXIT = ${CMD_EXIT};
let onMsg, post;
if (typeof self === 'undefined') {
  const { parentPort } = require('node:worker_threads');
  onMsg = (f) => parentPort.once('message', f);
  post = (m) => parentPort.postMessage(m);
} else {
  onMsg = (f) => { self.onmessage = (e) => { self.onmessage = null; f(e.data); }; };
  post = (m) => self.postMessage(m);
}
onMsg(async (msg) => {
  let k;
  try {
    const inst = await WebAssembly.instantiate(msg.module, { env: { memory: msg.memory } });
    k = inst.exports;
  } catch (e) {
    post({ error: String(e && e.message || e) });
    return;
  }
  const ctrl = new Int32Array(msg.memory.buffer, msg.ctrl, ROWS + 2 * msg.workers);
  const ctrlF = new Float32Array(msg.memory.buffer, msg.ctrl, ROWS);
  const i = msg.index;
  post({ ready: true });
  let last = Atomics.load(ctrl, SEQ);
  for (;;) {
    Atomics.wait(ctrl, SEQ, last);
    const seq = Atomics.load(ctrl, SEQ);
    if (seq === last) continue;
    last = seq;
    if (Atomics.load(ctrl, CMD) === CMD_EXIT) break;
    try {
      const m0 = ctrl[ROWS + 2 * i], m1 = ctrl[ROWS + 2 * i + 1];
      if (m1 > m0) {
        k.gemm(ctrl[ARGS], ctrl[ARGS + 1], ctrl[ARGS + 2], ctrl[ARGS + 3], ctrl[ARGS + 4], ctrl[ARGS + 5],
          ctrl[ARGS + 6], ctrl[ARGS + 7], ctrlF[ARGS + 8], ctrlF[ARGS + 9], msg.packA, msg.packB, m0, m1);
      }
    } catch (e) {
      Atomics.store(ctrl, ERR, 1);
    }
    Atomics.add(ctrl, DONE, 1);
    Atomics.notify(ctrl, DONE);
  }
});
`;

interface AnyWorker {
  postMessage(m: unknown): void;
  terminate(): unknown;
}

const isNode = (): boolean =>
  typeof process !== 'undefined' && typeof process.versions === 'object' && typeof process.versions.node === 'string';

/** Start one worker and wait until it has instantiated the module. */
async function startWorker(init: Record<string, unknown>): Promise<AnyWorker> {
  if (isNode()) {
    const wtName = 'node:worker_threads';
    const { Worker } = (await import(/* @vite-ignore */ wtName)) as typeof import('node:worker_threads');
    const w = new Worker(WORKER_SOURCE, { eval: true });
    w.unref(); // an undestroyed backend must not keep the process alive
    await new Promise<void>((resolve, reject) => {
      w.once('message', (m: { ready?: boolean; error?: string }) =>
        m.ready ? resolve() : reject(new Error(`wasm worker: ${m.error}`)));
      w.once('error', (e: Error) => reject(new Error(`wasm worker failed to start: ${e.message}`)));
      w.postMessage(init);
    });
    return w;
  }
  const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
  const w = new Worker(url);
  URL.revokeObjectURL(url);
  await new Promise<void>((resolve, reject) => {
    w.onmessage = (e: MessageEvent<{ ready?: boolean; error?: string }>) =>
      e.data.ready ? resolve() : reject(new Error(`wasm worker: ${e.data.error}`));
    w.onerror = (e) => reject(new Error(`wasm worker failed to start: ${e.message}`));
    w.postMessage(init);
  });
  w.onmessage = null;
  return w;
}

/** Row slices for the caller + `workers` threads, boundaries on multiples of 4 (the microkernel's MR). */
export function splitRows(m: number, parts: number): [number, number][] {
  const out: [number, number][] = [];
  const per = Math.ceil(m / parts / 4) * 4;
  for (let t = 0; t < parts; t++) {
    const m0 = Math.min(m, t * per);
    out.push([m0, Math.min(m, m0 + per)]);
  }
  return out;
}

export async function createWorkerPool(workers: number, loaded: LoadedModule, memory: WebAssembly.Memory,
  alloc: WasmAllocator, kernels: KernelExports): Promise<WorkerPool> {
  const ctrlPtr = alloc.alloc((ROWS + 2 * workers) * 4, 'worker control block');
  const ctrl = (): Int32Array => new Int32Array(memory.buffer, ctrlPtr, ROWS + 2 * workers);
  const ctrlF = (): Float32Array => new Float32Array(memory.buffer, ctrlPtr, ROWS);
  ctrl().fill(0);
  const list: AnyWorker[] = [];
  try {
    for (let i = 0; i < workers; i++) {
      const packA = alloc.alloc(kernels.gemmPackABytes(), 'gemm packing panel A (worker)');
      const packB = alloc.alloc(kernels.gemmPackBBytes(), 'gemm packing panel B (worker)');
      list.push(await startWorker({ module: loaded.module, memory, ctrl: ctrlPtr, index: i, workers, packA, packB }));
    }
  } catch (e) {
    for (const w of list) w.terminate();
    throw e;
  }
  let alive = true;

  const waitDone = (c: Int32Array) => {
    for (;;) {
      const d = Atomics.load(c, DONE);
      if (d >= workers) return;
      try {
        Atomics.wait(c, DONE, d, 1000);
      } catch {
        // Browser main thread: Atomics.wait is not allowed; spin (jobs are short).
      }
    }
  };

  return {
    size: workers,
    worthSplitting(m, n, k) {
      return alive && m >= 8 * (workers + 1) && m * n * k >= 1 << 21;
    },
    gemm(a, b, cp, m, n, k, transA, transB, alpha, beta, packA, packB) {
      const c = ctrl();
      const f = ctrlF();
      const slices = splitRows(m, workers + 1);
      c.set([a, b, cp, m, n, k, transA, transB], ARGS);
      f[ARGS + 8] = alpha;
      f[ARGS + 9] = beta;
      for (let i = 0; i < workers; i++) c.set(slices[i + 1], ROWS + 2 * i);
      Atomics.store(c, DONE, 0);
      Atomics.store(c, ERR, 0);
      Atomics.store(c, CMD, CMD_GEMM);
      Atomics.add(c, SEQ, 1);
      Atomics.notify(c, SEQ);
      const [m0, m1] = slices[0];
      let err: unknown = null;
      try {
        if (m1 > m0) kernels.gemm(a, b, cp, m, n, k, transA, transB, alpha, beta, packA, packB, m0, m1);
      } catch (e) {
        err = e;
      }
      waitDone(c);
      if (err) throw err;
      if (Atomics.load(c, ERR)) throw new Error('wasm: gemm failed in a worker thread');
    },
    terminate() {
      if (!alive) return;
      alive = false;
      const c = ctrl();
      Atomics.store(c, CMD, CMD_EXIT);
      Atomics.add(c, SEQ, 1);
      Atomics.notify(c, SEQ);
      for (const w of list) w.terminate();
    },
  };
}
