// DEC (Xie, Girshick & Farhadi, "Unsupervised Deep Embedding for Clustering Analysis", ICML 2016)
// and IDEC (Guo, Gao, Liu & Yin, "Improved Deep Embedded Clustering with Local Structure
// Preservation", IJCAI 2017).
//
//   soft assignment (DEC eq. 1):  q_ij = (1 + ‖z_i − μ_j‖²/α)^(−(α+1)/2) / Σ_j' (…),  α = 1
//   target (DEC eq. 3):           p_ij = (q_ij² / f_j) / Σ_j' (q_ij'² / f_j'),  f_j = Σ_i q_ij
//                                 over the WHOLE data set, refreshed every T iterations
//   clustering loss (DEC eq. 2):  L_c = KL(P‖Q) = Σ_i Σ_j p_ij log(p_ij / q_ij)  (mean over rows here)
//   IDEC objective (eq. 7):       L = L_r + γ L_c, γ = 0.1, L_r the autoencoder reconstruction
//                                 averaged over features as well as rows (MSE as a mean, BCE / D),
//                                 the scale at which γ = 0.1 was tuned (Guo et al.'s Keras code uses
//                                 loss 'mse' = mean over features). A BCE summed over 784 pixels
//                                 would be ~10³ times larger and drown the clustering term.
//   DEC:                          L = L_c, the decoder is dropped
//   stop (DEC §3.1.1, IDEC §3.4): when fewer than tol (0.1%) of the labels change between two
//                                 refreshes of P
// μ starts from k-means (k-means++, several restarts) on the pretrained embedding.
import { readModelFile, requireKind, writeModelFile, type Architecture, type ModelFile, type SaveOptions } from './model-file.js';
import { FormatError } from '../io/errors.js';
import type { ComputeBackend, Tensor } from '../backend.js';
import { clusteringScores } from '../metrics/index.js';
import { imageAffine, type ImageAffineOptions } from './augment.js';
import { Autoencoder, reconLoss, type AutoencoderConfig, type PretrainOptions } from './autoencoder.js';
import { BatchLoader, Batcher, forEachChunk, uploadMatrix } from './data.js';
import { kmeansOnBackend } from './kmeans.js';
import { applyNormalization } from './normalize.js';
import { Adam, LossMeter, Sgd } from './optim.js';
import type { Param } from './mlp.js';
import { HostRng, STREAM } from './rng.js';
import { CENTRES, DEC_SPEC, defaultsOf } from './specs.js';
import { asMatrix, checkLosses, type FitOptions, type Matrix } from './types.js';

/** Unset fields take specs.ts DEC_SPEC's defaults. */
export interface DecConfig extends AutoencoderConfig {
  k: number;
  /** Student-t degrees of freedom. */
  alpha?: number;
  /** IDEC weight of the clustering loss. */
  gamma?: number;
  batchSize?: number;
  /** Clustering-stage learning rate (its default depends on the optimiser). */
  lr?: number;
  /** Learning rate of the cluster centres μ_j (default: lr). */
  clusterLr?: number;
  /** Image augmentation of every training minibatch (pretraining and clustering) when fit is given
   *  no `augment` function (augment.ts imageAffine). Plain data, so the model file records it. */
  augment?: ImageAffineOptions;
  /** Default: SGD for DEC, Adam for IDEC. */
  optimizer?: 'adam' | 'sgd';
  /** T: iterations between refreshes of the target distribution. */
  updateInterval?: number;
  /** Stop when fewer than this share of labels change between refreshes. */
  tol?: number;
  /** Upper bound on clustering iterations. */
  maxIterations?: number;
  /** k-means restarts for μ. */
  kmeansInit?: number;
  pretrain?: PretrainOptions;
}

export interface DecFitOptions extends FitOptions {
  /** Start from this pretrained autoencoder (copied, not modified) instead of pretraining. */
  pretrained?: Autoencoder;
}

export type DecVariant = 'dec' | 'idec';

const DEC_DEFAULTS = defaultsOf(DEC_SPEC.hyperparameters);

/** The clustering-stage settings fit uses, defaults applied. */
interface DecTraining {
  gamma: number;
  updateInterval: number;
  tol: number;
  maxIterations: number;
  useSgd: boolean;
  lr: number;
  clusterLr: number;
}

function resolveDecTraining(cfg: DecConfig, variant: DecVariant): DecTraining {
  const d = DEC_DEFAULTS;
  const optimizer = cfg.optimizer ?? d.optimizer[variant];
  const lr = cfg.lr ?? d.lr[optimizer];
  return {
    gamma: cfg.gamma ?? d.gamma, updateInterval: cfg.updateInterval ?? d.updateInterval, tol: cfg.tol ?? d.tol,
    maxIterations: cfg.maxIterations ?? d.maxIterations, useSgd: optimizer === 'sgd', lr, clusterLr: cfg.clusterLr ?? lr,
  };
}

