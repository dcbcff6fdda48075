// Worker pool: W workers instantiate the same module over the same shared memory and share an op's
// rows with the calling thread: gemm (the kernel takes a row range and its own packing panels) and
// the row kernels of ROW_KERNELS (every row independent, the kernel takes [r0, r1) as its last two
// arguments). Jobs are handed over through a small control block in the shared memory with Atomics
// (wait/notify), not postMessage, so a call costs microseconds. Node uses worker_threads (eval'd
// source), browsers a Worker from a Blob URL; both run WORKER_SOURCE below, so the two paths share
// one protocol.
//
// Rows are handed out in chunks (about 4 per thread) from a shared counter, not as one fixed slice
// per thread: on a machine where a worker is descheduled (another process on the cores), the caller
// takes the chunks that worker would have waited on, instead of waiting for it (with fixed slices
// the caller sat idle for as long as the slowest worker was off its core). The caller returns
// when every chunk is done; a worker that wakes late finds none left. A gemm is cut into fewer,
// taller chunks (gemmChunks): each chunk repacks op(B). The counter carries the job's
// number in its high bits and is taken by compare-exchange, so a late worker can neither take a
// chunk of the next job with the previous job's arguments nor lose one. A chunk's rows, and so the
// results, do not depend on which thread runs it (every kernel here computes a row the same way
// whatever its range).
import type { KernelExports } from './exports.js';
import type { LoadedModule } from './loader.js';
import type { WasmAllocator } from './memory.js';

export interface WorkerPool {
  /** Number of worker threads (the caller's thread is extra). */
  readonly size: number;
  /** Whether a gemm of this shape is big enough to be worth waking the workers. */
  worthSplitting(m: number, n: number, k: number): boolean;
  /** Whether a row job of `rows` rows and `work` element·terms in all is worth waking the workers. */
  worthSplittingRows(rows: number, work: number): boolean;
  /** C = alpha*op(A)*op(B) + beta*C over all rows, split across the caller and the workers. */
  gemm(a: number, b: number, c: number, m: number, n: number, k: number, transA: number, transB: number,
    alpha: number, beta: number, packA: number, packB: number): void;
  /** Whether a gemm of this shape takes the split-K path (gemmSplitK) rather than gemm's row chunks. */
  splitsK(m: number, n: number, k: number, transA: number): boolean;
  /**
   * C = alpha*op(A)*op(B) + beta*C for a narrow TN gemm (splitsK): the K blocks of the narrow kernel
   * are the chunks, each written to its own partial in `scratch` (gemmNarrowPartBytes per block);
   * the caller then folds them into C in block order (bit-identical to the 1-thread kernel).
   */
  gemmSplitK(a: number, b: number, c: number, m: number, n: number, k: number, transB: number,
    alpha: number, beta: number, scratch: number): void;
  /**
   * Runs row kernel `kernel` over rows [0, rows) split across the caller and the workers: each
   * thread calls it with `args` followed by its own (r0, r1). With `scratch`, argument
   * `scratch.arg` is replaced per thread by `scratch.base + thread · scratch.stride` (thread 0 is the
   * caller), so kernels with f64 temporaries do not share them. `cut` replaces the default chunks
   * (a reduction that sums per chunk needs chunks that do not depend on the thread count).
   */
  rows(kernel: RowKernel, rows: number, args: readonly number[], scratch?: { arg: number; base: number; stride: number },
    cut?: { chunk: number; chunks: number }): void;
  terminate(): void;
}

/** Kernels whose rows are independent and whose last two arguments are a row range [r0, r1). The
 *  optimisers' "rows" are single elements (assembly/optim.ts); gemmNarrowSplitK's are K blocks, each
 *  written to its own partial (run by gemmSplitK, not rows()). */
export const ROW_KERNELS = ['asinhStandardize', 'gmmLogResp', 'biasAct', 'softAssign', 'pulseSummaries', 'softmax',
  'adamUpdate', 'sgdUpdate', 'gemmNarrowSplitK', 'mixtureLogLik', 'mixturePosteriors', 'mixtureStats', 'denseInt8', 'kmeansAssign'] as const;
export type RowKernel = (typeof ROW_KERNELS)[number];
/** A row job is worth waking the workers when it touches at least this many elements·terms. */
export const ROW_SPLIT_MIN_WORK = 1 << 15;
/** A gemm is worth waking the workers when it has at least this many multiply-adds (M·N·K): below
 *  it, the wake-up and the repacking per chunk cost more than the split saves. */
