// VaDE — Variational Deep Embedding (Jiang, Zheng, Tan, Tang & Zhou, IJCAI 2017).
// Generative model (eq. 1–3): c ~ Cat(π), z ~ N(μ_c, diag σ²_c), x ~ Bernoulli/Gaussian(f(z)).
// Inference: q(z|x) = N(μ̃, diag σ̃²) from an encoder with two heads (μ̃ and log σ̃²), and
// q(c|x) ≈ p(c|z) = γ_c ∝ π_c N(z | μ_c, σ²_c)  (eq. 16), computed in log space (gmmLogResp).
// Loss = −ELBO (eq. 12, one sample L = 1, z = μ̃ + σ̃ ⊙ ε by the reparameterisation trick):
//   recon: BCE on logits summed over features (Bernoulli, data in [0,1]) or, for real-valued data,
//          ½ Σ_d (x_d − x̂_d)² (a unit-variance Gaussian likelihood, i.e. D/2 × mean squared error);
//   KL:    vadeKlLoss — the closed form of eq. 12 with γ held constant (the E-step).
// Stability (known failure modes of public code, see DESIGN.md): the autoencoder is pretrained and
// the prior initialised by a diagonal GMM on the pretrained embedding (eq. §4.2); π lives on the
// simplex as softmax(logits); the mixture log-variances are clamped from below once per epoch; a
// collapsing mixture is detected each epoch and rolled back to its last healthy state with a smaller
// step (vade-recovery.ts); predict and predictProba are deterministic (γ at the encoder mean μ̃).
import { readModelFile, requireKind, writeModelFile, type Architecture, type ModelFile, type SaveOptions } from './model-file.js';
import type { ComputeBackend, Tensor } from '../backend.js';
import { clusteringScores } from '../metrics/index.js';
import { Autoencoder, type ResolvedAeConfig, encoderLayers, decoderLayers } from './autoencoder.js';
import { BatchLoader, Batcher, forEachChunk, uploadMatrix } from './data.js';
import { argmaxRows } from './dec.js';
import { fitDiagonalGmm, type GmmParams } from './gmm.js';
import { Mlp, type Param } from './mlp.js';
import { applyNormalization } from './normalize.js';
import { imageAffine } from './augment.js';
import { Adam, LossMeter } from './optim.js';
import { CollapseGuard, collapseOptions, effectiveComponents, softmaxHost } from './vade-recovery.js';
import { MIN_LOG_VAR, VADE_DEFAULTS, type VadeConfig, type VadeFitOptions } from './vade-config.js';
import { elboStep, encode, vadeWorkspace, type VadeWorkspace } from './vade-elbo.js';
import { HostRng, STREAM } from './rng.js';
import { linearNames, VADE_TENSORS } from './specs.js';
import { asMatrix, checkLosses, checkMetricsEvery, learningRate, scoresEpoch, type FitOptions, type Matrix } from './types.js';

export type { VadeConfig, VadeFitOptions } from './vade-config.js';
export type { VadeWorkspace } from './vade-elbo.js';

export class VaDE {
  config: ResolvedAeConfig | null = null;
  trunk: Mlp | null = null;
  muHead: Mlp | null = null;
  logVarHead: Mlp | null = null;
  decoder: Mlp | null = null;
  piLogits: Tensor | null = null;
  muC: Tensor | null = null;
  logVarC: Tensor | null = null;
  readonly modelName = 'VaDE';
  /** What the collapse recovery did in the last fit, one message per rollback (empty: none). */
  recoveries: string[] = [];

  constructor(readonly backend: ComputeBackend, readonly options: VadeConfig) {}

  get k(): number {
    return this.options.k;
  }

  /** Networks for a resolved autoencoder config: trunk = all encoder layers but the last, which
   *  becomes the μ̃ head; a parallel log σ̃² head of the same shape. */
  buildFrom(c: ResolvedAeConfig): void {
    this.dispose();
    this.config = c;
    const enc = encoderLayers(c);
    const be = this.backend;
    this.trunk = enc.length > 1 ? new Mlp(be, 'encoder', enc.slice(0, -1)) : null;
    const head = enc[enc.length - 1];
    this.muHead = new Mlp(be, 'encoder_mu', [head]);
    this.logVarHead = new Mlp(be, 'encoder_logvar', [{ ...head, act: 'identity' }]);
    this.decoder = new Mlp(be, 'decoder', decoderLayers(c));
    const d = head.out;
    this.piLogits = be.create([this.k]);
    this.muC = be.create([this.k, d]);
    this.logVarC = be.create([this.k, d]);
  }

