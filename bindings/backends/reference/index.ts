// The reference backend: float64 TypeScript, the oracle every other backend is tested against.
// Each op validates with the shared checks (checks.ts), then delegates to a plain function over
// Float64Array/Int32Array in the file named after its op family (dense, losses, optim, dec, vade,
// kmeans, misc). f32 tensors hold float64 values: uploads are rounded to f32, ops compute and store
// in float64, download rounds to f32. readF64/writeF64 give unrounded access for gradient checks.
import type {
  Activation, AdamOptions, BackendInfo, BackwardOptions, ComputeBackend, DType, GemmOptions, OpSet, SgdOptions, Tensor,
} from '../../backend.js';
import { OP_NAMES, resolveAdam, resolveSgd } from '../../backend.js';
import { checkIndexRange, checkShape, checks, checkTensor, checkUpload, rc, ShapeError } from '../../checks.js';
import * as dec from './dec.js';
import * as dense from './dense.js';
import * as kmeans from './kmeans.js';
import * as losses from './losses.js';
import * as misc from './misc.js';
import * as mixture from './mixture.js';
import * as optim from './optim.js';
import * as preprocess from './preprocess.js';
import { RefTensor } from './tensor.js';
import * as vade from './vade.js';

export { RefTensor } from './tensor.js';

/** Float64 storage of a tensor this backend made (checks.ts has already verified name/dispose/dtype). */
function f64(t: Tensor): Float64Array {
  if (!(t instanceof RefTensor) || !(t.data instanceof Float64Array)) {
    throw new ShapeError(`reference: tensor [${t.shape}] is not an f32 tensor of this backend`);
  }
  return t.data;
}

function i32(t: Tensor): Int32Array {
  if (!(t instanceof RefTensor) || !(t.data instanceof Int32Array)) {
    throw new ShapeError(`reference: tensor [${t.shape}] is not an i32 tensor of this backend`);
  }
  return t.data;
}

const setScalar = (loss: Tensor, v: number) => { f64(loss)[0] = v; };

export class ReferenceBackend implements ComputeBackend {
  readonly name = 'reference';

  info(): BackendInfo {
    return { name: 'reference', device: 'float64 TypeScript (CPU, single thread)', threads: 1 };
  }

  supportsOp(op: keyof OpSet): boolean {
    return OP_NAMES.includes(op);
  }

  // ---- memory ----------------------------------------------------------------------------
  create(shape: readonly number[], dtype: DType = 'f32'): Tensor {
    const size = checkShape(shape);
    if (dtype !== 'f32' && dtype !== 'i32') throw new ShapeError(`create: unknown dtype '${dtype}'`);
    return new RefTensor([...shape], dtype, size);
  }

  upload(t: Tensor, data: Float32Array | Int32Array | Float64Array | readonly number[]): void {
    checkUpload(this, t, data);
    const dst = (t as RefTensor).data;
    if (dst instanceof Float64Array) for (let i = 0; i < dst.length; i++) dst[i] = Math.fround(data[i]);
    else dst.set(data);
  }

  async download(t: Tensor): Promise<Float32Array | Int32Array> {
    checkTensor('download', this, t);
    const src = (t as RefTensor).data;
    return src instanceof Float64Array ? Float32Array.from(src) : Int32Array.from(src);
  }

  /** Float64 contents without rounding (reference only; for finite-difference checks). */
  readF64(t: Tensor): Float64Array {
    checkTensor('readF64', this, t);
    return Float64Array.from(f64(t));
  }

  /** Set float64 contents without rounding to f32 (reference only; for finite-difference checks). */
  writeF64(t: Tensor, data: Float64Array): void {
    checkUpload(this, t, data);
    f64(t).set(data);
  }

  /** Disposing twice is a no-op; a foreign or non-tensor argument is a ShapeError naming 'dispose'. */
  dispose(t: Tensor): void {
    if (t instanceof RefTensor && t.disposed) return;
    checkTensor('dispose', this, t);
    const rt = t as RefTensor;
    rt.disposed = true;
    rt.data = rt.dtype === 'f32' ? new Float64Array(0) : new Int32Array(0);
  }

  async sync(): Promise<void> {}

  destroy(): void {}

  // ---- elementwise / data movement --------------------------------------------------------
  fill(out: Tensor, value: number): void {
    checks.fill(this, out, value);
    const d = (out as RefTensor).data;
    d.fill(out.dtype === 'f32' ? Math.fround(value) : value);
  }

