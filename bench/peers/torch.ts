// Peer: PyTorch on the CPU (Debian's python3-torch), run as a child process per thread count.
// torch.set_num_threads(n) sets its OpenMP pool; Debian's torch calls the system BLAS through
// update-alternatives (reference BLAS unless OpenBLAS is installed), and that BLAS has its own
// thread pool, so OPENBLAS_NUM_THREADS / OMP_NUM_THREADS are pinned to n as well.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PeerJob } from '../ops/cases.js';
import type { Timing } from '../lib/timing.js';
import type { PeerHandle } from './tfjs.js';
import type { Workload } from '../lib/workload.js';

const script = join(dirname(fileURLToPath(import.meta.url)), 'torch_ops.py');

let pythonFound: { python: string; version: string } | { why: string } | undefined;

/** The first python that imports torch (asked once per process: importing torch takes seconds). */
function findPython(): { python: string; version: string } | { why: string } {
  return (pythonFound ??= searchPython());
}

function searchPython(): { python: string; version: string } | { why: string } {
  const candidates = [process.env.HEMACLUST_TORCH_PYTHON, '/usr/bin/python3', 'python3'].filter((x): x is string => !!x);
  for (const python of candidates) {
    const r = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8', timeout: 60_000 });
    if (r.status === 0) return { python, version: r.stdout.trim() };
  }
  return { why: `no python with torch among ${candidates.join(', ')} (Debian: apt-get install python3-torch)` };
}

interface TorchReply {
  torch: string;
  threads: number;
  blas: string;
  results: (Timing | { error: string })[];
}

function runBatch(python: string, jobs: PeerJob[], threads: number, timeMs: number): TorchReply {
  const env = { ...process.env, OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads) };
  const r = spawnSync(python, [script], {
    input: JSON.stringify({ threads, timeMs, jobs }), encoding: 'utf8', env, maxBuffer: 16 << 20, timeout: 30 * 60_000,
  });
  if (r.status !== 0) throw new Error(`torch peer failed (${r.status}): ${r.stderr.slice(-2000)}`);
  return JSON.parse(r.stdout) as TorchReply;
}

/** The torch peer times a whole batch of jobs per thread count in one process (start-up of
 *  python+torch costs seconds); `time` serves results from that batch. */
export interface TorchPeer extends PeerHandle {
  prefetch(jobs: PeerJob[], threads: number, timeMs: number): void;
}

export function createTorchPeer(): TorchPeer | { why: string } {
  const found = findPython();
  if ('why' in found) return found;
  const cache = new Map<string, Timing | { error: string }>();
  let blas = 'unknown';
  const key = (job: PeerJob, threads: number) => `${threads}:${JSON.stringify(job)}`;
  const peer: TorchPeer = {
    name: 'torch',
    detail: `PyTorch ${found.version} CPU (${found.python})`,
    whyNotThreads: () => null,
    prefetch(jobs, threads, timeMs) {
      const todo = jobs.filter((j) => !cache.has(key(j, threads)));
      if (todo.length === 0) return;
      const reply = runBatch(found.python, todo, threads, timeMs);
      blas = reply.blas;
      peer.detail = `PyTorch ${reply.torch} CPU, BLAS ${blas} (${found.python})`;
      todo.forEach((j, i) => cache.set(key(j, threads), reply.results[i]));
    },
    async time(job, threads, timeMs) {
      if (!cache.has(key(job, threads))) peer.prefetch([job], threads, timeMs);
      const r = cache.get(key(job, threads))!;
      if ('error' in r) throw new Error(r.error);
      return r;
    },
    close: async () => { cache.clear(); },
  };
  return peer;
}

/** Runs a torch peer twice, with its BLAS on torch's `threads` and on one thread, and keeps the
 *  faster: Debian's OpenBLAS keeps a pthread pool of its own beside torch's OpenMP pool, and on
 *  minibatch-sized GEMMs the two fight for the cores (bench/NOTES.md §28). `others` says what the
 *  slower run took; `why` when torch is missing. Throws if torch ran other than `threads` threads. */
