// The model blob of an exported classifier (docs/embedding.md), built from the decoded model file
// (model-file.ts decodePipeline), so the module follows whatever the file holds. The reader is
// assembly/embed/model.ts: the slot numbers below are its S_* constants.
//
// Layout: u32 magic "HCEB", u32 version, u32 slot count, per slot (u32 byte offset from the blob
// start, u32 element count), then the arrays, each 16-byte aligned. Weights stay f32 as the file
// stores them; the sample proportions' priors and the count scale are f64 as the pipeline uses them.
// An --int8 export (int8.ts) is version 4: three more slots for the int8 encoder layers; an fp32
// export stays version 3, byte for byte what it was before int8 existed.
import { groupStarts } from '../pipeline/layout.js';
import { summaryRoles } from '../pipeline/pulse-features.js';
import { levelAColumns, levelBColumns } from '../pipeline/red-levels.js';
import type { ClassMixture } from '../pipeline/mixture.js';
import type { PipelineState } from '../pipeline/types.js';
import type { PlateletSplit } from '../pipeline/platelet-side.js';
import { TENSORS } from '../pipeline/tensor-layout.js';
import { encoderSlots } from './int8.js';

export const BLOB_MAGIC = 0x42454348;
export const BLOB_VERSION = 3;
export const BLOB_VERSION_INT8 = 4;
export const SLOT = {
  dims: 0, widths: 1, plt: 2, sideInfo: 3, wave: 4, scalar: 5, colsA: 6, colsB: 7,
  preOffset: 8, preScale: 9, preMean: 10, preStd: 11, weights: 12, centers: 13, sideMu: 14, sideLogVar: 15, sideRho: 16,
  pulseMean: 17, pulseStd: 18, aMu: 19, aLogVar: 20, aRho: 21, bMu: 22, bLogVar: 23, bRho: 24,
  scalars: 25, domain: 26, meta: 27, rotA: 28, sideMean: 29, sideStd: 30, sideRot: 31,
  redInfo: 32, redMu: 33, redLogVar: 34, redRho: 35, redMean: 36, redStd: 37, redRot: 38,
  qLayers: 39, qWeights: 40, qScales: 41,
} as const;
const SLOTS = 39;
const SLOTS_INT8 = 42;

export class ExportError extends Error {}

type Arr = Int32Array | Float32Array | Float64Array | Uint8Array | Int8Array;

/** Every slot's array for `st`; throws ExportError for a model the module cannot run. With
 *  `int8` (one flag per encoder layer, int8.ts int8Plan), the version-4 slots for those layers. */
export function blobArrays(st: PipelineState, meta: Uint8Array, int8: boolean[] | null = null): Arr[] {
  const { layout, stage1, stage2 } = st;
  const { levels, pulse } = stage2;
  if (layout.kind === 'matrix' || !levels || !pulse) {
    throw new ExportError('this model has no channel roles (a plain-matrix layout): its stage 2 decides on the VaDE embedding alone, which the embedded module does not implement; train on files whose FSC, SSC, FL and IMP channels are found (docs/method.md §1)');
  }
  const F = st.meta.features;
  const d = st.dims[st.dims.length - 1]!;
  const roles = summaryRoles(layout);
  const P = roles.length;
  if (levels.roles.length !== P) throw new ExportError(`stage 2 levels read ${levels.roles.length} pulse summaries, the layout gives ${P}`);
  const side = stage1.side;
  const red = stage1.redSide;
  const a = levels.a;
  const b = levels.b;
  if (a.classes !== 2 || b.classes !== 2) throw new ExportError(`stage 2 levels must have 2 classes each (found ${a.classes}, ${b.classes})`);
  const starts = groupStarts(layout);
  const wave = layout.kind === 'waveform' ? layout.groups.flatMap((g, i) => [starts[i]!, g.columns.length]) : [];
  const scalar = layout.kind === 'scalar'
    ? layout.groups.flatMap((g, gi) => (g.params ?? []).flatMap((p) => [p === 'A' ? 1 : p === 'W' ? 2 : 0, starts[gi]!]))
    : [];
  const enc = st.dims.map((nout, l) => {
    const nin = l === 0 ? F : st.dims[l - 1]!;
    const names = TENSORS.encoder('stage1', l);
    const w = stage1.encoder[names.weight];
    const bias = stage1.encoder[names.bias];
    if (!w || !bias || w.data.length !== nout * nin || bias.data.length !== nout) throw new ExportError(`stage 1 encoder layer ${l}: missing or misshapen weights`);
    return { w: w.data, b: bias.data, nin, nout };
  });
  if (int8 && int8.length !== enc.length) throw new ExportError(`int8: ${int8.length} layer flags for ${enc.length} encoder layers`);
  const q = encoderSlots(enc, int8 ?? enc.map(() => false));
  const f32 = (v: ArrayLike<number>) => Float32Array.from(v);
  const mix = (m: ClassMixture | undefined) => (m ? [f32(m.mu), f32(m.logVar), f32(m.rho)] : [new Float32Array(0), new Float32Array(0), new Float32Array(0)]);
  const dims = [F, layout.kind === 'waveform' ? 0 : 1, st.dims.length, stage1.k, d, side ? side.mixture.k : 0, P, a.k, a.d, b.k, b.d, levels.centred ? 1 : 0, levels.rotationA ? 1 : 0, red ? red.mixture.k : 0];
  checkSplit(side, 'the platelet side', P, d);
  checkSplit(red, 'the red side', P, d);
  if (levels.rotationA && levels.rotationA.length !== a.d * a.d) throw new ExportError(`level A's axes hold ${levels.rotationA.length} values for ${a.d} columns`);
  const colsA = levelAColumns(d, roles).map((c) => c - d);
  const colsB = levelBColumns(d, roles).map((c) => c - d);
  if (colsA.length !== a.d || colsB.length !== b.d) throw new ExportError('stage 2 level widths do not match the layout\'s summary roles');
  return [
    Int32Array.from(dims), Int32Array.from(st.dims), Int32Array.from(stage1.pltMembers, Number),
    splitInfo(side),
    Int32Array.from(wave), Int32Array.from(scalar), Int32Array.from(colsA), Int32Array.from(colsB),
    f32(st.pre.offset), f32(st.pre.scale), f32(st.pre.mean), f32(st.pre.std), q.weights, f32(stage1.centers),
    ...mix(side?.mixture), f32(pulse.mean), f32(pulse.std), ...mix(a), ...mix(b),
    Float64Array.from([stage1.alpha, stage2.reticScale, ...levels.priorA, ...levels.priorB, ...(side ? side.prior : [1, 0]), ...(red ? red.prior : [0, 1])]),
    Float64Array.from(domainArray(st, P)),
    meta,
    f32(levels.rotationA ?? []), f32(side?.mean ?? []), f32(side?.std ?? []), f32(side?.rotation ?? []),
    splitInfo(red), ...mix(red?.mixture), f32(red?.mean ?? []), f32(red?.std ?? []), f32(red?.rotation ?? []),
    ...(int8 ? [q.qlayers, q.qweights, q.qscales] : []),
  ];
}

