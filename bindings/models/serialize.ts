// Saving and loading models as safetensors (bindings/io/safetensors.ts).
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
// __metadata__ (strings holding JSON): format, version, architecture (model kind, input width,
// dims, activations, loss, k, α), normalization (input normalisation), config (training options),
// classes (cluster index → class name, or null).
import type { ComputeBackend } from '../backend.js';
import { readSafetensorsFile, writeSafetensorsFile, type NamedTensor } from '../io/safetensors.js';
import { Autoencoder, type ResolvedAeConfig } from './autoencoder.js';
import { DEC, IDEC, type DeepEmbeddedClustering } from './dec.js';
import { KMeans } from './kmeans.js';
import type { Normalization } from './normalize.js';
import { LIBRARY_VERSION, MODEL_FORMAT } from './version.js';
import { VaDE } from './vade.js';

export type ClusterModel = KMeans | DeepEmbeddedClustering | VaDE;
export type ModelKind = 'kmeans' | 'dec' | 'idec' | 'vade' | 'autoencoder';

export interface SaveOptions {
  /** Class name per cluster index (e.g. ['RBC', 'PLT']). */
  classes?: string[] | null;
}

export interface Architecture extends Omit<ResolvedAeConfig, 'normalization'> {
  model: ModelKind;
  k?: number;
  alpha?: number;
}

function jsonable(o: object): object {
  return JSON.parse(JSON.stringify(o, (key, v) => (key === 'pretrained' || typeof v === 'function' ? undefined : v)));
}

export function modelKind(m: ClusterModel | Autoencoder): ModelKind {
  if (m instanceof KMeans) return 'kmeans';
  if (m instanceof VaDE) return 'vade';
  if (m instanceof Autoencoder) return 'autoencoder';
  return m.variant;
}

export async function saveModel(model: ClusterModel | Autoencoder, path: string, opts: SaveOptions = {}): Promise<void> {
  const be = model.backend;
  const dl = async (t: Parameters<ComputeBackend['download']>[0]) => Float32Array.from((await be.download(t)) as Float32Array);
  let tensors: Record<string, NamedTensor>;
  let arch: Architecture | { model: 'kmeans'; inputDim: number; k: number };
  let normalization: Normalization = { kind: 'none' };
  let config: object;
  if (model instanceof KMeans) {
    if (!model.centroids) throw new Error('KMeans: not fitted, nothing to save');
    tensors = { cluster_centers: { shape: [model.k, model.dim], data: model.centroids } };
    arch = { model: 'kmeans', inputDim: model.dim, k: model.k };
    config = model.config;
  } else if (model instanceof VaDE) {
    const { trunk, muHead, logVarHead, decoder, piLogits, muC, logVarC, config: c } = model;
    if (!c || !muHead || !logVarHead || !decoder || !piLogits || !muC || !logVarC) throw new Error('VaDE: not fitted, nothing to save');
    const d = muHead.outputDim;
    tensors = {
      ...(trunk ? await trunk.exportState() : {}),
      ...(await muHead.exportState()),
      ...(await logVarHead.exportState()),
      ...(await decoder.exportState()),
      'gmm.pi_logits': { shape: [model.k], data: await dl(piLogits) },
      'gmm.mu': { shape: [model.k, d], data: await dl(muC) },
      'gmm.log_var': { shape: [model.k, d], data: await dl(logVarC) },
    };
    const { normalization: nrm, ...rest } = c;
    arch = { model: 'vade', ...rest, k: model.k };
    normalization = nrm;
    config = model.options;
  } else if (model instanceof Autoencoder) {
    if (!model.config) throw new Error('Autoencoder: not fitted, nothing to save');
    tensors = await model.exportState();
    const { normalization: nrm, ...rest } = model.config;
    arch = { model: 'autoencoder', ...rest };
    normalization = nrm;
    config = model.options;
  } else {
    if (!model.mu || !model.ae.config) throw new Error(`${model.modelName}: not fitted, nothing to save`);
    const c = model.ae.config;
    tensors = { ...(await model.ae.exportState()), cluster_centers: { shape: [model.k, c.dims[c.dims.length - 1]], data: await dl(model.mu) } };
    const { normalization: nrm, ...rest } = c;
    arch = { model: model.variant, ...rest, k: model.k, alpha: model.alpha };
    normalization = nrm;
    config = model.config;
  }
  if (opts.classes && 'k' in arch && opts.classes.length !== arch.k) throw new RangeError(`classes has ${opts.classes.length} names for k = ${arch.k}`);
  await writeSafetensorsFile(path, tensors, {
    format: MODEL_FORMAT,
    version: LIBRARY_VERSION,
    architecture: JSON.stringify(arch),
    normalization: JSON.stringify(normalization),
    config: JSON.stringify(jsonable(config)),
    classes: JSON.stringify(opts.classes ?? null),
  });
}

