// The table of op cases the shared harness runs on every backend (see run.ts, test/ops.test.ts):
// one entry per op of OP_NAMES (test/ops.test.ts fails if one is missing), each with shape variants
// at 1, 7, 13 and 1000 rows and sizes that are not multiples of any tile, an input builder over a
// seeded Rng, the role of every tensor ('out' tensors are poisoned with NaN before the call so an
// unwritten element fails; 'inout' ones start from identical random values in both backends), and
// a tolerance per op and per backend.
import type { Activation, ComputeBackend, DType, OpSet, Tensor } from '../../bindings/backend.js';
import { ACTIVATIONS } from '../../bindings/backend.js';
import { mixtureLogLik as referenceMixtureLogLik } from '../../bindings/backends/reference/mixture.js';
import type { Rng } from '../helpers/rng.js';

export type Role = 'in' | 'out' | 'inout';

export interface TensorDecl {
  shape: number[];
  dtype: DType;
  role: Role;
  /** Initial contents ('in' and 'inout'); 'out' tensors are poisoned instead. */
  data?: Float64Array | Int32Array;
}

export interface Built {
  tensors: Record<string, TensorDecl>;
  call(be: ComputeBackend, t: Record<string, Tensor>): void;
}

export interface Variant {
  label: string;
  build(rng: Rng): Built;
}

/** Elementwise ops get ≤ 1e-5 relative norm, reductions and GEMM ≤ 1e-4 (DESIGN.md, testing). */
export type ToleranceKind = 'elementwise' | 'reduction';

export interface OpCase {
  op: keyof OpSet;
  kind: ToleranceKind;
  /** Per-backend overrides of the relative-norm tolerance, keyed by backend name. */
  tol?: Partial<Record<string, number>>;
  variants: Variant[];
}

const DEFAULT_TOL: Record<ToleranceKind, Record<string, number>> = {
  // The reference against a fresh reference instance runs the same float64 code: bit-identical.
  elementwise: { reference: 0, default: 1e-5 },
  reduction: { reference: 0, default: 1e-4 },
};

/** Relative-norm tolerance of `c` on backend `backend` (i32 outputs are always compared exactly). */
export function toleranceFor(c: OpCase, backend: string): number {
  return c.tol?.[backend] ?? DEFAULT_TOL[c.kind][backend] ?? DEFAULT_TOL[c.kind].default;
}

// ---- declaration helpers ------------------------------------------------------------------
const inp = (shape: number[], data: Float64Array | Int32Array): TensorDecl =>
  ({ shape, dtype: data instanceof Int32Array ? 'i32' : 'f32', role: 'in', data });
const io = (shape: number[], data: Float64Array): TensorDecl => ({ shape, dtype: 'f32', role: 'inout', data });
const out = (shape: number[], dtype: DType = 'f32'): TensorDecl => ({ shape, dtype, role: 'out' });
const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** [rows, cols] for elementwise and row-wise ops: 1 to 1000 rows, odd column counts (39: nine v128 steps, then 3 scalars). */
const ND: [number, number][] = [[1, 1], [7, 5], [13, 17], [3, 39], [1000, 12]];
/** [N, D, K] for the clustering ops. */
/** denseInt8 rows × inputs → outputs: inputs not a multiple of 4 (padding bytes) or 8 (the SIMD
 *  step), and the pipeline's first layer. */
const DENSE_INT8: [number, number, number][] = [[1, 1, 1], [7, 5, 3], [13, 17, 9], [4, 130, 33], [1000, 128, 64]];
const NDK: [number, number, number][] = [[1, 1, 1], [7, 3, 2], [13, 10, 5], [1000, 10, 3]];

/** [N, D, K, C] for the class-mixture ops (C classes over K shared components). */
const NDKC: [number, number, number, number][] = [[1, 1, 1, 1], [7, 3, 4, 2], [13, 10, 5, 3], [1000, 12, 24, 3]];

/** ρ [C, K], each row on the simplex; with `zeros`, a hard map (each component in one class) and
 *  the last component in none, as the pipeline's maps and an unused component make it. */
function classWeightsWithZeros(rng: Rng, c: number, k: number, zeros: boolean): Float64Array {
  const rho = rng.simplexRows(c, k, 1);
  if (zeros && k > c) {
    for (let j = 0; j < k; j++) for (let a = 0; a < c; a++) if (j === k - 1 || a !== j % c) rho[a * k + j] = 0;
    for (let a = 0; a < c; a++) {
      let s = 0;
      for (let j = 0; j < k; j++) s += rho[a * k + j];
      for (let j = 0; j < k; j++) rho[a * k + j] /= s;
    }
  }
  return rho;
}

/** mixtureLogLik in float64 by the reference's own function (consistent inputs for mixtureStats,
 *  whose exp(logDens − classLogLik) must not overflow). */
function mixtureLogLikF64(z: Float64Array, mu: Float64Array, logVar: Float64Array, rho: Float64Array, n: number, d: number, k: number, c: number) {
  const logDens = new Float64Array(n * k), classLogLik = new Float64Array(n * c);
  referenceMixtureLogLik(z, mu, logVar, rho, logDens, classLogLik, n, d, k, c);
  return { logDens, classLogLik };
}

const acc = [false, true];
const nd = (n: number, d: number) => `${n}x${d}`;

/** Outputs of an activation, so backward cases see realistic y (sigmoid in (0,1), |tanh| < 1, relu ≥ 0). */
function activated(rng: Rng, n: number, act: Activation): Float64Array {
  const x = rng.normals(n, 1.5);
  return x.map((v) => (act === 'relu' ? Math.max(v, 0) : act === 'sigmoid' ? 1 / (1 + Math.exp(-v)) : act === 'tanh' ? Math.tanh(v) : v));
}

// ---- well-conditioned inputs ---------------------------------------------------------------
// An f32 kernel rounds each term of a sum by ~6e-8 of its size; where two terms of opposite sign
// nearly cancel, that rounding becomes a large RELATIVE error of the result, and in a 1-element
// variant the relative-norm error IS that one element's relative error. Such a case tests the luck
// of the draw, not the kernel (it failed about once in a few hundred runs). The builders below keep
// every cancelling pair apart instead of loosening a tolerance: the data stay random, but no output
// element is a near-cancellation (condition number ≤ 4).

