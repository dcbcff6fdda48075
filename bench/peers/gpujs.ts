// Peer: gpu.js on its fastest backend here. gpu.js compiles a JavaScript kernel function (one
// invocation per output element, `this.thread.x/y` its index) to GLSL, WGSL, WebAssembly or plain
// JS. At start-up this peer tries every backend gpu.js offers in Node — headless GL (`gl`, an
// optional native dependency), WebGPU (its own Dawn build, then the project's Dawn as
// `navigator.gpu`), WebAssembly (`webasm`, SIMD, optionally a worker pool) and the CPU (JS) — on one
// GEMM, checks the result against the host, and keeps the fastest that works; every backend's
// outcome (GFLOP/s or why it failed) goes into the results header.
//
// Kernels are written the usual gpu.js way (its documentation's matrix multiply): one output per
// invocation, a loop over K, flat Float32Array inputs indexed by hand, sizes baked in as constants.
// Sources are strings, not TypeScript functions, so the TS→JS transform cannot change what gpu.js
// parses. Each call copies its inputs into the kernel and returns a fresh output array: that is the
// gpu.js calling convention (no resident device tensors on webasm), so it is part of the timing.
// Threads: only `webasm` has them (its worker pool, under asyncMode, `poolSize` = the row's threads).
// Ops: GEMM (NN/NT/TN by index arithmetic), softAssign and gmmLogResp (each invocation recomputes
// its row's K distances for the normaliser: K ≤ 4, the way a gpu.js user writes a row-normalised
// output), biasAct. NOT expressed: adamUpdate — it writes three arrays (p, m, v) in place, a
// gpu.js kernel returns one new array (kernelMap is unsupported on webasm), and three kernels that
// each re-read p, g, m, v would be a strawman.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import type { PeerJob } from '../ops/cases.js';
import { hostData } from '../ops/cases.js';
import { timeIt, type Timing } from '../lib/timing.js';
import type { PeerHandle } from './tfjs.js';

// gpu.js is CommonJS with loose typings; the bench only needs this much of it.
interface GpuKernel { (...args: unknown[]): unknown; destroy?(): void }
interface GpuInstance { createKernel(src: string, settings: object): GpuKernel; destroy(): Promise<void> | void }
interface GpuModule { GPU: { new (o: { mode: string }): GpuInstance; isWebGPUAvailable(): Promise<boolean> } }

const require = createRequire(import.meta.url);

export interface GpujsProbe {
  backend: string;
  gflops?: number;
  why?: string;
  software?: boolean;
}

export interface GpujsPeer extends PeerHandle {
  backend: string;
  probes: GpujsProbe[];
}

// ---- kernel sources ------------------------------------------------------------------------

const GEMM_A = { NN: 'a[y * K + p]', NT: 'a[y * K + p]', TN: 'a[p * M + y]', TT: 'a[p * M + y]' } as const;
const GEMM_B = { NN: 'b[p * N + x]', NT: 'b[x * K + p]', TN: 'b[p * N + x]', TT: 'b[x * K + p]' } as const;

function gemmSource(transA: boolean, transB: boolean): string {
  const tag = `${transA ? 'T' : 'N'}${transB ? 'T' : 'N'}` as keyof typeof GEMM_A;
  return `function (a, b) {
    const K = this.constants.K, M = this.constants.M, N = this.constants.N;
    const x = this.thread.x, y = this.thread.y;
    let s = 0;
    for (let p = 0; p < K; p++) { s += ${GEMM_A[tag]} * ${GEMM_B[tag]}; }
    return s;
  }`;
}

const SOFT_ASSIGN = `function (z, mu) {
  const D = this.constants.D, K = this.constants.K, alpha = this.constants.alpha;
  const i = this.thread.y;
  let den = 0;
  let mine = 0;
  for (let j = 0; j < K; j++) {
    let d2 = 0;
    for (let t = 0; t < D; t++) { const u = z[i * D + t] - mu[j * D + t]; d2 += u * u; }
    const q = Math.pow(1 + d2 / alpha, -(alpha + 1) / 2);
    den += q;
    if (j === this.thread.x) { mine = q; }
  }
  return mine / den;
}`;

