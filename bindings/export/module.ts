// `hemaclust export`: a pipeline model file → one self-contained classifier .wasm (docs/embedding.md).
// The generic module (assembly/embed/, built by scripts/build-wasm.mjs) gets the model blob
// (blob.ts) as one more data segment (wasm-edit.ts). No Node API here: exportClassifier takes the
// generic module's bytes; readGenericModule (Node) reads them from build/.
import { decodePipeline } from '../pipeline/model-file.js';
import { describeLayout } from '../pipeline/layout.js';
import { CLASSES, PIPELINE_FORMAT, type PipelineState } from '../pipeline/types.js';
import { blobArrays, packBlob } from './blob.js';
import { int8Plan } from './int8.js';
import { appendDataSegment } from './wasm-edit.js';

export const EMBED_FORMAT = 'hemaclust-embedded/1';
export type EmbedFlavour = 'simd' | 'scalar';

export interface ExportOptions {
  /** Quantise the stage-1 encoder to int8 (int8.ts; docs/embedding.md "int8"). */
  int8?: boolean;
  /** With int8: keep the first layer (on the standardised inputs) in fp32. */
  int8KeepFirst?: boolean;
}
export const EMBED_FILES: Record<EmbedFlavour, string> = { simd: 'embed-simd.wasm', scalar: 'embed-scalar.wasm' };

/** The summary's f64 fields, in order (hc_summary_ptr; docs/embedding.md). */
export const SUMMARY_FIELDS = [
  'events', 'red_events', 'platelet', 'rbc', 'reticulocyte', 'clumped_rbc', 'plt_pct', 'retic_pct', 'clump_pct',
  'thetaA_single', 'thetaA_clumped', 'thetaB_rbc', 'thetaB_retic', 'argmax_reticulocyte',
  'quality_flags', 'low_likelihood', 'signal_shift', 'quality_present',
] as const;

/** Quality flag bits (summary quality_flags), as classify's flags. */
export const QUALITY_FLAGS = ['plt_pct outside the trained range', 'retic_pct outside the trained range', 'clump_pct outside the trained range',
  'signal level shifted (another gain, unit or instrument?)', 'many red-cell events unlike any training event', 'event count far from the training samples\''] as const;

/** The metadata JSON the module returns from hc_meta_ptr / hc_meta_len. */
export function embedMeta(st: PipelineState, flavour: EmbedFlavour, int8: boolean[] | null = null): Record<string, unknown> {
  const L = st.layout;
  return {
    format: EMBED_FORMAT, abi: 1, flavour, precision: int8 ? 'int8' : 'fp32', ...(int8 ? { int8Layers: int8 } : {}),
    model: { name: st.meta.name, species: st.meta.species ?? null, version: st.meta.version, createdAt: st.meta.createdAt, format: PIPELINE_FORMAT, trainingGatePassed: st.meta.quality?.passed ?? null },
    classes: [...CLASSES], features: st.meta.features,
    featureNames: L.groups.flatMap((g) => g.columns),
    layout: { kind: L.kind, description: describeLayout(L), channels: L.groups.map((g) => ({ role: g.role, name: g.name, columns: g.columns.length })) },
    passes: 3, summary: [...SUMMARY_FIELDS], qualityFlags: [...QUALITY_FLAGS],
  };
}

/** The classifier module for a model file's bytes, from the generic module's bytes. */
export async function exportClassifier(modelBytes: Uint8Array, generic: Uint8Array, flavour: EmbedFlavour, source = 'model', opts: ExportOptions = {}): Promise<Uint8Array> {
  const st = decodePipeline(modelBytes, source);
  const plan = opts.int8 ? int8Plan(st.dims.length, opts.int8KeepFirst) : null;
  const meta = new TextEncoder().encode(JSON.stringify(embedMeta(st, flavour, plan)));
  const blob = packBlob(blobArrays(st, meta, plan));
  // Where the blob goes is the generic module's own answer (past its static data).
  const instance = await WebAssembly.instantiate(await WebAssembly.compile(generic as Uint8Array<ArrayBuffer>), {});
  const base = (instance.exports.hc_blob_base as () => number)();
  return appendDataSegment(generic, base, blob, Math.ceil((base + blob.length) / 65536));
}

/** The generic module of a flavour from build/ beside the package (Node). */
export async function readGenericModule(flavour: EmbedFlavour): Promise<Uint8Array> {
  const { readFile } = await import('node:fs/promises');
  return new Uint8Array(await readFile(new URL(`../../build/${EMBED_FILES[flavour]}`, import.meta.url)));
}
