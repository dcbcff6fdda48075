// `hemaclust cluster`: the training options, from flags to the model configs. Every option of the
// models' API that changes training has a flag here; whatever is set ends up in the model's config,
// which the model file's metadata records (serialize.ts writes `config` as JSON).
import { UsageError } from '../command.js';
import { intOpt, numOpt } from '../args.js';
import { DEC_DIMS, type DecConfig, type ImageAffineOptions, type KMeansConfig, type VadeConfig } from '../../models/index.js';
import { AUTOENCODER_SPEC, DEC_SPEC, KMEANS_SPEC, VADE_SPEC, type Hyperparameter } from '../../models/specs.js';
import type { PretrainOptions } from '../../models/autoencoder.js';

export const TRAINING_FLAGS = {
  seed: { type: 'string' }, dims: { type: 'string' },
  // autoencoder pretraining
  epochs: { type: 'string' }, 'pretrain-epochs': { type: 'string' }, 'pretrain-lr': { type: 'string' },
  'pretrain-schedule': { type: 'string' }, noise: { type: 'string' },
  // architecture and input
  init: { type: 'string' }, loss: { type: 'string' }, normalization: { type: 'string' },
  activation: { type: 'string' }, 'embedding-activation': { type: 'string' },
  // shared by the clustering stages
  'cluster-epochs': { type: 'string' }, batch: { type: 'string' }, 'batch-size': { type: 'string' },
  lr: { type: 'string' }, 'cluster-lr': { type: 'string' }, augment: { type: 'string' }, image: { type: 'string' },
  'kmeans-init': { type: 'string' }, 'kmeans-max-iter': { type: 'string' },
  // DEC / IDEC
  gamma: { type: 'string' }, alpha: { type: 'string' }, optimizer: { type: 'string' },
  'update-interval': { type: 'string' }, tol: { type: 'string' },
  // VaDE
  schedule: { type: 'string' }, 'gmm-iterations': { type: 'string' }, 'min-log-var': { type: 'string' },
  'collapse-ratio': { type: 'string' }, 'collapse-retries': { type: 'string' }, 'collapse-lr-factor': { type: 'string' },
} as const;

/** The `cluster` command's own defaults, where it differs from the models' (specs.ts). */
export const CLUSTER_DEFAULTS = {
  /** Seed 1, not the models' 0: the CLI has always trained with seed 1, and saved models record it. */
  seed: 1,
  /** Passes over the data of the clustering stage; DEC/IDEC turn it into maxIterations (the
   *  models' own bound is in iterations, which means nothing to a user who knows their rows). */
  clusterEpochs: 100,
};

const AE = AUTOENCODER_SPEC.hyperparameters;
const PRE = AUTOENCODER_SPEC.pretrain;
const DECH = DEC_SPEC.hyperparameters;
const KMH = KMEANS_SPEC.hyperparameters;
const VH = VADE_SPEC.hyperparameters;
const show = (v: unknown) => (Array.isArray(v) ? v.join(',') : String(v));
/** One help line: the flag padded to the description column, the declaration's help and default. */
const line = (flag: string, h: Hyperparameter<unknown>, extra = '', prefix = '') =>
  `\n  ${flag.length < 18 ? flag.padEnd(18) : `${flag} `} ${prefix}${h.help} (default ${show(h.default)}${extra})`;
/** A default declared as a log (the floor of log σ²_c), shown as ln of its value: a user thinks in variances. */
const ln = (v: number) => `ln ${Number(Math.exp(v).toPrecision(6)).toExponential()}`;