export function fasterBlas<T extends TorchEncoderRun>(threads: number, run: (blasThreads: number) => T | { why: string }):
  { best: T; blasThreads: number; others: string } | { why: string } {
  const runs: { blasThreads: number; got: T }[] = [];
  for (const blasThreads of new Set([threads, 1])) {
    const got = run(blasThreads);
    if ('why' in got) return got;
    if (got.threads !== threads) throw new Error(`torch ran ${got.threads} thread(s), asked ${threads}`);
    runs.push({ blasThreads, got });
  }
  const best = runs.reduce((a, r) => (r.got.seconds < a.got.seconds ? r : a));
  const others = runs.filter((r) => r !== best).map((r) => `BLAS ${r.blasThreads}t: ${r.got.seconds.toFixed(1)} s`).join(', ');
  return { best: best.got, blasThreads: best.blasThreads, others };
}

const encoderScript = join(dirname(fileURLToPath(import.meta.url)), 'torch_encoder.py');

export interface TorchEncoderRun { seconds: number; torch: string; threads: number; blas: string }

/** Runs one peer script with `job` on stdin, BLAS/OpenMP pinned to `threads`; `why` when
 *  python+torch is missing, so the row says n/a instead of failing (CI has no torch). */
function runTorchScript(script: string, what: string, job: object, threads: number, blasThreads = threads): TorchEncoderRun | { why: string } {
  const found = findPython();
  if ('why' in found) return { why: 'torch not installed' };
  const t = String(threads);
  const b = String(blasThreads);
  const r = spawnSync(found.python, [script], {
    input: JSON.stringify(job), encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: t, OPENBLAS_NUM_THREADS: b, MKL_NUM_THREADS: b },
    maxBuffer: 1 << 20, timeout: 30 * 60_000,
  });
  if (r.status !== 0) throw new Error(`torch ${what} peer failed (${r.status}): ${r.stderr.slice(-2000)}`);
  return JSON.parse(r.stdout) as TorchEncoderRun;
}

/** The end-to-end encoder row's torch peer (bench/e2e/encoder-1m.ts): the same MLP, chunking and
 *  cell count in one child process per thread count. */
export function runTorchEncoder(dims: readonly number[], cells: number, chunk: number, threads: number, blasThreads = threads): TorchEncoderRun | { why: string } {
  return runTorchScript(encoderScript, 'encoder', { threads, dims, cells, chunk }, threads, blasThreads);
}

const trainScript = join(dirname(fileURLToPath(import.meta.url)), 'torch_train.py');

export interface TorchTrainJob { model: 'idec' | 'vade'; dims: number[]; input: number; k: number; rows: number; batch: number; steps: number; threads: number }

/** The training rows' torch peer (bench/lib/training.ts): `steps` IDEC or VaDE training steps in one
 *  child process per thread count. */
export function runTorchTrain(job: TorchTrainJob): TorchEncoderRun | { why: string } {
  return runTorchScript(trainScript, 'train', job, job.threads);
}

const pipelineScript = join(dirname(fileURLToPath(import.meta.url)), 'torch_pipeline.py');

export interface TorchPipelineJob {
  threads: number;
  /** The BLAS's own thread pool (OpenBLAS pthreads is not torch's OpenMP pool). */
  blasThreads: number;
  features: number;
  dims: readonly number[];
  lr: number;
  emDtype: 'float64' | 'float32';
  workload: Workload;
}

export interface TorchPipelineRun extends TorchEncoderRun { phases: Record<string, number>; flop: number }

/** The train-pipeline row's torch peer (bench/e2e/train-pipeline.ts): the work our training did
 *  (bench/lib/workload.ts), replayed in PyTorch by torch_pipeline.py in one child process. */
export function runTorchPipeline(job: TorchPipelineJob): TorchPipelineRun | { why: string } {
  return runTorchScript(pipelineScript, 'pipeline', job, job.threads, job.blasThreads) as TorchPipelineRun | { why: string };
}