// log N(z | μ_c, diag σ²_c) + log softmax(π)_c, normalised over c by a one-pass (running-max)
// log-sum-exp. 1/σ²_c and Σ_d log σ²_c + D·log 2π are per-call constants of K·D values, computed once
// per call on the host (as tfjs's tf.exp(tf.neg(lv)) is once per call), not once per invocation.
const GMM_LOG_RESP = `function (z, logPi, mu, invVar, logDetC) {
  const D = this.constants.D, K = this.constants.K;
  const i = this.thread.y;
  let aMax = -1e30;
  let sum = 0;
  let mine = 0;
  for (let c = 0; c < K; c++) {
    let quad = 0;
    for (let t = 0; t < D; t++) { const u = z[i * D + t] - mu[c * D + t]; quad += u * u * invVar[c * D + t]; }
    const a = logPi[c] - 0.5 * (quad + logDetC[c]);
    if (c === this.thread.x) { mine = a; }
    if (a > aMax) { sum = sum * Math.exp(aMax - a) + 1; aMax = a; } else { sum += Math.exp(a - aMax); }
  }
  return mine - aMax - Math.log(sum);
}`;

/** The per-call host part of the gmmLogResp job: log softmax(π), 1/σ², Σ log σ² + D log 2π. */
function gmmConstants(pi: Float32Array, lv: Float32Array, k: number, d: number): Float32Array[] {
  const piMax = Math.max(...pi);
  const lse = piMax + Math.log(pi.reduce((s, v) => s + Math.exp(v - piMax), 0));
  const logPi = Float32Array.from(pi, (v) => v - lse);
  const invVar = Float32Array.from(lv, (v) => Math.exp(-v));
  const logDet = new Float32Array(k);
  for (let c = 0; c < k; c++) {
    let s = d * Math.log(2 * Math.PI);
    for (let t = 0; t < d; t++) s += lv[c * d + t];
    logDet[c] = s;
  }
  return [logPi, invVar, logDet];
}

const BIAS_RELU = `function (x, b) {
  const v = x[this.thread.y * this.constants.D + this.thread.x] + b[this.thread.x];
  return Math.max(v, 0);
}`;

interface Built {
  src: string; output: number[]; constants: Record<string, number>; args: Float32Array[];
  /** Per-call host work before the kernel (timed with it), turning `args` into the kernel's inputs. */
  prepare?: (args: Float32Array[]) => Float32Array[];
}

/** The kernel and inputs of a job, or why gpu.js cannot express it fairly. */
function build(job: PeerJob): Built | { why: string } {
  const rnd = (n: number, seed: number, lo = -1, hi = 1) => hostData(n, seed, lo, hi);
  switch (job.kind) {
    case 'gemm':
      return { src: gemmSource(job.transA, job.transB), output: [job.n, job.m], constants: { M: job.m, K: job.k, N: job.n },
        args: [rnd(job.m * job.k, 1), rnd(job.k * job.n, 2)] };
    case 'softAssign':
      return { src: SOFT_ASSIGN, output: [job.k, job.n], constants: { D: job.d, K: job.k, alpha: job.alpha },
        args: [rnd(job.n * job.d, 1, -3, 3), rnd(job.k * job.d, 2, -3, 3)] };
    case 'gmmLogResp':
      return { src: GMM_LOG_RESP, output: [job.k, job.n], constants: { D: job.d, K: job.k },
        args: [rnd(job.n * job.d, 1, -3, 3), rnd(job.k, 2), rnd(job.k * job.d, 3, -3, 3), rnd(job.k * job.d, 4)],
        prepare: ([z, pi, mu, lv]) => { const [logPi, invVar, logDet] = gmmConstants(pi, lv, job.k, job.d); return [z, logPi, mu, invVar, logDet]; } };
    case 'biasAct':
      if (job.act !== 'relu') return { why: `gpu.js peer: only relu is written (asked ${job.act})` };
      return { src: BIAS_RELU, output: [job.d, job.n], constants: { D: job.d }, args: [rnd(job.n * job.d, 1), rnd(job.d, 2)] };
    case 'adam':
      return { why: 'not expressible fairly in gpu.js: Adam updates p, m, v in place (3 outputs); a kernel returns one new array and webasm has no kernelMap' };
  }
}

/** Row-major host GEMM entry (i, j) of a built gemm job, to check a backend's output. */
function gemmEntry(job: Extract<PeerJob, { kind: 'gemm' }>, a: Float32Array, b: Float32Array, i: number, j: number): number {
  let s = 0;
  for (let p = 0; p < job.k; p++) {
    const av = job.transA ? a[p * job.m + i] : a[i * job.k + p];
    const bv = job.transB ? b[j * job.k + p] : b[p * job.n + j];
    s += av * bv;
  }
  return s;
}

