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
import { layoutTensors } from '../models/specs.js';
import { TENSORS as T, tensorLayout, type LayoutFields, type SplitShape } from './tensor-layout.js';

/** The model as safetensors bytes (tensors + JSON metadata). */
export function encodePipeline(st: PipelineState): Uint8Array {
  const m = st.stage2.mixture;
  const d = st.dims[st.dims.length - 1];
  const f32 = (shape: number[], data: ArrayLike<number>): NamedTensor => ({ shape, data: Float32Array.from(data) });
  const tensors: Record<string, NamedTensor> = {
    [T.pre.offset]: { shape: [st.meta.features], data: st.pre.offset },
    [T.pre.scale]: { shape: [st.meta.features], data: st.pre.scale },
    [T.pre.mean]: { shape: [st.meta.features], data: st.pre.mean },
    [T.pre.std]: { shape: [st.meta.features], data: st.pre.std },
    ...st.stage1.encoder,
    [T.centres]: { shape: [st.stage1.k, d], data: st.stage1.centers },
    ...st.stage2.encoder,
    [T.gmm.mu]: f32([m.k, m.d], m.mu),
    [T.gmm.logVar]: f32([m.k, m.d], m.logVar),
    [T.gmm.rho]: f32([m.classes, m.k], m.rho),
  };
  const { pulse, levels } = st.stage2;
  const lv = pulse && levels ? levels : null;
  if (pulse && lv) {
    tensors[T.pulse.mean] = { shape: [pulse.mean.length], data: pulse.mean };
    tensors[T.pulse.std] = { shape: [pulse.std.length], data: pulse.std };
    for (const [which, mix] of [['a', lv.a], ['b', lv.b]] as const) {
      const n = T.level(which);
      tensors[n.mu] = f32([mix.k, mix.d], mix.mu);
      tensors[n.logVar] = f32([mix.k, mix.d], mix.logVar);
      tensors[n.rho] = f32([mix.classes, mix.k], mix.rho);
    }
    if (lv.rotationA) tensors[T.levelARotation] = f32([lv.a.d, lv.a.d], lv.rotationA);
  }
  const { side, redSide } = st.stage1;
  splitTensors(tensors, 'side', side);
  splitTensors(tensors, 'redSide', redSide);
  if (st.pca) {
    tensors[T.pca.mean] = { shape: [2 * d], data: st.pca.mean };
    tensors[T.pca.components] = { shape: [2, 2 * d], data: st.pca.components };
  }
  const layout = tensorLayout({
    features: st.meta.features, dims: st.dims, k1: st.stage1.k, sub: null, side: splitShape(side), redSide: splitShape(redSide), k2: m.k, classes2: m.classes,
    levels: pulse && lv ? { summaries: pulse.mean.length, ka: lv.a.k, kb: lv.b.k, widthA: lv.a.d, widthB: lv.b.d, rotated: lv.rotationA !== null } : null,
    pca: st.pca !== null && st.pca !== undefined,
  });
  return encodeSafetensors(layoutTensors(layout, tensors), {
    format: PIPELINE_FORMAT,
    version: LIBRARY_VERSION,
    meta: JSON.stringify(st.meta),
    architecture: JSON.stringify({ dims: st.dims, layout: st.layout, domain: st.domain, stage1: { k: st.stage1.k, alpha: st.stage1.alpha, pltMembers: st.stage1.pltMembers,
      side: splitArch(side), redSide: splitArch(redSide) },
      stage2: { k: m.k, classes: RED_CLASSES, thetaPrior: st.stage2.thetaPrior, reticScale: st.stage2.reticScale,
        levels: pulse && lv ? { roles: lv.roles, ka: lv.a.k, kb: lv.b.k, priorA: lv.priorA, priorB: lv.priorB, centred: lv.centred, rotated: lv.rotationA !== null } : null } }),
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
  // The plot projection is optional (fitted after training): both tensors or neither.
  const hasPca = Object.hasOwn(r.content.tensors, T.pca.mean) || Object.hasOwn(r.content.tensors, T.pca.components);
  const fields: LayoutFields = {
    features: F, dims, k1, sub, side, redSide, k2: K, classes2: RED_CLASSES.length,
    levels: lv ? { summaries: P, ka: lv.ka, kb: lv.kb, widthA: wA, widthB: wB, rotated: lv.rotated } : null, pca: hasPca,
  };
  const shapes = tensorLayout(fields);
  r.expectTensors(shapes);

  const data = (name: string) => r.tensor(name).data;
  const f64 = (name: string) => Float64Array.from(data(name));
  const encoder = (stage: 'stage1' | 'stage2') => {
    const out: Record<string, NamedTensor> = {};
    dims.forEach((_, l) => {
      for (const name of Object.values(T.encoder(stage, l))) out[name] = r.tensor(name);
    });
    return out;
  };
  const levelMixture = (which: 'a' | 'b', k: number, width: number): ClassMixture => {
    const n = T.level(which);
    return { k, d: width, classes: 2, mu: f64(n.mu), logVar: f64(n.logVar), rho: f64(n.rho) };
  };
  return {
    meta,
    layout,
    pre: { offset: data(T.pre.offset), scale: data(T.pre.scale), mean: data(T.pre.mean), std: data(T.pre.std) },
    dims,
    stage1: {
      encoder: encoder('stage1'), centers: data(T.centres), k: k1, alpha, pltMembers,
      redSide: redSide && splitFromFile(redSide, f64, 'redSide'),
      side: side ? splitFromFile(side, f64, 'side') : sub ? legacySide(sub, d, f64(T.sub.mu), f64(T.sub.logVar), f64(T.sub.rho)) : null,
    },
    stage2: {
      encoder: encoder('stage2'),
      mixture: { k: K, d, classes: RED_CLASSES.length, mu: f64(T.gmm.mu), logVar: f64(T.gmm.logVar), rho: f64(T.gmm.rho) },
      thetaPrior,
      reticScale,
      pulse: lv ? { mean: data(T.pulse.mean), std: data(T.pulse.std) } : null,
      levels: lv ? {
        embeddingDim: d, roles: roles as Role[], a: levelMixture('a', lv.ka, wA), b: levelMixture('b', lv.kb, wB), priorA: lv.priorA, priorB: lv.priorB, centred: lv.centred,
        rotationA: lv.rotated ? f64(T.levelARotation) : null,
      } : null,
    },
    domain,
    pca: hasPca ? { mean: data(T.pca.mean), components: data(T.pca.components) } : null,
  };
}

type SplitFields = SplitShape & { input: PlateletSplit['input']; prior: number[]; reestimate: boolean; fit: number };

function splitTensors(tensors: Record<string, NamedTensor>, which: 'side' | 'redSide', split: PlateletSplit | null): void {
  if (!split) return;
  const { k, d: w } = split.mixture;
  const n = T.split(which);
  tensors[n.mu] = { shape: [k, w], data: Float32Array.from(split.mixture.mu) };
  tensors[n.logVar] = { shape: [k, w], data: Float32Array.from(split.mixture.logVar) };
  tensors[n.rho] = { shape: [2, k], data: Float32Array.from(split.mixture.rho) };
  tensors[n.mean] = { shape: [w], data: Float32Array.from(split.mean) };
  tensors[n.std] = { shape: [w], data: Float32Array.from(split.std) };
  if (split.rotation) tensors[n.rotation] = { shape: [w, w], data: Float32Array.from(split.rotation) };
}

function splitShape(split: PlateletSplit | null): SplitShape | null {
  return split && { k: split.mixture.k, width: split.mixture.d, rotated: split.rotation !== null };
}

function splitArch(split: PlateletSplit | null): SplitFields | null {
  return split && { k: split.mixture.k, width: split.mixture.d, input: split.input, prior: split.prior, reestimate: split.reestimate, fit: split.fit, rotated: split.rotation !== null };
}

/** A split from its checked metadata fields and tensors. */
function splitFromFile(f: SplitFields, f64: (name: string) => Float64Array, which: 'side' | 'redSide'): PlateletSplit {
  const n = T.split(which);
  return {
    mixture: { k: f.k, d: f.width, classes: 2, mu: f64(n.mu), logVar: f64(n.logVar), rho: f64(n.rho) },
    prior: f.prior, input: f.input, mean: f64(n.mean), std: f64(n.std),
    rotation: f.rotated ? f64(n.rotation) : null, reestimate: f.reestimate, fit: f.fit,
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
