// The op-level rows: each op at the shapes the models really run, with a nominal FLOP and byte
// count (for GFLOP/s, GB/s and the roofline ceiling) and a serialisable description that the peers
// (tfjs-wasm, PyTorch) turn into their own equivalent call.
//
// Shapes (DEC/IDEC encoder d-500-500-2000-10 with d = 784 as on MNIST, batches of 4096 rows;
// W is stored [in, out] as in bindings/models/mlp.ts):
//   forward     Y[B,out]  = X[B,in] · W[in,out]          gemm NN,  M=B,  K=in,  N=out
//   backward dX dX[B,in]  = dY[B,out] · W[in,out]ᵀ        gemm NT,  M=B,  K=out, N=in
//   backward dW dW[in,out] = X[B,in]ᵀ · dY[B,out]         gemm TN,  M=in, K=B,   N=out
// softAssign: N=65536 embeddings of D=10 against K=2..4 centroids; gmmLogResp: N=65536, D=10, K=3;
// adamUpdate: 2.8M parameters (the autoencoder's size) as one tensor; biasAct: ReLU after the
// 500- and 2000-wide layers.
//
// Nominal counts (written down so rows stay comparable across kernel versions):
//   gemm         2·M·N·K FLOP; bytes = 4·(M·K + K·N + M·N) (compulsory traffic only)
//   softAssign   per (i,j): D·3 (sub, mul, add) + 3 (1+d/α, pow/recip, sum) ; per row K divides
//   gmmLogResp   per (i,c): D·4 (sub, square, scale by 1/σ², add) + 4 (const, log π, max, exp) ; per row log
//   adamUpdate   ≈ 12 FLOP per parameter; bytes = 7·4 per parameter (read p,g,m,v; write p,m,v),
//                working set 4·4 per parameter
//   biasAct      2 FLOP per element; bytes = 4·(read x + write out) per element (+ bias, negligible)
import type { Activation, ComputeBackend, Tensor } from '../../bindings/backend.js';
import type { OpFamily } from '../lib/args.js';

/** Serialisable op description shared with the peers (tfjs, PyTorch). */
export type PeerJob =
  | { kind: 'gemm'; m: number; k: number; n: number; transA: boolean; transB: boolean }
  | { kind: 'softAssign'; n: number; d: number; k: number; alpha: number }
  | { kind: 'gmmLogResp'; n: number; d: number; k: number }
  | { kind: 'adam'; size: number }
  | { kind: 'biasAct'; n: number; d: number; act: Activation };

export interface OpCase {
  family: OpFamily;
  /** Row label without the backend, e.g. "gemm NN 4096×784×500 (L1 fwd)". */
  label: string;
  flops: number;
  /** Compulsory memory traffic per call (reads + writes). */
  bytes: number;
  /** Working set (distinct bytes touched), to pick the bandwidth ceiling it is judged against. */
  footprint: number;
  /** Which throughput the row is judged by. */
  unit: 'GFLOP/s' | 'GB/s';
  job: PeerJob;
}

/** Sizes of one run. `full` = the models' real shapes; `small` for the float64 reference and
 *  software GPUs; `quick` for the smoke test. */
export interface SizeSet {
  name: 'full' | 'small' | 'quick';
  rows: number; // GEMM batch rows
  cells: number; // soft-assignment / GMM rows
  params: number; // Adam parameters
  inputDim: number;
}

export const SIZES: Record<SizeSet['name'], SizeSet> = {
  full: { name: 'full', rows: 4096, cells: 65536, params: 2_800_000, inputDim: 784 },
  small: { name: 'small', rows: 128, cells: 4096, params: 100_000, inputDim: 784 },
  quick: { name: 'quick', rows: 16, cells: 256, params: 4096, inputDim: 784 },
};

const LAYERS = (d: number) => [[d, 500], [500, 500], [500, 2000], [2000, 10]] as const;

function gemmCase(m: number, k: number, n: number, transA: boolean, transB: boolean, what: string): OpCase {
  const tag = `${transA ? 'T' : 'N'}${transB ? 'T' : 'N'}`;
  return {
    family: 'gemm', label: `gemm ${tag} ${m}×${k}×${n} (${what})`, unit: 'GFLOP/s',
    flops: 2 * m * n * k, bytes: 4 * (m * k + k * n + m * n), footprint: 4 * (m * k + k * n + m * n), job: { kind: 'gemm', m, k, n, transA, transB },
  };
}