function rowsOf(out: unknown): ArrayLike<number>[] {
  if (!Array.isArray(out)) throw new Error(`gpu.js returned ${Object.prototype.toString.call(out)}, expected rows`);
  return out as ArrayLike<number>[];
}

// ---- backend probing -------------------------------------------------------------------------

interface Candidate { backend: string; mode: string; setup?: () => Promise<string | null>; software?: boolean }

const SOFTWARE_GPU = /llvmpipe|lavapipe|swiftshader|software/i;

/** Exposes a Dawn build as `navigator.gpu` (gpu.js looks for WebGPU there); returns the adapter
 *  name or throws. Node 20 has no `navigator`, so the bench owns it while gpu.js needs it. */
async function exposeDawn(spec: string): Promise<string> {
  // A Dawn build can abort natively (no Vulkan, a missing symbol): ask a child process first, so
  // only a Dawn that answered there is loaded into the bench process.
  const probe = `const wg = require(${JSON.stringify(spec)}); wg.create([]).requestAdapter().then((a) => { console.log(a ? 'ok' : 'none'); process.exit(0); }, (e) => { console.error(e.message); process.exit(3); });`;
  const r = spawnSync(process.execPath, ['-e', probe], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0 || !r.stdout.includes('ok')) {
    const lines = `${r.stderr}`.split('\n').map((l) => l.trim());
    const why = lines.find((l) => /^\w*Error:/.test(l))?.replace(/^\w*Error:\s*/, '');
    throw new Error(r.stdout.includes('none') ? 'no adapter' : `${why ?? `child ${r.signal ?? `exit ${r.status}`}`}`);
  }
  const wg = require(spec) as { create(flags: string[]): { requestAdapter(): Promise<{ info?: { device?: string; description?: string } } | null> }; globals: object };
  const gpu = wg.create([]);
  const adapter = await gpu.requestAdapter();
  if (!adapter) throw new Error('no adapter');
  Object.assign(globalThis, wg.globals);
  Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  return `${adapter.info?.description ?? ''} ${adapter.info?.device ?? ''}`.trim();
}

// Node 21+ has a navigator of its own (without gpu): put back whatever was there.
const originalNavigator = Object.getOwnPropertyDescriptor(globalThis, 'navigator');

function restoreNavigator(): void {
  if (originalNavigator) Object.defineProperty(globalThis, 'navigator', originalNavigator);
  else delete (globalThis as { navigator?: unknown }).navigator;
}

async function probe(mod: GpuModule, c: Candidate, quick: boolean): Promise<{ probe: GpujsProbe; gpu?: GpuInstance }> {
  const job = { kind: 'gemm' as const, m: quick ? 32 : 256, k: 784, n: quick ? 64 : 500, transA: false, transB: false };
  let gpu: GpuInstance | undefined;
  try {
    const note = c.setup ? await c.setup() : null;
    gpu = new mod.GPU({ mode: c.mode });
    const b = build(job) as Built;
    const kern = gpu.createKernel(b.src, { output: b.output, constants: b.constants, tactic: 'precision' });
    const rows = rowsOf(await kern(...b.args));
    for (const [i, j] of [[0, 0], [job.m - 1, job.n - 1], [job.m >> 1, 7]]) {
      const want = gemmEntry(job, b.args[0], b.args[1], i, j);
      if (!(Math.abs(rows[i][j] - want) <= 1e-3 * (1 + Math.abs(want)))) throw new Error(`wrong result: C[${i},${j}] = ${rows[i][j]}, host ${want.toFixed(4)}`);
    }
    const t = await timeIt(`gpu.js ${c.backend} probe`, () => kern(...b.args), { timeMs: quick ? 20 : 400, minIters: 2, warmupIters: 1 });
    const software = c.software || (note !== null && SOFTWARE_GPU.test(note));
    return { probe: { backend: note ? `${c.backend} (${note})` : c.backend, gflops: (2 * job.m * job.n * job.k) / (t.p50Ms / 1e3) / 1e9, software }, gpu };
  } catch (e) {
    if (gpu) await gpu.destroy();
    return { probe: { backend: c.backend, why: (e as Error).message.split('\n')[0].slice(0, 160) } };
  }
}

