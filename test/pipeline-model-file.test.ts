// The pipeline model loader against malformed metadata (issue 24): each mutant below once made
// decodePipeline or the BloodCellPipeline constructor throw a TypeError/RangeError, read silently
// wrong, or allocate from unchecked sizes. Each must now be refused with a FormatError naming the
// file, before anything is allocated. The model is built by hand (no training), so this is fast.
import { describe, expect, it } from 'vitest';
import { createReferenceBackend } from '../bindings/backends/reference/index.js';
import { FormatError } from '../bindings/io/errors.js';
import { decodeSafetensors, encodeSafetensors, type NamedTensor } from '../bindings/io/safetensors.js';
import { BloodCellPipeline, CLASSES, type PipelineState } from '../bindings/pipeline/index.js';
import { decodePipeline, encodePipeline } from '../bindings/pipeline/model-file.js';
import { ROLES } from '../bindings/pipeline/layout.js';

const F = 16;
const DIMS = [3, 2];
const f32 = (n: number, s = 1) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * s + 1) * 0.5);
const mix = (k: number, d: number, classes: number) => ({ k, d, classes, mu: Float64Array.from(f32(k * d, 2)), logVar: Float64Array.from(f32(k * d, 3)), rho: Float64Array.from(f32(classes * k, 5), Math.abs) });

function state(): PipelineState {
  const enc = (s: string): Record<string, NamedTensor> => {
    const out: Record<string, NamedTensor> = {};
    const w = [F, ...DIMS];
    DIMS.forEach((o, l) => {
      out[`${s}.encoder.${l}.weight`] = { shape: [o, w[l]!], data: f32(o * w[l]!, l + 1) };
      out[`${s}.encoder.${l}.bias`] = { shape: [o], data: f32(o, 7) };
    });
    return out;
  };
  const roles = ROLES.flatMap((r) => [r, r]);
  return {
    meta: { name: 'hand-made', features: F, classes: [...CLASSES], createdAt: '2026-12-07T00:00:00Z', version: 'test', trainedOn: { samples: 2, cells: 10 }, options: { dims: DIMS },
      quality: { samples: 2, passed: true, fits: Object.fromEntries(['plt_pct', 'retic_pct', 'clump_pct'].map((k) => [k, { rms: 0.1, sd: 1, maxAbs: 0.2, r2: 0.9, passed: true }])) as never } },
    layout: { kind: 'waveform', points: 4, groups: ROLES.map((role, r) => ({ role, name: role, columns: [0, 1, 2, 3].map((t) => `#${r * 4 + t}`) })), featureNames: null, inputColumns: F },
    pre: { offset: f32(F), scale: f32(F, 2).map(Math.abs), mean: f32(F, 3), std: f32(F, 4).map((x) => Math.abs(x) + 1) },
    dims: DIMS,
    stage1: { encoder: enc('stage1'), centers: f32(4), k: 2, alpha: 1, pltMembers: [true, false],
      side: { mixture: mix(3, 8, 2), prior: [0.9, 0.1], input: 'pulse', mean: Float64Array.from(f32(8)), std: Float64Array.from(f32(8), (x) => Math.abs(x) + 1), rotation: Float64Array.from({ length: 64 }, (_, i) => (i % 9 === 0 ? 1 : 0)), reestimate: true, fit: 0.5 },
      redSide: { mixture: mix(4, 8, 2), prior: [0.02, 0.98], input: 'pulse', mean: Float64Array.from(f32(8)), std: Float64Array.from(f32(8), (x) => Math.abs(x) + 2), rotation: null, reestimate: true, fit: 0.25 } },
    stage2: { encoder: enc('stage2'), mixture: mix(2, 2, 3), thetaPrior: [0.8, 0.1, 0.1], reticScale: 1.2, pulse: { mean: f32(8), std: f32(8).map((x) => Math.abs(x) + 1) },
      levels: { embeddingDim: 2, roles, a: mix(2, 6, 2), b: mix(2, 2, 2), priorA: [0.9, 0.1], priorB: [0.95, 0.05], centred: true, rotationA: Float64Array.from({ length: 36 }, (_, i) => (i % 7 === 0 ? 1 : 0)) } },
    pca: null,
    domain: { refMin: { plt_pct: 1, retic_pct: 1, clump_pct: 0 }, refMax: { plt_pct: 5, retic_pct: 3, clump_pct: 1 }, eventsMedian: 300, summaryMedian: Array(8).fill(1), summarySpread: Array(8).fill(0.5), logDensityCut: -4 },
  };
}

const GOOD = encodePipeline(state());
const SRC = 'mutant.safetensors';

