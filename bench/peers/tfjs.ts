// Peer: TensorFlow.js on its WASM backend (XNNPACK kernels, SIMD128), the closest like-for-like
// peer to our WASM backend. Each job is the call (or small graph of calls) a tfjs user would write
// for the same op; results are disposed every iteration and nothing is read back, like our rows.
// In Node tfjs-wasm reports no multithread support, so it runs 1 thread whatever is asked.
import type { PeerJob } from '../ops/cases.js';
import { hostData } from '../ops/cases.js';
import { timeIt, type Timing } from '../lib/timing.js';

type Tf = typeof import('@tensorflow/tfjs-core');

export interface PeerHandle {
  name: string;
  /** Version and device details for the results header. */
  detail: string;
  /** Why this peer cannot run `threads` threads (null: it can). */
  whyNotThreads(threads: number): string | null;
  time(job: PeerJob, threads: number, timeMs: number): Promise<Timing>;
  close(): Promise<void>;
}

export async function createTfjsPeer(): Promise<PeerHandle> {
  const tf: Tf = await import('@tensorflow/tfjs-core');
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  wasm.setThreadsCount(1);
  if (!(await tf.setBackend('wasm'))) throw new Error('tfjs: setBackend(wasm) failed');
  await tf.ready();
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const mt = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
  const version = (wasm as { version_wasm?: string }).version_wasm ?? tf.version_core;
  return {
    name: 'tfjs-wasm',
    detail: `@tensorflow/tfjs-backend-wasm ${version} (SIMD ${simd ? 'on' : 'off'}, threads ${wasm.getThreadsCount()})`,
    // Even where tfjs reports multithread support we keep it at the one thread we set above.
    whyNotThreads: (t) => (t === 1 ? null : mt ? 'bench runs tfjs-wasm at 1 thread' : 'tfjs-wasm has no multithread support in Node'),
    time: (job, _threads, timeMs) => timeTfjs(tf, job, timeMs),
    close: async () => { tf.disposeVariables(); tf.engine().reset(); },
  };
}

async function timeTfjs(tf: Tf, job: PeerJob, timeMs: number): Promise<Timing> {
  let seed = 1;
  const made: import('@tensorflow/tfjs-core').Tensor[] = [];
  const rnd = (shape: number[], lo = -1, hi = 1) => {
    const x = tf.tensor(hostData(shape.reduce((a, b) => a * b, 1), seed++, lo, hi), shape, 'float32');
    made.push(x);
    return x;
  };
  let fn: () => void;
  switch (job.kind) {
    case 'gemm': {
      const a = rnd(job.transA ? [job.k, job.m] : [job.m, job.k]);
      const b = rnd(job.transB ? [job.n, job.k] : [job.k, job.n]);
      fn = () => tf.matMul(a, b, job.transA, job.transB).dispose();
      break;
    }
    case 'softAssign': {
      const z = rnd([job.n, job.d], -3, 3), mu = rnd([job.k, job.d], -3, 3);
      const { alpha } = job;
      fn = () => tf.tidy(() => {
        const d2 = tf.sum(tf.square(tf.sub(tf.expandDims(z, 1), tf.expandDims(mu, 0))), 2);
        const q = tf.pow(tf.add(1, tf.div(d2, alpha)), -(alpha + 1) / 2);
        return tf.div(q, tf.sum(q, 1, true));
      }).dispose();
      break;
    }
    case 'gmmLogResp': {
      const z = rnd([job.n, job.d], -3, 3), pi = rnd([job.k]), mu = rnd([job.k, job.d], -3, 3), lv = rnd([job.k, job.d]);
      const c = job.d * Math.log(2 * Math.PI);
      fn = () => tf.tidy(() => {
        const logPi = tf.logSoftmax(pi);
        const diff = tf.sub(tf.expandDims(z, 1), tf.expandDims(mu, 0));
        const quad = tf.sum(tf.mul(tf.square(diff), tf.expandDims(tf.exp(tf.neg(lv)), 0)), 2);
        const a = tf.add(tf.mul(-0.5, tf.add(tf.add(quad, tf.sum(lv, 1)), c)), logPi);
        return tf.sub(a, tf.logSumExp(a, 1, true));
      }).dispose();
      break;
    }
    case 'adam': {
      const p = tf.variable(rnd([job.size]), true, `bench_p_${seed}`);
      const g = rnd([job.size]);
      const opt = tf.train.adam(1e-3);
      fn = () => opt.applyGradients([{ name: p.name, tensor: g }]);
      made.push(p);
      break;
    }
    case 'biasAct': {
      const x = rnd([job.n, job.d]), b = rnd([job.d]);
      fn = () => tf.tidy(() => tf.relu(tf.add(x, b))).dispose();
      break;
    }
  }
  try {
    return await timeIt(`tfjs ${job.kind}`, fn, { timeMs });
  } finally {
    for (const x of made) x.dispose();
  }
}