/** Flips b[i] where ca·a[i] + cb·b[i] would nearly cancel (|sum| < (|ca·a[i]| + |cb·b[i]|)/4);
 *  cb may be one coefficient per element. Returns b. */
function keepApart(a: ArrayLike<number>, b: Float64Array, cb: number | ArrayLike<number> = 1, ca = 1): Float64Array {
  for (let i = 0; i < b.length; i++) {
    const x = ca * a[i], y = (typeof cb === 'number' ? cb : cb[i]) * b[i];
    if (Math.abs(x + y) < (Math.abs(x) + Math.abs(y)) / 4) b[i] = -b[i];
  }
  return b;
}

/** Values of either sign with magnitude in [0.5, 1.5): an update far smaller than the value
 *  (lr·step ≤ 0.1 in these cases) can then never cancel it. */
function awayFromZero(rng: Rng, n: number): Float64Array {
  return Float64Array.from({ length: n }, () => (rng.int(2) ? 1 : -1) * rng.range(0.5, 1.5));
}

/** bias [d] repeated for n rows ([n, d], to keep x + bias apart). */
function tiledRows(bias: Float64Array, n: number): Float64Array {
  return Float64Array.from({ length: n * bias.length }, (_, i) => bias[i % bias.length]);
}

/** Column sums of x [n, d] (to keep an accumulated colSum apart from its old value). */
function colSums(x: Float64Array, n: number, d: number): Float64Array {
  const s = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) s[j] += x[i * d + j];
  return s;
}

/** op(A)·op(B) in float64, [m, n] (to keep beta·C apart from alpha·op(A)op(B)). */
function matmul(a: Float64Array, b: Float64Array, m: number, n: number, k: number, transA: boolean, transB: boolean): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let t = 0; t < k; t++) s += (transA ? a[t * m + i] : a[i * k + t]) * (transB ? b[j * k + t] : b[t * n + j]);
      c[i * n + j] = s;
    }
  }
  return c;
}

/** sigmoid(x) - t away from 0: t moved by 0.5 where it lies within 0.1 of sigmoid(x) (f32 sigmoid
 *  is good to ~6e-7 absolute, so a difference below 0.1 could exceed 1e-5 relative). */
function targetsApartFromSigmoid(rng: Rng, logits: Float64Array): Float64Array {
  const t = rng.uniforms(logits.length);
  for (let i = 0; i < t.length; i++) {
    const s = 1 / (1 + Math.exp(-Math.fround(logits[i])));
    if (Math.abs(s - t[i]) < 0.1) t[i] = s > 0.5 ? s - 0.5 : s + 0.5;
  }
  return t;
}

function cross<A, B>(as: readonly A[], bs: readonly B[]): [A, B][] {
  return as.flatMap((a) => bs.map((b): [A, B] => [a, b]));
}