/** A stage-1 split's [width, input (0 embedding, 1 pulse summaries), rotated, re-estimated]. */
function splitInfo(x: PlateletSplit | null): Int32Array {
  return Int32Array.from(x ? [x.mixture.d, x.input === 'pulse' ? 1 : 0, x.rotation ? 1 : 0, x.reestimate ? 1 : 0] : [0, 0, 0, 0]);
}

function checkSplit(x: PlateletSplit | null, what: string, P: number, d: number): void {
  if (!x) return;
  const w = x.mixture.d;
  if (x.mixture.classes !== 2 || x.mean.length !== w || x.std.length !== w || w !== (x.input === 'pulse' ? P : d)) throw new ExportError(`${what}'s mixture does not match its inputs`);
  if (x.rotation && x.rotation.length !== w * w) throw new ExportError(`${what}'s axes hold ${x.rotation.length} values for ${w} columns`);
}

/** [present, refMin ×3, refMax ×3, eventsMedian, logDensityCut, summaryMedian ×P, summarySpread ×P]. */
function domainArray(st: PipelineState, P: number): number[] {
  const dom = st.domain;
  if (!dom) return [0];
  const keys = ['plt_pct', 'retic_pct', 'clump_pct'] as const;
  if (dom.summaryMedian.length !== P || dom.summarySpread.length !== P) throw new ExportError('training-domain statistics do not match the pulse summaries');
  return [1, ...keys.map((k) => dom.refMin[k]), ...keys.map((k) => dom.refMax[k]), dom.eventsMedian, dom.logDensityCut, ...dom.summaryMedian, ...dom.summarySpread];
}

/** The arrays packed into the blob (layout above). */
export function packBlob(arrays: Arr[]): Uint8Array {
  if (arrays.length !== SLOTS && arrays.length !== SLOTS_INT8) throw new Error(`packBlob: ${arrays.length} arrays for ${SLOTS} or ${SLOTS_INT8} slots`);
  const align = (n: number) => (n + 15) & ~15;
  let at = align(12 + 8 * arrays.length);
  const offsets = arrays.map((x) => {
    const o = at;
    at = align(at + x.byteLength);
    return o;
  });
  const out = new Uint8Array(at);
  const view = new DataView(out.buffer);
  view.setUint32(0, BLOB_MAGIC, true);
  view.setUint32(4, arrays.length === SLOTS ? BLOB_VERSION : BLOB_VERSION_INT8, true);
  view.setUint32(8, arrays.length, true);
  arrays.forEach((x, s) => {
    view.setUint32(12 + 8 * s, offsets[s]!, true);
    view.setUint32(16 + 8 * s, x.length, true);
    out.set(new Uint8Array(x.buffer, x.byteOffset, x.byteLength), offsets[s]!);
  });
  return out;
}