export function opCases(s: SizeSet): OpCase[] {
  const out: OpCase[] = [];
  const B = s.rows;
  LAYERS(s.inputDim).forEach(([din, dout], l) => {
    out.push(gemmCase(B, din, dout, false, false, `L${l + 1} fwd`));
    out.push(gemmCase(B, dout, din, false, true, `L${l + 1} dX`));
    out.push(gemmCase(din, B, dout, true, false, `L${l + 1} dW`));
  });
  const D = 10;
  for (const K of [2, 3, 4]) {
    out.push({
      family: 'softAssign', label: `softAssign N=${s.cells} D=${D} K=${K}`, unit: 'GFLOP/s',
      flops: s.cells * (K * (3 * D + 3) + K), bytes: 4 * (s.cells * D + K * D + s.cells * K), footprint: 4 * (s.cells * D + K * D + s.cells * K),
      job: { kind: 'softAssign', n: s.cells, d: D, k: K, alpha: 1 },
    });
  }
  out.push({
    family: 'gmmLogResp', label: `gmmLogResp N=${s.cells} D=${D} K=3`, unit: 'GFLOP/s',
    flops: s.cells * (3 * (4 * D + 4) + 1), bytes: 4 * (s.cells * D + 3 * (2 * D + 1) + s.cells * 3), footprint: 4 * (s.cells * D + 3 * (2 * D + 1) + s.cells * 3),
    job: { kind: 'gmmLogResp', n: s.cells, d: D, k: 3 },
  });
  out.push({
    family: 'adam', label: `adamUpdate ${(s.params / 1e6).toFixed(s.params >= 1e6 ? 1 : 3)}M params`, unit: 'GB/s',
    flops: 12 * s.params, bytes: 28 * s.params, footprint: 16 * s.params, job: { kind: 'adam', size: s.params },
  });
  for (const d of [500, 2000]) {
    out.push({
      family: 'biasAct', label: `biasAct relu ${B}×${d}`, unit: 'GB/s',
      flops: 2 * B * d, bytes: 8 * B * d + 4 * d, footprint: 8 * B * d + 4 * d, job: { kind: 'biasAct', n: B, d, act: 'relu' },
    });
  }
  return out;
}

// ---- running a case on one of our backends -------------------------------------------------

/** Deterministic host data (mulberry32), uniform in [lo, hi). */
export function hostData(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = lo + (hi - lo) * (((t ^ (t >>> 14)) >>> 0) / 4294967296);
  }
  return out;
}

export interface Prepared {
  /** One call of the op (enqueue only; the caller syncs). */
  run(): void;
  dispose(): void;
}

/** Allocates and fills the inputs of `c` on `be`; returns the timed call. */
export function prepare(be: ComputeBackend, c: OpCase): Prepared {
  const made: Tensor[] = [];
  const t = (shape: number[], lo = -1, hi = 1, fill = true) => {
    const x = be.create(shape);
    if (fill) be.upload(x, hostData(x.size, made.length * 7919 + 1, lo, hi));
    made.push(x);
    return x;
  };
  const dispose = () => { for (const x of made) be.dispose(x); };
  const j = c.job;
  switch (j.kind) {
    case 'gemm': {
      const a = t(j.transA ? [j.k, j.m] : [j.m, j.k]);
      const b = t(j.transB ? [j.n, j.k] : [j.k, j.n]);
      const cc = t([j.m, j.n], 0, 0, false);
      return { run: () => be.gemm(a, b, cc, { transA: j.transA, transB: j.transB }), dispose };
    }
    case 'softAssign': {
      const z = t([j.n, j.d], -3, 3), mu = t([j.k, j.d], -3, 3), q = t([j.n, j.k], 0, 0, false);
      return { run: () => be.softAssign(z, mu, q, j.alpha), dispose };
    }
    case 'gmmLogResp': {
      const z = t([j.n, j.d], -3, 3), pi = t([j.k]), mu = t([j.k, j.d], -3, 3), lv = t([j.k, j.d], -1, 1);
      const out = t([j.n, j.k], 0, 0, false);
      return { run: () => be.gmmLogResp(z, pi, mu, lv, out), dispose };
    }
    case 'adam': {
      const p = t([j.size]), g = t([j.size]), m = t([j.size], -0.01, 0.01), v = t([j.size], 0, 0.01);
      let step = 0;
      return { run: () => be.adamUpdate(p, g, m, v, { lr: 1e-3, step: ++step }), dispose };
    }
    case 'biasAct': {
      const x = t([j.n, j.d]), bias = t([j.d]), y = t([j.n, j.d], 0, 0, false);
      return { run: () => be.biasAct(x, bias, j.act, y), dispose };
    }
  }
}
