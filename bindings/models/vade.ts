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
import { Autoencoder, reconLoss, type ResolvedAeConfig, encoderLayers, decoderLayers } from './autoencoder.js';
import { BatchLoader, Batcher, forEachChunk, uploadMatrix } from './data.js';
import { argmaxRows } from './dec.js';
import { fitDiagonalGmm, type GmmParams } from './gmm.js';
import { Mlp, type Param } from './mlp.js';
import { applyNormalization } from './normalize.js';
import { imageAffine } from './augment.js';
import { Adam, LossMeter } from './optim.js';
import { CollapseGuard, collapseOptions, effectiveComponents, softmaxHost } from './vade-recovery.js';
import { DEFAULT_BATCH, DEFAULT_EPOCHS, DEFAULT_LR, GMM_INIT_ITERATIONS, MIN_LOG_VAR, type VadeConfig, type VadeFitOptions, type VadeWorkspace } from './vade-config.js';
import { HostRng, STREAM } from './rng.js';
import { asMatrix, checkLosses, checkMetricsEvery, learningRate, scoresEpoch, type FitOptions, type Matrix } from './types.js';

export type { VadeConfig, VadeFitOptions, VadeWorkspace } from './vade-config.js';

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
    const L = ae.config!.dims.length;
    this.trunk?.importState(state);
    this.muHead!.importState({
      'encoder_mu.0.weight': state[`encoder.${L - 1}.weight`],
      'encoder_mu.0.bias': state[`encoder.${L - 1}.bias`],
    });
    this.decoder!.importState(state);
  }

  private ready() {
    const { config: c, muHead, logVarHead, decoder, piLogits, muC, logVarC } = this;
    if (!c || !muHead || !logVarHead || !decoder || !piLogits || !muC || !logVarC) throw new Error('VaDE: not fitted (call fit or load first)');
    return { c, trunk: this.trunk, muHead, logVarHead, decoder, piLogits, muC, logVarC };
  }

  /** μ̃ and log σ̃² of a batch (buffers owned by the heads). */
  private encode(x: Tensor): { h: Tensor; mu: Tensor; logVar: Tensor } {
    const { trunk, muHead, logVarHead } = this.ready();
    const h = trunk ? trunk.forward(x) : x;
    return { h, mu: muHead.forward(h), logVar: logVarHead.forward(h) };
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
      gmm = await fitDiagonalGmm(be, Zall, zHost, { k: this.k, seed: c.seed, iterations: o.gmmIterations ?? GMM_INIT_ITERATIONS });
    } finally {
      be.dispose(Zall);
    }
    const minLogVar = o.minLogVar ?? MIN_LOG_VAR;
    for (let i = 0; i < gmm.logVar.length; i++) gmm.logVar[i] = Math.max(gmm.logVar[i], minLogVar);
    this.initPrior(gmm.mu, gmm.logVar, gmm.piLogits);
    return effectiveComponents(softmaxHost(gmm.piLogits));
  }

  /** Step 3: ELBO training, epoch by epoch under the collapse guard (vade-recovery.ts). */
  private async trainElbo(xRaw: Matrix, opts: VadeFitOptions, run: CollapseGuardOptions, augment: FitOptions['augment']): Promise<void> {
    const be = this.backend;
    const o = this.options;
    const c = this.ready().c;
    const x = applyNormalization(xRaw, c.normalization, c.inputDim);
    const X = uploadMatrix(be, x);
    const batcher = new Batcher(be, x.rows, o.batchSize ?? DEFAULT_BATCH, new HostRng(c.seed, STREAM.shuffle));
    const ws = this.workspace(batcher.batchSize);
    const loader = new BatchLoader(be, batcher, X, x, augment, c.seed);
    const isGmm = new Set(ws.gmmParams.map((p) => p.value));
    const opt = new Adam(be, this.trainableParams(ws, true));
    const meter = new LossMeter(be);
    // γ mass per component over each epoch: the collapse detector's signal.
    const usage = be.create([this.k]);
    be.fill(usage, 0);
    const epochs = o.epochs ?? DEFAULT_EPOCHS;
    const baseLr = o.lr ?? DEFAULT_LR;
    const gmmLr = o.gmmLr ?? baseLr;
    const guard = new CollapseGuard(be, opt.params, opt, run.initComponents, run.collapse);
    let noiseOffset = 0;
    try {
      await guard.save(0, run.initComponents);
      for (let epoch = 1; epoch <= epochs; epoch++) {
        // After a rollback the schedule resumes at the restored epoch, scaled down (guard.lrScale).
        const lr = guard.lrScale * learningRate(baseLr, o.schedule ?? 'step', epoch, epochs);
        const lrG = guard.lrScale * learningRate(gmmLr, o.schedule ?? 'step', epoch, epochs);
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
    await this.clampLogVar(this.options.minLogVar ?? MIN_LOG_VAR);
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
    const gmm = learnPi ? ws.gmmParams : ws.gmmParams.filter((p) => p.name !== 'gmm.pi_logits');
    return [...(trunk?.params() ?? []), ...muHead.params(), ...logVarHead.params(), ...decoder.params(), ...gmm];
  }

  /** The inference network as one encoder state ('encoder.<l>': the trunk, then the μ̃ head as its
   *  last layer), the layout an Autoencoder's encoder loads. */
  async encoderState(): Promise<Record<string, { shape: number[]; data: Float32Array }>> {
    const { c, trunk, muHead } = this.ready();
    const state = { ...(trunk ? await trunk.exportState() : {}) };
    const head = await muHead.exportState();
    const L = c.dims.length;
    state[`encoder.${L - 1}.weight`] = head['encoder_mu.0.weight'];
    state[`encoder.${L - 1}.bias`] = head['encoder_mu.0.bias'];
    return state;
  }

  /** Buffers for one ELBO step on batches of B rows (xb and eps are the step's inputs). */
  workspace(B: number): VadeWorkspace {
    const { c, trunk, muHead, piLogits, muC, logVarC } = this.ready();
    const be = this.backend;
    const d = muHead.outputDim;
    const k = this.k;
    const f = (shape: number[]) => be.create(shape);
    const dPi = f([k]);
    const dMuC = f([k, d]);
    const dLvC = f([k, d]);
    const ws = {
      B, xb: f([B, c.inputDim]), eps: f([B, d]), z: f([B, d]), dz: f([B, d]), dMu: f([B, d]), dLv: f([B, d]),
      dh: trunk ? f([B, trunk.outputDim]) : null, logResp: f([B, k]), gamma: f([B, k]), dPi, dMuC, dLvC,
      lossR: f([1]), lossKl: f([1]),
      // Gaussian likelihood for real-valued data: −log p(x|z) = ½ Σ_d (x_d − x̂_d)² + const = D/2 · MSE.
      reconScale: c.loss === 'mse' ? c.inputDim / 2 : 1,
      gmmParams: [
        { name: 'gmm.pi_logits', value: piLogits, grad: dPi },
        { name: 'gmm.mu', value: muC, grad: dMuC },
        { name: 'gmm.log_var', value: logVarC, grad: dLvC },
      ] as Param[],
      dispose: () => {
        for (const t of Object.values(ws)) if (t && typeof t === 'object' && 'shape' in t) be.dispose(t as Tensor);
      },
    };
    return ws;
  }

  /**
   * One forward/backward of the negative ELBO on ws.xb with noise ws.eps: losses into ws.lossR
   * (unscaled reconstruction; the loss term is reconScale × it) and ws.lossKl; gradients into every
   * parameter's grad tensor. γ is computed from the sampled z unless `fixedGamma` is true, in which
   * case ws.gamma is used as it is (for gradient checks: the op contract treats γ as a constant).
   */
  elboStep(ws: VadeWorkspace, fixedGamma = false): void {
    const { c, trunk, muHead, logVarHead, decoder, piLogits, muC, logVarC } = this.ready();
    const be = this.backend;
    const { mu, logVar } = this.encode(ws.xb);
    be.reparameterize(mu, logVar, ws.eps, ws.z);
    const out = decoder.forward(ws.z);
    const dOut = decoder.outputGrad(ws.B);
    reconLoss(be, c.loss, out, ws.xb, ws.lossR, dOut, ws.reconScale);
    if (!fixedGamma) {
      // γ = p(c|z) at the sampled z (eq. 16), constant in the gradient.
      be.gmmLogResp(ws.z, piLogits, muC, logVarC, ws.logResp);
      be.softmax(ws.logResp, ws.gamma);
    }
    be.vadeKlLoss(mu, logVar, ws.gamma, piLogits, muC, logVarC, ws.lossKl);
    be.vadeKlLossBackward(mu, logVar, ws.gamma, piLogits, muC, logVarC, ws.dMu, ws.dLv, ws.dPi, ws.dMuC, ws.dLvC);
    // Reconstruction path: decoder → z → (μ̃, log σ̃²) through z = μ̃ + exp(½ log σ̃²)·ε.
    decoder.backward(dOut, ws.dz);
    be.reparameterizeBackward(ws.dz, logVar, ws.eps, ws.dMu, ws.dLv, { accumulate: true });
    if (ws.dh && trunk) {
      muHead.backward(ws.dMu, ws.dh);
      logVarHead.backward(ws.dLv, ws.dh, true);
      trunk.backward(ws.dh);
    } else {
      muHead.backward(ws.dMu);
      logVarHead.backward(ws.dLv);
    }
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
        const { mu } = this.encode(t);
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
      out.set((await this.backend.download(this.encode(t).mu)) as Float32Array, start * d);
    });
    return out;
  }

  /** Writes the model as safetensors (see serialize.ts for the tensor names). */
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
        'gmm.pi_logits': { shape: [this.k], data: await dl(piLogits) },
        'gmm.mu': { shape: [this.k, d], data: await dl(muC) },
        'gmm.log_var': { shape: [this.k, d], data: await dl(logVarC) },
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
    backend.upload(m.piLogits!, f.tensors['gmm.pi_logits']!.data);
    backend.upload(m.muC!, f.tensors['gmm.mu']!.data);
    backend.upload(m.logVarC!, f.tensors['gmm.log_var']!.data);
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