export class DeepEmbeddedClustering {
  ae: Autoencoder;
  mu: Tensor | null = null;
  /** Labels on the training data when fit stopped, and why it stopped. */
  labels: Int32Array | null = null;
  stopReason = '';
  iterations = 0;

  constructor(readonly backend: ComputeBackend, readonly variant: DecVariant, readonly config: DecConfig) {
    this.ae = new Autoencoder(backend, config);
  }

  get modelName(): string {
    return this.variant === 'dec' ? 'DEC' : 'IDEC';
  }

  get k(): number {
    return this.config.k;
  }

  get alpha(): number {
    return this.config.alpha ?? DEC_DEFAULTS.alpha;
  }

  async fit(xRaw: Matrix, opts: DecFitOptions = {}): Promise<this> {
    asMatrix(xRaw);
    const cfg = this.config;
    const augment = opts.augment ?? (cfg.augment ? imageAffine(cfg.augment) : undefined);
    if (opts.pretrained) {
      this.ae.dispose();
      this.ae = await opts.pretrained.clone();
    } else {
      this.ae.build(xRaw);
      await this.ae.pretrain(xRaw, { ...cfg.pretrain, onProgress: opts.onProgress, augment }, this.modelName);
    }
    const x = applyNormalization(xRaw, this.ae.config!.normalization, this.ae.config!.inputDim);
    const h = resolveDecTraining(cfg, this.variant);
    const { Z, labels } = await this.initCentres(xRaw, opts);
    const run = this.startRun(x, Z, augment, h);
    let prev = labels;
    try {
      for (let epoch = 0; ; epoch++) {
        const cur = await this.refreshTargets(run, xRaw);
        const changed = countChanged(cur, prev);
        prev = cur;
        if (epoch > 0 && await this.converged(run, epoch, changed, x.rows, cur, opts, h.tol)) break;
        if (this.iterations >= h.maxIterations) {
          this.stopReason = `reached maxIterations (${h.maxIterations})`;
          break;
        }
        this.trainSteps(run, Math.min(h.updateInterval, h.maxIterations - this.iterations), h);
      }
      this.labels = prev;
    } finally {
      endRun(run);
    }
    return this;
  }

  /** μ ← k-means on the embedding of the pretrained encoder; the embedding stays on the backend. */
  private async initCentres(xRaw: Matrix, opts: DecFitOptions): Promise<{ Z: Tensor; labels: Int32Array }> {
    const be = this.backend;
    const c = this.ae.config!;
    const n = xRaw.rows;
    const de = this.ae.encoder!.outputDim;
    const z0 = { rows: n, cols: de, data: await this.ae.transform(xRaw) };
    const Z = uploadMatrix(be, z0);
    const km = await kmeansOnBackend(be, Z, z0, { k: this.k, nInit: this.config.kmeansInit ?? DEC_DEFAULTS.kmeansInit, seed: c.seed });
    opts.onProgress?.({ stage: 'kmeans', epoch: 1, losses: { inertia: km.inertia / n }, metrics: opts.labels ? { ...clusteringScores(opts.labels, km.labels) } : undefined });
    if (this.mu) be.dispose(this.mu);
    this.mu = be.create([this.k, de]);
    be.upload(this.mu, km.centroids);
    return { Z, labels: km.labels };
  }

  /** The tensors, batching and optimisers of one clustering run. */
  private startRun(x: Matrix, Z: Tensor, augment: DecFitOptions['augment'], h: DecTraining): DecRun {
    const be = this.backend;
    const c = this.ae.config!;
    const enc = this.ae.encoder!;
    const { k } = this;
    const n = x.rows;
    const de = enc.outputDim;
    const dmu = be.create([k, de]);
    const muParam: Param = { name: CENTRES, value: this.mu!, grad: dmu };
    const X = uploadMatrix(be, x);
    const t = { Z, X, Q: be.create([n, k]), P: be.create([n, k]), f: be.create([k]), lab: be.create([n], 'i32') };
    const batcher = new Batcher(be, n, this.config.batchSize ?? DEC_DEFAULTS.batchSize, new HostRng(c.seed, STREAM.shuffle));
    const B = batcher.batchSize;
    const loader = new BatchLoader(be, batcher, X, x, augment, c.seed);
    const b = { xb: be.create([B, c.inputDim]), pb: be.create([B, k]), qb: be.create([B, k]), dz: be.create([B, de]), lossKl: be.create([1]), lossR: be.create([1]), dmu };
    // The centres get their own optimiser so they can have their own rate; both optimisers update
    // every parameter independently, so with clusterLr = lr this is the same as one over all.
    const netParams = [...enc.params(), ...(this.variant === 'idec' ? this.ae.decoder!.params() : [])];
    const opt = h.useSgd ? new Sgd(be, netParams) : new Adam(be, netParams);
    const optMu = h.useSgd ? new Sgd(be, [muParam]) : new Adam(be, [muParam]);
    return { be, t, b, batcher, loader, opt, optMu, meter: new LossMeter(be) };
  }