export const GEMM_SPLIT_MIN_WORK = 1 << 21;
/** Rows per thread a gemm (and a row job) needs before it is split: fewer and each thread's chunk is
 *  shorter than the kernel's row blocking makes worthwhile. */
const GEMM_MIN_ROWS_PER_THREAD = 8;
const ROW_JOB_MIN_ROWS_PER_THREAD = 4;
/** Widest N of the narrow gemm path (assembly/gemm-narrow.ts NARROW_MAX_N), whose K blocks are the
 *  split-K chunks. */
const NARROW_MAX_N = 16;
/** A waiting caller re-checks the done count at least this often (ms), in case a notify is missed. */
const WAIT_RECHECK_MS = 1000;

// Control block layout (i32 slots).
const SEQ = 0; // job number, bumped by the caller to wake workers
const DONE = 1; // chunks of the current job finished (by any thread)
const CMD = 2; // CMD_GEMM, CMD_EXIT or CMD_ROW0 + row kernel index
const ERR = 3; // set to 1 by a worker whose kernel threw
const ARGS = 4; // gemm: a, b, c, m, n, k, transA, transB, alpha(f32), beta(f32)
const NEXT = 14; // (job tag << TAG_SHIFT) | next chunk index
const JOB = 15; // rows, chunk rows, chunk count (slots 15..17)
const CMD_GEMM = 1;
const CMD_EXIT = 2;
const CMD_ROW0 = 3; // CMD_ROW0 + i runs ROW_KERNELS[i]
// NEXT = (tag << TAG_SHIFT) | chunk index, tag = the low 21 bits of SEQ (a worker would have to
// sleep through 2^21 jobs between two reads to mistake one job for another). Between jobs the
// index is CLOSED (≥ any chunk count), so nothing can be taken while the next job is written.
const TAG_SHIFT = 10;
const TAG_MASK = 0x1fffff;
const CLOSED = (1 << TAG_SHIFT) - 1; // chunk counts stay below this: ≤ 4 per thread + 1
const MAX_WORKERS = 200;
/** How long a thread polls for the next job (a worker) or the last chunk (the caller) before it
 *  sleeps in Atomics.wait, in ms. */
const SPIN_MS = 0.1;
// Row-job block (8-byte aligned): argument count, scratch argument index (−1: none), scratch base,
// scratch stride, then the arguments as f64 (every pointer, size and f32 value is exact in an f64).
const RJ = 18;
const RJ_NARGS = 0;
const RJ_SCRATCH_ARG = 1;
const RJ_SCRATCH_BASE = 2;
const RJ_SCRATCH_STRIDE = 3;
const RJ_ARGS = 4; // i32 slot offset of the first f64 argument
const RJ_MAX_ARGS = 16; // adamUpdate has 13 before its range
const SLOTS = RJ + RJ_ARGS + 2 * RJ_MAX_ARGS;