  /** Copies a pretrained autoencoder's weights into the VaDE networks. */
  async adoptAutoencoder(ae: Autoencoder): Promise<void> {
    const state = await ae.exportState();
    const last = linearNames('encoder', ae.config!.dims.length - 1);
    const head = linearNames('encoder_mu', 0);
    this.trunk?.importState(state);
    this.muHead!.importState({ [head.weight]: state[last.weight], [head.bias]: state[last.bias] });
    this.decoder!.importState(state);
  }

  private ready() {
    const { config: c, muHead, logVarHead, decoder, piLogits, muC, logVarC } = this;
    if (!c || !muHead || !logVarHead || !decoder || !piLogits || !muC || !logVarC) throw new Error('VaDE: not fitted (call fit or load first)');
    return { c, trunk: this.trunk, muHead, logVarHead, decoder, piLogits, muC, logVarC };
  }

  async fit(xRaw: Matrix, opts: VadeFitOptions = {}): Promise<this> {
    asMatrix(xRaw);
    const metricsEvery = checkMetricsEvery(opts.metricsEvery); // fails here, not after pretraining
    const collapse = collapseOptions(this.options);
    this.recoveries = [];
    const augment = opts.augment ?? (this.options.augment ? imageAffine(this.options.augment) : undefined);
    const initComponents = await this.startFromAutoencoder(xRaw, opts, augment);
    if (opts.labels) {
      const p = await this.predict(xRaw);
      opts.onProgress?.({ stage: 'gmm-init', epoch: 1, losses: {}, metrics: { ...clusteringScores(opts.labels, p) } });
    }
    await this.trainElbo(xRaw, opts, new CollapseGuardOptions(collapse, initComponents, metricsEvery), augment);
    return this;
  }

  /** Steps 1–2: the autoencoder (pretrained here unless given), then the GMM prior fitted on its
   *  embedding (the latent means). Returns the effective number of components of that prior. */
  private async startFromAutoencoder(xRaw: Matrix, opts: VadeFitOptions, augment: FitOptions['augment']): Promise<number> {
    const be = this.backend;
    const o = this.options;
    let ae = opts.pretrained;
    let ownAe = false;
    if (!ae) {
      ae = new Autoencoder(be, o);
      ae.build(xRaw);
      await ae.pretrain(xRaw, { ...o.pretrain, onProgress: opts.onProgress, augment }, this.modelName);
      ownAe = true;
    }
    this.buildFrom(ae.config!);
    await this.adoptAutoencoder(ae);
    const { c, muHead } = this.ready();
    const zHost = { rows: xRaw.rows, cols: muHead.outputDim, data: await ae.transform(xRaw) };
    if (ownAe) ae.dispose();
    const Zall = uploadMatrix(be, zHost);
    let gmm: GmmParams;
    try {
      gmm = await fitDiagonalGmm(be, Zall, zHost, { k: this.k, seed: c.seed, iterations: o.gmmIterations ?? VADE_DEFAULTS.gmmIterations });
    } finally {
      be.dispose(Zall);
    }
    const minLogVar = o.minLogVar ?? VADE_DEFAULTS.minLogVar;
    for (let i = 0; i < gmm.logVar.length; i++) gmm.logVar[i] = Math.max(gmm.logVar[i], minLogVar);
    this.initPrior(gmm.mu, gmm.logVar, gmm.piLogits);
    return effectiveComponents(softmaxHost(gmm.piLogits));
  }

