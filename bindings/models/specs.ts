// One declaration per model kind: the tensors its file holds (names and shapes, derived from the
// architecture) and its hyperparameters (default and meaning). Saving (the models build their
// tensor sets through `layoutTensors`), loading (model-file.ts checks a file against `tensors`),
// the models' own defaults and the `cluster` command's defaults and help all read these, so a
// tensor name or a default value is written once.
//
// Tensor names (all F32; weights in PyTorch nn.Linear layout [out, in], i.e. the transpose of the
// [in, out] matrix our gemm uses):
//   encoder.<l>.weight [out,in], encoder.<l>.bias [out]   encoder layers l = 0…L−1 (DEC/IDEC: all;
//                                                         VaDE: the trunk, all but the last)
//   encoder_mu.0.weight / .bias                           VaDE μ̃ head
//   encoder_logvar.0.weight / .bias                       VaDE log σ̃² head
//   decoder.<l>.weight / .bias                            mirrored decoder (last layer linear)
//   cluster_centers [K, D]                                DEC/IDEC μ_j, k-means centroids
//   gmm.pi_logits [K], gmm.mu [K, D], gmm.log_var [K, D]  VaDE prior (π = softmax(pi_logits))
// Linear layer indices count Linear layers only: to load into a torch nn.Sequential that
// interleaves ReLU modules, map encoder.<l> to Sequential index 2l.
//
// This module imports nothing from the models, so model-file.ts and every model can import it.

/** A training option: the value an unset option takes, and what it decides (the CLI's help). */
export interface Hyperparameter<T> {
  readonly default: T;
  readonly help: string;
}

export const hp = <T>(value: T, help: string): Hyperparameter<T> => ({ default: value, help });

/** The default of every hyperparameter of a declaration. */
export function defaultsOf<H extends Record<string, Hyperparameter<unknown>>>(h: H): { [K in keyof H]: H[K]['default'] } {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k, v.default])) as { [K in keyof H]: H[K]['default'] };
}

/** A tensor's shape by name, in declaration order. */
export type TensorLayout = Map<string, number[]>;

/** The architecture fields the tensor layouts depend on. */
export interface LayoutArchitecture {
  inputDim: number;
  dims?: readonly number[];
  k?: number;
}

/** The names of the weight and bias of linear layer `l` of network `prefix` (mlp.ts stores them so). */
export function linearNames(prefix: string, l: number): { weight: string; bias: string } {
  return { weight: `${prefix}.${l}.weight`, bias: `${prefix}.${l}.bias` };
}

function linear(m: TensorLayout, prefix: string, l: number, nin: number, nout: number): void {
  const n = linearNames(prefix, l);
  m.set(n.weight, [nout, nin]).set(n.bias, [nout]);
}

/** The encoder's layers (all but the last when `heads`: VaDE's last layer is its two heads) and the mirrored decoder. */
function networkTensors(a: LayoutArchitecture, heads: boolean): TensorLayout {
  const m: TensorLayout = new Map();
  const dims = a.dims!;
  const widths = [a.inputDim, ...dims];
  const L = dims.length;
  for (let l = 0; l < (heads ? L - 1 : L); l++) linear(m, 'encoder', l, widths[l]!, widths[l + 1]!);
  if (heads) {
    linear(m, 'encoder_mu', 0, widths[L - 1]!, widths[L]!);
    linear(m, 'encoder_logvar', 0, widths[L - 1]!, widths[L]!);
  }
  const back = [...widths].reverse();
  for (let l = 0; l < L; l++) linear(m, 'decoder', l, back[l]!, back[l + 1]!);
  return m;
}

const embeddingDim = (a: LayoutArchitecture) => a.dims![a.dims!.length - 1]!;

/** The tensor of the cluster centres (DEC/IDEC μ_j, k-means centroids). */
export const CENTRES = 'cluster_centers';

/** The autoencoder (DEC's layout, Xie et al. 2016 §4.3) and its pretraining. */
export const AUTOENCODER_SPEC = {
  tensors: (a: LayoutArchitecture): TensorLayout => networkTensors(a, false),
  hyperparameters: {
    dims: hp([500, 500, 2000, 10] as readonly number[], 'hidden widths then embedding width'),
    hiddenActivation: hp('relu' as const, 'hidden-layer activation'),
    embeddingActivation: hp('identity' as const, 'embedding activation'),
    init: hp('glorot' as const, 'weight initialisation'),
    // auto: BCE on logits for data in [0,1] (left as is), else MSE on z-scored data.
    loss: hp('auto' as const, 'reconstruction loss'),
    normalization: hp('auto' as const, 'input normalisation'),
    seed: hp(0, 'integer seed: same seed + same backend → same model'),
  },
  pretrain: {
    epochs: hp(50, 'autoencoder pretraining epochs'),
    batchSize: hp(256, 'minibatch size'),
    lr: hp(1e-3, 'autoencoder Adam learning rate'),
    schedule: hp('constant' as const, 'learning-rate schedule of the pretraining'),
    noise: hp(0, 'denoising pretraining: std of the input noise'),
  },
};