// ---- the table -----------------------------------------------------------------------------
export const OP_CASES: OpCase[] = [
  // ---- elementwise / data movement ----
  {
    op: 'fill', kind: 'elementwise',
    variants: [
      ...ND.map(([n, d]) => ({
        label: `f32 ${nd(n, d)}`,
        build: (rng: Rng): Built => {
          const value = rng.normal() * 10;
          return { tensors: { out: out([n, d]) }, call: (be, t) => be.fill(t.out, value) };
        },
      })),
      ...[1, 13, 1000].map((n) => ({
        label: `i32 [${n}]`,
        build: (rng: Rng): Built => {
          const value = rng.int(2000) - 1000;
          return { tensors: { out: out([n], 'i32') }, call: (be, t) => be.fill(t.out, value) };
        },
      })),
    ],
  },
  {
    op: 'axpby', kind: 'elementwise',
    variants: cross(ND, [[1, 0], [-0.5, 0], [2, 1], [0.3, -1.7]] as const).map(([[n, d], [alpha, beta]]) => ({
      label: `${nd(n, d)} alpha=${alpha} beta=${beta}`,
      build: (rng: Rng): Built => ({
        // beta = 0 must overwrite y even when it holds NaN: poison it.
        tensors: (() => {
          const x = rng.normals(n * d);
          return { x: inp([n, d], x), y: beta === 0 ? out([n, d]) : io([n, d], keepApart(x, rng.normals(n * d), beta, alpha)) };
        })(),
        call: (be, t) => be.axpby(t.x, t.y, alpha, beta),
      }),
    })),
  },
  {
    op: 'gatherRows', kind: 'elementwise',
    variants: [[1, 1, 1], [7, 5, 13], [13, 17, 7], [1000, 12, 257]].map(([n, d, b]) => ({
      label: `src ${nd(n, d)} idx [${b}]`,
      build: (rng: Rng): Built => ({
        tensors: { src: inp([n, d], rng.normals(n * d)), idx: inp([b], rng.ints(b, n)), out: out([b, d]) },
        call: (be, t) => be.gatherRows(t.src, t.idx, t.out),
      }),
    })),
  },

  {
    // Analyzer-like signals: noise around the baseline (asinh's near-linear part, where the kernels'
    // small-argument paths matter), pulses up to a few thousand (its logarithmic part), both signs.
    // A signal whose asinh would nearly cancel its feature's mean is negated (see keepApart).
    op: 'asinhStandardize', kind: 'elementwise',
    variants: cross(ND, [16, 3.7]).map(([[n, d], scale]) => ({
      label: `${nd(n, d)} scale ${scale}`,
      build: (rng: Rng): Built => {
        const mean = awayFromZero(rng, d).map((v) => 2 * v);
        const x = Float64Array.from({ length: n * d }, () => (rng.int(2) ? rng.normal() * 4 : (rng.int(4) ? 1 : -1) * rng.range(20, 5000)));
        for (let i = 0; i < x.length; i++) {
          const a = Math.asinh(Math.fround(x[i]) / scale), m = mean[i % d];
          if (Math.abs(a - m) < (Math.abs(a) + Math.abs(m)) / 4) x[i] = -x[i];
        }
        return {
          tensors: { x: inp([n, d], x), mean: inp([d], mean), std: inp([d], rng.uniforms(d, 0.3, 3)), out: out([n, d]) },
          call: (be, t) => be.asinhStandardize(t.x, t.mean, t.std, scale, t.out),
        };
      },
    })),
  },

  // ---- dense layers ----
  {
    op: 'gemm', kind: 'reduction',
    variants: cross(
      [[1, 1, 1], [7, 13, 1], [13, 7, 65], [64, 65, 129], [65, 64, 7], [129, 1, 300], [300, 129, 64], [1, 300, 13],
        // K over the kernel's K block (512: three blocks of 344, 344, 343), N over its N block (512),
        // M over its M block (128), each with a ragged edge tile
        [37, 523, 1031], [131, 17, 1031]],
      [[false, false], [true, false], [false, true], [true, true]] as const,
    ).map(([[m, n, k], [transA, transB]], idx) => {
      // Every shape meets all four (alpha, beta) pairs across its four transpose variants.
      const [alpha, beta] = ([[1, 0], [0.5, 0], [1, 1], [-1.5, 0.25]] as const)[(Math.floor(idx / 4) + idx) % 4];
      return {
        label: `M=${m} N=${n} K=${k} transA=${transA} transB=${transB} alpha=${alpha} beta=${beta}`,
        build: (rng: Rng): Built => {
          const aShape = transA ? [k, m] : [m, k];
          const bShape = transB ? [n, k] : [k, n];
          const a = rng.normals(m * k), b = rng.normals(k * n);
          return {
            tensors: {
              a: inp(aShape, a),
              b: inp(bShape, b),
              c: beta === 0 ? out([m, n]) : io([m, n], keepApart(matmul(a, b, m, n, k, transA, transB), rng.normals(m * n), beta, alpha)),
            },
            call: (be, t) => be.gemm(t.a, t.b, t.c, { transA, transB, alpha, beta }),
          };
        },
      };
    }),
  },
  {
    op: 'biasAct', kind: 'elementwise',
    variants: [
      ...cross(ND, ACTIVATIONS).map(([[n, d], act]) => ({
        label: `${nd(n, d)} ${act}`,
        build: (rng: Rng): Built => {
          const bias = rng.normals(d);
          return {
            tensors: { x: inp([n, d], keepApart(tiledRows(bias, n), rng.normals(n * d, 2))), bias: inp([d], bias), out: out([n, d]) },
            call: (be, t) => be.biasAct(t.x, t.bias, act, t.out),
          };
        },
      })),
      ...ACTIVATIONS.map((act) => ({
        label: `in place 13x17 ${act}`,
        build: (rng: Rng): Built => {
          const bias = rng.normals(17);
          return {
            tensors: { x: io([13, 17], keepApart(tiledRows(bias, 13), rng.normals(13 * 17, 2))), bias: inp([17], bias) },
            call: (be, t) => be.biasAct(t.x, t.bias, act, t.x),
          };
        },
      })),
    ],
  },
  {
    // Quantisation ties (a value exactly halfway between two int8 steps) may round to either side
    // where the division 127 / max is not correctly rounded (WGSL allows 2.5 ulp); one step of one
    // input moves an output by xs·ws·|qw|, so webgpu gets a looser bar. wasm runs the reference's
    // f32 steps exactly (only the activation's own rounding differs).
    op: 'denseInt8', kind: 'elementwise', tol: { wasm: 1e-6, webgpu: 2e-3 },
    variants: cross(DENSE_INT8, ['relu', 'identity', 'tanh'] as Activation[]).map(([[n, nin, nout], act]) => ({
      label: `${n}x${nin}→${nout} ${act}`,
      build: (rng: Rng): Built => {
        const x = rng.normals(n * nin, 2);
        if (n > 1) x.fill(0, 0, nin); // an all-zero row quantises with scale 0
        const words = Math.ceil(nin / 4);
        const wq = new Int32Array(nout * words);
        for (let o = 0; o < nout; o++) {
          for (let i = 0; i < nin; i++) {
            // The extremes ±127 and zero weights appear; output 0 of wider layers has none but zeros.
            const q = o === 0 && nout > 1 ? 0 : rng.int(255) - 127;
            wq[o * words + (i >> 2)] |= (q & 0xff) << (8 * (i & 3));
          }
        }
        return {
          tensors: { x: inp([n, nin], x), wq: inp([nout, words], wq), ws: inp([nout], rng.uniforms(nout, 1e-3, 2e-2)), bias: inp([nout], rng.normals(nout, 0.1)), out: out([n, nout]) },
          call: (be, t) => be.denseInt8(t.x, t.wq, t.ws, t.bias, act, t.out),
        };
      },
    })),
  },
  {
    op: 'biasActBackward', kind: 'elementwise',
    variants: [
      ...cross(ND, ACTIVATIONS).map(([[n, d], act]) => ({
        label: `${nd(n, d)} ${act}`,
        build: (rng: Rng): Built => ({
          tensors: { dy: inp([n, d], rng.normals(n * d)), y: inp([n, d], activated(rng, n * d, act)), dx: out([n, d]) },
          call: (be, t) => be.biasActBackward(t.dy, t.y, act, t.dx),
        }),
      })),
      ...ACTIVATIONS.map((act) => ({
        label: `in place 7x5 ${act}`,
        build: (rng: Rng): Built => ({
          tensors: { dy: io([7, 5], rng.normals(35)), y: inp([7, 5], activated(rng, 35, act)) },
          call: (be, t) => be.biasActBackward(t.dy, t.y, act, t.dy),
        }),
      })),
    ],
  },
  {
    op: 'colSum', kind: 'reduction',
    variants: cross(ND, acc).map(([[n, d], accumulate]) => ({
      label: `${nd(n, d)} accumulate=${accumulate}`,
      build: (rng: Rng): Built => {
        const x = rng.normals(n * d);
        return {
          tensors: { x: inp([n, d], x), out: accumulate ? io([d], keepApart(colSums(x, n, d), rng.normals(d))) : out([d]) },
          call: (be, t) => be.colSum(t.x, t.out, { accumulate }),
        };
      },
    })),
  },

  // ---- reconstruction losses ----
  {
    op: 'mseLoss', kind: 'reduction',
    variants: ND.map(([n, d]) => ({
      label: nd(n, d),
      build: (rng: Rng): Built => ({
        tensors: { pred: inp([n, d], rng.normals(n * d)), target: inp([n, d], rng.normals(n * d)), loss: out([1]) },
        call: (be, t) => be.mseLoss(t.pred, t.target, t.loss),
      }),
    })),
  },
  {
    op: 'mseLossBackward', kind: 'elementwise',
    variants: cross(ND, [undefined, 0.1]).map(([[n, d], scale]) => ({
      label: `${nd(n, d)} scale=${scale}`,
      build: (rng: Rng): Built => ({
        tensors: { pred: inp([n, d], rng.normals(n * d)), target: inp([n, d], rng.normals(n * d)), dpred: out([n, d]) },
        call: (be, t) => be.mseLossBackward(t.pred, t.target, t.dpred, scale),
      }),
    })),
  },
  {
    op: 'bceLogitsLoss', kind: 'reduction',
    variants: ND.map(([n, d]) => ({
      label: nd(n, d),
      build: (rng: Rng): Built => ({
        // Logits up to ±40 exercise the stable softplus.
        tensors: { logits: inp([n, d], rng.normals(n * d, 8)), target: inp([n, d], rng.uniforms(n * d)), loss: out([1]) },
        call: (be, t) => be.bceLogitsLoss(t.logits, t.target, t.loss),
      }),
    })),
  },
  {
    op: 'bceLogitsLossBackward', kind: 'elementwise',
    variants: cross(ND, [undefined, 3]).map(([[n, d], scale]) => ({
      label: `${nd(n, d)} scale=${scale}`,
      build: (rng: Rng): Built => ({
        tensors: (() => {
          const logits = rng.normals(n * d, 8);
          return { logits: inp([n, d], logits), target: inp([n, d], targetsApartFromSigmoid(rng, logits)), dlogits: out([n, d]) };
        })(),
        call: (be, t) => be.bceLogitsLossBackward(t.logits, t.target, t.dlogits, scale),
      }),
    })),
  },

  // ---- optimisers ----
  {
    op: 'adamUpdate', kind: 'elementwise',
    variants: cross(ND, [{ step: 1 }, { step: 10, weightDecay: 0.01, beta1: 0.8, beta2: 0.99, eps: 1e-6 }]).map(([[n, d], o]) => ({
      label: `${nd(n, d)} ${JSON.stringify(o)}`,
      build: (rng: Rng): Built => {
        const b1 = o.beta1 ?? 0.9;
        const m = rng.normals(n * d, 0.1);
        return {
          tensors: {
            // m ← β1 m + (1−β1) g must not cancel; the step lr·m̂/√v̂ stays ≪ |param| ≥ 0.5.
            param: io([n, d], awayFromZero(rng, n * d)), grad: inp([n, d], keepApart(m, rng.normals(n * d), 1 - b1, b1)),
            m: io([n, d], m), v: io([n, d], rng.uniforms(n * d, 0, 0.1)),
          },
          call: (be, t) => be.adamUpdate(t.param, t.grad, t.m, t.v, { lr: 1e-3, ...o }),
        };
      },
    })),
  },
  {
    op: 'sgdUpdate', kind: 'elementwise',
    variants: cross(ND, [undefined, 0.5]).map(([[n, d], momentum]) => ({
      label: `${nd(n, d)} momentum=${momentum}`,
      build: (rng: Rng): Built => {
        // vel ← μ vel + grad must not cancel; lr·|vel| ≤ 0.1 stays ≪ |param| ≥ 0.5.
        const vel = rng.normals(n * d);
        return {
          tensors: {
            param: io([n, d], awayFromZero(rng, n * d)), grad: inp([n, d], keepApart(vel, rng.normals(n * d), 1, momentum ?? 0.9)),
            vel: io([n, d], vel),
          },
          call: (be, t) => be.sgdUpdate(t.param, t.grad, t.vel, { lr: 0.01, momentum }),
        };
      },
    })),
  },

  // ---- DEC / IDEC ----
  {
    op: 'softAssign', kind: 'reduction',
    variants: cross(NDK, [1, 2.5]).map(([[n, d, k], alpha]) => ({
      label: `N=${n} D=${d} K=${k} alpha=${alpha}`,
      build: (rng: Rng): Built => ({
        tensors: { z: inp([n, d], rng.normals(n * d, 2)), mu: inp([k, d], rng.normals(k * d, 2)), q: out([n, k]) },
        call: (be, t) => be.softAssign(t.z, t.mu, t.q, alpha),
      }),
    })),
  },
  {
    op: 'targetDistribution', kind: 'reduction',
    variants: NDK.map(([n, , k]) => ({
      label: `N=${n} K=${k}`,
      build: (rng: Rng): Built => ({
        // f is the column sum over the WHOLE data set: larger than this chunk's column sums.
        tensors: { q: inp([n, k], rng.simplexRows(n, k)), f: inp([k], rng.uniforms(k, 1, 50)), p: out([n, k]) },
        call: (be, t) => be.targetDistribution(t.q, t.f, t.p),
      }),
    })),
  },
  {
    op: 'klDivLoss', kind: 'reduction',
    variants: NDK.map(([n, , k]) => ({
      label: `N=${n} K=${k} (some p = 0)`,
      build: (rng: Rng): Built => {
        const p = rng.simplexRows(n, k, 2);
        for (let i = 0; i < p.length; i += 3) p[i] = 0; // 0·log 0 terms must count 0
        return {
          tensors: { p: inp([n, k], p), q: inp([n, k], rng.simplexRows(n, k)), loss: out([1]) },
          call: (be, t) => be.klDivLoss(t.p, t.q, t.loss),
        };
      },
    })),
  },
  {
    op: 'softAssignBackward', kind: 'reduction',
    variants: cross(NDK, [[1, undefined, false], [2.5, 0.1, true]] as const).map(([[n, d, k], [alpha, scale, accumulate]]) => ({
      label: `N=${n} D=${d} K=${k} alpha=${alpha} scale=${scale} accumulate=${accumulate}`,
      build: (rng: Rng): Built => ({
        tensors: {
          z: inp([n, d], rng.normals(n * d, 2)), mu: inp([k, d], rng.normals(k * d, 2)),
          p: inp([n, k], rng.simplexRows(n, k, 2)), q: inp([n, k], rng.simplexRows(n, k)),
          dz: accumulate ? io([n, d], rng.normals(n * d)) : out([n, d]),
          dmu: accumulate ? io([k, d], rng.normals(k * d)) : out([k, d]),
        },
        call: (be, t) => be.softAssignBackward(t.z, t.mu, t.p, t.q, alpha, t.dz, t.dmu, scale, { accumulate }),
      }),
    })),
  },

  // ---- VaDE ----
  {
    op: 'philoxNormal', kind: 'elementwise',
    variants: [[1], [7], [13, 5], [1000, 10]].map((shape) => ({
      label: `[${shape}]`,
      build: (rng: Rng): Built => {
        const seed = rng.u32(), stream = rng.u32();
        // Half the variants start just below 2^32 so the counter wraps inside the tensor.
        const offset = rng.int(2) ? rng.u32() : 4294967295 - rng.int(size(shape));
        return { tensors: { out: out(shape) }, call: (be, t) => be.philoxNormal(t.out, seed, stream, offset) };
      },
    })),
  },
  {
    op: 'reparameterize', kind: 'elementwise',
    variants: ND.map(([n, d]) => ({
      label: nd(n, d),
      build: (rng: Rng): Built => {
        const mu = rng.normals(n * d), logVar = rng.normals(n * d);
        // z = mu + e^{logVar/2}·eps must not cancel.
        const eps = keepApart(mu, rng.normals(n * d), logVar.map((v) => Math.exp(v / 2)));
        return {
          tensors: { mu: inp([n, d], mu), logVar: inp([n, d], logVar), eps: inp([n, d], eps), z: out([n, d]) },
          call: (be, t) => be.reparameterize(t.mu, t.logVar, t.eps, t.z),
        };
      },
    })),
  },
  {
    op: 'reparameterizeBackward', kind: 'elementwise',
    variants: cross(ND, acc).map(([[n, d], accumulate]) => ({
      label: `${nd(n, d)} accumulate=${accumulate}`,
      build: (rng: Rng): Built => {
        const dz = rng.normals(n * d), logVar = rng.normals(n * d), eps = rng.normals(n * d);
        // The accumulated old gradients must not cancel the new terms dz and dz·eps·e^{logVar/2}/2.
        const newDLogVar = dz.map((g, i) => (g * eps[i] * Math.exp(logVar[i] / 2)) / 2);
        return {
          tensors: {
            dz: inp([n, d], dz), logVar: inp([n, d], logVar), eps: inp([n, d], eps),
            dmu: accumulate ? io([n, d], keepApart(dz, rng.normals(n * d))) : out([n, d]),
            dlogVar: accumulate ? io([n, d], keepApart(newDLogVar, rng.normals(n * d))) : out([n, d]),
          },
          call: (be, t) => be.reparameterizeBackward(t.dz, t.logVar, t.eps, t.dmu, t.dlogVar, { accumulate }),
        };
      },
    })),
  },
  {
    op: 'gmmLogResp', kind: 'reduction',
    variants: NDK.map(([n, d, k]) => ({
      label: `N=${n} D=${d} K=${k}`,
      build: (rng: Rng): Built => ({
        tensors: {
          z: inp([n, d], rng.normals(n * d, 2)), piLogits: inp([k], rng.normals(k)),
          muC: inp([k, d], rng.normals(k * d, 2)), logVarC: inp([k, d], rng.uniforms(k * d, -1, 1)), logResp: out([n, k]),
        },
        call: (be, t) => be.gmmLogResp(t.z, t.piLogits, t.muC, t.logVarC, t.logResp),
      }),
    })),
  },
  {
    op: 'vadeKlLoss', kind: 'reduction',
    variants: cross(NDK, [false, true]).map(([[n, d, k], zeros]) => ({
      label: `N=${n} D=${d} K=${k}${zeros ? ' (some gamma = 0)' : ''}`,
      build: (rng: Rng): Built => {
        const gamma = rng.simplexRows(n, k, 2);
        if (zeros && k > 1) for (let i = 0; i < n; i++) gamma[i * k + (i % k)] = 0;
        return {
          tensors: {
            muEnc: inp([n, d], rng.normals(n * d)), logVarEnc: inp([n, d], rng.uniforms(n * d, -2, 1)),
            gamma: inp([n, k], gamma), piLogits: inp([k], rng.normals(k)),
            muC: inp([k, d], rng.normals(k * d)), logVarC: inp([k, d], rng.uniforms(k * d, -1, 1)), loss: out([1]),
          },
          call: (be, t) => be.vadeKlLoss(t.muEnc, t.logVarEnc, t.gamma, t.piLogits, t.muC, t.logVarC, t.loss),
        };
      },
    })),
  },
  {
    op: 'vadeKlLossBackward', kind: 'reduction',
    variants: cross(NDK, [[undefined, false], [0.5, true]] as const).map(([[n, d, k], [scale, accumulate]]) => ({
      label: `N=${n} D=${d} K=${k} scale=${scale} accumulate=${accumulate}`,
      build: (rng: Rng): Built => {
        const g = (shape: number[]) => (accumulate ? io(shape, rng.normals(size(shape))) : out(shape));
        return {
          tensors: {
            muEnc: inp([n, d], rng.normals(n * d)), logVarEnc: inp([n, d], rng.uniforms(n * d, -2, 1)),
            gamma: inp([n, k], rng.simplexRows(n, k, 2)), piLogits: inp([k], rng.normals(k)),
            muC: inp([k, d], rng.normals(k * d)), logVarC: inp([k, d], rng.uniforms(k * d, -1, 1)),
            dMuEnc: g([n, d]), dLogVarEnc: g([n, d]), dPiLogits: g([k]), dMuC: g([k, d]), dLogVarC: g([k, d]),
          },
          call: (be, t) => be.vadeKlLossBackward(t.muEnc, t.logVarEnc, t.gamma, t.piLogits, t.muC, t.logVarC,
            t.dMuEnc, t.dLogVarEnc, t.dPiLogits, t.dMuC, t.dLogVarC, scale, { accumulate }),
        };
      },
    })),
  },

  // ---- k-means, classification helpers ----
  {
    op: 'mixtureLogLik', kind: 'reduction',
    variants: cross(NDKC, [false, true]).map(([[n, d, k, c], far]) => ({
      label: `N=${n} D=${d} K=${k} C=${c}${far ? ' (far rows, a component no class uses)' : ''}`,
      build: (rng: Rng): Built => {
        const z = rng.normals(n * d, 2);
        // Rows ~40 spreads from every component: their densities underflow exp in f32 and f64 alike.
        if (far) for (let i = 0; i < n; i += 3) for (let t = 0; t < d; t++) z[i * d + t] += 40;
        return {
          tensors: {
            z: inp([n, d], z), mu: inp([k, d], rng.normals(k * d, 2)), logVar: inp([k, d], rng.uniforms(k * d, -1, 1)),
            rho: inp([c, k], classWeightsWithZeros(rng, c, k, far)), logDens: out([n, k]), classLogLik: out([n, c]),
          },
          call: (be, t) => be.mixtureLogLik(t.z, t.mu, t.logVar, t.rho, t.logDens, t.classLogLik),
        };
      },
    })),
  },
  {
    op: 'mixturePosteriors', kind: 'reduction',
    variants: cross(NDKC.map(([n, , , c]) => [n, c] as const), [1, 4]).map(([[n, c], samples]) => ({
      label: `N=${n} C=${c} S=${samples + 1} (the last sample has no rows)`,
      build: (rng: Rng): Built => {
        const S = samples + 1;
        // Log-likelihoods of very different sizes per row (−1000 underflows exp in any precision).
        const L = Float64Array.from({ length: n * c }, (_, i) => rng.normal() * 3 - ((i / c) % 4 === 0 ? 1000 : 5));
        return {
          tensors: {
            classLogLik: inp([n, c], L), sampleOf: inp([n], rng.ints(n, samples)), logPrior: inp([S, c], rng.normals(S * c)),
            post: out([n, c]), colSums: out([S, c]), sampleLogLik: out([S]),
          },
          call: (be, t) => be.mixturePosteriors(t.classLogLik, t.sampleOf, t.logPrior, t.post, t.colSums, t.sampleLogLik),
        };
      },
    })),
  },
  {
    op: 'mixtureStats', kind: 'reduction',
    variants: cross(NDKC, [false, true]).map(([[n, d, k, c], far]) => ({
      label: `N=${n} D=${d} K=${k} C=${c}${far ? ' (far rows, a component no class uses, zero posteriors)' : ''}`,
      build: (rng: Rng): Built => {
        const z = rng.normals(n * d, 2);
        if (far) for (let i = 0; i < n; i += 3) for (let t = 0; t < d; t++) z[i * d + t] += 40;
        const mu = rng.normals(k * d, 2), logVar = rng.uniforms(k * d, -1, 1);
        const rho = classWeightsWithZeros(rng, c, k, far);
        const { logDens, classLogLik } = mixtureLogLikF64(z, mu, logVar, rho, n, d, k, c);
        const post = rng.simplexRows(n, c, 2);
        if (far && c > 1) for (let i = 0; i < n; i += 2) post[i * c + (i % c)] = 0;
        return {
          tensors: {
            z: inp([n, d], z), logDens: inp([n, k], logDens), classLogLik: inp([n, c], classLogLik), post: inp([n, c], post),
            rho: inp([c, k], rho), center: inp([k, d], mu), classWeights: out([c, k]), sum1: out([k, d]), sum2: out([k, d]),
          },
          call: (be, t) => be.mixtureStats(t.z, t.logDens, t.classLogLik, t.post, t.rho, t.center, t.classWeights, t.sum1, t.sum2),
        };
      },
    })),
  },
  {
    op: 'kmeansAssign', kind: 'reduction',
    // Beyond NDK: every path of the four-centroid kernel (D below 4, a block of 4, blocks of 8 with
    // and without a 4 and a tail; K a multiple of 4 and not) and rows enough to split over threads.
    variants: [...NDK, [300, 2, 6], [257, 4, 4], [200, 7, 9], [3000, 8, 16], [3001, 10, 24], [500, 13, 11], [400, 20, 3]].map(([n, d, k]) => ({
      label: `N=${n} D=${d} K=${k} (well-separated, no near-ties)`,
      build: (rng: Rng): Built => {
        // Centroids on a spaced grid along every axis (≥ 10 apart), points within ~1 of one of them:
        // the nearest centroid is never within f32 rounding of the second nearest.
        const centroids = new Float64Array(k * d);
        for (let j = 0; j < k; j++) for (let t = 0; t < d; t++) centroids[j * d + t] = 10 * j + rng.range(-1, 1);
        const x = new Float64Array(n * d);
        for (let i = 0; i < n; i++) {
          const j = rng.int(k);
          for (let t = 0; t < d; t++) x[i * d + t] = centroids[j * d + t] + rng.range(-1.5, 1.5);
        }
        return {
          tensors: { x: inp([n, d], x), centroids: inp([k, d], centroids), labels: out([n], 'i32'), minDist: out([n]) },
          call: (be, t) => be.kmeansAssign(t.x, t.centroids, t.labels, t.minDist),
        };
      },
    })).concat([[2500, 10, 7], [300, 3, 5]].map(([n, d, k]) => ({
      label: `N=${n} D=${d} K=${k} (each centroid twice: the first of equal distances wins)`,
      build: (rng: Rng): Built => {
        // Centroid j + k repeats centroid j exactly, so their distances are equal to the bit on every
        // backend and the label must be the smaller index.
        const centroids = new Float64Array(2 * k * d);
        for (let j = 0; j < k; j++) for (let t = 0; t < d; t++) centroids[j * d + t] = centroids[(j + k) * d + t] = 10 * j + rng.range(-1, 1);
        const x = new Float64Array(n * d);
        for (let i = 0; i < n; i++) {
          const j = rng.int(k);
          for (let t = 0; t < d; t++) x[i * d + t] = centroids[j * d + t] + rng.range(-1.5, 1.5);
        }
        return {
          tensors: { x: inp([n, d], x), centroids: inp([2 * k, d], centroids), labels: out([n], 'i32'), minDist: out([n]) },
          call: (be, t) => be.kmeansAssign(t.x, t.centroids, t.labels, t.minDist),
        };
      },
    }))),
  },
  {
    op: 'kmeansUpdate', kind: 'reduction',
    variants: cross(NDK, acc).map(([[n, d, k], accumulate]) => ({
      label: `N=${n} D=${d} K=${k + 1} accumulate=${accumulate}`,
      build: (rng: Rng): Built => {
        const kk = k + 1; // the last cluster may stay empty: its sums/counts must still be written
        return {
          tensors: {
            x: inp([n, d], rng.normals(n * d)), labels: inp([n], rng.ints(n, k)),
            sums: accumulate ? io([kk, d], rng.normals(kk * d)) : out([kk, d]),
            counts: accumulate ? io([kk], Float64Array.from({ length: kk }, () => rng.int(50))) : out([kk]),
          },
          call: (be, t) => be.kmeansUpdate(t.x, t.labels, t.sums, t.counts, { accumulate }),
        };
      },
    })),
  },
  {
    op: 'argmax', kind: 'elementwise',
    variants: [[1, 1], [7, 3], [13, 17], [1000, 10]].map(([n, k]) => ({
      label: `N=${n} K=${k} (unique max per row)`,
      build: (rng: Rng): Built => {
        const x = rng.normals(n * k);
        for (let i = 0; i < n; i++) x[i * k + rng.int(k)] = 10 + rng.uniform(); // > every other entry by far
        return { tensors: { x: inp([n, k], x), out: out([n], 'i32') }, call: (be, t) => be.argmax(t.x, t.out) };
      },
    })),
  },
  {
    op: 'softmax', kind: 'reduction',
    variants: [
      ...ND.map(([n, k]) => ({
        label: `N=${n} K=${k}`,
        build: (rng: Rng): Built => ({
          // Spread 30 puts logits far beyond exp's f32 range: only a max-subtracted softmax survives.
          tensors: { x: inp([n, k], rng.normals(n * k, 30)), out: out([n, k]) },
          call: (be, t) => be.softmax(t.x, t.out),
        }),
      })),
      {
        label: 'in place 13x5',
        build: (rng: Rng): Built => ({ tensors: { x: io([13, 5], rng.normals(65, 3)) }, call: (be, t) => be.softmax(t.x, t.x) }),
      },
    ],
  },
  {
    op: 'softmaxBackward', kind: 'reduction',
    variants: ND.map(([n, k]) => ({
      label: `N=${n} K=${k}`,
      build: (rng: Rng): Built => ({
        tensors: { y: inp([n, k], rng.simplexRows(n, k)), dy: inp([n, k], rng.normals(n * k)), dx: out([n, k]) },
        call: (be, t) => be.softmaxBackward(t.y, t.dy, t.dx),
      }),
    })),
  },
  {
    op: 'proportionXentLoss', kind: 'reduction',
    variants: cross([[1, 1], [7, 3], [13, 5], [1000, 3]], [false, true]).map(([[s, k], zeros]) => ({
      label: `S=${s} K=${k}${zeros ? ' (some p = 0, clamped)' : ''}`,
      build: (rng: Rng): Built => {
        const pred = rng.simplexRows(s, k);
        if (zeros) for (let i = 0; i < pred.length; i += 4) pred[i] = 0;
        return {
          tensors: { pred: inp([s, k], pred), target: inp([s, k], rng.simplexRows(s, k)), loss: out([1]) },
          call: (be, t) => be.proportionXentLoss(t.pred, t.target, t.loss),
        };
      },
    })),
  },
  {
    op: 'proportionXentLossBackward', kind: 'elementwise',
    variants: cross([[1, 1], [7, 3], [13, 5], [1000, 3]], [undefined, 0.25]).map(([[s, k], scale]) => ({
      label: `S=${s} K=${k} scale=${scale}`,
      build: (rng: Rng): Built => ({
        tensors: { pred: inp([s, k], rng.simplexRows(s, k)), target: inp([s, k], rng.simplexRows(s, k)), dpred: out([s, k]) },
        call: (be, t) => be.proportionXentLossBackward(t.pred, t.target, t.dpred, scale),
      }),
    })),
  },
  // ---- appended: pulseSummaries (pipeline/pulse-features.ts) ----
  {
    // Rows of C channel blocks of T samples: baseline noise around 0, a pulse in some channels
    // (peaks above and below the scale, so both sides of the width's max(peak, scale) floor are
    // hit), and some channels entirely negative (peak < 0: a negative height, zero area). T of
    // 1, 5, 7 (below and off the wasm f32x4 width) and 32 (the analyzer's). Widths are sums of T
    // non-negative terms (no cancellation): an f32 sum is within T·2^-24 relative (WebGPU),
    // the wasm kernel sums in f64. Heights are one asinh each.
    op: 'pulseSummaries', kind: 'reduction',
    tol: { wasm: 1e-6, webgpu: 1e-5 },
    variants: cross([[1, 1, 1], [7, 3, 5], [13, 4, 7], [1000, 4, 32], [33, 2, 13]] as const, [16, 3.7]).map(([[n, c, T], scale]) => ({
      label: `N=${n} C=${c} T=${T} scale ${scale}`,
      build: (rng: Rng): Built => {
        const x = new Float64Array(n * c * T);
        for (let b = 0; b < n * c; b++) {
          const kind = rng.int(4); // 0: noise, 1: all negative, 2-3: a pulse on noise
          const height = rng.range(2, 400) * (rng.int(3) ? 1 : 0.05);
          const at = rng.int(T);
          for (let t = 0; t < T; t++) {
            const noise = rng.normal() * 2;
            x[b * T + t] = kind === 1 ? -Math.abs(noise) - 0.5 : kind === 0 ? noise : noise + height * Math.exp(-((t - at) ** 2) / 8);
          }
        }
        return {
          tensors: { x: inp([n, c * T], x), out: out([n, 2 * c]) },
          call: (be, t) => be.pulseSummaries(t.x, scale, t.out),
        };
      },
    })),
  },
];