  axpby(x: Tensor, y: Tensor, alpha: number, beta: number): void {
    checks.axpby(this, x, y, alpha, beta);
    misc.axpby(f64(x), f64(y), alpha, beta);
  }

  gatherRows(src: Tensor, idx: Tensor, out: Tensor): void {
    checks.gatherRows(this, src, idx, out);
    checkIndexRange('gatherRows', 'idx', i32(idx), src.shape[0]);
    misc.gatherRows(f64(src), i32(idx), f64(out), src.shape[1]);
  }

  asinhStandardize(x: Tensor, mean: Tensor, std: Tensor, scale: number, out: Tensor): void {
    checks.asinhStandardize(this, x, mean, std, scale, out);
    preprocess.asinhStandardize(f64(x), f64(mean), f64(std), scale, f64(out), x.shape[0], x.shape[1]);
  }

  pulseSummaries(x: Tensor, scale: number, out: Tensor): void {
    checks.pulseSummaries(this, x, scale, out);
    preprocess.pulseSummaries(f64(x), scale, f64(out), x.shape[0], x.shape[1], out.shape[1] / 2);
  }

  // ---- dense layers ---------------------------------------------------------------------
  gemm(a: Tensor, b: Tensor, c: Tensor, opts: GemmOptions = {}): void {
    checks.gemm(this, a, b, c, opts);
    const [m, n] = c.shape;
    const k = opts.transA ? a.shape[0] : a.shape[1];
    dense.gemm(f64(a), f64(b), f64(c), m, n, k, !!opts.transA, !!opts.transB, opts.alpha ?? 1, opts.beta ?? 0);
  }

  biasAct(x: Tensor, bias: Tensor, act: Activation, out: Tensor): void {
    checks.biasAct(this, x, bias, act, out);
    dense.biasAct(f64(x), f64(bias), act, f64(out), x.shape[0], x.shape[1]);
  }

  denseInt8(x: Tensor, wq: Tensor, ws: Tensor, bias: Tensor, act: Activation, out: Tensor): void {
    checks.denseInt8(this, x, wq, ws, bias, act, out);
    dense.denseInt8(f64(x), i32(wq), f64(ws), f64(bias), act, f64(out), x.shape[0], x.shape[1], wq.shape[0]);
  }

  biasActBackward(dy: Tensor, y: Tensor, act: Activation, dx: Tensor): void {
    checks.biasActBackward(this, dy, y, act, dx);
    dense.biasActBackward(f64(dy), f64(y), act, f64(dx));
  }

  colSum(x: Tensor, out: Tensor, opts: BackwardOptions = {}): void {
    checks.colSum(this, x, out);
    dense.colSum(f64(x), f64(out), x.shape[0], x.shape[1], !!opts.accumulate);
  }

  // ---- reconstruction losses ------------------------------------------------------------
  mseLoss(pred: Tensor, target: Tensor, loss: Tensor): void {
    checks.lossPair('mseLoss', this, pred, target, loss, true);
    setScalar(loss, losses.mseLoss(f64(pred), f64(target)));
  }

  mseLossBackward(pred: Tensor, target: Tensor, dpred: Tensor, scale = 1): void {
    checks.lossPair('mseLossBackward', this, pred, target, dpred, false);
    checks.scale('mseLossBackward', scale);
    losses.mseLossBackward(f64(pred), f64(target), f64(dpred), scale);
  }

  bceLogitsLoss(logits: Tensor, target: Tensor, loss: Tensor): void {
    checks.lossPair('bceLogitsLoss', this, logits, target, loss, true);
    setScalar(loss, losses.bceLogitsLoss(f64(logits), f64(target), logits.shape[0]));
  }

  bceLogitsLossBackward(logits: Tensor, target: Tensor, dlogits: Tensor, scale = 1): void {
    checks.lossPair('bceLogitsLossBackward', this, logits, target, dlogits, false);
    checks.scale('bceLogitsLossBackward', scale);
    losses.bceLogitsLossBackward(f64(logits), f64(target), f64(dlogits), logits.shape[0], scale);
  }

  // ---- optimisers ----------------------------------------------------------------------
  adamUpdate(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, o: AdamOptions): void {
    checks.optimizer('adamUpdate', this, { param, grad, m, v }, o.lr, o.step);
    const r = resolveAdam(o);
    optim.adamUpdate(f64(param), f64(grad), f64(m), f64(v), r.lr, r.beta1, r.beta2, r.eps, r.step, r.weightDecay);
  }