  /** Step 3: ELBO training, epoch by epoch under the collapse guard (vade-recovery.ts). */
  private async trainElbo(xRaw: Matrix, opts: VadeFitOptions, run: CollapseGuardOptions, augment: FitOptions['augment']): Promise<void> {
    const be = this.backend;
    const o = this.options;
    const d = VADE_DEFAULTS;
    const c = this.ready().c;
    const x = applyNormalization(xRaw, c.normalization, c.inputDim);
    const X = uploadMatrix(be, x);
    const batcher = new Batcher(be, x.rows, o.batchSize ?? d.batchSize, new HostRng(c.seed, STREAM.shuffle));
    const ws = this.workspace(batcher.batchSize);
    const loader = new BatchLoader(be, batcher, X, x, augment, c.seed);
    const isGmm = new Set(ws.gmmParams.map((p) => p.value));
    const opt = new Adam(be, this.trainableParams(ws, true));
    const meter = new LossMeter(be);
    // γ mass per component over each epoch: the collapse detector's signal.
    const usage = be.create([this.k]);
    be.fill(usage, 0);
    const epochs = o.epochs ?? d.epochs;
    const baseLr = o.lr ?? d.lr;
    const gmmLr = o.gmmLr ?? baseLr;
    const guard = new CollapseGuard(be, opt.params, opt, run.initComponents, run.collapse);
    let noiseOffset = 0;
    try {
      await guard.save(0, run.initComponents);
      for (let epoch = 1; epoch <= epochs; epoch++) {
        // After a rollback the schedule resumes at the restored epoch, scaled down (guard.lrScale).
        const lr = guard.lrScale * learningRate(baseLr, o.schedule ?? d.schedule, epoch, epochs);
        const lrG = guard.lrScale * learningRate(gmmLr, o.schedule ?? d.schedule, epoch, epochs);
        batcher.restart();
        for (let b = 0; b < batcher.batchesPerEpoch; b++) {
          loader.next(ws.xb);
          be.philoxNormal(ws.eps, c.seed, STREAM.reparam, noiseOffset);
          noiseOffset = (noiseOffset + ws.eps.size) % 2 ** 32;
          this.elboStep(ws);
          be.colSum(ws.gamma, usage, { accumulate: true });
          meter.add('recon', ws.lossR, ws.reconScale);
          meter.add('kl', ws.lossKl);
          opt.step(lr, (p) => (isGmm.has(p.value) ? lrG : lr));
        }
        const rollbackTo = await this.endEpoch(xRaw, opts, run, { epoch, epochs, lr, meter, usage, guard });
        if (rollbackTo !== null) epoch = rollbackTo; // the loop's epoch++ resumes right after the restored epoch
      }
    } finally {
      for (const t of [X, usage]) be.dispose(t);
      ws.dispose();
      batcher.dispose();
      opt.dispose();
      meter.dispose();
    }
  }

  /** After an epoch: losses, the variance floor, progress, and the collapse check. Returns the
   *  epoch rolled back to, or null when the mixture is healthy (its state is then saved). */
  private async endEpoch(xRaw: Matrix, opts: VadeFitOptions, run: CollapseGuardOptions,
    e: { epoch: number; epochs: number; lr: number; meter: LossMeter; usage: Tensor; guard: CollapseGuard }): Promise<number | null> {
    const losses = await e.meter.read();
    checkLosses(this.modelName, e.epoch, losses);
    losses.elbo = -(losses.recon + losses.kl);
    await this.clampLogVar(this.options.minLogVar ?? VADE_DEFAULTS.minLogVar);
    const mass = Float64Array.from((await this.backend.download(e.usage)) as Float32Array);
    this.backend.fill(e.usage, 0);
    const components = effectiveComponents(mass);
    const metrics: Record<string, number> = { components };
    if (opts.labels && opts.onProgress && scoresEpoch(e.epoch, e.epochs, run.metricsEvery)) Object.assign(metrics, clusteringScores(opts.labels, await this.predict(xRaw)));
    opts.onProgress?.({ stage: 'elbo', epoch: e.epoch, losses, metrics });
    const rec = e.guard.check(e.epoch, mass, components, e.lr);
    if (rec) {
      opts.onProgress?.({
        stage: 'recover', epoch: e.epoch, losses: {}, message: rec.message,
        metrics: { components, rollbackTo: rec.rollbackTo, lrScale: rec.lrScale, attempt: rec.attempt },
      });
      this.recoveries.push(rec.message);
      return rec.rollbackTo;
    }
    await e.guard.save(e.epoch, components);
    return null;
  }

