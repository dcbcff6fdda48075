// Saving and loading models as safetensors (bindings/io/safetensors.ts): the file layout and its
// validation live in model-file.ts, each model's save/fromModelFile in its own class; this module
// dispatches on the kind stored in the file.
//
// Tensor names and shapes: specs.ts declares them per kind (and model-file.ts checks every file
// written or read against that declaration).
// __metadata__ (strings holding JSON): format, version, architecture (model kind, input width,
// dims, activations, loss, k, α), normalization (input normalisation), config (training options),
// classes (cluster index → class name, or null).
import type { ComputeBackend } from '../backend.js';
import { FormatError } from '../io/errors.js';
import { Autoencoder } from './autoencoder.js';
import { DeepEmbeddedClustering } from './dec.js';
import { KMeans } from './kmeans.js';
import { decodeModelFile, readModelFile, type ModelFile, type ModelKind, type SaveOptions } from './model-file.js';
import { VaDE } from './vade.js';

export type { Architecture, ModelKind, SaveOptions } from './model-file.js';
export type ClusterModel = KMeans | DeepEmbeddedClustering | VaDE;

export function modelKind(m: ClusterModel | Autoencoder): ModelKind {
  if (m instanceof KMeans) return 'kmeans';
  if (m instanceof VaDE) return 'vade';
  if (m instanceof Autoencoder) return 'autoencoder';
  return m.variant;
}

export async function saveModel(model: ClusterModel | Autoencoder, path: string, opts: SaveOptions = {}): Promise<void> {
  await model.save(path, opts);
}

export interface LoadedModel {
  model: ClusterModel | Autoencoder;
  kind: ModelKind;
  classes: string[] | null;
  version: string;
}

/** Builds the model a validated file holds (its metadata and tensor shapes already agree). */
export function modelFromFile(backend: ComputeBackend, f: ModelFile): LoadedModel {
  let model: ClusterModel | Autoencoder;
  try {
    switch (f.kind) {
      case 'kmeans': model = KMeans.fromModelFile(backend, f); break;
      case 'autoencoder': model = Autoencoder.fromModelFile(backend, f); break;
      case 'dec': case 'idec': model = DeepEmbeddedClustering.fromModelFile(backend, f); break;
      case 'vade': model = VaDE.fromModelFile(backend, f); break;
    }
  } catch (e) {
    // A constructor refusing a training option stored in the file: still an error about this file.
    if (e instanceof FormatError) throw e;
    throw new FormatError(f.source, null, `cannot build the ${f.kind} model from its metadata: ${(e as Error).message}`);
  }
  return { model, kind: f.kind, classes: f.classes, version: f.version };
}

export async function loadModel(backend: ComputeBackend, path: string): Promise<LoadedModel> {
  return modelFromFile(backend, await readModelFile(path));
}

/** loadModel for bytes already in memory (an upload); `source` names them in errors. */
export function loadModelBytes(backend: ComputeBackend, bytes: Uint8Array, source: string): LoadedModel {
  return modelFromFile(backend, decodeModelFile(bytes, source));
}