  sgdUpdate(param: Tensor, grad: Tensor, vel: Tensor, o: SgdOptions): void {
    checks.optimizer('sgdUpdate', this, { param, grad, vel }, o.lr);
    optim.sgdUpdate(f64(param), f64(grad), f64(vel), o.lr, resolveSgd(o).momentum);
  }

  // ---- DEC / IDEC -----------------------------------------------------------------------
  softAssign(z: Tensor, mu: Tensor, q: Tensor, alpha: number): void {
    checks.softAssign(this, z, mu, q, alpha);
    dec.softAssign(f64(z), f64(mu), f64(q), alpha, z.shape[0], mu.shape[0], z.shape[1]);
  }

  targetDistribution(q: Tensor, f: Tensor, p: Tensor): void {
    checks.targetDistribution(this, q, f, p);
    dec.targetDistribution(f64(q), f64(f), f64(p), q.shape[0], q.shape[1]);
  }

  klDivLoss(p: Tensor, q: Tensor, loss: Tensor): void {
    checks.klDivLoss(this, p, q, loss);
    setScalar(loss, dec.klDivLoss(f64(p), f64(q), rc(p)[0]));
  }

  softAssignBackward(z: Tensor, mu: Tensor, p: Tensor, q: Tensor, alpha: number, dz: Tensor, dmu: Tensor,
    scale = 1, opts: BackwardOptions = {}): void {
    checks.softAssignBackward(this, z, mu, p, q, alpha, dz, dmu);
    checks.scale('softAssignBackward', scale);
    dec.softAssignBackward(f64(z), f64(mu), f64(p), f64(q), alpha, f64(dz), f64(dmu),
      z.shape[0], mu.shape[0], z.shape[1], scale, !!opts.accumulate);
  }

  // ---- VaDE --------------------------------------------------------------------------------
  philoxNormal(out: Tensor, seed: number, stream: number, offset: number): void {
    checks.philoxNormal(this, out, seed, stream, offset);
    vade.philoxNormal(f64(out), seed, stream, offset);
  }

  reparameterize(mu: Tensor, logVar: Tensor, eps: Tensor, z: Tensor): void {
    checks.reparameterize(this, { mu, logVar, eps, z });
    vade.reparameterize(f64(mu), f64(logVar), f64(eps), f64(z));
  }

  reparameterizeBackward(dz: Tensor, logVar: Tensor, eps: Tensor, dmu: Tensor, dlogVar: Tensor, opts: BackwardOptions = {}): void {
    checks.reparameterizeBackward(this, { dz, logVar, eps, dmu, dlogVar });
    vade.reparameterizeBackward(f64(dz), f64(logVar), f64(eps), f64(dmu), f64(dlogVar), !!opts.accumulate);
  }

  gmmLogResp(z: Tensor, piLogits: Tensor, muC: Tensor, logVarC: Tensor, logResp: Tensor): void {
    checks.gmm('gmmLogResp', this, z, piLogits, muC, logVarC, { logResp });
    vade.gmmLogResp(f64(z), f64(piLogits), f64(muC), f64(logVarC), f64(logResp), z.shape[0], piLogits.shape[0], z.shape[1]);
  }

  vadeKlLoss(muEnc: Tensor, logVarEnc: Tensor, gamma: Tensor, piLogits: Tensor, muC: Tensor, logVarC: Tensor, loss: Tensor): void {
    checks.vadeKl('vadeKlLoss', this, muEnc, logVarEnc, gamma, piLogits, muC, logVarC, {}, loss);
    setScalar(loss, vade.vadeKlLoss(f64(muEnc), f64(logVarEnc), f64(gamma), f64(piLogits), f64(muC), f64(logVarC),
      muEnc.shape[0], piLogits.shape[0], muEnc.shape[1]));
  }

  vadeKlLossBackward(muEnc: Tensor, logVarEnc: Tensor, gamma: Tensor, piLogits: Tensor, muC: Tensor, logVarC: Tensor,
    dMuEnc: Tensor, dLogVarEnc: Tensor, dPiLogits: Tensor, dMuC: Tensor, dLogVarC: Tensor,
    scale = 1, opts: BackwardOptions = {}): void {
    checks.vadeKl('vadeKlLossBackward', this, muEnc, logVarEnc, gamma, piLogits, muC, logVarC,
      { dMuEnc, dLogVarEnc, dPiLogits, dMuC, dLogVarC });
    checks.scale('vadeKlLossBackward', scale);
    vade.vadeKlLossBackward(f64(muEnc), f64(logVarEnc), f64(gamma), f64(piLogits), f64(muC), f64(logVarC),
      f64(dMuEnc), f64(dLogVarEnc), f64(dPiLogits), f64(dMuC), f64(dLogVarC),
      muEnc.shape[0], piLogits.shape[0], muEnc.shape[1], scale, !!opts.accumulate);
  }