/** GOOD with metadata key `key` parsed, changed by `edit`, and written back (checksums valid). */
function mutate(key: 'meta' | 'architecture', edit: (o: any) => void): Uint8Array {
  const { tensors, metadata } = decodeSafetensors(GOOD, 'good');
  const o = JSON.parse(metadata[key]!);
  edit(o);
  return encodeSafetensors(tensors, { ...metadata, [key]: JSON.stringify(o) });
}
function rawMeta(key: string, text: string): Uint8Array {
  const { tensors, metadata } = decodeSafetensors(GOOD, 'good');
  return encodeSafetensors(tensors, { ...metadata, [key]: text });
}
function withTensors(edit: (t: Record<string, NamedTensor>) => void): Uint8Array {
  const { tensors, metadata } = decodeSafetensors(GOOD, 'good');
  const t: Record<string, NamedTensor> = Object.create(null);
  for (const k of Object.keys(tensors)) t[k] = tensors[k]!;
  edit(t);
  return encodeSafetensors(t, { ...metadata });
}

function refused(bytes: Uint8Array, why: RegExp): void {
  let err: unknown = null;
  try { decodePipeline(bytes, SRC); } catch (e) { err = e; }
  expect(err, 'accepted').toBeInstanceOf(FormatError);
  expect((err as Error).message.startsWith(`${SRC}: `)).toBe(true);
  expect((err as Error).message).toMatch(why);
}

