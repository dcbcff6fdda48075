// WasmBackend: the ComputeBackend over the AssemblyScript kernels (assembly/). Every op validates its
// arguments with the shared checks first, then hands raw pointers and sizes to one kernel export.
// CPU backend: ops run eagerly; download copies out of the linear memory.
import type {
  Activation, AdamOptions, BackendInfo, BackwardOptions, ComputeBackend, DType, GemmOptions, OpSet, SgdOptions, Tensor,
} from '../../backend.js';
import { ACTIVATIONS, OP_NAMES, resolveAdam, resolveSgd } from '../../backend.js';
import { checkIndexRange, checks, checkShape, checkTensor, checkUpload, ShapeError } from '../../checks.js';
import type { KernelExports } from './exports.js';
import type { BuildFlavor } from './loader.js';
import type { WasmAllocator } from './memory.js';
import { RowJobs, TRANSCENDENTAL_WORK } from './row-jobs.js';
import { fillBits, WasmTensor } from './tensor.js';
import type { WorkerPool } from './threads.js';

export class WasmBackend implements ComputeBackend {
  readonly name = 'wasm';
  private destroyed = false;
  /** Per-thread gemm packing panels (thread 0 = this thread). */
  private readonly packA: number;
  private readonly packB: number;
  /** Row jobs over the worker pool, and the f64 scratch of whichever kernel runs. */
  private readonly jobs: RowJobs;

  constructor(
    readonly k: KernelExports,
    readonly alloc: WasmAllocator,
    readonly flavor: BuildFlavor,
    readonly source: string,
    private readonly pool: WorkerPool | null = null,
  ) {
    this.packA = alloc.alloc(k.gemmPackABytes(), 'gemm packing panel A');
    this.packB = alloc.alloc(k.gemmPackBBytes(), 'gemm packing panel B');
    this.jobs = new RowJobs(k, alloc, pool);
  }

  get threads(): number {
    return this.pool ? this.pool.size + 1 : 1;
  }

  info(): BackendInfo {
    const build = this.flavor === 'relaxed' ? 'WASM SIMD128 + relaxed-simd' : 'WASM SIMD128';
    return { name: 'wasm', device: `${build}, ${this.threads} thread${this.threads === 1 ? '' : 's'}`, threads: this.threads };
  }

  supportsOp(op: keyof OpSet): boolean {
    return OP_NAMES.includes(op);
  }

  // ---- memory ----------------------------------------------------------------------------
  create(shape: readonly number[], dtype: DType = 'f32'): Tensor {
    this.alive();
    if (dtype !== 'f32' && dtype !== 'i32') throw new ShapeError(`create: dtype must be f32 or i32 (got ${dtype})`);
    const size = checkShape(shape);
    const ptr = this.alloc.alloc(size * 4, `[${shape.join(',')}] ${dtype}`);
    new Uint8Array(this.alloc.memory.buffer, ptr, size * 4).fill(0);
    return new WasmTensor([...shape], dtype, size, ptr, this);
  }

  upload(t: Tensor, data: Float32Array | Int32Array | Float64Array | readonly number[]): void {
    checkUpload(this, t, data);
    this.view(t).set(data as ArrayLike<number>);
  }

  async download(t: Tensor): Promise<Float32Array | Int32Array> {
    checkTensor('download', this, t);
    return this.view(t).slice();
  }

  /** Disposing twice is a no-op; a foreign or non-tensor argument is a ShapeError naming 'dispose'. */
  dispose(t: Tensor): void {
    if (t instanceof WasmTensor && t.disposed) return;
    checkTensor('dispose', this, t);
    const w = t as WasmTensor;
    w.disposed = true;
    this.alloc.release(w.ptr);
  }