  /** Starts the prior at a fitted mixture (μ_c, log σ²_c and, when the prior is learned, π's
   *  logits). The log σ̃² head starts at zero weights with a bias a tenth of the mean cluster
   *  variance, so the sampling noise starts below the cluster spread and the pretrained structure
   *  survives. */
  initPrior(mu: ArrayLike<number>, logVar: ArrayLike<number>, piLogits?: ArrayLike<number>): void {
    const { logVarHead, piLogits: pi, muC, logVarC } = this.ready();
    const be = this.backend;
    if (piLogits) be.upload(pi, Float32Array.from(piLogits));
    be.upload(muC, Float32Array.from(mu));
    be.upload(logVarC, Float32Array.from(logVar));
    let sum = 0;
    for (let i = 0; i < logVar.length; i++) sum += logVar[i];
    be.fill(logVarHead.w[0], 0);
    be.fill(logVarHead.b[0], sum / logVar.length - Math.log(10));
  }

  /** Once per epoch: no mixture component may shrink below the variance floor (the collapse of a
   *  component onto a point, which drives the KL term to −∞). */
  async clampLogVar(minLogVar: number): Promise<void> {
    const { logVarC } = this.ready();
    const lv = (await this.backend.download(logVarC)) as Float32Array;
    if (lv.some((v) => v < minLogVar)) this.backend.upload(logVarC, Float32Array.from(lv, (v) => Math.max(v, minLogVar)));
  }

  /** What Adam trains: the networks and the mixture; π only when `learnPi` (a prior whose weights
   *  are given per minibatch, as stage 2 of the blood pipeline does, keeps them fixed). */
  trainableParams(ws: VadeWorkspace, learnPi: boolean): Param[] {
    const { trunk, muHead, logVarHead, decoder } = this.ready();
    const gmm = learnPi ? ws.gmmParams : ws.gmmParams.filter((p) => p.name !== VADE_TENSORS.piLogits);
    return [...(trunk?.params() ?? []), ...muHead.params(), ...logVarHead.params(), ...decoder.params(), ...gmm];
  }

  /** The inference network as one encoder state ('encoder.<l>': the trunk, then the μ̃ head as its
   *  last layer), the layout an Autoencoder's encoder loads. */
  async encoderState(): Promise<Record<string, { shape: number[]; data: Float32Array }>> {
    const { c, trunk, muHead } = this.ready();
    const state = { ...(trunk ? await trunk.exportState() : {}) };
    const head = await muHead.exportState();
    const last = linearNames('encoder', c.dims.length - 1);
    const mu = linearNames('encoder_mu', 0);
    state[last.weight] = head[mu.weight];
    state[last.bias] = head[mu.bias];
    return state;
  }

  /** Buffers for one ELBO step on batches of B rows (vade-elbo.ts). */
  workspace(B: number): VadeWorkspace {
    return vadeWorkspace(this.backend, this.ready(), this.k, B);
  }

  /** One forward/backward of the negative ELBO on ws.xb with noise ws.eps (vade-elbo.ts elboStep;
   *  `fixedGamma`: ws.gamma as it is, for gradient checks). */
  elboStep(ws: VadeWorkspace, fixedGamma = false): void {
    elboStep(this.backend, this.ready(), ws, fixedGamma);
  }

  /** γ at the encoder mean: p(c | μ̃(x)), [rows × k] row-major — deterministic. */
  async predictProba(xRaw: Matrix): Promise<Float32Array> {
    const { c, piLogits, muC, logVarC } = this.ready();
    const be = this.backend;
    const x = applyNormalization(asMatrix(xRaw), c.normalization, c.inputDim);
    const k = this.k;
    const out = new Float32Array(x.rows * k);
    const bufs = new Map<number, [Tensor, Tensor]>();
    try {
      await forEachChunk(be, x, async (t, start, rows) => {
        let b = bufs.get(rows);
        if (!b) bufs.set(rows, (b = [be.create([rows, k]), be.create([rows, k])]));
        const { mu } = encode(this.ready(), t);
        be.gmmLogResp(mu, piLogits, muC, logVarC, b[0]);
        be.softmax(b[0], b[1]);
        out.set((await be.download(b[1])) as Float32Array, start * k);
      });
    } finally {
      for (const [a, b] of bufs.values()) {
        be.dispose(a);
        be.dispose(b);
      }
    }
    return out;
  }