export async function createGpujsPeer(quick: boolean): Promise<GpujsPeer> {
  const mod = require('gpu.js') as GpuModule;
  const version = (require('gpu.js/package.json') as { version: string }).version;
  const candidates: Candidate[] = [
    { backend: 'headlessgl', mode: 'headlessgl', setup: async () => {
      // package.json denies gl's install script (it would fetch a prebuilt binary or compile), so
      // gl is usually present without its native part; say which.
      let path: string;
      try { path = require.resolve('gl', { paths: [require.resolve('gpu.js')] }); } catch { throw new Error('optional native dependency gl is not installed'); }
      try { require(path); } catch (e) { throw new Error(`gl is installed but not built: ${(e as Error).message.split('\n')[0].slice(0, 80)}`); }
      return null;
    } },
    { backend: 'webgpu (own Dawn)', mode: 'webgpu', setup: () => exposeDawn(require.resolve('webgpu', { paths: [require.resolve('gpu.js')] })) },
    { backend: 'webgpu (project Dawn)', mode: 'webgpu', setup: () => exposeDawn('webgpu') },
    { backend: 'webasm', mode: 'webasm' },
    { backend: 'cpu', mode: 'cpu' },
  ];
  const probes: GpujsProbe[] = [];
  let best: { c: Candidate; p: GpujsProbe; gpu: GpuInstance } | null = null;
  for (const c of candidates) {
    const { probe: p, gpu } = await probe(mod, c, quick);
    probes.push(p);
    if (!gpu) continue;
    // A software GPU rasteriser is recorded but only wins if nothing else works.
    const better = !best || (best.p.software && !p.software) || (!!p.software === !!best.p.software && (p.gflops ?? 0) > (best.p.gflops ?? 0));
    if (better) {
      if (best) await best.gpu.destroy();
      best = { c, p, gpu };
    } else {
      await gpu.destroy();
    }
  }
  // gpu.js finds WebGPU through navigator.gpu: keep the Dawn one only if a webgpu backend won.
  if (best?.c.mode !== 'webgpu') restoreNavigator();
  if (!best) throw new Error(`gpu.js ${version}: no backend works (${probes.map((p) => `${p.backend}: ${p.why}`).join('; ')})`);
  const winner = best;
  const threaded = winner.c.mode === 'webasm';
  const kernels = new Map<string, { kern: GpuKernel; args: Float32Array[] }>();
  const say = (p: GpujsProbe) => `${p.backend} ${p.why ? `failed (${p.why})` : `${p.gflops!.toFixed(2)} GFLOP/s${p.software ? ', software' : ''}`}`;
  return {
    name: 'gpu.js',
    backend: winner.p.backend,
    probes,
    detail: `gpu.js ${version} on ${winner.p.backend} (fastest working backend; GEMM probe ${job0(quick)}: ${probes.map(say).join('; ')})`
      + '; inputs copied in and a new output returned per call (gpu.js API)',
    whyNotThreads: (t) => (t === 1 || threaded ? null : `gpu.js ${winner.p.backend} has no thread setting`),
    async time(job, threads, timeMs): Promise<Timing> {
      const b = build(job);
      if ('why' in b) throw new Error(b.why);
      const key = `${threads}:${JSON.stringify(job)}`;
      let k = kernels.get(key);
      if (!k) {
        // Threads > 1: webasm's worker pool, which gpu.js runs only under asyncMode.
        const settings = threads > 1 ? { asyncMode: true, poolSize: threads } : {};
        const kern = winner.gpu.createKernel(b.src, { output: b.output, constants: b.constants, tactic: 'precision', ...settings });
        k = { kern, args: b.args };
        kernels.set(key, k);
      }
      const { kern, args } = k;
      const call = () => kern(...(b.prepare ? b.prepare(args) : args));
      const first = rowsOf(await call());
      if (first.length !== b.output[1] || !Number.isFinite(first[0][0])) throw new Error(`gpu.js returned ${first.length} rows / ${first[0]?.[0]}`);
      try {
        return await timeIt(`gpu.js ${job.kind}`, call, { timeMs });
      } finally {
        kern.destroy?.();
        kernels.delete(key);
      }
    },
    close: async () => { await winner.gpu.destroy(); restoreNavigator(); },
  };
}

function job0(quick: boolean): string {
  return quick ? '32×784×64' : '256×784×500';
}
