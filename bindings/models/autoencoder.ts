// A fully connected autoencoder: encoder d-500-500-2000-10 (ReLU inside, linear embedding) and a
// mirrored decoder, the layout of DEC (Xie, Girshick & Farhadi 2016, §4.3), trained end to end
// with Adam on the reconstruction loss (as IDEC does, Guo et al. 2017) — optionally denoising
// (Vincent et al. 2008): the encoder sees x + σ·ε, the loss compares with the clean x.
//
// Reconstruction: data in [0,1] → decoder output are logits, loss = BCE(sigmoid(logits), x) summed
// over features and averaged over rows; otherwise the input is z-scored and the loss is MSE.
import type { Activation, ComputeBackend, Tensor } from '../backend.js';
import { BatchLoader, Batcher, forEachChunk, uploadMatrix } from './data.js';
import { Mlp, type InitScheme, type LayerSpec } from './mlp.js';
import { readModelFile, requireKind, writeModelFile, type ModelFile, type SaveOptions } from './model-file.js';
import { fitNormalization, applyNormalization, type Normalization, type NormalizationChoice } from './normalize.js';
import { Adam, LossMeter } from './optim.js';
import { HostRng, STREAM } from './rng.js';
import { AUTOENCODER_SPEC, defaultsOf } from './specs.js';
import { asMatrix, checkLosses, learningRate, type FitOptions, type LrSchedule, type Matrix } from './types.js';

const AE_DEFAULTS = defaultsOf(AUTOENCODER_SPEC.hyperparameters);
export const DEC_DIMS: readonly number[] = AE_DEFAULTS.dims;

export type ReconLoss = 'mse' | 'bce';

/** Unset fields take specs.ts AUTOENCODER_SPEC's defaults. */
export interface AutoencoderConfig {
  /** Hidden widths then the embedding width. */
  dims?: number[];
  hiddenActivation?: Activation;
  embeddingActivation?: Activation;
  /** 'auto': BCE on logits for data in [0,1], else MSE on z-scored data. */
  loss?: 'auto' | ReconLoss;
  normalization?: NormalizationChoice;
  init?: InitScheme;
  seed?: number;
}

export interface PretrainOptions {
  epochs?: number;
  batchSize?: number;
  lr?: number;
  schedule?: LrSchedule;
  /** Std of Gaussian input noise for denoising training (0 = plain autoencoder). */
  noise?: number;
}

export const PRETRAIN_DEFAULTS: Required<PretrainOptions> = defaultsOf(AUTOENCODER_SPEC.pretrain);

export interface ResolvedAeConfig {
  inputDim: number;
  dims: number[];
  hiddenActivation: Activation;
  embeddingActivation: Activation;
  loss: ReconLoss;
  normalization: Normalization;
  init: InitScheme;
  seed: number;
}

export function encoderLayers(c: ResolvedAeConfig): LayerSpec[] {
  const widths = [c.inputDim, ...c.dims];
  return c.dims.map((out, l) => ({ in: widths[l], out, act: l === c.dims.length - 1 ? c.embeddingActivation : c.hiddenActivation }));
}

export function decoderLayers(c: ResolvedAeConfig): LayerSpec[] {
  const widths = [...c.dims].reverse().concat([c.inputDim]);
  // The last layer is linear: logits for BCE, values for MSE.
  return widths.slice(1).map((out, l) => ({ in: widths[l], out, act: l === widths.length - 2 ? 'identity' : c.hiddenActivation }));
}

