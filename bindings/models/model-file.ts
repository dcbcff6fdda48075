// The model file: safetensors tensors + JSON metadata, written and read here for every model kind.
// This module knows the file layout (specs.ts declares each kind's tensors) but no model class,
// so the models can save and load themselves through it without importing each other or
// serialize.ts (which dispatches on the kind and imports them all).
//
// Reading validates the architecture metadata completely — types, integer ranges, activations,
// the normalisation's length — then checks that the file holds exactly the tensors that
// architecture implies, with those shapes, before a model allocates a single layer: a dims of
// [30000000, 4] in a 2 KB file is refused here, not after gigabytes of weights. The file checksum
// (bindings/io/safetensors.ts) covers the metadata too. Every error is a FormatError naming the file.
import type { Activation } from '../backend.js';
import { ACTIVATIONS } from '../backend.js';
import { FormatError } from '../io/errors.js';
import { ModelFileReader } from '../io/model-meta.js';
import { encodeSafetensors, type NamedTensor } from '../io/safetensors.js';
import type { InitScheme } from './mlp.js';
import type { Normalization } from './normalize.js';
import { layoutTensors, tensorLayout } from './specs.js';
import { LIBRARY_VERSION, MODEL_FORMAT } from './version.js';

export type ModelKind = 'kmeans' | 'dec' | 'idec' | 'vade' | 'autoencoder';
export const MODEL_KINDS: readonly ModelKind[] = ['kmeans', 'dec', 'idec', 'vade', 'autoencoder'];
/** The class each kind loads into, for messages such as "holds a KMeans, not a VaDE". */
export const KIND_CLASS: Record<ModelKind, string> = { kmeans: 'KMeans', dec: 'DEC', idec: 'IDEC', vade: 'VaDE', autoencoder: 'Autoencoder' };

/** Limits on what architecture metadata may declare (far above any model this library trains). */
export const MODEL_LIMITS = { layers: 16, width: 1 << 24, k: 1 << 16, classNameLength: 256 } as const;
const INIT_SCHEMES = ['auto', 'glorot', 'he'] as const;
const AE_KEYS = ['inputDim', 'dims', 'hiddenActivation', 'embeddingActivation', 'loss', 'init', 'seed'];
const LOSSES = ['mse', 'bce'] as const;

export interface SaveOptions {
  /** Class name per cluster index (e.g. ['RBC', 'PLT']). */
  classes?: string[] | null;
}

/** The autoencoder part of an architecture (autoencoder.ts ResolvedAeConfig without normalization). */
export interface AeArchitecture {
  inputDim: number;
  dims: number[];
  hiddenActivation: Activation;
  embeddingActivation: Activation;
  loss: 'mse' | 'bce';
  init: InitScheme;
  seed: number;
}

export interface Architecture extends AeArchitecture {
  model: ModelKind;
  k?: number;
  alpha?: number;
}

export type KMeansArchitecture = { model: 'kmeans'; inputDim: number; k: number };

/** What a model hands to writeModelFile. */
export interface ModelPayload {
  tensors: Record<string, NamedTensor>;
  arch: Architecture | KMeansArchitecture;
  normalization: Normalization;
  config: object;
  classes: string[] | null;
}

/** A model file whose metadata and tensor shapes have been checked against each other. */
export interface ModelFile {
  source: string;
  kind: ModelKind;
  arch: Architecture | KMeansArchitecture;
  /** The autoencoder part of `arch` with the normalisation (all kinds but kmeans). */
  ae: (AeArchitecture & { normalization: Normalization }) | null;
  normalization: Normalization;
  config: Record<string, unknown>;
  classes: string[] | null;
  version: string;
  /** Every tensor, shape already checked against the architecture. */
  tensors: Record<string, NamedTensor>;
}

function jsonable(o: object): object {
  return JSON.parse(JSON.stringify(o, (key, v) => (key === 'pretrained' || typeof v === 'function' ? undefined : v)));
}

export function encodeModelFile(p: ModelPayload): Uint8Array {
  if (p.classes && 'k' in p.arch && p.classes.length !== p.arch.k) throw new RangeError(`classes has ${p.classes.length} names for k = ${p.arch.k}`);
  // The tensors must be exactly the kind's declared layout: a file its own loader would refuse is
  // not written.
  return encodeSafetensors(layoutTensors(expectedTensors(p.arch), p.tensors), {
    format: MODEL_FORMAT,
    version: LIBRARY_VERSION,
    architecture: JSON.stringify(p.arch),
    normalization: JSON.stringify(p.normalization),
    config: JSON.stringify(jsonable(p.config)),
    classes: JSON.stringify(p.classes ?? null),
  });
}

export async function writeModelFile(path: string, p: ModelPayload): Promise<void> {
  const bytes = encodeModelFile(p);
  const { writeFileAtomic } = await import('../io/atomic.js');
  try {
    await writeFileAtomic(path, bytes);
  } catch (e) {
    throw new Error(`${path}: could not write model file (${(e as Error).message})`);
  }
}

