// The pipeline's model file: safetensors tensors plus JSON metadata (docs/model-files.md).
//
// Reading trusts nothing in the file. The file checksum (required; it covers the metadata too)
// only proves the bytes are as written, so decodePipeline reads every metadata field with its type
// and range (model-read.ts, through bindings/io/model-meta.ts ModelFileReader), checks the fields
// against each other, and then checks that the file holds exactly the tensors they imply, with
// exactly those shapes, before a single array or layer is built: what loading allocates is then
// bounded by the tensor bytes in the file (a 2 KB file cannot ask for dims [30000000, 4]).
// Every error is a FormatError naming the file and what was expected.
import { ModelFileReader } from '../io/model-meta.js';
import { encodeSafetensors, type NamedTensor } from '../io/safetensors.js';
import { LIBRARY_VERSION } from '../models/version.js';
import type { Role } from './layout.js';
import type { ClassMixture } from './mixture.js';
import { onlyKeys, PIPELINE_LIMITS, present, readDomain, readLayout, readMeta, readStage1Fields, readStage2Fields } from './model-read.js';
import { levelAColumns, levelBColumns } from './red-levels.js';
import { summaryRoles } from './pulse-features.js';
import { PIPELINE_FORMAT, RED_CLASSES, type PipelineState } from './types.js';
import type { PlateletSplit } from './platelet-side.js';

/** The model as safetensors bytes (tensors + JSON metadata). */
export function encodePipeline(st: PipelineState): Uint8Array {
  const m = st.stage2.mixture;
  const d = st.dims[st.dims.length - 1];
  const tensors: Record<string, NamedTensor> = {
    'pre.offset': { shape: [st.meta.features], data: st.pre.offset },
    'pre.scale': { shape: [st.meta.features], data: st.pre.scale },
    'pre.mean': { shape: [st.meta.features], data: st.pre.mean },
    'pre.std': { shape: [st.meta.features], data: st.pre.std },
    ...st.stage1.encoder,
    'stage1.cluster_centers': { shape: [st.stage1.k, d], data: st.stage1.centers },
    ...st.stage2.encoder,
    'stage2.gmm.mu': { shape: [m.k, m.d], data: Float32Array.from(m.mu) },
    'stage2.gmm.log_var': { shape: [m.k, m.d], data: Float32Array.from(m.logVar) },
    'stage2.gmm.rho': { shape: [m.classes, m.k], data: Float32Array.from(m.rho) },
  };
  const { pulse, levels } = st.stage2;
  if (pulse && levels) {
    tensors['stage2.pulse.mean'] = { shape: [pulse.mean.length], data: pulse.mean };
    tensors['stage2.pulse.std'] = { shape: [pulse.std.length], data: pulse.std };
    for (const [name, mix] of [['a', levels.a], ['b', levels.b]] as const) {
      tensors[`stage2.${name}.mu`] = { shape: [mix.k, mix.d], data: Float32Array.from(mix.mu) };
      tensors[`stage2.${name}.log_var`] = { shape: [mix.k, mix.d], data: Float32Array.from(mix.logVar) };
      tensors[`stage2.${name}.rho`] = { shape: [mix.classes, mix.k], data: Float32Array.from(mix.rho) };
    }
    if (levels.rotationA) tensors['stage2.levels.a_rotation'] = { shape: [levels.a.d, levels.a.d], data: Float32Array.from(levels.rotationA) };
  }
  const { side, redSide } = st.stage1;
  splitTensors(tensors, SPLIT_TENSORS.side, side);
  splitTensors(tensors, SPLIT_TENSORS.redSide, redSide);
  if (st.pca) {
    tensors['pca.mean'] = { shape: [2 * d], data: st.pca.mean };
    tensors['pca.components'] = { shape: [2, 2 * d], data: st.pca.components };
  }
  return encodeSafetensors(tensors, {
    format: PIPELINE_FORMAT,
    version: LIBRARY_VERSION,
    meta: JSON.stringify(st.meta),
    architecture: JSON.stringify({ dims: st.dims, layout: st.layout, domain: st.domain, stage1: { k: st.stage1.k, alpha: st.stage1.alpha, pltMembers: st.stage1.pltMembers,
      side: splitArch(side), redSide: splitArch(redSide) },
      stage2: { k: m.k, classes: RED_CLASSES, thetaPrior: st.stage2.thetaPrior, reticScale: st.stage2.reticScale,
        levels: pulse && levels ? { roles: levels.roles, ka: levels.a.k, kb: levels.b.k, priorA: levels.priorA, priorB: levels.priorB, centred: levels.centred, rotated: levels.rotationA !== null } : null } }),
  });
}