export function resolveAeConfig(config: AutoencoderConfig, x: Matrix): ResolvedAeConfig {
  const dims = config.dims ?? [...AE_DEFAULTS.dims];
  if (!dims.length || !dims.every((d) => Number.isInteger(d) && d >= 1)) throw new RangeError(`dims must be positive integers (got ${dims})`);
  const normalization = fitNormalization(x, config.normalization ?? AE_DEFAULTS.normalization);
  const chosen = config.loss ?? AE_DEFAULTS.loss;
  const loss = chosen && chosen !== 'auto' ? chosen : normalization.kind === 'none' ? 'bce' : 'mse';
  if (loss === 'bce' && normalization.kind !== 'none') throw new RangeError('BCE reconstruction needs data in [0,1] without normalisation');
  return {
    inputDim: x.cols, dims, normalization, loss,
    hiddenActivation: config.hiddenActivation ?? AE_DEFAULTS.hiddenActivation,
    embeddingActivation: config.embeddingActivation ?? AE_DEFAULTS.embeddingActivation,
    init: config.init ?? AE_DEFAULTS.init,
    seed: config.seed ?? AE_DEFAULTS.seed,
  };
}

/** Reconstruction loss value (into `loss`) and gradient (into `dOut`, times `scale`). */
export function reconLoss(be: ComputeBackend, kind: ReconLoss, out: Tensor, target: Tensor, loss: Tensor, dOut: Tensor, scale = 1): void {
  if (kind === 'bce') {
    be.bceLogitsLoss(out, target, loss);
    be.bceLogitsLossBackward(out, target, dOut, scale);
  } else {
    be.mseLoss(out, target, loss);
    be.mseLossBackward(out, target, dOut, scale);
  }
}

export class Autoencoder {
  config: ResolvedAeConfig | null = null;
  encoder: Mlp | null = null;
  decoder: Mlp | null = null;

  constructor(readonly backend: ComputeBackend, readonly options: AutoencoderConfig = {}) {}

  /** Builds (and seeds) the networks for data like `x`. */
  build(x: Matrix): ResolvedAeConfig {
    this.dispose();
    const c = resolveAeConfig(this.options, x);
    this.buildFrom(c);
    const rng = new HostRng(c.seed, STREAM.init);
    this.encoder!.init(rng, c.init);
    this.decoder!.init(rng, c.init);
    return c;
  }

  buildFrom(c: ResolvedAeConfig): void {
    this.config = c;
    this.encoder = new Mlp(this.backend, 'encoder', encoderLayers(c));
    this.decoder = new Mlp(this.backend, 'decoder', decoderLayers(c));
  }

  private ready(): { c: ResolvedAeConfig; enc: Mlp; dec: Mlp } {
    if (!this.config || !this.encoder || !this.decoder) throw new Error('Autoencoder: not fitted (call fit or load first)');
    return { c: this.config, enc: this.encoder, dec: this.decoder };
  }

  /** Builds a fresh network and pretrains it on `x`. */
  async fit(x: Matrix, opts: FitOptions & PretrainOptions = {}): Promise<this> {
    asMatrix(x);
    this.build(x);
    await this.pretrain(x, opts);
    return this;
  }