describe('pipeline model file: decodePipeline refuses malformed metadata with a FormatError', () => {
  it('loads and re-saves the well-formed file unchanged, through the constructor', () => {
    const be = createReferenceBackend();
    const p = BloodCellPipeline.fromBytes(GOOD, be, 'good');
    expect(p.toBytes()).toEqual(GOOD);
    p.dispose();
  });

  const cases: [string, Uint8Array, RegExp][] = [
    ['dims as a string', mutate('architecture', (a) => { a.dims = '8,4'; }), /field 'dims': expected an array/],
    ['dims of 1e9', mutate('architecture', (a) => { a.dims = [1e9, 2]; }), /field 'dims\.0': expected an integer in \[1, 4096\]/],
    ['dims [30000000, 2]', mutate('architecture', (a) => { a.dims = [30000000, 2]; }), /dims\.0/],
    // Before: the MLPs were built from dims before any encoder tensor was checked (32 MB for a 21 KB file).
    ['dims that the encoder tensors do not back', mutate('architecture', (a) => { a.dims = [4000, 2]; }), /tensor 'stage1\.encoder\.0\.weight' has shape \[3,16\], but the architecture metadata implies \[4000,16\]/],
    ['a missing stage 2', mutate('architecture', (a) => { delete a.stage2; }), /field 'stage2': expected an object, found nothing/],
    ['stage2.k as a string', mutate('architecture', (a) => { a.stage2.k = '2'; }), /stage2\.k/],
    ['pltMembers one short', mutate('architecture', (a) => { a.stage1.pltMembers.pop(); }), /stage1\.pltMembers': expected an array of 2 elements/],
    ['pltMembers of numbers', mutate('architecture', (a) => { a.stage1.pltMembers = [1, 0]; }), /stage1\.pltMembers\.0': expected true or false/],
    ['stage1.k of 0', mutate('architecture', (a) => { a.stage1.k = 0; }), /stage1\.k/],
    ['a platelet side of the wrong width', mutate('architecture', (a) => { a.stage1.side.width = 6; }), /stage1\.side\.width/],
    ['a platelet side reading an unknown input', mutate('architecture', (a) => { a.stage1.side.input = 'fsc'; }), /stage1\.side\.input/],
    ['a platelet side beyond its tensors', mutate('architecture', (a) => { a.stage1.side.k = 4; }), /stage1\.side\.mu/],
    ['a platelet side prior above 1', mutate('architecture', (a) => { a.stage1.side.prior[0] = 2; }), /stage1\.side\.prior\.0/],
    ['a red-side split reading the embedding', mutate('architecture', (a) => { a.stage1.redSide.input = 'embedding'; a.stage1.redSide.width = 2; }), /stage1\.redSide\.input': expected "pulse"/],
    ['a red-side split with rotation but no tensor', mutate('architecture', (a) => { a.stage1.redSide.rotated = true; }), /stage1\.red_side\.rotation/],
    ['both sub-clusters and a platelet side', mutate('architecture', (a) => { a.stage1.sub = { k: 2, members: [true, false], sse: 0 }; }), /stage1\.sub' and 'stage1\.side'/],
    ['thetaPrior of 2 classes', mutate('architecture', (a) => { a.stage2.thetaPrior.pop(); }), /stage2\.thetaPrior': expected an array of 3 elements/],
    ['a prior above 1', mutate('architecture', (a) => { a.stage2.levels.priorA[0] = 1.5; }), /stage2\.levels\.priorA\.0/],
    ['priorB as null', mutate('architecture', (a) => { a.stage2.levels.priorB = null; }), /stage2\.levels\.priorB/],
    ['level roles not the layout\'s', mutate('architecture', (a) => { a.stage2.levels.roles[0] = 'FL'; }), /stage2\.levels\.roles/],
    ['ka beyond its tensors', mutate('architecture', (a) => { a.stage2.levels.ka = 3; }), /stage2\.a\.mu/],
    ['rotated as a string', mutate('architecture', (a) => { a.stage2.levels.rotated = 'yes'; }), /stage2\.levels\.rotated/],
    ['rotated without its tensor', mutate('architecture', (a) => { a.stage2.levels.rotated = false; }), /stage2\.levels\.a_rotation/],
    ['levels on a layout without channels', mutate('architecture', (a) => { a.layout = { kind: 'matrix', points: 0, groups: [], featureNames: null, inputColumns: F }; a.stage1.side = null; a.stage1.redSide = null; }), /stage2\.levels': a matrix layout/],
    ['a platelet side reading summaries a matrix layout has not', mutate('architecture', (a) => { a.layout = { kind: 'matrix', points: 0, groups: [], featureNames: null, inputColumns: F }; }), /stage1\.side\.input': the layout has no pulse summaries/],
    ['a layout group of the wrong role', mutate('architecture', (a) => { a.layout.groups[1].role = 'FSC'; }), /layout\.groups\.1\.role/],
    ['a waveform channel of 3 samples', mutate('architecture', (a) => { a.layout.groups[0].columns.pop(); a.layout.points = 0; }), /layout\.groups\.0\.columns/],
    ['layout.points wrong', mutate('architecture', (a) => { a.layout.points = 5; }), /expected 5 time samples/],
    ['layout.groups as an object', mutate('architecture', (a) => { a.layout.groups = { k: 1 }; }), /layout\.groups/],
    ['a domain with 7 summary medians', mutate('architecture', (a) => { a.domain.summaryMedian.pop(); }), /domain\.summaryMedian/],
    ['an unknown architecture key', mutate('architecture', (a) => { a.x = 1; }), /unexpected key "x"/],
    ['a __proto__ key in stage1', mutate('architecture', (a) => { Object.defineProperty(a.stage1, '__proto__', { value: { k: 1 }, enumerable: true }); }), /unexpected key "__proto__"/],
    ['architecture as a number', rawMeta('architecture', '30000000'), /metadata architecture: expected an object/],
    ['meta.features as a string', mutate('meta', (m) => { m.features = '16'; }), /metadata meta field 'features'/],
    ['meta.features inconsistent with the layout', mutate('meta', (m) => { m.features = 20; }), /describes 16 columns, but meta\.features is 20/],
    ['meta.classes edited', mutate('meta', (m) => { m.classes = ['a']; }), /field 'classes'/],
    ['meta.quality without fits', mutate('meta', (m) => { delete m.quality.fits; }), /quality\.fits/],
    ['meta.quality.passed contradicting its fits', mutate('meta', (m) => { m.quality.fits.plt_pct.passed = false; }), /quality\.passed/],
    ['meta as null', rawMeta('meta', 'null'), /metadata meta: expected an object/],
    ['meta that is not JSON', rawMeta('meta', '{'), /metadata 'meta' is not valid JSON/],
    ['an extra tensor', withTensors((t) => { t.extra = { shape: [2], data: new Float32Array(2) }; }), /unexpected tensor 'extra'/],
    ['an extra encoder layer', withTensors((t) => { t['stage1.encoder.9.weight'] = { shape: [2], data: new Float32Array(2) }; }), /unexpected tensor 'stage1\.encoder\.9\.weight'/],
    ['a tensor named __proto__', withTensors((t) => { t.__proto__ = { shape: [2], data: new Float32Array(2) }; }), /unexpected tensor '__proto__'/],
    ['a missing encoder bias', withTensors((t) => { delete t['stage2.encoder.1.bias']; }), /missing tensor 'stage2\.encoder\.1\.bias'/],
    ['one pca tensor without the other', withTensors((t) => { t['pca.mean'] = { shape: [4], data: new Float32Array(4) }; }), /missing tensor 'pca\.components'/],
  ];
  for (const [name, bytes, why] of cases) it(`refuses ${name}`, () => refused(bytes, why));

});
