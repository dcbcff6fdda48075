// The WebGPU backend: every op of bindings/backend.ts as WGSL kernels (kernels/*.wgsl) recorded into
// one lazily submitted command encoder (see context.ts). Ops validate with checks.ts first, then
// record; nothing is read back until `download`.
import type {
  Activation, AdamOptions, BackendInfo, BackwardOptions, ComputeBackend, DType, GemmOptions, OpSet, SgdOptions, Tensor,
} from '../../backend.js';
import { OP_NAMES, resolveAdam, resolveSgd } from '../../backend.js';
import { checkIndexRange, checks, checkShape, checkTensor, checkUpload, ShapeError } from '../../checks.js';
import { GpuContext, f, u, type ContextOptions } from './context.js';
import { WebGPUTensor } from './tensor.js';
import { softAssignBackward } from './ops/dec.js';
import { denseInt8 as denseInt8Op } from './ops/dense-int8.js';
import { gemm as gemmOp } from './ops/gemm.js';
import { colSumTensor, reduceRows } from './ops/reduce.js';
import * as mixture from './ops/mixture.js';
import { ACT_CODE, blockPartials, ew, flatLoss, flatOp, k, perThread } from './ops/row-ops.js';
import { vadeKlLoss, vadeKlLossBackward } from './ops/vade.js';

const f32bits = (v: number) => new Uint32Array(new Float32Array([v]).buffer)[0];

export class WebGPUBackend implements ComputeBackend {
  readonly name = 'webgpu';
  readonly ctx: GpuContext;

  /**
   * `keepAlive` holds the GPU and adapter objects: Dawn in Node crashes if they are collected while
   * the device lives.
   */
  constructor(readonly device: GPUDevice, private readonly adapterDescription: string, opts: ContextOptions = {},
    private readonly keepAlive: readonly unknown[] = []) {
    this.ctx = new GpuContext(device, opts);
  }

  info(): BackendInfo {
    return { name: 'webgpu', device: this.adapterDescription, threads: 1 };
  }

  supportsOp(op: keyof OpSet): boolean {
    return OP_NAMES.includes(op);
  }

  // ---- memory ----------------------------------------------------------------------------
  create(shape: readonly number[], dtype: DType = 'f32'): WebGPUTensor {
    this.ctx.alive();
    if (dtype !== 'f32' && dtype !== 'i32') throw new ShapeError(`create: unknown dtype '${dtype}'`);
    const size = checkShape(shape);
    const buf = this.ctx.createStorage(size * 4, `tensor [${shape.join(',')}]${dtype === 'i32' ? ':i32' : ''}`);
    return new WebGPUTensor(this.name, [...shape], dtype, size, buf);
  }