  async sync(): Promise<void> {}

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.pool?.terminate();
  }

  /** A live typed-array view of a tensor (re-created per call: memory.grow replaces the buffer). */
  view(t: Tensor): Float32Array | Int32Array {
    const w = t as WasmTensor;
    return w.dtype === 'f32'
      ? new Float32Array(this.alloc.memory.buffer, w.ptr, w.size)
      : new Int32Array(this.alloc.memory.buffer, w.ptr, w.size);
  }

  private alive() {
    if (this.destroyed) throw new Error('wasm: backend was destroyed');
  }

  // ---- elementwise / data movement --------------------------------------------------------
  fill(out: Tensor, value: number): void {
    this.alive();
    checks.fill(this, out, value);
    this.k.fill(p(out), out.size, fillBits(out.dtype, value));
  }

  axpby(x: Tensor, y: Tensor, alpha: number, beta: number): void {
    this.alive();
    checks.axpby(this, x, y, alpha, beta);
    this.k.axpby(p(x), p(y), x.size, alpha, beta);
  }

  gatherRows(src: Tensor, idx: Tensor, out: Tensor): void {
    this.alive();
    checks.gatherRows(this, src, idx, out);
    checkIndexRange('gatherRows', 'idx', this.view(idx) as Int32Array, src.shape[0]);
    this.k.gatherRows(p(src), p(idx), p(out), idx.size, src.shape[1]);
  }

  asinhStandardize(x: Tensor, mean: Tensor, std: Tensor, scale: number, out: Tensor): void {
    this.alive();
    checks.asinhStandardize(this, x, mean, std, scale, out);
    const [n, d] = x.shape;
    // 1/scale rounded to f32 once, as the kernel multiplies in f32 (exact for the power-of-two default).
    this.jobs.rowJob('asinhStandardize', n, TRANSCENDENTAL_WORK * n * d, [p(x), p(mean), p(std), p(out), d, 1 / scale]);
  }

  pulseSummaries(x: Tensor, scale: number, out: Tensor): void {
    this.alive();
    checks.pulseSummaries(this, x, scale, out);
    const [n, d] = x.shape;
    // scale travels as f64 (row-job arguments are f64): the kernel divides in f64 like the host.
    this.jobs.rowJob('pulseSummaries', n, n * d, [p(x), p(out), d, out.shape[1] / 2, scale]);
  }

  // ---- dense layers ---------------------------------------------------------------------
  gemm(a: Tensor, b: Tensor, c: Tensor, opts: GemmOptions = {}): void {
    this.alive();
    checks.gemm(this, a, b, c, opts);
    const transA = opts.transA ? 1 : 0;
    const transB = opts.transB ? 1 : 0;
    const m = c.shape[0];
    const n = c.shape[1];
    const kk = transA ? a.shape[0] : a.shape[1];
    const alpha = opts.alpha ?? 1;
    const beta = opts.beta ?? 0;
    if (this.pool && this.pool.splitsK(m, n, kk, transA)) {
      // Narrow TN with deep K (a 10-wide layer's dW): K blocks as chunks (few rows), one partial each.
      const scratch = this.jobs.scratch(this.k.gemmNarrowKBlocks(kk) * this.k.gemmNarrowPartBytes(m, n, kk), 'gemm (split K)');
      this.pool.gemmSplitK(p(a), p(b), p(c), m, n, kk, transB, alpha, beta, scratch);
      return;
    }
    if (this.pool && this.pool.worthSplitting(m, n, kk)) {
      this.pool.gemm(p(a), p(b), p(c), m, n, kk, transA, transB, alpha, beta, this.packA, this.packB);
      return;
    }
    this.k.gemm(p(a), p(b), p(c), m, n, kk, transA, transB, alpha, beta, this.packA, this.packB, 0, m);
  }

  biasAct(x: Tensor, bias: Tensor, act: Activation, out: Tensor): void {
    this.alive();
    checks.biasAct(this, x, bias, act, out);
    const [n, d] = x.shape;
    this.jobs.rowJob('biasAct', n, n * d, [p(x), p(bias), ACTIVATIONS.indexOf(act), p(out), n, d]);
  }

  denseInt8(x: Tensor, wq: Tensor, ws: Tensor, bias: Tensor, act: Activation, out: Tensor): void {
    this.alive();
    checks.denseInt8(this, x, wq, ws, bias, act, out);
    const [[n, nin], [nout]] = [x.shape, wq.shape];
    // Rows per block: their int16 copies (2·nin bytes each) fill about half of a 256 KiB L2, so a
    // weight row read from memory serves the whole block.
    const block = Math.max(4, Math.min(256, Math.floor((128 << 10) / (2 * nin)) & ~3));
    this.jobs.rowJob('denseInt8', n, n * nin * nout, [p(x), p(wq), p(ws), p(bias), ACTIVATIONS.indexOf(act), p(out), n, nin, nout, block, 0],
      10, this.k.denseInt8ScratchBytes(nin, block));
  }

  biasActBackward(dy: Tensor, y: Tensor, act: Activation, dx: Tensor): void {
    this.alive();
    checks.biasActBackward(this, dy, y, act, dx);
    this.k.biasActBackward(p(dy), p(y), ACTIVATIONS.indexOf(act), p(dx), dy.size);
  }

  colSum(x: Tensor, out: Tensor, opts: BackwardOptions = {}): void {
    this.alive();
    checks.colSum(this, x, out);
    this.k.colSum(p(x), p(out), x.shape[0], x.shape[1], opts.accumulate ? 1 : 0);
  }

  // ---- reconstruction losses ------------------------------------------------------------
  mseLoss(pred: Tensor, target: Tensor, loss: Tensor): void {
    this.alive();
    checks.lossPair('mseLoss', this, pred, target, loss, true);
    this.k.mseLoss(p(pred), p(target), p(loss), pred.size);
  }

  mseLossBackward(pred: Tensor, target: Tensor, dpred: Tensor, scale = 1): void {
    this.alive();
    checks.lossPair('mseLossBackward', this, pred, target, dpred, false);
    checks.scale('mseLossBackward', scale);
    this.k.mseLossBackward(p(pred), p(target), p(dpred), pred.size, (scale * 2) / pred.size);
  }

  bceLogitsLoss(logits: Tensor, target: Tensor, loss: Tensor): void {
    this.alive();
    checks.lossPair('bceLogitsLoss', this, logits, target, loss, true);
    this.k.bceLogitsLoss(p(logits), p(target), p(loss), logits.size, logits.shape[0]);
  }

  bceLogitsLossBackward(logits: Tensor, target: Tensor, dlogits: Tensor, scale = 1): void {
    this.alive();
    checks.lossPair('bceLogitsLossBackward', this, logits, target, dlogits, false);
    checks.scale('bceLogitsLossBackward', scale);
    this.k.bceLogitsLossBackward(p(logits), p(target), p(dlogits), logits.size, scale / logits.shape[0]);
  }

  // ---- optimisers -----------------------------------------------------------------------
  adamUpdate(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, o: AdamOptions): void {
    this.alive();
    checks.optimizer('adamUpdate', this, { param, grad, m, v }, o.lr, o.step);
    const { beta1, beta2, eps, weightDecay } = resolveAdam(o);
    const bc1 = 1 - Math.pow(beta1, o.step);
    const bc2 = 1 - Math.pow(beta2, o.step);
    // 1 − β in f64 here: in f32 from a rounded β it is off by up to 1.3e-5 relative (see assembly/optim.ts).
    // Elements are the rows of the job: a large update is shared by the worker pool (memory-bound).
    this.jobs.rowJob('adamUpdate', param.size, param.size, [p(param), p(grad), p(m), p(v), o.lr, beta1, beta2, eps, bc1, bc2,
      weightDecay, 1 - beta1, 1 - beta2]);
  }

  sgdUpdate(param: Tensor, grad: Tensor, vel: Tensor, o: SgdOptions): void {
    this.alive();
    checks.optimizer('sgdUpdate', this, { param, grad, vel }, o.lr);
    this.jobs.rowJob('sgdUpdate', param.size, param.size, [p(param), p(grad), p(vel), o.lr, resolveSgd(o).momentum]);
  }

  // ---- DEC / IDEC -----------------------------------------------------------------------
  softAssign(z: Tensor, mu: Tensor, q: Tensor, alpha: number): void {
    this.alive();
    checks.softAssign(this, z, mu, q, alpha);
    const [n, d] = z.shape;
    this.jobs.rowJob('softAssign', n, n * d * mu.shape[0], [p(z), p(mu), p(q), n, d, mu.shape[0], alpha]);
  }

  targetDistribution(q: Tensor, f: Tensor, pOut: Tensor): void {
    this.alive();
    checks.targetDistribution(this, q, f, pOut);
    this.k.targetDistribution(p(q), p(f), p(pOut), q.shape[0], q.shape[1]);
  }

  klDivLoss(pIn: Tensor, q: Tensor, loss: Tensor): void {
    this.alive();
    checks.klDivLoss(this, pIn, q, loss);
    this.k.klDivLoss(p(pIn), p(q), p(loss), q.shape[0], q.shape[1]);
  }

  softAssignBackward(z: Tensor, mu: Tensor, pIn: Tensor, q: Tensor, alpha: number, dz: Tensor, dmu: Tensor,
    scale = 1, opts: BackwardOptions = {}): void {
    this.alive();
    checks.softAssignBackward(this, z, mu, pIn, q, alpha, dz, dmu);
    checks.scale('softAssignBackward', scale);
    const [n, d] = z.shape;
    const k = mu.shape[0];
    const scratch = this.jobs.scratch((k * d + d) * 8, 'softAssignBackward');
    this.k.softAssignBackward(p(z), p(mu), p(pIn), p(q), n, d, k, alpha, p(dz), p(dmu), scale, opts.accumulate ? 1 : 0, scratch);
  }

  // ---- VaDE -----------------------------------------------------------------------------
  philoxNormal(out: Tensor, seed: number, stream: number, offset: number): void {
    this.alive();
    checks.philoxNormal(this, out, seed, stream, offset);
    this.k.philoxNormal(p(out), out.size, seed, stream, offset);
  }

  reparameterize(mu: Tensor, logVar: Tensor, eps: Tensor, z: Tensor): void {
    this.alive();
    checks.reparameterize(this, { mu, logVar, eps, z });
    this.k.reparameterize(p(mu), p(logVar), p(eps), p(z), mu.size);
  }

  reparameterizeBackward(dz: Tensor, logVar: Tensor, eps: Tensor, dmu: Tensor, dlogVar: Tensor, opts: BackwardOptions = {}): void {
    this.alive();
    checks.reparameterizeBackward(this, { dz, logVar, eps, dmu, dlogVar });
    this.k.reparameterizeBackward(p(dz), p(logVar), p(eps), p(dmu), p(dlogVar), dz.size, opts.accumulate ? 1 : 0);
  }

  gmmLogResp(z: Tensor, piLogits: Tensor, muC: Tensor, logVarC: Tensor, logResp: Tensor): void {
    this.alive();
    checks.gmm('gmmLogResp', this, z, piLogits, muC, logVarC, { logResp });
    const [n, d] = z.shape;
    const k = piLogits.shape[0];
    // Every thread redoes the O(K·D) setup in its own scratch; the rows are split.
    this.jobs.rowJob('gmmLogResp', n, n * d * k, [p(z), p(piLogits), p(muC), p(logVarC), p(logResp), n, d, k, 0], 8, this.k.gmmScratchBytes(d, k));
  }

  vadeKlLoss(muEnc: Tensor, logVarEnc: Tensor, gamma: Tensor, piLogits: Tensor, muC: Tensor, logVarC: Tensor, loss: Tensor): void {
    this.alive();
    checks.vadeKl('vadeKlLoss', this, muEnc, logVarEnc, gamma, piLogits, muC, logVarC, {}, loss);
    const [n, d] = muEnc.shape;
    const k = piLogits.shape[0];
    const scratch = this.jobs.scratch(this.k.vadeScratchBytes(d, k), 'vadeKlLoss');
    this.k.vadeKlLoss(p(muEnc), p(logVarEnc), p(gamma), p(piLogits), p(muC), p(logVarC), p(loss), n, d, k, scratch);
  }

  vadeKlLossBackward(muEnc: Tensor, logVarEnc: Tensor, gamma: Tensor, piLogits: Tensor, muC: Tensor, logVarC: Tensor,
    dMuEnc: Tensor, dLogVarEnc: Tensor, dPiLogits: Tensor, dMuC: Tensor, dLogVarC: Tensor, scale = 1,
    opts: BackwardOptions = {}): void {
    this.alive();
    checks.vadeKl('vadeKlLossBackward', this, muEnc, logVarEnc, gamma, piLogits, muC, logVarC,
      { dMuEnc, dLogVarEnc, dPiLogits, dMuC, dLogVarC });
    checks.scale('vadeKlLossBackward', scale);
    const [n, d] = muEnc.shape;
    const k = piLogits.shape[0];
    const scratch = this.jobs.scratch(this.k.vadeScratchBytes(d, k), 'vadeKlLossBackward');
    this.k.vadeKlLossBackward(p(muEnc), p(logVarEnc), p(gamma), p(piLogits), p(muC), p(logVarC), p(dMuEnc), p(dLogVarEnc),
      p(dPiLogits), p(dMuC), p(dLogVarC), n, d, k, scale, opts.accumulate ? 1 : 0, scratch);
  }

  // ---- k-means, classification helpers --------------------------------------------------
  kmeansAssign(x: Tensor, centroids: Tensor, labels: Tensor, minDist: Tensor): void {
    this.alive();
    checks.kmeansAssign(this, x, centroids, labels, minDist);
    const [[n, d], [k]] = [x.shape, centroids.shape];
    this.jobs.rowJob('kmeansAssign', n, n * k * d, [p(x), p(centroids), p(labels), p(minDist), n, d, k, 0], 7, this.k.kmeansAssignScratchBytes(d, k));
  }

  mixtureLogLik(z: Tensor, mu: Tensor, logVar: Tensor, rho: Tensor, logDens: Tensor, classLogLik: Tensor): void {
    this.alive();
    checks.mixtureLogLik(this, { z, mu, logVar, rho, logDens, classLogLik });
    const [[n, d], [c, k]] = [z.shape, rho.shape];
    this.jobs.rowJob('mixtureLogLik', n, n * k * (d + TRANSCENDENTAL_WORK), [p(z), p(mu), p(logVar), p(rho), p(logDens), p(classLogLik), n, d, k, c, 0],
      10, this.k.mixtureLogLikScratchBytes(d, k, c));
  }

  mixturePosteriors(classLogLik: Tensor, sampleOf: Tensor, logPrior: Tensor, post: Tensor, colSums: Tensor, sampleLogLik: Tensor): void {
    this.alive();
    checks.mixturePosteriors(this, { classLogLik, sampleOf, logPrior, post, colSums, sampleLogLik });
    const [[n, c], [s]] = [classLogLik.shape, logPrior.shape];
    checkIndexRange('mixturePosteriors', 'sampleOf', this.view(sampleOf) as Int32Array, s);
    const sums = this.jobs.chunkReduce('mixturePosteriors', n, n * c * TRANSCENDENTAL_WORK, [p(classLogLik), p(sampleOf), p(logPrior), p(post), n, c, s],
      this.k.mixturePosteriorsScratchBytes(c), this.k.mixturePosteriorsAccBytes(c, s));
    this.upload(colSums, sums.subarray(0, s * c));
    this.upload(sampleLogLik, sums.subarray(s * c));
  }

  mixtureStats(z: Tensor, logDens: Tensor, classLogLik: Tensor, post: Tensor, rho: Tensor, center: Tensor, classWeights: Tensor, sum1: Tensor, sum2: Tensor): void {
    this.alive();
    checks.mixtureStats(this, { z, logDens, classLogLik, post, rho, center, classWeights, sum1, sum2 });
    const [[n, d], [c, k]] = [z.shape, rho.shape];
    const sums = this.jobs.chunkReduce('mixtureStats', n, n * k * (c + 2 * d + TRANSCENDENTAL_WORK),
      [p(z), p(logDens), p(classLogLik), p(post), p(rho), p(center), n, d, k, c], this.k.mixtureStatsScratchBytes(d, k, c), this.k.mixtureStatsAccBytes(d, k, c));
    this.upload(classWeights, sums.subarray(0, c * k));
    this.upload(sum1, sums.subarray(c * k, c * k + k * d));
    this.upload(sum2, sums.subarray(c * k + k * d));
  }

  kmeansUpdate(x: Tensor, labels: Tensor, sums: Tensor, counts: Tensor, opts: BackwardOptions = {}): void {
    this.alive();
    checks.kmeansUpdate(this, x, labels, sums, counts);
    const [n, d] = x.shape;
    const k = sums.shape[0];
    checkIndexRange('kmeansUpdate', 'labels', this.view(labels) as Int32Array, k);
    const scratch = this.jobs.scratch((k * d + k) * 8, 'kmeansUpdate');
    this.k.kmeansUpdate(p(x), p(labels), p(sums), p(counts), n, d, k, opts.accumulate ? 1 : 0, scratch);
  }

  argmax(x: Tensor, out: Tensor): void {
    this.alive();
    checks.argmax(this, x, out);
    this.k.argmax(p(x), p(out), x.shape[0], x.shape[1]);
  }

  softmax(x: Tensor, out: Tensor): void {
    this.alive();
    checks.rowwise('softmax', this, { x, out });
    const [n, kk] = x.shape;
    this.jobs.rowJob('softmax', n, TRANSCENDENTAL_WORK * n * kk, [p(x), p(out), n, kk]);
  }

  softmaxBackward(y: Tensor, dy: Tensor, dx: Tensor): void {
    this.alive();
    checks.rowwise('softmaxBackward', this, { y, dy, dx });
    this.k.softmaxBackward(p(y), p(dy), p(dx), y.shape[0], y.shape[1]);
  }

  proportionXentLoss(pred: Tensor, target: Tensor, loss: Tensor): void {
    this.alive();
    checks.lossPair('proportionXentLoss', this, pred, target, loss, true);
    this.k.proportionXentLoss(p(pred), p(target), p(loss), pred.size, pred.shape[0]);
  }

  proportionXentLossBackward(pred: Tensor, target: Tensor, dpred: Tensor, scale = 1): void {
    this.alive();
    checks.lossPair('proportionXentLossBackward', this, pred, target, dpred, false);
    checks.scale('proportionXentLossBackward', scale);
    this.k.proportionXentLossBackward(p(pred), p(target), p(dpred), pred.size, scale / pred.shape[0]);
  }
}

/** The pointer of a tensor that the checks have already verified belongs to this backend. */
const p = (t: Tensor): number => (t as WasmTensor).ptr;