/** name → shape of every tensor a model of this architecture stores (declared in specs.ts). */
export function expectedTensors(arch: Architecture | KMeansArchitecture): Map<string, number[]> {
  return tensorLayout(arch.model, arch);
}

/** Decodes and validates a model file held in memory. */
export function decodeModelFile(bytes: Uint8Array, source: string): ModelFile {
  const r = ModelFileReader.open(bytes, source, MODEL_FORMAT);
  const A = 'metadata architecture';
  const raw = r.obj(A, r.json('architecture'));
  const kind = r.oneOf(A, raw, 'model', MODEL_KINDS);
  const { width, layers, k: maxK } = MODEL_LIMITS;
  const inputDim = r.int(A, raw, 'inputDim', 1, width);
  let arch: Architecture | KMeansArchitecture;
  if (kind === 'kmeans') {
    arch = { model: 'kmeans', inputDim, k: r.int(A, raw, 'k', 1, maxK) };
  } else {
    const a: Architecture = {
      model: kind,
      inputDim,
      dims: r.intArray(A, raw, 'dims', { minLength: 1, maxLength: layers, min: 1, max: width }).slice(),
      hiddenActivation: r.oneOf<Activation>(A, raw, 'hiddenActivation', ACTIVATIONS),
      embeddingActivation: r.oneOf<Activation>(A, raw, 'embeddingActivation', ACTIVATIONS),
      loss: r.oneOf(A, raw, 'loss', LOSSES),
      init: r.oneOf(A, raw, 'init', INIT_SCHEMES),
      seed: r.int(A, raw, 'seed', -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
    };
    if (kind !== 'autoencoder') a.k = r.int(A, raw, 'k', 1, maxK);
    if (kind === 'dec' || kind === 'idec') a.alpha = r.at(raw, 'alpha') === undefined ? 1 : r.num(A, raw, 'alpha', 0, 1e6, true);
    arch = a;
  }
  const normalization = readNormalization(r, inputDim);
  const configV = r.json('config', true);
  const config = configV === undefined || configV === null ? Object.create(null) : r.obj('metadata config', configV);
  const classes = readClasses(r, 'k' in arch ? arch.k! : null);
  // The shapes the architecture implies must be exactly the file's: nothing is allocated before.
  r.expectTensors(expectedTensors(arch));
  const allowed = new Set(['model', 'inputDim', ...(kind === 'kmeans' ? ['k'] : AE_KEYS), ...(kind === 'dec' || kind === 'idec' ? ['k', 'alpha'] : kind === 'vade' ? ['k'] : [])]);
  for (const key of Object.keys(raw)) if (!allowed.has(key)) throw r.error(`${A}: unexpected field '${key}' for a ${kind} model`);
  let ae: ModelFile['ae'] = null;
  if (kind !== 'kmeans') {
    // Same key order as the file, so a loaded model saves to the same bytes.
    const a = arch as unknown as Record<string, unknown>;
    const o: Record<string, unknown> = {};
    for (const key of Object.keys(raw)) if (AE_KEYS.includes(key)) o[key] = a[key];
    o.normalization = normalization;
    ae = o as unknown as ModelFile['ae'];
  }
  return { source, kind, arch, ae, normalization, config, classes, version: r.meta('version') ?? 'unknown', tensors: r.content.tensors };
}

function readNormalization(r: ModelFileReader, inputDim: number): Normalization {
  const N = 'metadata normalization';
  const v = r.json('normalization', true);
  if (v === undefined || v === null) return { kind: 'none' };
  const kind = r.oneOf(N, v, 'kind', ['none', 'standard'] as const);
  if (kind === 'none') return { kind };
  const len = { minLength: inputDim, maxLength: inputDim };
  return { kind, mean: r.numArray(N, v, 'mean', len).slice(), std: r.numArray(N, v, 'std', { ...len, min: 0 }).slice() };
}

function readClasses(r: ModelFileReader, k: number | null): string[] | null {
  const v = r.json('classes', true);
  if (v === undefined || v === null) return null;
  const ok = Array.isArray(v) && (k === null ? v.length <= MODEL_LIMITS.k : v.length === k);
  if (!ok) throw r.error(`metadata classes: expected null or an array of ${k ?? 'at most ' + MODEL_LIMITS.k} class names, found ${Array.isArray(v) ? `${v.length} entries` : typeof v}`);
  return v.map((_, i) => r.str('metadata classes', v, String(i), MODEL_LIMITS.classNameLength));
}

export async function readModelFile(path: string): Promise<ModelFile> {
  const { readFile } = await import('node:fs/promises');
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new FormatError(path, null, `cannot read model file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return decodeModelFile(bytes, path);
}

/** Throws unless the file holds a model of `kind` (or one of `kinds`). */
export function requireKind(f: ModelFile, kinds: readonly ModelKind[], what: string): void {
  if (!kinds.includes(f.kind)) throw new FormatError(f.source, null, `holds a ${KIND_CLASS[f.kind]}, not a ${what}`);
}