  async predict(x: Matrix): Promise<Int32Array> {
    return argmaxRows(await this.predictProba(x), this.k);
  }

  /** The encoder mean μ̃ (the latent features). */
  async transform(xRaw: Matrix): Promise<Float32Array> {
    const { c, muHead } = this.ready();
    const x = applyNormalization(asMatrix(xRaw), c.normalization, c.inputDim);
    const d = muHead.outputDim;
    const out = new Float32Array(x.rows * d);
    await forEachChunk(this.backend, x, async (t, start) => {
      out.set((await this.backend.download(encode(this.ready(), t).mu)) as Float32Array, start * d);
    });
    return out;
  }

  /** Writes the model as safetensors (specs.ts VADE_SPEC declares its tensors). */
  async save(path: string, opts: SaveOptions = {}): Promise<void> {
    const { trunk, muHead, logVarHead, decoder, piLogits, muC, logVarC, config: c } = this;
    if (!c || !muHead || !logVarHead || !decoder || !piLogits || !muC || !logVarC) throw new Error('VaDE: not fitted, nothing to save');
    const dl = async (t: Tensor) => Float32Array.from((await this.backend.download(t)) as Float32Array);
    const d = muHead.outputDim;
    const { normalization, ...rest } = c;
    await writeModelFile(path, {
      tensors: {
        ...(trunk ? await trunk.exportState() : {}),
        ...(await muHead.exportState()),
        ...(await logVarHead.exportState()),
        ...(await decoder.exportState()),
        [VADE_TENSORS.piLogits]: { shape: [this.k], data: await dl(piLogits) },
        [VADE_TENSORS.mu]: { shape: [this.k, d], data: await dl(muC) },
        [VADE_TENSORS.logVar]: { shape: [this.k, d], data: await dl(logVarC) },
      },
      arch: { model: 'vade', ...rest, k: this.k },
      normalization,
      config: this.options,
      classes: opts.classes ?? null,
    });
  }

  /** The model a validated file holds (model-file.ts checked the metadata against the tensors). */
  static fromModelFile(backend: ComputeBackend, f: ModelFile): VaDE {
    requireKind(f, ['vade'], 'VaDE');
    const arch = f.arch as Architecture;
    const m = new VaDE(backend, { ...f.config, k: arch.k! });
    m.buildFrom(f.ae!);
    m.trunk?.importState(f.tensors, f.source);
    m.muHead!.importState(f.tensors, f.source);
    m.logVarHead!.importState(f.tensors, f.source);
    m.decoder!.importState(f.tensors, f.source);
    backend.upload(m.piLogits!, f.tensors[VADE_TENSORS.piLogits]!.data);
    backend.upload(m.muC!, f.tensors[VADE_TENSORS.mu]!.data);
    backend.upload(m.logVarC!, f.tensors[VADE_TENSORS.logVar]!.data);
    return m;
  }

  static async load(backend: ComputeBackend, path: string): Promise<VaDE> {
    return VaDE.fromModelFile(backend, await readModelFile(path));
  }

  /** π (softmax of the logits), μ_c, σ²_c on the host. */
  async mixture(): Promise<{ pi: Float64Array; mu: Float32Array; logVar: Float32Array }> {
    const { piLogits, muC, logVarC } = this.ready();
    const pi = softmaxHost((await this.backend.download(piLogits)) as Float32Array);
    return {
      pi,
      mu: Float32Array.from((await this.backend.download(muC)) as Float32Array),
      logVar: Float32Array.from((await this.backend.download(logVarC)) as Float32Array),
    };
  }

  dispose(): void {
    for (const m of [this.trunk, this.muHead, this.logVarHead, this.decoder]) m?.dispose();
    for (const t of [this.piLogits, this.muC, this.logVarC]) if (t) this.backend.dispose(t);
    this.trunk = this.muHead = this.logVarHead = this.decoder = null;
    this.piLogits = this.muC = this.logVarC = null;
  }
}

/** What one fit's ELBO loop needs to know about the collapse guard and progress reporting. */
class CollapseGuardOptions {
  constructor(readonly collapse: ReturnType<typeof collapseOptions>, readonly initComponents: number, readonly metricsEvery: number) {}
}

export { effectiveComponents, MIN_LOG_VAR };