/** Runs in every worker (Node worker_threads with eval, or a browser Worker). Plain JS. */
const WORKER_SOURCE = `
const SEQ = ${SEQ}, DONE = ${DONE}, CMD = ${CMD}, ERR = ${ERR}, ARGS = ${ARGS}, NEXT = ${NEXT}, JOB = ${JOB};
const CMD_EXIT = ${CMD_EXIT}, CMD_GEMM = ${CMD_GEMM}, CMD_ROW0 = ${CMD_ROW0};
const TAG_SHIFT = ${TAG_SHIFT}, TAG_MASK = ${TAG_MASK};
const ROW_KERNELS = ${JSON.stringify(ROW_KERNELS)};
const RJ = ${RJ}, RJ_NARGS = ${RJ_NARGS}, RJ_SCRATCH_ARG = ${RJ_SCRATCH_ARG}, RJ_SCRATCH_BASE = ${RJ_SCRATCH_BASE};
const RJ_SCRATCH_STRIDE = ${RJ_SCRATCH_STRIDE}, RJ_ARGS = ${RJ_ARGS}, SLOTS = ${SLOTS}, SPIN_MS = ${SPIN_MS};
// The caller's takeChunk, pasted (bound to this name: a minifier may have renamed the original).
const takeChunk = ${takeChunk.toString()};
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
  const ctrl = new Int32Array(msg.memory.buffer, msg.ctrl, SLOTS);
  const ctrlF = new Float32Array(msg.memory.buffer, msg.ctrl, SLOTS);
  const rjArgs = new Float64Array(msg.memory.buffer, msg.ctrl + 4 * (RJ + RJ_ARGS), (SLOTS - RJ - RJ_ARGS) >> 1);
  const thread = msg.index + 1; // 0 is the caller
  post({ ready: true });
  let last = Atomics.load(ctrl, SEQ);
  for (;;) {
    // Spin a moment before sleeping: training launches jobs back to back, and waking a sleeping
    // thread costs more than a short spin (most of all on a VM).
    for (const until = performance.now() + SPIN_MS; Atomics.load(ctrl, SEQ) === last && performance.now() < until;);
    Atomics.wait(ctrl, SEQ, last);
    const seq = Atomics.load(ctrl, SEQ);
    if (seq === last) continue;
    last = seq;
    const cmd = Atomics.load(ctrl, CMD);
    if (cmd === CMD_EXIT) break;
    // The job's arguments, read once; used only for chunks taken under this job's tag (if the job
    // is already over, takeChunk returns -1 and whatever was read is dropped).
    const rows = ctrl[JOB], chunk = ctrl[JOB + 1], chunks = ctrl[JOB + 2];
    let run;
    if (cmd === CMD_GEMM) {
      const g = Array.from(ctrl.subarray(ARGS, ARGS + 8));
      const alpha = ctrlF[ARGS + 8], beta = ctrlF[ARGS + 9];
      run = (r0, r1) => k.gemm(g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], alpha, beta, msg.packA, msg.packB, r0, r1);
    } else {
      const args = Array.from(rjArgs.subarray(0, ctrl[RJ + RJ_NARGS]));
      const at = ctrl[RJ + RJ_SCRATCH_ARG];
      if (at >= 0) args[at] = ctrl[RJ + RJ_SCRATCH_BASE] + thread * ctrl[RJ + RJ_SCRATCH_STRIDE];
      const fn = k[ROW_KERNELS[cmd - CMD_ROW0]];
      run = fn ? (r0, r1) => fn(...args, r0, r1) : null;
    }
    for (let c; (c = takeChunk(ctrl, NEXT, TAG_SHIFT, seq & TAG_MASK, chunks)) >= 0;) {
      try {
        if (!run) throw new Error('unknown command');
        run(c * chunk, Math.min(rows, (c + 1) * chunk));
      } catch (e) {
        Atomics.store(ctrl, ERR, 1);
      }
      Atomics.add(ctrl, DONE, 1);
      Atomics.notify(ctrl, DONE);
    }
  }
});
`;

/**
 * Takes the next chunk index of job `tag` from the counter by compare-exchange; −1 when the job's
 * chunks are all taken or the counter already belongs to another job. Shared by the caller and the
 * workers (its source is pasted into WORKER_SOURCE, so it must use only its arguments and Atomics).
 */
function takeChunk(ctrl: Int32Array, next: number, shift: number, tag: number, chunks: number): number {
  for (;;) {
    const v = Atomics.load(ctrl, next);
    if (v >>> shift !== tag) return -1;
    const c = v & ((1 << shift) - 1);
    if (c >= chunks) return -1;
    if (Atomics.compareExchange(ctrl, next, v, v + 1) === v) return c;
  }
}

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

/** How the pool cuts rows [0, m) for `threads` threads (caller included): chunks of a multiple of
 *  4 rows (gemm's microkernel height), about 4 per thread, the last one possibly shorter. */
export function rowChunks(m: number, threads: number): { chunk: number; chunks: number } {
  const chunk = Math.max(4, Math.ceil(m / (4 * threads) / 4) * 4);
  return { chunk, chunks: Math.ceil(m / chunk) };
}

/** Rows a gemm chunk should have at least. Every chunk is a gemm call of its own and packs all of
 *  op(B) (K×N) again, so a chunk of r rows spends about 1/r of its time packing: little for the
 *  forward shapes (M = batch), much for dW (M = in, K = batch), where many short chunks would pack
 *  the same large B several times per thread. */
export const GEMM_MIN_CHUNK_ROWS = 192;

/** How the pool cuts a gemm's rows [0, m): like rowChunks, but only as many chunks (a multiple of
 *  the thread count, at most 4 per thread) as keep each at GEMM_MIN_CHUNK_ROWS rows, at least one
 *  per thread; equal chunks of a multiple of 4 rows, the last one possibly shorter. */
