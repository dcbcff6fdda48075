// The pipeline's model file: safetensors tensors plus JSON metadata (docs/model-files.md).
// Everything read back is checked for type, shape and consistency before it is used.
import { decodeSafetensors, encodeSafetensors, type NamedTensor } from '../io/safetensors.js';
import { LIBRARY_VERSION } from '../models/version.js';
import { ROLES, type ChannelLayout, type Role } from './layout.js';
import type { ClassMixture } from './mixture.js';
import { levelAColumns, levelBColumns } from './red-levels.js';
import { summaryRoles } from './pulse-features.js';
import type { DomainStats } from './quality.js';
import { PIPELINE_FORMAT, RED_CLASSES, type PipelineMeta, type PipelineState, type Reference } from './types.js';

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
  }
  const sub = st.stage1.sub;
  if (sub) {
    tensors['stage1.sub.mu'] = { shape: [sub.mixture.k, sub.mixture.d], data: Float32Array.from(sub.mixture.mu) };
    tensors['stage1.sub.log_var'] = { shape: [sub.mixture.k, sub.mixture.d], data: Float32Array.from(sub.mixture.logVar) };
    tensors['stage1.sub.rho'] = { shape: [sub.mixture.k], data: Float32Array.from(sub.mixture.rho) };
  }
  if (st.pca) {
    tensors['pca.mean'] = { shape: [2 * d], data: st.pca.mean };
    tensors['pca.components'] = { shape: [2, 2 * d], data: st.pca.components };
  }
  return encodeSafetensors(tensors, {
    format: PIPELINE_FORMAT,
    version: LIBRARY_VERSION,
    meta: JSON.stringify(st.meta),
    architecture: JSON.stringify({ dims: st.dims, layout: st.layout, domain: st.domain, stage1: { k: st.stage1.k, alpha: st.stage1.alpha, pltMembers: st.stage1.pltMembers, sub: sub ? { k: sub.mixture.k, members: sub.members, sse: sub.sse } : null },
      stage2: { k: m.k, classes: RED_CLASSES, thetaPrior: st.stage2.thetaPrior, reticScale: st.stage2.reticScale,
        levels: pulse && levels ? { roles: levels.roles, ka: levels.a.k, kb: levels.b.k, priorA: levels.priorA, priorB: levels.priorB } : null } }),
  });
}


/** The state a model file holds; throws naming `source` on anything malformed. */
export function decodePipeline(bytes: Uint8Array, source = 'model'): PipelineState {
  const { tensors, metadata } = decodeSafetensors(bytes, source);
  const bad = (msg: string): never => {
    throw new Error(`${source}: ${msg}`);
  };
  if (metadata.format !== PIPELINE_FORMAT) bad(`not a hemaclust pipeline model (format ${JSON.stringify(metadata.format ?? null)}, expected ${PIPELINE_FORMAT})`);
  let meta: PipelineMeta;
  let arch: { dims: number[]; layout: ChannelLayout; domain?: DomainStats | null; stage1: { k: number; alpha: number; pltMembers: boolean[]; sub?: { k: number; members: boolean[]; sse: number } | null }; stage2: { k: number; thetaPrior: number[]; reticScale?: number;
    levels?: { roles: Role[]; ka: number; kb: number; priorA: number[]; priorB: number[] } | null } };
  try {
    meta = JSON.parse(metadata.meta ?? 'null');
    arch = JSON.parse(metadata.architecture ?? 'null');
  } catch {
    return bad('metadata is not valid JSON');
  }
  if (!meta || !arch || !Array.isArray(arch.dims)) bad('metadata lacks meta or architecture');
  const need = (name: string, shape: number[]): Float32Array => {
    const t = tensors[name];
    if (!t) bad(`missing tensor '${name}'`);
    if (t.shape.join() !== shape.join()) bad(`tensor '${name}' has shape [${t.shape}], expected [${shape}]`);
    return t.data;
  };
  const F = meta.features;
  const d = arch.dims[arch.dims.length - 1];
  const layerTensors = (prefix: string) => Object.fromEntries(Object.entries(tensors).filter(([k]) => k.startsWith(`${prefix}.encoder.`)));
  const K = arch.stage2.k;
  const lv = arch.stage2.levels ?? null;
  const layout = checkLayout(arch.layout, F, bad);
  const roles = summaryRoles(layout);
  if (lv && (!Array.isArray(lv.roles) || lv.roles.join() !== roles.join())) {
    bad(`stage 2's pulse summaries [${lv.roles}] do not match the channel layout's [${roles}]`);
  }
  const levelMixture = (name: string, k: number, width: number): ClassMixture => ({
    k, d: width, classes: 2, mu: Float64Array.from(need(`stage2.${name}.mu`, [k, width])),
    logVar: Float64Array.from(need(`stage2.${name}.log_var`, [k, width])), rho: Float64Array.from(need(`stage2.${name}.rho`, [2, k])),
  });
  const state: PipelineState = {
    meta,
    layout,
    pre: { offset: need('pre.offset', [F]), scale: need('pre.scale', [F]), mean: need('pre.mean', [F]), std: need('pre.std', [F]) },
    dims: arch.dims,
    stage1: {
      encoder: layerTensors('stage1'), centers: need('stage1.cluster_centers', [arch.stage1.k, d]), k: arch.stage1.k, alpha: arch.stage1.alpha, pltMembers: arch.stage1.pltMembers,
      sub: arch.stage1.sub ? {
        members: arch.stage1.sub.members, sse: arch.stage1.sub.sse,
        mixture: { k: arch.stage1.sub.k, d, classes: 1, mu: Float64Array.from(need('stage1.sub.mu', [arch.stage1.sub.k, d])),
          logVar: Float64Array.from(need('stage1.sub.log_var', [arch.stage1.sub.k, d])), rho: Float64Array.from(need('stage1.sub.rho', [arch.stage1.sub.k])) },
      } : null,
    },
    stage2: {
      encoder: layerTensors('stage2'),
      mixture: {
        k: K, d, classes: RED_CLASSES.length,
        mu: Float64Array.from(need('stage2.gmm.mu', [K, d])), logVar: Float64Array.from(need('stage2.gmm.log_var', [K, d])),
        rho: Float64Array.from(need('stage2.gmm.rho', [RED_CLASSES.length, K])),
      },
      thetaPrior: arch.stage2.thetaPrior,
      reticScale: reticScaleOf(arch.stage2.reticScale, bad),
      pulse: lv ? { mean: need('stage2.pulse.mean', [roles.length]), std: need('stage2.pulse.std', [roles.length]) } : null,
      levels: lv ? {
        embeddingDim: d, roles, a: levelMixture('a', lv.ka, levelAColumns(d, roles).length), b: levelMixture('b', lv.kb, levelBColumns(d, roles).length),
        priorA: lv.priorA, priorB: lv.priorB,
      } : null,
    },
    domain: checkDomain(arch.domain ?? null, lv ? roles.length : 0, bad),
    pca: tensors['pca.mean'] ? { mean: need('pca.mean', [2 * d]), components: need('pca.components', [2, 2 * d]) } : null,
  };
  return state;
}


