// Shape, dtype and ownership checks shared by every backend, one function per op with the op's
// name. Backends call `checks.<op>(this, ...args)` first thing, so all three reject bad input with
// the same message and nothing is ever broadcast silently.
import type { Activation, Backend, DType, Tensor } from './backend.js';
import { ACTIVATIONS } from './backend.js';

export class ShapeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ShapeError';
  }
}

const fmt = (t: Tensor) => `[${t.shape.join(',')}]${t.dtype === 'f32' ? '' : ':' + t.dtype}`;

function fail(op: string, what: string, args: Record<string, Tensor>): never {
  const got = Object.entries(args).map(([k, t]) => `${k}${fmt(t)}`).join(' ');
  throw new ShapeError(`${op}: ${what} (got ${got})`);
}

function own(op: string, be: Backend, args: Record<string, Tensor>, dtypes: Record<string, DType> = {}) {
  for (const [k, t] of Object.entries(args)) {
    if (!t || typeof t !== 'object' || !Array.isArray(t.shape)) throw new ShapeError(`${op}: ${k} is not a tensor`);
    if (t.backendName !== be.name) throw new ShapeError(`${op}: ${k} belongs to backend '${t.backendName}', not '${be.name}'`);
    if (t.owner !== undefined && t.owner !== be) throw new ShapeError(`${op}: ${k} belongs to another '${be.name}' backend instance`);
    if (t.disposed) throw new ShapeError(`${op}: ${k} was disposed`);
    const want = dtypes[k] ?? 'f32';
    if (t.dtype !== want) fail(op, `${k} must be ${want}`, args);
  }
}

function rank(op: string, args: Record<string, Tensor>, spec: Record<string, number>) {
  for (const [k, r] of Object.entries(spec)) {
    if (args[k].shape.length !== r) fail(op, `${k} must have rank ${r}`, args);
  }
}

function same(op: string, args: Record<string, Tensor>, names: string[]) {
  const s0 = args[names[0]].shape.join(',');
  for (const k of names.slice(1)) {
    if (args[k].shape.join(',') !== s0) fail(op, `${names.join(', ')} must have the same shape`, args);
  }
}

function dim(op: string, args: Record<string, Tensor>, cond: boolean, what: string) {
  if (!cond) fail(op, what, args);
}

function finite(op: string, name: string, v: number | undefined) {
  if (v !== undefined && !Number.isFinite(v)) throw new ShapeError(`${op}: ${name} must be a finite number (got ${v})`);
}

function act(op: string, a: Activation) {
  if (!ACTIVATIONS.includes(a)) throw new ShapeError(`${op}: unknown activation '${a}' (expected ${ACTIVATIONS.join('|')})`);
}

function u32(op: string, name: string, v: number) {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new ShapeError(`${op}: ${name} must be an integer in [0, 2^32) (got ${v})`);
}

/** Checks for `create`/`upload`. */
export function checkShape(shape: readonly number[]): number {
  if (!Array.isArray(shape) || shape.length < 1 || shape.length > 2) throw new ShapeError(`create: shape must have rank 1 or 2 (got [${shape}])`);
  for (const d of shape) if (!Number.isInteger(d) || d < 1) throw new ShapeError(`create: every dimension must be a positive integer (got [${shape}])`);
  return shape.reduce((a, b) => a * b, 1);
}

/** Ownership/liveness check for memory operations that take any dtype (download, dispose). */
export function checkTensor(op: string, be: Backend, t: Tensor) {
  own(op, be, { t }, { t: t?.dtype });
}

export function checkUpload(be: Backend, t: Tensor, data: ArrayLike<number>) {
  own('upload', be, { t }, { t: t?.dtype });
  if (data.length !== t.size) throw new ShapeError(`upload: data has ${data.length} elements, tensor [${t.shape.join(',')}] has ${t.size}`);
}

/** Elements of a rank-2 tensor as [rows, cols]; rank-1 as [1, n]. */
export const rc = (t: Tensor): [number, number] => (t.shape.length === 2 ? [t.shape[0], t.shape[1]] : [1, t.shape[0]]);