export function gemmChunks(m: number, threads: number): { chunk: number; chunks: number } {
  const perThread = Math.max(1, Math.min(4, Math.floor(m / (threads * GEMM_MIN_CHUNK_ROWS))));
  const chunk = Math.max(4, Math.ceil(m / (perThread * threads) / 4) * 4);
  return { chunk, chunks: Math.ceil(m / chunk) };
}

/** Split K (gemmSplitK) for narrow TN gemms whose K is at least this deep (4+ of the narrow
 *  kernel's K blocks, so every thread gets whole blocks). */
export const SPLIT_K_MIN_K = 2048;
/** … whose partials (one M×N per K block of ≤ 512) hold at most this many floats (16 MiB) … */
export const SPLIT_K_MAX_PARTIALS = 1 << 22;
/** … and whose K blocks fit the chunk counter (below CLOSED). */
export const SPLIT_K_MAX_K = 1 << 18;

/** Starts `workers` workers over the shared memory, each with its own gemm packing panels; if one
 *  fails to start, those already started are stopped. */
async function startWorkers(workers: number, loaded: LoadedModule, memory: WebAssembly.Memory, ctrlPtr: number,
  alloc: WasmAllocator, kernels: KernelExports): Promise<AnyWorker[]> {
  const list: AnyWorker[] = [];
  try {
    for (let i = 0; i < workers; i++) {
      const packA = alloc.alloc(kernels.gemmPackABytes(), 'gemm packing panel A (worker)');
      const packB = alloc.alloc(kernels.gemmPackBBytes(), 'gemm packing panel B (worker)');
      list.push(await startWorker({ module: loaded.module, memory, ctrl: ctrlPtr, index: i, packA, packB }));
    }
  } catch (e) {
    for (const w of list) w.terminate();
    throw e;
  }
  return list;
}

/** Waits until `chunks` chunks of the current job are done (by any thread). */
function waitDone(c: Int32Array, chunks: number): void {
  for (const until = performance.now() + SPIN_MS; Atomics.load(c, DONE) < chunks && performance.now() < until;);
  for (;;) {
    const d = Atomics.load(c, DONE);
    if (d >= chunks) return;
    try {
      Atomics.wait(c, DONE, d, WAIT_RECHECK_MS);
    } catch {
      // Browser main thread: Atomics.wait is not allowed; spin (chunks are short).
    }
  }
}

/**
 * Runs rows [0, m) in the chunks `cut`, taken by the caller and the workers from the shared
 * counter of control block `c`; returns when all are done.
 * The command's arguments must already be in the control block (written while NEXT is closed).
 */
function launchJob(c: Int32Array, cmd: number, m: number, what: string, runOwn: (r0: number, r1: number) => void,
  cut: { chunk: number; chunks: number }): void {
  const { chunk, chunks } = cut;
  const seq = (c[SEQ] + 1) | 0;
  const tag = seq & TAG_MASK;
  c[JOB] = m;
  c[JOB + 1] = chunk;
  c[JOB + 2] = chunks;
  Atomics.store(c, DONE, 0);
  Atomics.store(c, ERR, 0);
  Atomics.store(c, CMD, cmd);
  Atomics.store(c, NEXT, tag << TAG_SHIFT);
  Atomics.store(c, SEQ, seq);
  Atomics.notify(c, SEQ);
  let err: unknown = null;
  for (let k; (k = takeChunk(c, NEXT, TAG_SHIFT, tag, chunks)) >= 0;) {
    try {
      if (!err) runOwn(k * chunk, Math.min(m, (k + 1) * chunk));
    } catch (e) {
      err = e;
    }
    Atomics.add(c, DONE, 1);
  }
  waitDone(c, chunks);
  Atomics.store(c, NEXT, (tag << TAG_SHIFT) | CLOSED);
  if (err) throw err;
  if (Atomics.load(c, ERR)) throw new Error(`wasm: ${what} failed in a worker thread`);
}