export const TRAINING_HELP = `
  --seed S           integer seed (default ${CLUSTER_DEFAULTS.seed}): same seed + same backend → same model`
  + line('--dims LIST', AE.dims)
  + line('--pretrain-epochs N', PRE.epochs, '; --epochs N is the same flag, kept')
  + line('--pretrain-lr LR', PRE.lr)
  + `\n  --pretrain-schedule S  constant | step | cosine (default ${PRE.schedule.default})`
  + line('--noise S', PRE.noise)
  + `\n  --init I           ${AE.init.help}: glorot | he | auto (default ${AE.init.default})`
  + `\n  --loss L           ${AE.loss.help}: auto (BCE for data in [0,1], else MSE) | bce | mse (default ${AE.loss.default})`
  + `\n  --normalization N  ${AE.normalization.help}: auto | none | standard (default ${AE.normalization.default})`
  + `\n  --activation A     ${AE.hiddenActivation.help}: relu | tanh | sigmoid | identity (default ${AE.hiddenActivation.default})`
  + `\n  --embedding-activation A  ${AE.embeddingActivation.help}: identity | relu | tanh | sigmoid (default ${AE.embeddingActivation.default})`
  + `\n  --cluster-epochs M DEC/IDEC: at most M passes over the data (default ${CLUSTER_DEFAULTS.clusterEpochs}); VaDE: ${VH.epochs.help} (default ${CLUSTER_DEFAULTS.clusterEpochs})`
  + line('--batch-size B', PRE.batchSize, '; --batch B is the same flag')
  + `\n  --lr LR            ${DECH.lr.help} (defaults: IDEC ${DECH.lr.default.adam} Adam, DEC ${DECH.lr.default.sgd} SGD, VaDE ${VH.lr.default} Adam)`
  + `\n  --cluster-lr LR    learning rate of the cluster parameters: DEC/IDEC centres, VaDE π, μ_c, σ²_c (default: --lr)`
  + `\n  --augment SPEC     image augmentation of every training minibatch: SHIFT,ROTATE (pixels, degrees;
                     e.g. 3,10) or none (default); needs square images or --image WxH
  --image WxH        image shape of a row, for --augment (default: square, from the column count)`
  + `\n  --kmeans-init N    ${KMH.nInit.help} (k-means default ${KMH.nInit.default}, DEC/IDEC initialisation default ${DECH.kmeansInit.default})`
  + line('--kmeans-max-iter N', KMH.maxIter, '', 'k-means: ')
  + line('--gamma G', DECH.gamma)
  + `\n  --alpha A          DEC/IDEC ${DECH.alpha.help} (default ${DECH.alpha.default})`
  + `\n  --optimizer O      DEC/IDEC: adam | sgd (defaults: IDEC ${DECH.optimizer.default.idec}, DEC ${DECH.optimizer.default.dec})`
  + `\n  --update-interval T  DEC/IDEC ${DECH.updateInterval.help} (default ${DECH.updateInterval.default})`
  + `\n  --tol F            DEC/IDEC: ${DECH.tol.help} (default ${DECH.tol.default})`
  + `\n  --schedule S       VaDE ${VH.schedule.help}: step (×0.9 every 10 epochs) | constant | cosine (default ${VH.schedule.default})`
  + `\n  --gmm-iterations N VaDE: ${VH.gmmIterations.help} (default ${VH.gmmIterations.default})`
  + `\n  --min-log-var V    VaDE: ${VH.minLogVar.help} (default ${ln(VH.minLogVar.default)})`
  + `\n  --collapse-ratio R VaDE: ${VH.collapseRatio.help}
                     (default ${VH.collapseRatio.default}; 0 turns detection and recovery off)`
  + line('--collapse-retries N', VH.collapseRetries, '', 'VaDE: ')
  + line('--collapse-lr-factor F', VH.collapseLrFactor, '', 'VaDE: ');

const ACTIVATIONS = ['relu', 'tanh', 'sigmoid', 'identity'] as const;

type Values = { [K in keyof typeof TRAINING_FLAGS]?: string };

function oneOf<T extends string>(name: string, v: string | undefined, allowed: readonly T[]): T | undefined {
  if (v === undefined) return undefined;
  if (!allowed.includes(v as T)) throw new UsageError(`--${name} must be one of ${allowed.join('|')} (got '${v}')`);
  return v as T;
}