export const checks = {
  fill(be: Backend, out: Tensor, value: number) {
    own('fill', be, { out }, { out: out.dtype });
    finite('fill', 'value', value);
    if (out.dtype === 'i32' && !Number.isInteger(value)) throw new ShapeError(`fill: an i32 tensor needs an integer value (got ${value})`);
  },
  axpby(be: Backend, x: Tensor, y: Tensor, alpha: number, beta: number) {
    const a = { x, y };
    own('axpby', be, a);
    same('axpby', a, ['x', 'y']);
    finite('axpby', 'alpha', alpha);
    finite('axpby', 'beta', beta);
  },
  gatherRows(be: Backend, src: Tensor, idx: Tensor, out: Tensor) {
    const a = { src, idx, out };
    own('gatherRows', be, a, { idx: 'i32' });
    rank('gatherRows', a, { src: 2, idx: 1, out: 2 });
    dim('gatherRows', a, out.shape[0] === idx.shape[0] && out.shape[1] === src.shape[1], 'out must be [B, D] for idx [B] and src [N, D]');
  },
  gemm(be: Backend, a: Tensor, b: Tensor, c: Tensor, o: { transA?: boolean; transB?: boolean; alpha?: number; beta?: number } = {}) {
    const args = { a, b, c };
    own('gemm', be, args);
    rank('gemm', args, { a: 2, b: 2, c: 2 });
    const [m, ka] = o.transA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
    const [kb, n] = o.transB ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]];
    const tr = ` (transA=${!!o.transA}, transB=${!!o.transB})`;
    dim('gemm', args, ka === kb, `inner dimensions differ: op(A) is [${m},${ka}], op(B) is [${kb},${n}]${tr}`);
    dim('gemm', args, c.shape[0] === m && c.shape[1] === n, `C must be [${m},${n}]${tr}`);
    finite('gemm', 'alpha', o.alpha);
    finite('gemm', 'beta', o.beta);
  },
  biasAct(be: Backend, x: Tensor, bias: Tensor, a: Activation, out: Tensor) {
    const args = { x, bias, out };
    own('biasAct', be, args);
    rank('biasAct', args, { x: 2, bias: 1, out: 2 });
    same('biasAct', args, ['x', 'out']);
    dim('biasAct', args, bias.shape[0] === x.shape[1], 'bias must be [D] for x [N, D]');
    act('biasAct', a);
  },
  denseInt8(be: Backend, x: Tensor, wq: Tensor, ws: Tensor, bias: Tensor, a: Activation, out: Tensor) {
    const op = 'denseInt8';
    const args = { x, wq, ws, bias, out };
    own(op, be, args, { wq: 'i32' });
    rank(op, args, { x: 2, wq: 2, ws: 1, bias: 1, out: 2 });
    const [n, inW] = x.shape;
    const [o] = wq.shape;
    dim(op, args, wq.shape[1] === Math.ceil(inW / 4), 'wq must be [OUT, ceil(IN/4)] (four int8 weights per i32) for x [N, IN]');
    dim(op, args, ws.shape[0] === o && bias.shape[0] === o, 'ws and bias must be [OUT] for wq [OUT, ceil(IN/4)]');
    dim(op, args, out.shape[0] === n && out.shape[1] === o, 'out must be [N, OUT]');
    // 127² · IN must stay exact in i32.
    dim(op, args, inW <= 1 << 17, 'IN must be at most 131072 (the i32 sum of int8 products stays exact)');
    act(op, a);
  },
  biasActBackward(be: Backend, dy: Tensor, y: Tensor, a: Activation, dx: Tensor) {
    const args = { dy, y, dx };
    own('biasActBackward', be, args);
    rank('biasActBackward', args, { dy: 2, y: 2, dx: 2 });
    same('biasActBackward', args, ['dy', 'y', 'dx']);
    act('biasActBackward', a);
  },
  /** out = (asinh(x · invScale) − mean) / std per column; x, out [N,D] (out may be x), mean, std [D]. */
  asinhStandardize(be: Backend, x: Tensor, mean: Tensor, std: Tensor, scale: number, out: Tensor) {
    const args = { x, mean, std, out };
    own('asinhStandardize', be, args);
    rank('asinhStandardize', args, { x: 2, mean: 1, std: 1, out: 2 });
    same('asinhStandardize', args, ['x', 'out']);
    dim('asinhStandardize', args, mean.shape[0] === x.shape[1], 'mean must be [D] for x [N, D]');
    dim('asinhStandardize', args, std.shape[0] === x.shape[1], 'std must be [D] for x [N, D]');
    if (!(Number.isFinite(scale) && scale > 0)) throw new ShapeError(`asinhStandardize: scale must be a positive finite number (got ${scale})`);
  },
  /** Per-channel peak height and width; x [N, C·T], out [N, 2C] (C ≥ 1 channels of T ≥ 1 samples). */
  pulseSummaries(be: Backend, x: Tensor, scale: number, out: Tensor) {
    const args = { x, out };
    own('pulseSummaries', be, args);
    rank('pulseSummaries', args, { x: 2, out: 2 });
    dim('pulseSummaries', args, out.shape[0] === x.shape[0], 'x and out must have the same number of rows');
    const channels = out.shape[1] / 2;
    dim('pulseSummaries', args, Number.isInteger(channels) && x.shape[1] % channels === 0,
      'out must be [N, 2C] for x [N, C·T]: 2 columns per channel, D a multiple of C');
    if (!(Number.isFinite(scale) && scale > 0)) throw new ShapeError(`pulseSummaries: scale must be a positive finite number (got ${scale})`);
  },
  colSum(be: Backend, x: Tensor, out: Tensor) {
    const args = { x, out };
    own('colSum', be, args);
    rank('colSum', args, { x: 2, out: 1 });
    dim('colSum', args, out.shape[0] === x.shape[1], 'out must be [D] for x [N, D]');
  },
  lossPair(op: string, be: Backend, pred: Tensor, target: Tensor, out: Tensor, outIsScalar: boolean) {
    const args = { pred, target, out };
    own(op, be, args);
    rank(op, args, { pred: 2, target: 2 });
    same(op, args, ['pred', 'target']);
    if (outIsScalar) dim(op, args, out.size === 1, 'loss must have exactly 1 element');
    else same(op, args, ['pred', 'out']);
  },
  /** `step`: the optimizer's 1-based step count. Adam passes `opts.step` — an undefined value
   *  passed is rejected like 0 or 1.5 (hence a rest argument: passed-but-undefined differs from
   *  left out); optimizers without a step (SGD) leave the argument out. */
  optimizer(op: string, be: Backend, ts: Record<string, Tensor>, lr: number, ...stepArg: [step?: number]) {
    own(op, be, ts);
    same(op, ts, Object.keys(ts));
    finite(op, 'lr', lr);
    const step = stepArg[0];
    if (stepArg.length > 0 && !(Number.isInteger(step) && step! >= 1)) throw new ShapeError(`${op}: step must be an integer ≥ 1 (got ${step})`);
  },
  /** Optional gradient scale factors must be finite. */
  scale(op: string, scale: number | undefined) {
    finite(op, 'scale', scale);
  },
  softAssign(be: Backend, z: Tensor, mu: Tensor, q: Tensor, alpha: number) {
    const args = { z, mu, q };
    own('softAssign', be, args);
    rank('softAssign', args, { z: 2, mu: 2, q: 2 });
    dim('softAssign', args, mu.shape[1] === z.shape[1], 'mu must be [K, D] for z [N, D]');
    dim('softAssign', args, q.shape[0] === z.shape[0] && q.shape[1] === mu.shape[0], 'q must be [N, K]');
    if (!(alpha > 0)) throw new ShapeError(`softAssign: alpha must be > 0 (got ${alpha})`);
  },
  targetDistribution(be: Backend, q: Tensor, f: Tensor, p: Tensor) {
    const args = { q, f, p };
    own('targetDistribution', be, args);
    rank('targetDistribution', args, { q: 2, f: 1, p: 2 });
    same('targetDistribution', args, ['q', 'p']);
    dim('targetDistribution', args, f.shape[0] === q.shape[1], 'f must be [K] for q [N, K]');
  },
  klDivLoss(be: Backend, p: Tensor, q: Tensor, loss: Tensor) {
    const args = { p, q, loss };
    own('klDivLoss', be, args);
    rank('klDivLoss', args, { p: 2, q: 2 });
    same('klDivLoss', args, ['p', 'q']);
    dim('klDivLoss', args, loss.size === 1, 'loss must have exactly 1 element');
  },
  softAssignBackward(be: Backend, z: Tensor, mu: Tensor, p: Tensor, q: Tensor, alpha: number, dz: Tensor, dmu: Tensor) {
    const args = { z, mu, p, q, dz, dmu };
    own('softAssignBackward', be, args);
    rank('softAssignBackward', args, { z: 2, mu: 2, p: 2, q: 2, dz: 2, dmu: 2 });
    same('softAssignBackward', args, ['z', 'dz']);
    same('softAssignBackward', args, ['mu', 'dmu']);
    same('softAssignBackward', args, ['p', 'q']);
    dim('softAssignBackward', args, mu.shape[1] === z.shape[1] && q.shape[0] === z.shape[0] && q.shape[1] === mu.shape[0],
      'need z [N, D], mu [K, D], p and q [N, K]');
    if (!(alpha > 0)) throw new ShapeError(`softAssignBackward: alpha must be > 0 (got ${alpha})`);
  },
  philoxNormal(be: Backend, out: Tensor, seed: number, stream: number, offset: number) {
    own('philoxNormal', be, { out });
    u32('philoxNormal', 'seed', seed);
    u32('philoxNormal', 'stream', stream);
    u32('philoxNormal', 'offset', offset);
  },
  reparameterize(be: Backend, ts: Record<string, Tensor>) {
    own('reparameterize', be, ts);
    rank('reparameterize', ts, Object.fromEntries(Object.keys(ts).map((k) => [k, 2])));
    same('reparameterize', ts, Object.keys(ts));
  },
  reparameterizeBackward(be: Backend, ts: Record<string, Tensor>) {
    own('reparameterizeBackward', be, ts);
    rank('reparameterizeBackward', ts, Object.fromEntries(Object.keys(ts).map((k) => [k, 2])));
    same('reparameterizeBackward', ts, Object.keys(ts));
  },
  gmm(op: string, be: Backend, z: Tensor, piLogits: Tensor, muC: Tensor, logVarC: Tensor, nk: Record<string, Tensor>) {
    const args = { z, piLogits, muC, logVarC, ...nk };
    own(op, be, args);
    rank(op, args, { z: 2, piLogits: 1, muC: 2, logVarC: 2, ...Object.fromEntries(Object.keys(nk).map((k) => [k, 2])) });
    same(op, args, ['muC', 'logVarC']);
    const [n, d] = z.shape;
    const k = piLogits.shape[0];
    dim(op, args, muC.shape[0] === k && muC.shape[1] === d, 'muC and logVarC must be [K, D] for piLogits [K] and z [N, D]');
    for (const name of Object.keys(nk)) dim(op, args, nk[name].shape[0] === n && nk[name].shape[1] === k, `${name} must be [N, K]`);
  },
  vadeKl(op: string, be: Backend, muEnc: Tensor, logVarEnc: Tensor, gamma: Tensor, piLogits: Tensor, muC: Tensor,
    logVarC: Tensor, grads: Record<string, Tensor>, loss?: Tensor) {
    checks.gmm(op, be, muEnc, piLogits, muC, logVarC, { gamma });
    const args = { muEnc, logVarEnc, ...grads, ...(loss ? { loss } : {}) };
    own(op, be, args);
    same(op, args, ['muEnc', 'logVarEnc']);
    if (grads.dMuEnc) {
      same(op, args, ['muEnc', 'dMuEnc', 'dLogVarEnc']);
      dim(op, { ...args, muC }, grads.dMuC.shape.join() === muC.shape.join() && grads.dLogVarC.shape.join() === muC.shape.join(),
        'dMuC and dLogVarC must be [K, D]');
      dim(op, { ...args, piLogits }, grads.dPiLogits.shape.join() === piLogits.shape.join(), 'dPiLogits must be [K]');
    }
    if (loss) dim(op, args, loss.size === 1, 'loss must have exactly 1 element');
  },
  mixtureLogLik(be: Backend, ts: { z: Tensor; mu: Tensor; logVar: Tensor; rho: Tensor; logDens: Tensor; classLogLik: Tensor }) {
    const op = 'mixtureLogLik';
    own(op, be, ts);
    rank(op, ts, { z: 2, mu: 2, logVar: 2, rho: 2, logDens: 2, classLogLik: 2 });
    same(op, ts, ['mu', 'logVar']);
    const [n, d] = ts.z.shape;
    const [k] = ts.mu.shape;
    const [c] = ts.rho.shape;
    dim(op, ts, ts.mu.shape[1] === d, 'mu and logVar must be [K, D] for z [N, D]');
    dim(op, ts, ts.rho.shape[1] === k, 'rho must be [C, K] for mu [K, D]');
    dim(op, ts, ts.logDens.shape[0] === n && ts.logDens.shape[1] === k, 'logDens must be [N, K]');
    dim(op, ts, ts.classLogLik.shape[0] === n && ts.classLogLik.shape[1] === c, 'classLogLik must be [N, C]');
  },
  mixturePosteriors(be: Backend, ts: { classLogLik: Tensor; sampleOf: Tensor; logPrior: Tensor; post: Tensor; colSums: Tensor; sampleLogLik: Tensor }) {
    const op = 'mixturePosteriors';
    own(op, be, ts, { sampleOf: 'i32' });
    rank(op, ts, { classLogLik: 2, sampleOf: 1, logPrior: 2, post: 2, colSums: 2, sampleLogLik: 1 });
    same(op, ts, ['classLogLik', 'post']);
    same(op, ts, ['logPrior', 'colSums']);
    const [n, c] = ts.classLogLik.shape;
    dim(op, ts, ts.sampleOf.shape[0] === n, 'sampleOf must be [N] for classLogLik [N, C]');
    dim(op, ts, ts.logPrior.shape[1] === c, 'logPrior and colSums must be [S, C] for classLogLik [N, C]');
    dim(op, ts, ts.sampleLogLik.shape[0] === ts.logPrior.shape[0], 'sampleLogLik must be [S] for logPrior [S, C]');
  },
  mixtureStats(be: Backend, ts: { z: Tensor; logDens: Tensor; classLogLik: Tensor; post: Tensor; rho: Tensor; center: Tensor;
    classWeights: Tensor; sum1: Tensor; sum2: Tensor }) {
    const op = 'mixtureStats';
    own(op, be, ts);
    rank(op, ts, { z: 2, logDens: 2, classLogLik: 2, post: 2, rho: 2, center: 2, classWeights: 2, sum1: 2, sum2: 2 });
    same(op, ts, ['classLogLik', 'post']);
    same(op, ts, ['rho', 'classWeights']);
    same(op, ts, ['center', 'sum1', 'sum2']);
    const [n, d] = ts.z.shape;
    const [k] = ts.center.shape;
    const [c] = ts.rho.shape;
    dim(op, ts, ts.center.shape[1] === d, 'center, sum1 and sum2 must be [K, D] for z [N, D]');
    dim(op, ts, ts.logDens.shape[0] === n && ts.logDens.shape[1] === k, 'logDens must be [N, K]');
    dim(op, ts, ts.rho.shape[1] === k, 'rho and classWeights must be [C, K]');
    dim(op, ts, ts.post.shape[0] === n && ts.post.shape[1] === c, 'classLogLik and post must be [N, C]');
  },
  kmeansAssign(be: Backend, x: Tensor, centroids: Tensor, labels: Tensor, minDist: Tensor) {
    const args = { x, centroids, labels, minDist };
    own('kmeansAssign', be, args, { labels: 'i32' });
    rank('kmeansAssign', args, { x: 2, centroids: 2, labels: 1, minDist: 1 });
    dim('kmeansAssign', args, centroids.shape[1] === x.shape[1], 'centroids must be [K, D] for x [N, D]');
    dim('kmeansAssign', args, labels.shape[0] === x.shape[0] && minDist.shape[0] === x.shape[0], 'labels and minDist must be [N]');
  },
  kmeansUpdate(be: Backend, x: Tensor, labels: Tensor, sums: Tensor, counts: Tensor) {
    const args = { x, labels, sums, counts };
    own('kmeansUpdate', be, args, { labels: 'i32' });
    rank('kmeansUpdate', args, { x: 2, labels: 1, sums: 2, counts: 1 });
    dim('kmeansUpdate', args, labels.shape[0] === x.shape[0], 'labels must be [N] for x [N, D]');
    dim('kmeansUpdate', args, sums.shape[1] === x.shape[1] && counts.shape[0] === sums.shape[0], 'sums must be [K, D] and counts [K]');
  },
  argmax(be: Backend, x: Tensor, out: Tensor) {
    const args = { x, out };
    own('argmax', be, args, { out: 'i32' });
    rank('argmax', args, { x: 2, out: 1 });
    dim('argmax', args, out.shape[0] === x.shape[0], 'out must be [N] for x [N, K]');
  },
  rowwise(op: string, be: Backend, ts: Record<string, Tensor>) {
    own(op, be, ts);
    rank(op, ts, Object.fromEntries(Object.keys(ts).map((k) => [k, 2])));
    same(op, ts, Object.keys(ts));
  },
};

/** Labels/indices are data, not shapes: CPU backends verify them (GPU kernels clamp/skip). */
export function checkIndexRange(op: string, name: string, values: Int32Array, bound: number) {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < 0 || v >= bound) throw new RangeError(`${op}: ${name}[${i}] = ${v} is outside 0..${bound - 1}`);
  }
}