/** GEMM cases for one of gemm()'s paths: every shape meets all four transposes and, across them,
 *  all four (alpha, beta) pairs (alpha = 1, beta = 0 is the plain-store loop); beta = 0 gets a
 *  NaN-poisoned C. Shared by the appended path blocks below. */
function gemmPathVariants(shapes: [number, number, number][], path: string): Variant[] {
  return cross(shapes, [[false, false], [true, false], [false, true], [true, true]] as const).map(([[m, n, k], [transA, transB]], idx): Variant => {
    const [alpha, beta] = ([[1, 0], [0.5, 0], [1, 1], [-1.5, 0.25]] as const)[(Math.floor(idx / 4) + idx) % 4];
    return {
      label: `${path} M=${m} N=${n} K=${k} transA=${transA} transB=${transB} alpha=${alpha} beta=${beta}`,
      build: (rng: Rng): Built => {
        const a = rng.normals(m * k), b = rng.normals(k * n);
        return {
          tensors: {
            a: inp(transA ? [k, m] : [m, k], a),
            b: inp(transB ? [n, k] : [k, n], b),
            c: beta === 0 ? out([m, n]) : io([m, n], keepApart(matmul(a, b, m, n, k, transA, transB), rng.normals(m * n), beta, alpha)),
          },
          call: (be, t) => be.gemm(t.a, t.b, t.c, { transA, transB, alpha, beta }),
        };
      },
    };
  });
}