/** DEC and IDEC: the papers' values (Xie et al. 2016, Guo et al. 2017) unless said otherwise. */
export const DEC_SPEC = {
  tensors: (a: LayoutArchitecture): TensorLayout => networkTensors(a, false).set(CENTRES, [a.k!, embeddingDim(a)]),
  hyperparameters: {
    alpha: hp(1, 'Student-t degrees of freedom'),
    gamma: hp(0.1, 'IDEC weight of the clustering loss'),
    batchSize: hp(256, 'minibatch size'),
    // DEC trains with SGD (momentum 0.9) at 0.01, IDEC's code with Adam at its usual 1e-3.
    optimizer: hp({ dec: 'sgd', idec: 'adam' } as const, 'optimiser of the clustering stage'),
    lr: hp({ sgd: 0.01, adam: 1e-3 }, 'clustering-stage learning rate, by optimiser'),
    updateInterval: hp(140, 'iterations between target refreshes'),
    tol: hp(0.001, 'stop when fewer than this share of labels change'),
    maxIterations: hp(20000, 'upper bound on clustering iterations'),
    kmeansInit: hp(20, 'k-means restarts of the initial centres'),
  },
};

/** k-means (Lloyd iterations from k-means++ seeds, several restarts). */
export const KMEANS_SPEC = {
  tensors: (a: LayoutArchitecture): TensorLayout => new Map([[CENTRES, [a.k!, a.inputDim]]]),
  hyperparameters: {
    nInit: hp(10, 'k-means restarts'),
    maxIter: hp(300, 'Lloyd iterations per restart'),
    seed: hp(0, 'integer seed'),
  },
};

/** The names of VaDE's mixture tensors (its networks' follow `linearNames`). */
export const VADE_TENSORS = {
  piLogits: 'gmm.pi_logits',
  mu: 'gmm.mu',
  logVar: 'gmm.log_var',
} as const;

/** VaDE: Jiang et al.'s settings (IJCAI 2017) unless said otherwise; the collapse guard is ours
 *  (vade-recovery.ts says why it is built as it is). */
export const VADE_SPEC = {
  tensors: (a: LayoutArchitecture): TensorLayout => networkTensors(a, true)
    .set(VADE_TENSORS.piLogits, [a.k!]).set(VADE_TENSORS.mu, [a.k!, embeddingDim(a)]).set(VADE_TENSORS.logVar, [a.k!, embeddingDim(a)]),
  hyperparameters: {
    epochs: hp(100, 'ELBO training epochs'),
    batchSize: hp(256, 'minibatch size'),
    lr: hp(2e-3, 'Adam learning rate of the networks and of π, μ_c, log σ²_c'),
    // step: ×0.9 every 10 epochs, the decay of Jiang et al.'s code (types.ts learningRate).
    schedule: hp('step' as const, 'learning-rate schedule'),
    gmmIterations: hp(30, 'EM iterations of the GMM initialisation'),
    // No component may become narrower than 1e-2 in sd: a component collapsing onto a point drives
    // the KL term to −∞.
    minLogVar: hp(Math.log(1e-4), 'floor of the mixture log-variances'),
    // Effective components (exp of the entropy of an epoch's responsibility mass) below this share
    // of their value at the GMM initialisation is a collapse; 0 turns the check and recovery off.
    collapseRatio: hp(0.6, 'the mixture has collapsed below this share of its initial effective components'),
    collapseRetries: hp(3, 'rollbacks to the last healthy epoch before a collapse is an error'),
    collapseLrFactor: hp(0.25, 'learning-rate factor per rollback'),
  },
};

/** The tensor layout of a model kind. */
export function tensorLayout(kind: 'kmeans' | 'dec' | 'idec' | 'vade' | 'autoencoder', a: LayoutArchitecture): TensorLayout {
  switch (kind) {
    case 'kmeans': return KMEANS_SPEC.tensors(a);
    case 'autoencoder': return AUTOENCODER_SPEC.tensors(a);
    case 'dec': case 'idec': return DEC_SPEC.tensors(a);
    case 'vade': return VADE_SPEC.tensors(a);
  }
}

/**
 * The tensors to save, in `layout` order, each checked against its declared shape: a model that
 * would write a tensor its kind does not declare, or leave one out, fails here rather than
 * writing a file its own loader refuses.
 */
export function layoutTensors(layout: TensorLayout, have: Record<string, { shape: number[]; data: Float32Array }>):
  Record<string, { shape: number[]; data: Float32Array }> {
  const out: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const [name, shape] of layout) {
    const t = have[name];
    if (!t || t.shape.length !== shape.length || t.shape.some((s, i) => s !== shape[i])) {
      throw new Error(`model tensors: ${name} should be [${shape}], is ${t ? `[${t.shape}]` : 'missing'}`);
    }
    out[name] = t;
  }
  const extra = Object.keys(have).filter((n) => !layout.has(n));
  if (extra.length) throw new Error(`model tensors: not in the layout: ${extra.join(', ')}`);
  return out;
}