  upload(t: Tensor, data: Float32Array | Int32Array | Float64Array | readonly number[]): void {
    checkUpload(this, t, data);
    this.ctx.alive();
    const wt = t as WebGPUTensor;
    const host = wt.dtype === 'f32'
      ? (data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>))
      : (data instanceof Int32Array ? data : Int32Array.from(data as ArrayLike<number>));
    this.ctx.write(wt.buffer, host);
    wt.hostIndices = wt.dtype === 'i32' ? Int32Array.from(host as Int32Array) : null;
  }

  async download(t: Tensor): Promise<Float32Array | Int32Array> {
    this.own('download', t);
    this.ctx.alive();
    const wt = t as WebGPUTensor;
    const bytes = await this.ctx.read(wt.buffer, wt.bytes);
    return wt.dtype === 'f32' ? new Float32Array(bytes) : new Int32Array(bytes);
  }

  /** Disposing twice is a no-op; a foreign or non-tensor argument is a ShapeError naming 'dispose'. */
  dispose(t: Tensor): void {
    if (t instanceof WebGPUTensor && t.disposed) return;
    this.own('dispose', t);
    const wt = t as WebGPUTensor;
    wt.disposed = true;
    if (!this.ctx.destroyed) this.ctx.release(wt.buffer);
  }

  sync(): Promise<void> {
    return this.ctx.sync();
  }

  destroy(): void {
    this.ctx.destroy();
  }

  /** The shared ownership/liveness check, then that it really is one of ours (it has a buffer). */
  private own(op: string, t: Tensor) {
    checkTensor(op, this, t);
    if (!(t instanceof WebGPUTensor)) throw new ShapeError(`${op}: t is not a WebGPU tensor`);
  }

  // ---- elementwise / data movement --------------------------------------------------------
  fill(out: Tensor, value: number): void {
    checks.fill(this, out, value);
    this.ctx.begin();
    const bits = out.dtype === 'i32' ? (Math.trunc(value) >>> 0) : f32bits(value);
    flatOp(this.ctx, ew('fill'), out.size, [{ t: out, write: true }], (n) => [u(n), u(bits)]);
    (out as WebGPUTensor).hostIndices = null;
  }

  axpby(x: Tensor, y: Tensor, alpha: number, beta: number): void {
    checks.axpby(this, x, y, alpha, beta);
    this.ctx.begin();
    flatOp(this.ctx, ew('axpby'), x.size, [{ t: x }, { t: y, write: true }], (n) => [u(n), f(alpha), f(beta)]);
  }

  gatherRows(src: Tensor, idx: Tensor, out: Tensor): void {
    checks.gatherRows(this, src, idx, out);
    this.ctx.begin();
    const [n, d] = src.shape;
    const host = (idx as WebGPUTensor).hostIndices;
    if (host) checkIndexRange('gatherRows', 'idx', host, n);
    for (const sc of this.ctx.chunks(n, [d])) {
      const srcBind = { buffer: (src as WebGPUTensor).buffer, offset: sc.row0 * d * 4, size: sc.rows * d * 4, write: false };
      this.ctx.rowOp(ew('gatherRows'), idx.size, [{ range: srcBind }, { rows: idx as WebGPUTensor, width: 1 }, { rows: out as WebGPUTensor, width: d, write: true }],
        (c) => [u(c.rows * d), u(d), u(sc.row0), u(sc.rows), u(n)], (c) => perThread(c.rows * d));
    }
  }

  asinhStandardize(x: Tensor, mean: Tensor, std: Tensor, scale: number, out: Tensor): void {
    checks.asinhStandardize(this, x, mean, std, scale, out);
    this.ctx.begin();
    const d = x.shape[1];
    this.ctx.rowOp(ew('asinhStandardize'), x.shape[0],
      [{ rows: x as WebGPUTensor, width: d }, { whole: mean as WebGPUTensor }, { whole: std as WebGPUTensor }, { rows: out as WebGPUTensor, width: d, write: true }],
      (c) => [u(c.rows * d), u(d), f(1 / scale)], (c) => perThread(c.rows * d));
  }

  pulseSummaries(x: Tensor, scale: number, out: Tensor): void {
    checks.pulseSummaries(this, x, scale, out);
    this.ctx.begin();
    const d = x.shape[1];
    const channels = out.shape[1] / 2;
    this.ctx.rowOp(ew('pulseSummaries'), x.shape[0],
      [{ rows: x as WebGPUTensor, width: d }, { rows: out as WebGPUTensor, width: 2 * channels, write: true }],
      (c) => [u(c.rows * channels), u(d), u(channels), f(scale)], (c) => perThread(c.rows * channels));
  }

  // ---- dense layers ---------------------------------------------------------------------
  gemm(a: Tensor, b: Tensor, c: Tensor, opts: GemmOptions = {}): void {
    checks.gemm(this, a, b, c, opts);
    this.ctx.begin();
    gemmOp(this.ctx, a as WebGPUTensor, b as WebGPUTensor, c as WebGPUTensor, opts);
  }

  biasAct(x: Tensor, bias: Tensor, act: Activation, out: Tensor): void {
    checks.biasAct(this, x, bias, act, out);
    this.ctx.begin();
    const d = x.shape[1];
    this.ctx.rowOp(ew('biasAct', ACT_CODE[act]), x.shape[0],
      [{ rows: x as WebGPUTensor, width: d }, { whole: bias as WebGPUTensor }, { rows: out as WebGPUTensor, width: d, write: true }],
      (c) => [u(c.rows * d), u(d)], (c) => perThread(c.rows * d));
  }

  denseInt8(x: Tensor, wq: Tensor, ws: Tensor, bias: Tensor, act: Activation, out: Tensor): void {
    checks.denseInt8(this, x, wq, ws, bias, act, out);
    this.ctx.begin();
    denseInt8Op(this.ctx, x, wq, ws, bias, act, out);
  }

  biasActBackward(dy: Tensor, y: Tensor, act: Activation, dx: Tensor): void {
    checks.biasActBackward(this, dy, y, act, dx);
    this.ctx.begin();
    flatOp(this.ctx, ew('biasActBackward', ACT_CODE[act]), dy.size, [{ t: dy }, { t: y }, { t: dx, write: true }], (n) => [u(n)]);
  }

  colSum(x: Tensor, out: Tensor, opts: BackwardOptions = {}): void {
    checks.colSum(this, x, out);
    this.ctx.begin();
    colSumTensor(this.ctx, x as WebGPUTensor, out as WebGPUTensor, 1, !!opts.accumulate);
  }

  // ---- reconstruction losses ------------------------------------------------------------
  mseLoss(pred: Tensor, target: Tensor, loss: Tensor): void {
    checks.lossPair('mseLoss', this, pred, target, loss, true);
    this.ctx.begin();
    flatLoss(this.ctx, k('losses.wgsl', 'mseLoss'), pred, target, loss, 1 / pred.size);
  }

  mseLossBackward(pred: Tensor, target: Tensor, dpred: Tensor, scale = 1): void {
    checks.lossPair('mseLossBackward', this, pred, target, dpred, false);
    checks.scale('mseLossBackward', scale);
    this.ctx.begin();
    flatOp(this.ctx, k('losses.wgsl', 'mseLossBackward'), pred.size, [{ t: pred }, { t: target }, { t: dpred, write: true }], (n) => [u(n), f(scale * 2 / pred.size)]);
  }

  bceLogitsLoss(logits: Tensor, target: Tensor, loss: Tensor): void {
    checks.lossPair('bceLogitsLoss', this, logits, target, loss, true);
    this.ctx.begin();
    flatLoss(this.ctx, k('losses.wgsl', 'bceLogitsLoss'), logits, target, loss, 1 / logits.shape[0]);
  }

  bceLogitsLossBackward(logits: Tensor, target: Tensor, dlogits: Tensor, scale = 1): void {
    checks.lossPair('bceLogitsLossBackward', this, logits, target, dlogits, false);
    checks.scale('bceLogitsLossBackward', scale);
    this.ctx.begin();
    flatOp(this.ctx, k('losses.wgsl', 'bceLogitsLossBackward'), logits.size, [{ t: logits }, { t: target }, { t: dlogits, write: true }],
      (n) => [u(n), f(scale / logits.shape[0])]);
  }

  // ---- optimisers -------------------------------------------------------------------------
  adamUpdate(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, o: AdamOptions): void {
    checks.optimizer('adamUpdate', this, { param, grad, m, v }, o.lr, o.step);
    this.ctx.begin();
    const { beta1: b1, beta2: b2, eps, weightDecay } = resolveAdam(o);
    const bc1 = 1 - Math.pow(b1, o.step);
    const bc2 = 1 - Math.pow(b2, o.step);
    flatOp(this.ctx, k('optim.wgsl', 'adamUpdate'), param.size, [{ t: param, write: true }, { t: grad }, { t: m, write: true }, { t: v, write: true }],
      (n) => [u(n), f(o.lr), f(b1), f(b2), f(eps), f(bc1), f(bc2), f(weightDecay), f(1 - b1), f(1 - b2)]);
  }

  sgdUpdate(param: Tensor, grad: Tensor, vel: Tensor, o: SgdOptions): void {
    checks.optimizer('sgdUpdate', this, { param, grad, vel }, o.lr);
    this.ctx.begin();
    flatOp(this.ctx, k('optim.wgsl', 'sgdUpdate'), param.size, [{ t: param, write: true }, { t: grad }, { t: vel, write: true }],
      (n) => [u(n), f(o.lr), f(resolveSgd(o).momentum)]);
  }

  // ---- DEC / IDEC ---------------------------------------------------------------------------
  softAssign(z: Tensor, mu: Tensor, q: Tensor, alpha: number): void {
    checks.softAssign(this, z, mu, q, alpha);
    this.ctx.begin();
    const [n, d] = z.shape;
    const kk = mu.shape[0];
    this.ctx.rowOp(k('dec.wgsl', 'softAssign'), n,
      [{ rows: z as WebGPUTensor, width: d }, { whole: mu as WebGPUTensor }, { rows: q as WebGPUTensor, width: kk, write: true }],
      (c) => [u(c.rows), u(d), u(kk), f(alpha)], (c) => perThread(c.rows));
  }

  targetDistribution(q: Tensor, fT: Tensor, p: Tensor): void {
    checks.targetDistribution(this, q, fT, p);
    this.ctx.begin();
    const [n, kk] = q.shape;
    this.ctx.rowOp(k('dec.wgsl', 'targetDistribution'), n,
      [{ rows: q as WebGPUTensor, width: kk }, { whole: fT as WebGPUTensor }, { rows: p as WebGPUTensor, width: kk, write: true }],
      (c) => [u(c.rows), u(kk)], (c) => perThread(c.rows));
  }

  klDivLoss(p: Tensor, q: Tensor, loss: Tensor): void {
    checks.klDivLoss(this, p, q, loss);
    this.ctx.begin();
    flatLoss(this.ctx, k('dec.wgsl', 'klDivLoss'), p, q, loss, 1 / p.shape[0]);
  }

  softAssignBackward(z: Tensor, mu: Tensor, p: Tensor, q: Tensor, alpha: number, dz: Tensor, dmu: Tensor, scale = 1,
    opts: BackwardOptions = {}): void {
    checks.softAssignBackward(this, z, mu, p, q, alpha, dz, dmu);
    checks.scale('softAssignBackward', scale);
    this.ctx.begin();
    softAssignBackward(this.ctx, z, mu, p, q, alpha, dz, dmu, scale, !!opts.accumulate);
  }

  // ---- VaDE -----------------------------------------------------------------------------
  philoxNormal(out: Tensor, seed: number, stream: number, offset: number): void {
    checks.philoxNormal(this, out, seed, stream, offset);
    this.ctx.begin();
    flatOp(this.ctx, k('philox.wgsl', 'philoxNormal'), out.size, [{ t: out, write: true }], (n, row0) => [u(n), u(row0), u(seed), u(stream), u(offset)]);
  }

  reparameterize(mu: Tensor, logVar: Tensor, eps: Tensor, z: Tensor): void {
    checks.reparameterize(this, { mu, logVar, eps, z });
    this.ctx.begin();
    flatOp(this.ctx, k('vade.wgsl', 'reparameterize'), mu.size, [{ t: mu }, { t: logVar }, { t: eps }, { t: z, write: true }], (n) => [u(n), u(0)]);
  }

  reparameterizeBackward(dz: Tensor, logVar: Tensor, eps: Tensor, dmu: Tensor, dlogVar: Tensor, opts: BackwardOptions = {}): void {
    checks.reparameterizeBackward(this, { dz, logVar, eps, dmu, dlogVar });
    this.ctx.begin();
    flatOp(this.ctx, k('vade.wgsl', 'reparameterizeBackward'), dz.size,
      [{ t: dz }, { t: logVar }, { t: eps }, { t: dmu, write: true }, { t: dlogVar, write: true }],
      (n) => [u(n), u(opts.accumulate ? 1 : 0)]);
  }

  gmmLogResp(z: Tensor, piLogits: Tensor, muC: Tensor, logVarC: Tensor, logResp: Tensor): void {
    checks.gmm('gmmLogResp', this, z, piLogits, muC, logVarC, { logResp });
    this.ctx.begin();
    const [n, d] = z.shape;
    const kk = piLogits.shape[0];
    this.ctx.rowOp(k('vade.wgsl', 'gmmLogResp'), n,
      [{ rows: z as WebGPUTensor, width: d }, { whole: piLogits as WebGPUTensor }, { whole: muC as WebGPUTensor }, { whole: logVarC as WebGPUTensor },
        { rows: logResp as WebGPUTensor, width: kk, write: true }],
      (c) => [u(c.rows), u(d), u(kk), u(0), f(0), u(0)], (c) => perThread(c.rows));
  }

  vadeKlLoss(muEnc: Tensor, logVarEnc: Tensor, gamma: Tensor, piLogits: Tensor, muC: Tensor, logVarC: Tensor, loss: Tensor): void {
    checks.vadeKl('vadeKlLoss', this, muEnc, logVarEnc, gamma, piLogits, muC, logVarC, {}, loss);
    this.ctx.begin();
    vadeKlLoss(this.ctx, muEnc, logVarEnc, gamma, piLogits, muC, logVarC, loss);
  }

  vadeKlLossBackward(muEnc: Tensor, logVarEnc: Tensor, gamma: Tensor, piLogits: Tensor, muC: Tensor, logVarC: Tensor,
    dMuEnc: Tensor, dLogVarEnc: Tensor, dPiLogits: Tensor, dMuC: Tensor, dLogVarC: Tensor, scale = 1, opts: BackwardOptions = {}): void {
    checks.vadeKl('vadeKlLossBackward', this, muEnc, logVarEnc, gamma, piLogits, muC, logVarC, { dMuEnc, dLogVarEnc, dPiLogits, dMuC, dLogVarC });
    checks.scale('vadeKlLossBackward', scale);
    this.ctx.begin();
    vadeKlLossBackward(this.ctx, muEnc, logVarEnc, gamma, piLogits, muC, logVarC, dMuEnc, dLogVarEnc, dPiLogits, dMuC, dLogVarC,
      scale, !!opts.accumulate);
  }

  // ---- class mixtures (pipeline/em-known.ts) ---------------------------------------------------
  mixtureLogLik(z: Tensor, mu: Tensor, logVar: Tensor, rho: Tensor, logDens: Tensor, classLogLik: Tensor): void {
    checks.mixtureLogLik(this, { z, mu, logVar, rho, logDens, classLogLik });
    this.ctx.begin();
    mixture.mixtureLogLik(this.ctx, z, mu, logVar, rho, logDens, classLogLik);
  }

  mixturePosteriors(classLogLik: Tensor, sampleOf: Tensor, logPrior: Tensor, post: Tensor, colSums: Tensor, sampleLogLik: Tensor): void {
    checks.mixturePosteriors(this, { classLogLik, sampleOf, logPrior, post, colSums, sampleLogLik });
    this.ctx.begin();
    mixture.mixturePosteriors(this.ctx, classLogLik, sampleOf, logPrior, post, colSums, sampleLogLik);
  }

  mixtureStats(z: Tensor, logDens: Tensor, classLogLik: Tensor, post: Tensor, rho: Tensor, center: Tensor,
    classWeights: Tensor, sum1: Tensor, sum2: Tensor): void {
    checks.mixtureStats(this, { z, logDens, classLogLik, post, rho, center, classWeights, sum1, sum2 });
    this.ctx.begin();
    mixture.mixtureStats(this.ctx, z, logDens, classLogLik, post, rho, center, classWeights, sum1, sum2);
  }

  // ---- k-means, classification helpers ------------------------------------------------------
  kmeansAssign(x: Tensor, centroids: Tensor, labels: Tensor, minDist: Tensor): void {
    checks.kmeansAssign(this, x, centroids, labels, minDist);
    this.ctx.begin();
    const [n, d] = x.shape;
    const kk = centroids.shape[0];
    this.ctx.rowOp(k('kmeans.wgsl', 'kmeansAssign'), n,
      [{ rows: x as WebGPUTensor, width: d }, { whole: centroids as WebGPUTensor }, { rows: labels as WebGPUTensor, width: 1, write: true },
        { rows: minDist as WebGPUTensor, width: 1, write: true }],
      (c) => [u(c.rows), u(d), u(kk)], (c) => perThread(c.rows));
    (labels as WebGPUTensor).hostIndices = null;
  }

  kmeansUpdate(x: Tensor, labels: Tensor, sums: Tensor, counts: Tensor, opts: BackwardOptions = {}): void {
    checks.kmeansUpdate(this, x, labels, sums, counts);
    this.ctx.begin();
    const [n, d] = x.shape;
    const kk = sums.shape[0];
    const host = (labels as WebGPUTensor).hostIndices;
    if (host) checkIndexRange('kmeansUpdate', 'labels', host, kk);
    const width = kk * d + kk;
    const { partial, blocks } = blockPartials(this.ctx, k('kmeans.wgsl', 'kmeansUpdate'), n,
      [{ rows: x as WebGPUTensor, width: d }, { rows: labels as WebGPUTensor, width: 1 }], width,
      (rows, _row0, pbase) => [u(rows), u(d), u(kk), u(pbase)]);
    reduceRows(this.ctx, partial, blocks, width, [
      { col0: 0, cols: kk * d, target: sums as WebGPUTensor, scale: 1, accumulate: !!opts.accumulate },
      { col0: kk * d, cols: kk, target: counts as WebGPUTensor, scale: 1, accumulate: !!opts.accumulate },
    ]);
  }

  argmax(x: Tensor, out: Tensor): void {
    checks.argmax(this, x, out);
    this.ctx.begin();
    const [n, kk] = x.shape;
    this.ctx.rowOp(k('rowwise.wgsl', 'argmax'), n, [{ rows: x as WebGPUTensor, width: kk }, { rows: out as WebGPUTensor, width: 1, write: true }],
      (c) => [u(c.rows), u(kk)], (c) => perThread(c.rows));
    (out as WebGPUTensor).hostIndices = null;
  }

  softmax(x: Tensor, out: Tensor): void {
    checks.rowwise('softmax', this, { x, out });
    this.ctx.begin();
    const [n, kk] = x.shape;
    this.ctx.rowOp(k('rowwise.wgsl', 'softmax'), n, [{ rows: x as WebGPUTensor, width: kk }, { rows: out as WebGPUTensor, width: kk, write: true }],
      (c) => [u(c.rows), u(kk)], (c) => perThread(c.rows));
  }

  softmaxBackward(y: Tensor, dy: Tensor, dx: Tensor): void {
    checks.rowwise('softmaxBackward', this, { y, dy, dx });
    this.ctx.begin();
    const [n, kk] = y.shape;
    this.ctx.rowOp(k('rowwise.wgsl', 'softmaxBackward'), n,
      [{ rows: y as WebGPUTensor, width: kk }, { rows: dy as WebGPUTensor, width: kk }, { rows: dx as WebGPUTensor, width: kk, write: true }],
      (c) => [u(c.rows), u(kk)], (c) => perThread(c.rows));
  }

  proportionXentLoss(pred: Tensor, target: Tensor, loss: Tensor): void {
    checks.lossPair('proportionXentLoss', this, pred, target, loss, true);
    this.ctx.begin();
    flatLoss(this.ctx, k('losses.wgsl', 'proportionXentLoss'), pred, target, loss, 1 / pred.shape[0]);
  }

  proportionXentLossBackward(pred: Tensor, target: Tensor, dpred: Tensor, scale = 1): void {
    checks.lossPair('proportionXentLossBackward', this, pred, target, dpred, false);
    checks.scale('proportionXentLossBackward', scale);
    this.ctx.begin();
    flatOp(this.ctx, k('losses.wgsl', 'proportionXentLossBackward'), pred.size, [{ t: pred }, { t: target }, { t: dpred, write: true }],
      (n) => [u(n), f(scale / pred.shape[0])]);
  }
}