// ---- appended: gemm's narrow-N path (assembly/gemm-narrow.ts, taken for N ≤ 16) ----
// Its own tile shapes and tails: N in passes of 2 columns, odd N with a padded one (1, 3, 5, 7, 10,
// 13, the threshold 16 and 15, 17 beside it); lanes along K without transA (4-row tiles: M % 4 ≠ 0;
// 4-k steps: K % 4 ≠ 0; column passes taking turns every 128 k) and along M with transA (16-row
// tiles, a last one of 4, 8 or 12 rows — M % 16 = 4, 8, 12 below —, then scalar rows: M % 4 ≠ 0,
// M < 4). K = 1031 and 513 run several K blocks of ≤ 512 (the later ones add to C). Every shape meets
// all four transposes and, across them, all four (alpha, beta) pairs; beta = 0 gets a NaN-poisoned C.
// 1000×10×600 is big enough for the wasm pool to split it across threads; K = 16500 at N = 16 is more
// op(B) than one packing pass holds (the path then packs it twice).
OP_CASES.find((c) => c.op === 'gemm')!.variants.push(...gemmPathVariants(
  [[1, 1, 1], [3, 3, 5], [7, 5, 3], [13, 7, 17], [37, 10, 1031], [29, 13, 513], [12, 15, 260], [21, 16, 77],
    [9, 17, 9], [6, 1, 1031], [45, 3, 4], [1000, 10, 600], [7, 16, 16500]], 'narrow'));