  /** The target distribution P over the whole data set (DEC eq. 3); returns the current labels. */
  private async refreshTargets(run: DecRun, xRaw: Matrix): Promise<Int32Array> {
    const { be, t } = run;
    const z = { rows: xRaw.rows, cols: this.ae.encoder!.outputDim, data: await this.ae.transform(xRaw) };
    be.upload(t.Z, z.data);
    be.softAssign(t.Z, this.mu!, t.Q, this.alpha);
    be.colSum(t.Q, t.f);
    be.targetDistribution(t.Q, t.f, t.P);
    be.argmax(t.Q, t.lab);
    return Int32Array.from((await be.download(t.lab)) as Int32Array);
  }

  /** Reports the epoch's losses; true (with the stop reason set) when few enough labels changed. */
  private async converged(run: DecRun, epoch: number, changed: number, n: number, labels: Int32Array, opts: DecFitOptions,
    tol: number): Promise<boolean> {
    const losses = await run.meter.read();
    checkLosses(this.modelName, epoch, losses);
    const metrics: Record<string, number> = { changed: changed / n };
    if (opts.labels) Object.assign(metrics, clusteringScores(opts.labels, labels));
    opts.onProgress?.({ stage: 'cluster', epoch, losses, metrics });
    if (!(changed / n < tol)) return false;
    this.stopReason = `converged: ${(100 * changed / n).toFixed(3)}% of labels changed (< ${100 * tol}%)`;
    return true;
  }

  /** `steps` minibatch iterations against the current target P. */
  private trainSteps(run: DecRun, steps: number, h: DecTraining): void {
    const { be, t, b, batcher } = run;
    const c = this.ae.config!;
    const enc = this.ae.encoder!;
    const dec = this.ae.decoder!;
    const mu = this.mu!;
    const alpha = this.alpha;
    // Per-feature reconstruction loss (see the header): mseLoss is already a mean over N·D.
    const reconScale = c.loss === 'bce' ? 1 / c.inputDim : 1;
    for (let s = 0; s < steps; s++) {
      run.loader.next(b.xb);
      be.gatherRows(t.P, batcher.idx, b.pb);
      const zb = enc.forward(b.xb);
      be.softAssign(zb, mu, b.qb, alpha);
      be.klDivLoss(b.pb, b.qb, b.lossKl);
      run.meter.add('kl', b.lossKl);
      be.fill(b.dmu, 0);
      if (this.variant === 'idec') {
        const out = dec.forward(zb);
        const dOut = dec.outputGrad(batcher.batchSize);
        reconLoss(be, c.loss, out, b.xb, b.lossR, dOut, reconScale);
        run.meter.add('recon', b.lossR, reconScale);
        dec.backward(dOut, b.dz);
        // ∂(γ·L_c)/∂z added to ∂L_r/∂z (IDEC eq. 9); ∂(γ·L_c)/∂μ (eq. 8).
        be.softAssignBackward(zb, mu, b.pb, b.qb, alpha, b.dz, b.dmu, h.gamma, { accumulate: true });
      } else {
        be.fill(b.dz, 0);
        be.softAssignBackward(zb, mu, b.pb, b.qb, alpha, b.dz, b.dmu, 1, { accumulate: true });
      }
      enc.backward(b.dz);
      run.opt.step(h.lr);
      run.optMu.step(h.clusterLr);
      this.iterations++;
    }
  }

  private ready() {
    if (!this.mu || !this.ae.encoder || !this.ae.config) throw new Error(`${this.modelName}: not fitted (call fit or load first)`);
    return { mu: this.mu, enc: this.ae.encoder, c: this.ae.config };
  }