const A = 'metadata architecture';

/** The state a model file holds; throws a FormatError naming `source` on anything malformed. */
export function decodePipeline(bytes: Uint8Array, source = 'model'): PipelineState {
  const r = ModelFileReader.open(bytes, source, PIPELINE_FORMAT);
  const L = PIPELINE_LIMITS;
  const arch = onlyKeys(r, A, r.json('architecture'), '', ['dims', 'layout', 'domain', 'stage1', 'stage2']);
  const meta = readMeta(r, r.json('meta'));
  const F = meta.features;
  const dims = r.intArray(A, arch, 'dims', { minLength: 1, maxLength: L.layers, min: 1, max: L.width }).slice();
  const d = dims[dims.length - 1]!;
  const layout = readLayout(r, A, arch, F);
  const roles = summaryRoles(layout);
  const P = roles.length;

  const { k1, alpha, pltMembers, sub, side, redSide } = readStage1Fields(r, A, arch, P);
  const { K, thetaPrior, reticScale, lv } = readStage2Fields(r, A, arch, layout.kind, roles);
  // The training-domain statistics exist only beside the levels (train.ts computes them together).
  if (present(r, arch, 'domain') && !lv) throw r.error(`${A} field 'domain': expected null in a model without stage 2's levels`);
  const domain = lv && present(r, arch, 'domain') ? readDomain(r, A, arch, P) : null;

  // Exactly the tensors these fields imply, before anything is allocated from them.
  const wA = lv ? levelAColumns(d, roles).length : 0;
  const wB = lv ? levelBColumns(d, roles).length : 0;
  const shapes = new Map<string, number[]>();
  for (const n of ['offset', 'scale', 'mean', 'std']) shapes.set(`pre.${n}`, [F]);
  const widths = [F, ...dims];
  for (const s of ['stage1', 'stage2']) dims.forEach((out, l) => shapes.set(`${s}.encoder.${l}.weight`, [out, widths[l]!]).set(`${s}.encoder.${l}.bias`, [out]));
  shapes.set('stage1.cluster_centers', [k1, d]);
  if (sub) shapes.set('stage1.sub.mu', [sub.k, d]).set('stage1.sub.log_var', [sub.k, d]).set('stage1.sub.rho', [sub.k]);
  splitShapes(shapes, SPLIT_TENSORS.side, side);
  splitShapes(shapes, SPLIT_TENSORS.redSide, redSide);
  shapes.set('stage2.gmm.mu', [K, d]).set('stage2.gmm.log_var', [K, d]).set('stage2.gmm.rho', [RED_CLASSES.length, K]);
  if (lv) {
    shapes.set('stage2.pulse.mean', [P]).set('stage2.pulse.std', [P]);
    for (const [n, k, w] of [['a', lv.ka, wA], ['b', lv.kb, wB]] as const) shapes.set(`stage2.${n}.mu`, [k, w]).set(`stage2.${n}.log_var`, [k, w]).set(`stage2.${n}.rho`, [2, k]);
    if (lv.rotated) shapes.set('stage2.levels.a_rotation', [wA, wA]);
  }
  // The plot projection is optional (fitted after training): both tensors or neither.
  const hasPca = Object.hasOwn(r.content.tensors, 'pca.mean') || Object.hasOwn(r.content.tensors, 'pca.components');
  if (hasPca) shapes.set('pca.mean', [2 * d]).set('pca.components', [2, 2 * d]);
  r.expectTensors(shapes);

  const data = (name: string) => r.tensor(name).data;
  const f64 = (name: string) => Float64Array.from(data(name));
  const encoder = (s: string) => {
    const out: Record<string, NamedTensor> = {};
    for (const name of shapes.keys()) if (name.startsWith(`${s}.encoder.`)) out[name] = r.tensor(name);
    return out;
  };
  const levelMixture = (n: string, k: number, width: number): ClassMixture => ({
    k, d: width, classes: 2, mu: f64(`stage2.${n}.mu`), logVar: f64(`stage2.${n}.log_var`), rho: f64(`stage2.${n}.rho`),
  });
  return {
    meta,
    layout,
    pre: { offset: data('pre.offset'), scale: data('pre.scale'), mean: data('pre.mean'), std: data('pre.std') },
    dims,
    stage1: {
      encoder: encoder('stage1'), centers: data('stage1.cluster_centers'), k: k1, alpha, pltMembers,
      redSide: redSide && splitFromFile(redSide, f64, SPLIT_TENSORS.redSide),
      side: side ? splitFromFile(side, f64, SPLIT_TENSORS.side) : sub ? legacySide(sub, d, f64('stage1.sub.mu'), f64('stage1.sub.log_var'), f64('stage1.sub.rho')) : null,
    },
    stage2: {
      encoder: encoder('stage2'),
      mixture: { k: K, d, classes: RED_CLASSES.length, mu: f64('stage2.gmm.mu'), logVar: f64('stage2.gmm.log_var'), rho: f64('stage2.gmm.rho') },
      thetaPrior,
      reticScale,
      pulse: lv ? { mean: data('stage2.pulse.mean'), std: data('stage2.pulse.std') } : null,
      levels: lv ? {
        embeddingDim: d, roles: roles as Role[], a: levelMixture('a', lv.ka, wA), b: levelMixture('b', lv.kb, wB), priorA: lv.priorA, priorB: lv.priorB, centred: lv.centred,
        rotationA: lv.rotated ? f64('stage2.levels.a_rotation') : null,
      } : null,
    },
    domain,
    pca: hasPca ? { mean: data('pca.mean'), components: data('pca.components') } : null,
  };
}