// ---- appended: gemm's shallow-K path (assembly/gemm-shallow.ts, taken for 1 ≤ K ≤ 32 and N > 16) ----
// K = 1, 2, 3, 5, 10, 13, 16, 17, the threshold 32 and 31, 33 beside it (the general kernel);
// 4-row strips with a last one of 1–3 rows (M % 4 ≠ 0, M < 4) that goes through the edge tile; 8-wide
// panels with a zero-padded last one (N % 8 ≠ 0) and N % 8 = 0; N = 2100 is two op(B) packs (2048
// columns, then 52). Every shape meets all four transposes and, across them, all four (alpha, beta)
// pairs (alpha = 1, beta = 0 is the plain-store loop); beta = 0 gets a NaN-poisoned C.
OP_CASES.find((c) => c.op === 'gemm')!.variants.push(...gemmPathVariants(
  [[1, 17, 1], [2, 33, 2], [3, 250, 3], [5, 24, 5], [13, 2100, 10], [22, 41, 13], [7, 64, 16], [11, 19, 17],
    [6, 45, 31], [10, 40, 32], [9, 31, 33], [64, 200, 10]], 'shallow'));

// ---- appended: gemm's deep-K strips (assembly/gemm.ts gemmStrips, taken for K > 32 and N > 16) ----
// K in equal blocks of ≤ 384 (the later ones add to C, alpha = 1 through the plain add loop): 769 →
// 257 + 256 + 256, 600 → 2 × 300, 300 one block, 4100 → 11 blocks; N over the 512-column op(B)
// block (1030: two whole blocks and a third of 6 columns, no whole panel in it); 4-row strips with
// a last one of 1–3 rows (M = 3: only that edge strip; M = 6, 130). Every shape meets all four
// transposes and, across them, all four (alpha, beta) pairs; beta = 0 gets a NaN-poisoned C.
OP_CASES.find((c) => c.op === 'gemm')!.variants.push(...gemmPathVariants(
  [[3, 24, 769], [6, 40, 600], [45, 1030, 300], [130, 33, 513], [33, 100, 4100]], 'deep'));

// ---- appended: gemm's split-K path (pool only: narrow N, transA, K ≥ 2048; bench/NOTES.md §24) ----
// With worker threads, these narrow shapes run their K blocks as the pool's chunks (partials folded
// into C in block order); on 1 thread they are the narrow path's deep-K cases. K = 4100 → 9 blocks
// of 456 (the last 452), 2050 → 5 of 412 (the last 402), 2048 → 4 whole ones; odd N packs
// op(B) per block (13), even N without transB reads it in place (10, 16). All four (alpha, beta)
// pairs across the transposes; beta = 0 gets a NaN-poisoned C.
OP_CASES.find((c) => c.op === 'gemm')!.variants.push(...gemmPathVariants(
  [[52, 10, 4100], [203, 13, 2050], [37, 16, 8200], [300, 10, 2048]], 'split-K'));