function posNum(name: string, v: string | undefined, allowZero = false): number | undefined {
  if (v === undefined) return undefined;
  const n = numOpt(name, v, 0);
  if (!(allowZero ? n >= 0 : n > 0)) throw new UsageError(`--${name} must be a number ${allowZero ? '≥' : '>'} 0 (got '${v}')`);
  return n;
}

/** Two spellings of one flag: either, or both if they agree. */
function alias(values: Values, a: keyof Values, b: keyof Values): string | undefined {
  if (values[a] !== undefined && values[b] !== undefined && values[a] !== values[b]) {
    throw new UsageError(`--${a} and --${b} are the same option and disagree ('${values[a]}' vs '${values[b]}')`);
  }
  return values[a] ?? values[b];
}

export function dimsOpt(v: string | undefined): number[] {
  if (v === undefined) return [...DEC_DIMS];
  const dims = v.split(',').map((s) => Number(s.trim()));
  if (!dims.length || !dims.every((d) => Number.isInteger(d) && d >= 1)) throw new UsageError(`--dims must be a comma-separated list of positive integers (got '${v}')`);
  return dims;
}

function augmentOpt(values: Values, cols: number): ImageAffineOptions | undefined {
  const spec = values.augment;
  if (spec === undefined || spec === 'none') {
    if (values.image !== undefined) throw new UsageError('--image only applies with --augment');
    return undefined;
  }
  const parts = spec.split(',').map((s) => Number(s.trim()));
  if (parts.length !== 2 || !parts.every((p) => Number.isFinite(p) && p >= 0)) throw new UsageError(`--augment must be SHIFT,ROTATE (two numbers ≥ 0, e.g. 3,10) or none (got '${spec}')`);
  let width: number;
  let height: number;
  if (values.image !== undefined) {
    const m = /^(\d+)x(\d+)$/.exec(values.image);
    if (!m) throw new UsageError(`--image must be WxH, e.g. 28x28 (got '${values.image}')`);
    [width, height] = [Number(m[1]), Number(m[2])];
  } else {
    width = height = Math.round(Math.sqrt(cols));
    if (width * height !== cols) throw new UsageError(`--augment: rows of ${cols} values are not square images; give --image WxH`);
  }
  if (width * height !== cols) throw new UsageError(`--image ${width}x${height} holds ${width * height} values, the rows have ${cols}`);
  return { width, height, maxShift: parts[0], maxRotate: parts[1] };
}

export interface TrainingConfigs {
  seed: number;
  batchSize: number;
  kmeans: KMeansConfig;
  /** DEC/IDEC config without k. */
  dec: Omit<DecConfig, 'k'>;
  /** VaDE config without k. */
  vade: Omit<VadeConfig, 'k'>;
}