/** The tensor-name prefix of each split of stage 1 (platelet-side.ts, red-side.ts). */
const SPLIT_TENSORS = { side: 'stage1.side', redSide: 'stage1.red_side' } as const;

type SplitFields = { k: number; width: number; input: PlateletSplit['input']; prior: number[]; reestimate: boolean; fit: number; rotated: boolean };

function splitTensors(tensors: Record<string, NamedTensor>, prefix: string, split: PlateletSplit | null): void {
  if (!split) return;
  const { k, d: w } = split.mixture;
  tensors[`${prefix}.mu`] = { shape: [k, w], data: Float32Array.from(split.mixture.mu) };
  tensors[`${prefix}.log_var`] = { shape: [k, w], data: Float32Array.from(split.mixture.logVar) };
  tensors[`${prefix}.rho`] = { shape: [2, k], data: Float32Array.from(split.mixture.rho) };
  tensors[`${prefix}.mean`] = { shape: [w], data: Float32Array.from(split.mean) };
  tensors[`${prefix}.std`] = { shape: [w], data: Float32Array.from(split.std) };
  if (split.rotation) tensors[`${prefix}.rotation`] = { shape: [w, w], data: Float32Array.from(split.rotation) };
}

function splitArch(split: PlateletSplit | null): SplitFields | null {
  return split && { k: split.mixture.k, width: split.mixture.d, input: split.input, prior: split.prior, reestimate: split.reestimate, fit: split.fit, rotated: split.rotation !== null };
}

function splitShapes(shapes: Map<string, number[]>, prefix: string, f: SplitFields | null): void {
  if (!f) return;
  shapes.set(`${prefix}.mu`, [f.k, f.width]).set(`${prefix}.log_var`, [f.k, f.width]).set(`${prefix}.rho`, [2, f.k]);
  shapes.set(`${prefix}.mean`, [f.width]).set(`${prefix}.std`, [f.width]);
  if (f.rotated) shapes.set(`${prefix}.rotation`, [f.width, f.width]);
}

/** A split from its checked metadata fields and tensors. */
function splitFromFile(f: SplitFields, f64: (name: string) => Float64Array, prefix: string): PlateletSplit {
  return {
    mixture: { k: f.k, d: f.width, classes: 2, mu: f64(`${prefix}.mu`), logVar: f64(`${prefix}.log_var`), rho: f64(`${prefix}.rho`) },
    prior: f.prior, input: f.input, mean: f64(`${prefix}.mean`), std: f64(`${prefix}.std`),
    rotation: f.rotated ? f64(`${prefix}.rotation`) : null, reestimate: f.reestimate, fit: f.fit,
  };
}

/** A file written before the platelet side's mixture: its sub-clusters with one fixed prior, read
 *  as the same posterior (P(platelet) = Σ of the member sub-clusters' ρ N over all of them). */
export function legacySide(sub: { k: number; members: boolean[] }, d: number, mu: Float64Array, logVar: Float64Array, rho1: Float64Array): PlateletSplit {
  const { k, members } = sub;
  const rho = new Float64Array(2 * k);
  const prior = [0, 0];
  for (let j = 0; j < k; j++) prior[members[j] ? 0 : 1] += rho1[j];
  for (let j = 0; j < k; j++) {
    const c = members[j] ? 0 : 1;
    rho[c * k + j] = prior[c] > 0 ? rho1[j] / prior[c] : 0;
  }
  const total = prior[0] + prior[1] || 1;
  return {
    mixture: { k, d, classes: 2, mu, logVar, rho }, prior: prior.map((p) => p / total), input: 'embedding',
    mean: new Float64Array(d), std: new Float64Array(d).fill(1), rotation: null, reestimate: false, fit: 0,
  };
}