/** The stored training-domain statistics: finite numbers of the right counts, or null. */
function checkDomain(v: DomainStats | null, P: number, bad: (msg: string) => never): DomainStats | null {
  if (v === null || P === 0) return null;
  const num = (x: unknown) => typeof x === 'number' && Number.isFinite(x);
  const ref = (r: Reference) => r && ['plt_pct', 'retic_pct', 'clump_pct'].every((k) => num((r as unknown as Record<string, unknown>)[k]));
  const list = (a: unknown) => Array.isArray(a) && a.length === P && a.every(num);
  if (!(ref(v.refMin) && ref(v.refMax) && num(v.eventsMedian) && list(v.summaryMedian) && list(v.summarySpread) && num(v.logDensityCut))) bad('architecture.domain is malformed');
  return v;
}

/** The stored channel layout, checked for shape (its names are matched against samples later). */
function checkLayout(v: unknown, width: number, bad: (msg: string) => never): ChannelLayout {
  const L = v as ChannelLayout;
  if (!L || typeof L !== 'object' || !['waveform', 'scalar', 'matrix'].includes(L.kind) || !Array.isArray(L.groups)) bad('architecture lacks a valid channel layout');
  const names = L.featureNames;
  if (names !== null && !(Array.isArray(names) && names.every((x) => typeof x === 'string'))) bad('layout.featureNames must be a list of names or null');
  for (const g of L.groups) {
    if (!g || !ROLES.includes(g.role) || typeof g.name !== 'string' || !Array.isArray(g.columns) || !g.columns.every((c) => typeof c === 'string')) bad('layout has a malformed channel group');
    if (names && !g.columns.every((c) => names.includes(c))) bad(`layout channel ${g.name} names columns the file list lacks`);
  }
  if (L.kind !== 'matrix' && L.groups.length !== ROLES.length) bad(`layout must have the ${ROLES.length} channels ${ROLES.join(', ')}`);
  if (L.kind === 'waveform' && !(L.groups.every((g) => g.columns.length >= 4) && (L.points === 0 || L.groups.every((g) => g.columns.length === L.points)))) {
    bad('layout: every waveform channel needs at least 4 time samples, and points must be 0 or their common number');
  }
  const w = L.kind === 'matrix' ? (names ? names.length : width) : L.groups.reduce((a, g) => a + g.columns.length, 0);
  if (w !== width) bad(`layout describes ${w} columns, the model has ${width}`);
  const inputOk = Number.isInteger(L.inputColumns) && (names ? L.inputColumns === names.length : L.inputColumns === width);
  if (!inputOk) bad(`layout.inputColumns ${JSON.stringify(L.inputColumns)} does not match the layout`);
  return L;
}

/** The stored reticulocyte count scale; files written before it existed count as unscaled (1). */
function reticScaleOf(v: unknown, bad: (msg: string) => never): number {
  if (v === undefined) return 1;
  if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) bad(`stage 2 reticulocyte scale must be a positive number (got ${JSON.stringify(v)})`);
  return v as number;
}