export async function createWorkerPool(workers: number, loaded: LoadedModule, memory: WebAssembly.Memory,
  alloc: WasmAllocator, kernels: KernelExports): Promise<WorkerPool> {
  if (workers > MAX_WORKERS) throw new Error(`wasm: at most ${MAX_WORKERS} worker threads (asked for ${workers})`);
  const ctrlPtr = alloc.alloc(SLOTS * 4, 'worker control block');
  const ctrl = (): Int32Array => new Int32Array(memory.buffer, ctrlPtr, SLOTS);
  const ctrlF = (): Float32Array => new Float32Array(memory.buffer, ctrlPtr, SLOTS);
  const rjArgs = (): Float64Array => new Float64Array(memory.buffer, ctrlPtr + 4 * (RJ + RJ_ARGS), RJ_MAX_ARGS);
  ctrl().fill(0);
  ctrl()[NEXT] = CLOSED; // job 0 (none) is closed
  const list = await startWorkers(workers, loaded, memory, ctrlPtr, alloc, kernels);
  let alive = true;
  const launch = (cmd: number, m: number, what: string, runOwn: (r0: number, r1: number) => void,
    cut = rowChunks(m, workers + 1)) => launchJob(ctrl(), cmd, m, what, runOwn, cut);

  /** A row job (rows()), optionally cut other than rowChunks (gemmSplitK: one K block per chunk). */
  const runRows = (kernel: RowKernel, rows: number, args: readonly number[], scratch?: { arg: number; base: number; stride: number },
    cut?: { chunk: number; chunks: number }, what: string = kernel) => {
    if (args.length > RJ_MAX_ARGS) throw new Error(`wasm: row job ${kernel} has ${args.length} arguments (at most ${RJ_MAX_ARGS})`);
    const c = ctrl();
    c[RJ + RJ_NARGS] = args.length;
    c[RJ + RJ_SCRATCH_ARG] = scratch ? scratch.arg : -1;
    c[RJ + RJ_SCRATCH_BASE] = scratch ? scratch.base : 0;
    c[RJ + RJ_SCRATCH_STRIDE] = scratch ? scratch.stride : 0;
    rjArgs().set(args);
    const own = [...args];
    if (scratch) own[scratch.arg] = scratch.base;
    const fn = kernels[kernel] as (...a: number[]) => void;
    launch(CMD_ROW0 + ROW_KERNELS.indexOf(kernel), rows, what, (r0, r1) => fn(...own, r0, r1), cut);
  };

  return {
    size: workers,
    worthSplitting(m, n, k) {
      return alive && m >= GEMM_MIN_ROWS_PER_THREAD * (workers + 1) && m * n * k >= GEMM_SPLIT_MIN_WORK;
    },
    worthSplittingRows(rows, work) {
      return alive && rows >= ROW_JOB_MIN_ROWS_PER_THREAD * (workers + 1) && work >= ROW_SPLIT_MIN_WORK;
    },
    gemm(a, b, cp, m, n, k, transA, transB, alpha, beta, packA, packB) {
      const c = ctrl();
      const f = ctrlF();
      c.set([a, b, cp, m, n, k, transA, transB], ARGS);
      f[ARGS + 8] = alpha;
      f[ARGS + 9] = beta;
      launch(CMD_GEMM, m, 'gemm', (m0, m1) => kernels.gemm(a, b, cp, m, n, k, transA, transB, alpha, beta, packA, packB, m0, m1),
        gemmChunks(m, workers + 1));
    },
    splitsK(m, n, k, transA) {
      return alive && transA === 1 && n > 0 && n <= NARROW_MAX_N && k >= SPLIT_K_MIN_K && k <= SPLIT_K_MAX_K &&
        m * n * kernels.gemmNarrowKBlocks(k) <= SPLIT_K_MAX_PARTIALS && m * n * k >= GEMM_SPLIT_MIN_WORK;
    },
    gemmSplitK(a, b, cp, m, n, k, transB, alpha, beta, scratch) {
      // One K block per chunk; alpha travels as f64 (the caller's number, exact) and each call rounds
      // it to the same f32.
      const blocks = kernels.gemmNarrowKBlocks(k);
      runRows('gemmNarrowSplitK', blocks, [a, b, m, n, k, transB, alpha, scratch], undefined, { chunk: 1, chunks: blocks }, 'gemm (split K)');
      kernels.gemmNarrowReduce(cp, m, n, k, beta, scratch, 0, m);
    },
    rows(kernel, rows, args, scratch, cut) {
      runRows(kernel, rows, args, scratch, cut);
    },
    terminate() {
      if (!alive) return;
      alive = false;
      const c = ctrl();
      Atomics.store(c, CMD, CMD_EXIT);
      Atomics.store(c, SEQ, (c[SEQ] + 1) | 0);
      Atomics.notify(c, SEQ);
      for (const w of list) w.terminate();
    },
  };
}