/** The flags as model configs; an unset flag stays unset, so the model's own default applies. */
export function trainingConfigs(values: Values, k: number, cols: number, rows: number): TrainingConfigs {
  const seed = intOpt('seed', values.seed, CLUSTER_DEFAULTS.seed, 0);
  if (seed > 0xffffffff) throw new UsageError(`--seed must be below 2^32 (got ${seed})`);
  const batchSize = intOpt('batch-size', alias(values, 'batch-size', 'batch'), PRE.batchSize.default);
  const clusterEpochs = intOpt('cluster-epochs', values['cluster-epochs'], CLUSTER_DEFAULTS.clusterEpochs);
  const pretrain: PretrainOptions = {
    epochs: intOpt('pretrain-epochs', alias(values, 'pretrain-epochs', 'epochs'), PRE.epochs.default),
    batchSize,
    lr: posNum('pretrain-lr', values['pretrain-lr']),
    schedule: oneOf('pretrain-schedule', values['pretrain-schedule'], ['constant', 'step', 'cosine'] as const),
    noise: posNum('noise', values.noise, true),
  };
  const net = {
    seed, dims: dimsOpt(values.dims), batchSize, pretrain: defined(pretrain),
    init: oneOf('init', values.init, ['glorot', 'he', 'auto'] as const),
    loss: oneOf('loss', values.loss, ['auto', 'bce', 'mse'] as const),
    normalization: oneOf('normalization', values.normalization, ['auto', 'none', 'standard'] as const),
    hiddenActivation: oneOf('activation', values.activation, ACTIVATIONS),
    embeddingActivation: oneOf('embedding-activation', values['embedding-activation'], ACTIVATIONS),
    lr: posNum('lr', values.lr),
    augment: augmentOpt(values, cols),
  };
  const kmeansInit = values['kmeans-init'] === undefined ? undefined : intOpt('kmeans-init', values['kmeans-init'], 0);
  const batches = Math.ceil(rows / Math.min(batchSize, rows));
  const dec = defined({
    ...net, clusterLr: posNum('cluster-lr', values['cluster-lr']), kmeansInit,
    maxIterations: clusterEpochs * batches,
    gamma: posNum('gamma', values.gamma, true), alpha: posNum('alpha', values.alpha),
    optimizer: oneOf('optimizer', values.optimizer, ['adam', 'sgd'] as const),
    updateInterval: values['update-interval'] === undefined ? undefined : intOpt('update-interval', values['update-interval'], 0),
    tol: posNum('tol', values.tol, true),
  });
  const minLogVar = values['min-log-var'] === undefined ? undefined : numOpt('min-log-var', values['min-log-var'], 0);
  const vade = defined({
    ...net, gmmLr: posNum('cluster-lr', values['cluster-lr']), epochs: clusterEpochs,
    schedule: oneOf('schedule', values.schedule, ['step', 'constant', 'cosine'] as const),
    gmmIterations: values['gmm-iterations'] === undefined ? undefined : intOpt('gmm-iterations', values['gmm-iterations'], 0),
    minLogVar,
    collapseRatio: posNum('collapse-ratio', values['collapse-ratio'], true),
    collapseRetries: values['collapse-retries'] === undefined ? undefined : intOpt('collapse-retries', values['collapse-retries'], 0, 0),
    collapseLrFactor: posNum('collapse-lr-factor', values['collapse-lr-factor']),
  });
  if (vade.collapseRatio !== undefined && !(vade.collapseRatio < 1)) throw new UsageError(`--collapse-ratio must be in [0, 1) (got '${values['collapse-ratio']}')`);
  if (vade.collapseLrFactor !== undefined && !(vade.collapseLrFactor < 1)) throw new UsageError(`--collapse-lr-factor must be in (0, 1) (got '${values['collapse-lr-factor']}')`);
  const maxIter = values['kmeans-max-iter'] === undefined ? undefined : intOpt('kmeans-max-iter', values['kmeans-max-iter'], 0);
  return { seed, batchSize, kmeans: defined({ k, seed, nInit: kmeansInit ?? KMH.nInit.default, maxIter }), dec, vade };
}

/** Flags that only one family of methods reads: naming one for another method is a usage error. */
export function checkFlagsFor(method: string, values: Values): void {
  const only: Record<string, (keyof Values)[]> = {
    kmeans: ['kmeans-max-iter'],
    'dec or idec': ['gamma', 'alpha', 'optimizer', 'update-interval', 'tol'],
    vade: ['schedule', 'gmm-iterations', 'min-log-var', 'collapse-ratio', 'collapse-retries', 'collapse-lr-factor'],
    'dec, idec or vade': ['epochs', 'pretrain-epochs', 'pretrain-lr', 'pretrain-schedule', 'noise', 'init', 'loss', 'normalization',
      'activation', 'embedding-activation',
      'cluster-epochs', 'lr', 'cluster-lr', 'augment', 'image', 'dims', 'batch', 'batch-size'],
  };
  const family = (m: string) => (m === 'kmeans' ? ['kmeans'] : m === 'vade' ? ['vade', 'dec, idec or vade'] : ['dec or idec', 'dec, idec or vade']);
  for (const [who, flags] of Object.entries(only)) {
    if (family(method).includes(who)) continue;
    const bad = flags.find((f) => values[f] !== undefined);
    if (bad) throw new UsageError(`--${bad} applies to ${who}, not to --method ${method}`);
  }
}

function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