  // ---- k-means, classification helpers --------------------------------------------------
  kmeansAssign(x: Tensor, centroids: Tensor, labels: Tensor, minDist: Tensor): void {
    checks.kmeansAssign(this, x, centroids, labels, minDist);
    kmeans.kmeansAssign(f64(x), f64(centroids), i32(labels), f64(minDist), x.shape[0], centroids.shape[0], x.shape[1]);
  }

  mixtureLogLik(z: Tensor, mu: Tensor, logVar: Tensor, rho: Tensor, logDens: Tensor, classLogLik: Tensor): void {
    checks.mixtureLogLik(this, { z, mu, logVar, rho, logDens, classLogLik });
    mixture.mixtureLogLik(f64(z), f64(mu), f64(logVar), f64(rho), f64(logDens), f64(classLogLik), z.shape[0], z.shape[1], mu.shape[0], rho.shape[0]);
  }

  mixturePosteriors(classLogLik: Tensor, sampleOf: Tensor, logPrior: Tensor, post: Tensor, colSums: Tensor, sampleLogLik: Tensor): void {
    checks.mixturePosteriors(this, { classLogLik, sampleOf, logPrior, post, colSums, sampleLogLik });
    checkIndexRange('mixturePosteriors', 'sampleOf', i32(sampleOf), logPrior.shape[0]);
    mixture.mixturePosteriors(f64(classLogLik), i32(sampleOf), f64(logPrior), f64(post), f64(colSums), f64(sampleLogLik), classLogLik.shape[0], classLogLik.shape[1]);
  }

  mixtureStats(z: Tensor, logDens: Tensor, classLogLik: Tensor, post: Tensor, rho: Tensor, center: Tensor, classWeights: Tensor, sum1: Tensor, sum2: Tensor): void {
    checks.mixtureStats(this, { z, logDens, classLogLik, post, rho, center, classWeights, sum1, sum2 });
    mixture.mixtureStats(f64(z), f64(logDens), f64(classLogLik), f64(post), f64(rho), f64(center), f64(classWeights), f64(sum1), f64(sum2),
      z.shape[0], z.shape[1], center.shape[0], rho.shape[0]);
  }

  kmeansUpdate(x: Tensor, labels: Tensor, sums: Tensor, counts: Tensor, opts: BackwardOptions = {}): void {
    checks.kmeansUpdate(this, x, labels, sums, counts);
    checkIndexRange('kmeansUpdate', 'labels', i32(labels), sums.shape[0]);
    kmeans.kmeansUpdate(f64(x), i32(labels), f64(sums), f64(counts), x.shape[0], x.shape[1], !!opts.accumulate);
  }

  argmax(x: Tensor, out: Tensor): void {
    checks.argmax(this, x, out);
    misc.argmax(f64(x), i32(out), x.shape[0], x.shape[1]);
  }

  softmax(x: Tensor, out: Tensor): void {
    checks.rowwise('softmax', this, { x, out });
    misc.softmax(f64(x), f64(out), x.shape[0], x.shape[1]);
  }

  softmaxBackward(y: Tensor, dy: Tensor, dx: Tensor): void {
    checks.rowwise('softmaxBackward', this, { y, dy, dx });
    misc.softmaxBackward(f64(y), f64(dy), f64(dx), y.shape[0], y.shape[1]);
  }

  proportionXentLoss(pred: Tensor, target: Tensor, loss: Tensor): void {
    checks.lossPair('proportionXentLoss', this, pred, target, loss, true);
    setScalar(loss, losses.proportionXentLoss(f64(pred), f64(target), pred.shape[0]));
  }

  proportionXentLossBackward(pred: Tensor, target: Tensor, dpred: Tensor, scale = 1): void {
    checks.lossPair('proportionXentLossBackward', this, pred, target, dpred, false);
    checks.scale('proportionXentLossBackward', scale);
    losses.proportionXentLossBackward(f64(pred), f64(target), f64(dpred), pred.shape[0], scale);
  }
}

export function createReferenceBackend(): ReferenceBackend {
  return new ReferenceBackend();
}