  /** Soft assignments q (DEC eq. 1), [rows × k] row-major. */
  async predictProba(xRaw: Matrix): Promise<Float32Array> {
    const { mu, enc, c } = this.ready();
    const be = this.backend;
    const x = applyNormalization(asMatrix(xRaw), c.normalization, c.inputDim);
    const k = this.k;
    const out = new Float32Array(x.rows * k);
    const qs = new Map<number, Tensor>();
    try {
      await forEachChunk(be, x, async (t, start, rows) => {
        let q = qs.get(rows);
        if (!q) qs.set(rows, (q = be.create([rows, k])));
        be.softAssign(enc.forward(t), mu, q, this.alpha);
        out.set((await be.download(q)) as Float32Array, start * k);
      });
    } finally {
      for (const q of qs.values()) be.dispose(q);
    }
    return out;
  }

  async predict(x: Matrix): Promise<Int32Array> {
    return argmaxRows(await this.predictProba(x), this.k);
  }

  /** The embedding z (encoder output). */
  async transform(x: Matrix): Promise<Float32Array> {
    this.ready();
    return this.ae.transform(x);
  }

  /** Writes the model as safetensors (specs.ts DEC_SPEC declares its tensors). */
  async save(path: string, opts: SaveOptions = {}): Promise<void> {
    const c = this.ae.config;
    if (!this.mu || !c) throw new Error(`${this.modelName}: not fitted, nothing to save`);
    const mu = Float32Array.from((await this.backend.download(this.mu)) as Float32Array);
    const { normalization, ...rest } = c;
    await writeModelFile(path, {
      tensors: { ...(await this.ae.exportState()), [CENTRES]: { shape: [this.k, c.dims[c.dims.length - 1]], data: mu } },
      arch: { model: this.variant, ...rest, k: this.k, alpha: this.alpha },
      normalization,
      config: this.config,
      classes: opts.classes ?? null,
    });
  }

  /** The model a validated file holds (model-file.ts checked the metadata against the tensors). */
  static fromModelFile(backend: ComputeBackend, f: ModelFile): DeepEmbeddedClustering {
    requireKind(f, ['dec', 'idec'], 'DEC/IDEC model');
    const arch = f.arch as Architecture;
    const m = new (f.kind === 'dec' ? DEC : IDEC)(backend, { ...f.config, k: arch.k! });
    if (m.alpha !== arch.alpha) throw new FormatError(f.source, { byte: 8 }, `metadata config alpha ${m.alpha} disagrees with architecture alpha ${arch.alpha}`);
    m.ae.buildFrom(f.ae!);
    m.ae.importState(f.tensors, f.source);
    m.mu = backend.create([arch.k!, arch.dims[arch.dims.length - 1]!]);
    backend.upload(m.mu, f.tensors[CENTRES]!.data);
    return m;
  }

  static async load(backend: ComputeBackend, path: string): Promise<DeepEmbeddedClustering> {
    return DeepEmbeddedClustering.fromModelFile(backend, await readModelFile(path));
  }

  dispose(): void {
    this.ae.dispose();
    if (this.mu) this.backend.dispose(this.mu);
    this.mu = null;
  }
}

export class DEC extends DeepEmbeddedClustering {
  constructor(backend: ComputeBackend, config: DecConfig) {
    super(backend, 'dec', config);
  }
}

export class IDEC extends DeepEmbeddedClustering {
  constructor(backend: ComputeBackend, config: DecConfig) {
    super(backend, 'idec', config);
  }
}

/** One clustering run's state: whole-data tensors, minibatch tensors, batching and optimisers. */
interface DecRun {
  be: ComputeBackend;
  t: { Z: Tensor; X: Tensor; Q: Tensor; P: Tensor; f: Tensor; lab: Tensor };
  b: { xb: Tensor; pb: Tensor; qb: Tensor; dz: Tensor; lossKl: Tensor; lossR: Tensor; dmu: Tensor };
  batcher: Batcher;
  loader: BatchLoader;
  opt: Adam | Sgd;
  optMu: Adam | Sgd;
  meter: LossMeter;
}

function endRun(run: DecRun): void {
  const { t, b } = run;
  for (const x of [t.Z, t.X, t.Q, t.P, t.f, t.lab, b.xb, b.pb, b.qb, b.dz, b.lossKl, b.lossR, b.dmu]) run.be.dispose(x);
  run.batcher.dispose();
  run.opt.dispose();
  run.optMu.dispose();
  run.meter.dispose();
}

function countChanged(cur: Int32Array, prev: Int32Array): number {
  let changed = 0;
  for (let i = 0; i < cur.length; i++) if (cur[i] !== prev[i]) changed++;
  return changed;
}

export function argmaxRows(p: Float32Array, k: number): Int32Array {
  const n = p.length / k;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (p[i * k + j] > p[i * k + best]) best = j;
    out[i] = best;
  }
  return out;
}