  /** Trains the current weights on `x` (raw data: normalised here). */
  async pretrain(xRaw: Matrix, opts: FitOptions & PretrainOptions = {}, modelName = 'Autoencoder'): Promise<void> {
    const { c, enc, dec } = this.ready();
    const o = { ...PRETRAIN_DEFAULTS, ...definedOnly(opts) };
    const be = this.backend;
    const x = applyNormalization(asMatrix(xRaw), c.normalization, c.inputDim);
    const X = uploadMatrix(be, x);
    const batcher = new Batcher(be, x.rows, o.batchSize, new HostRng(c.seed, STREAM.shuffle));
    const B = batcher.batchSize;
    const loader = new BatchLoader(be, batcher, X, x, opts.augment, c.seed);
    const xb = be.create([B, c.inputDim]);
    const noisy = o.noise > 0 ? be.create([B, c.inputDim]) : null;
    const dz = be.create([B, enc.outputDim]);
    const loss = be.create([1]);
    const opt = new Adam(be, [...enc.params(), ...dec.params()]);
    const meter = new LossMeter(be);
    let noiseOffset = 0;
    try {
      for (let epoch = 1; epoch <= o.epochs; epoch++) {
        const lr = learningRate(o.lr, o.schedule, epoch, o.epochs);
        batcher.restart();
        for (let b = 0; b < batcher.batchesPerEpoch; b++) {
          loader.next(xb);
          let input = xb;
          if (noisy) {
            // noisy = x + σ·ε with ε from Philox (stream 'noise'), offsets advancing so no draw repeats.
            be.philoxNormal(noisy, c.seed, STREAM.noise, noiseOffset);
            noiseOffset = (noiseOffset + noisy.size) % 2 ** 32;
            be.axpby(xb, noisy, 1, o.noise);
            input = noisy;
          }
          const z = enc.forward(input);
          const out = dec.forward(z);
          const dOut = dec.outputGrad(B);
          reconLoss(be, c.loss, out, xb, loss, dOut);
          meter.add('recon', loss);
          dec.backward(dOut, dz);
          enc.backward(dz);
          opt.step(lr);
        }
        const losses = await meter.read();
        checkLosses(modelName, epoch, losses);
        opts.onProgress?.({ stage: 'pretrain', epoch, losses });
      }
    } finally {
      for (const t of [X, xb, dz, loss, ...(noisy ? [noisy] : [])]) be.dispose(t);
      batcher.dispose();
      opt.dispose();
      meter.dispose();
    }
  }

  /** Latent features (the embedding), [rows × embeddingDim] row-major. */
  async transform(xRaw: Matrix): Promise<Float32Array> {
    const { c, enc } = this.ready();
    const x = applyNormalization(asMatrix(xRaw), c.normalization, c.inputDim);
    const dOut = enc.outputDim;
    const z = new Float32Array(x.rows * dOut);
    await forEachChunk(this.backend, x, async (t, start) => {
      const out = enc.forward(t);
      z.set((await this.backend.download(out)) as Float32Array, start * dOut);
    });
    return z;
  }

  get embeddingDim(): number {
    return this.ready().enc.outputDim;
  }

  async exportState() {
    const { enc, dec } = this.ready();
    return { ...(await enc.exportState()), ...(await dec.exportState()) };
  }

  importState(state: Record<string, { shape: number[]; data: Float32Array }>, source?: string): void {
    const { enc, dec } = this.ready();
    enc.importState(state, source);
    dec.importState(state, source);
  }

  /** An independent copy (same backend) — e.g. one pretrained network shared by DEC and IDEC runs. */
  async clone(): Promise<Autoencoder> {
    const { c } = this.ready();
    const copy = new Autoencoder(this.backend, this.options);
    copy.buildFrom(c);
    copy.importState(await this.exportState());
    return copy;
  }

  /** Writes the model as safetensors (specs.ts AUTOENCODER_SPEC declares its tensors). */
  async save(path: string, opts: SaveOptions = {}): Promise<void> {
    if (!this.config) throw new Error('Autoencoder: not fitted, nothing to save');
    const { normalization, ...rest } = this.config;
    await writeModelFile(path, { tensors: await this.exportState(), arch: { model: 'autoencoder', ...rest }, normalization, config: this.options, classes: opts.classes ?? null });
  }

  /** The model a validated file holds (model-file.ts checked the metadata against the tensors). */
  static fromModelFile(backend: ComputeBackend, f: ModelFile): Autoencoder {
    requireKind(f, ['autoencoder'], 'Autoencoder');
    const ae = new Autoencoder(backend, f.config);
    ae.buildFrom(f.ae!);
    ae.importState(f.tensors, f.source);
    return ae;
  }

  static async load(backend: ComputeBackend, path: string): Promise<Autoencoder> {
    return Autoencoder.fromModelFile(backend, await readModelFile(path));
  }

  dispose(): void {
    this.encoder?.dispose();
    this.decoder?.dispose();
    this.encoder = this.decoder = null;
  }
}

export function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