export interface LoadedModel {
  model: ClusterModel | Autoencoder;
  kind: ModelKind;
  classes: string[] | null;
  version: string;
}

export async function loadModel(backend: ComputeBackend, path: string): Promise<LoadedModel> {
  const { tensors, metadata } = await readSafetensorsFile(path);
  const bad = (m: string): never => {
    throw new Error(`${path}: ${m}`);
  };
  if (metadata.format !== MODEL_FORMAT) bad(`not a hemaclust model file (format ${JSON.stringify(metadata.format)}, expected ${MODEL_FORMAT})`);
  const parse = <T>(key: string): T => {
    try {
      return JSON.parse(metadata[key] ?? 'null') as T;
    } catch {
      return bad(`metadata '${key}' is not valid JSON`);
    }
  };
  const arch = parse<Architecture>('architecture');
  const normalization = parse<Normalization>('normalization') ?? { kind: 'none' };
  const config = parse<Record<string, unknown>>('config') ?? {};
  const classes = parse<string[] | null>('classes');
  if (!arch || typeof arch !== 'object') bad('metadata has no architecture');
  const need = (name: string, shape: number[]): Float32Array => {
    const t = tensors[name];
    if (!t) bad(`missing tensor '${name}'`);
    if (t.shape.join() !== shape.join()) bad(`tensor '${name}' has shape [${t.shape}], expected [${shape}]`);
    return t.data;
  };
  const aeConfig = (): ResolvedAeConfig => {
    const { model: _m, k: _k, alpha: _a, ...rest } = arch;
    return { ...rest, normalization };
  };
  let model: ClusterModel | Autoencoder;
  switch (arch.model) {
    case 'kmeans': {
      const km = new KMeans(backend, { ...(config as object), k: arch.k! });
      km.centroids = need('cluster_centers', [arch.k!, arch.inputDim]);
      km.dim = arch.inputDim;
      model = km;
      break;
    }
    case 'autoencoder': {
      const ae = new Autoencoder(backend, config);
      ae.buildFrom(aeConfig());
      ae.importState(tensors, path);
      model = ae;
      break;
    }
    case 'dec':
    case 'idec': {
      const m = new (arch.model === 'dec' ? DEC : IDEC)(backend, { ...(config as object), k: arch.k! });
      if (m.alpha !== (arch.alpha ?? 1)) bad(`config alpha ${m.alpha} disagrees with architecture alpha ${arch.alpha}`);
      m.ae.buildFrom(aeConfig());
      m.ae.importState(tensors, path);
      m.mu = backend.create([arch.k!, arch.dims[arch.dims.length - 1]]);
      backend.upload(m.mu, need('cluster_centers', [arch.k!, arch.dims[arch.dims.length - 1]]));
      model = m;
      break;
    }
    case 'vade': {
      const m = new VaDE(backend, { ...(config as object), k: arch.k! });
      m.buildFrom(aeConfig());
      const d = arch.dims[arch.dims.length - 1];
      m.trunk?.importState(tensors, path);
      m.muHead!.importState(tensors, path);
      m.logVarHead!.importState(tensors, path);
      m.decoder!.importState(tensors, path);
      backend.upload(m.piLogits!, need('gmm.pi_logits', [arch.k!]));
      backend.upload(m.muC!, need('gmm.mu', [arch.k!, d]));
      backend.upload(m.logVarC!, need('gmm.log_var', [arch.k!, d]));
      model = m;
      break;
    }
    default:
      return bad(`unknown model kind ${JSON.stringify((arch as { model: unknown }).model)}`);
  }
  return { model, kind: arch.model, classes, version: metadata.version ?? 'unknown' };
}
