// Hand-made pipeline models (no training: fast) for the exported classifier's tests, in the layouts
// training may produce: waveform channels of equal or unequal length, and per-event scalar
// parameters. Weights are deterministic pseudo-random numbers, mixtures valid (ρ rows on the simplex).
import type { NamedTensor } from '../../bindings/io/safetensors.js';
import { ROLES, type ChannelLayout } from '../../bindings/pipeline/layout.js';
import { summaryRoles } from '../../bindings/pipeline/pulse-features.js';
import { levelAColumns, levelBColumns } from '../../bindings/pipeline/red-levels.js';
import { principalAxes } from '../../bindings/pipeline/axes.js';
import { CLASSES, type PipelineState } from '../../bindings/pipeline/types.js';
import { Rng } from './rng.js';

export type HandLayout = 'waveform' | 'uneven' | 'scalar';

function layoutOf(kind: HandLayout): ChannelLayout {
  if (kind === 'scalar') {
    const params = [['H', 'A', 'W'], ['H', 'A'], ['H', 'W'], ['H']];
    const groups = ROLES.map((role, r) => ({ role, name: role, columns: params[r]!.map((p) => `${role}-${p}`), params: params[r]! }));
    return { kind: 'scalar', points: 0, groups, featureNames: null, inputColumns: 8 };
  }
  const T = kind === 'uneven' ? [6, 4, 5, 7] : [5, 5, 5, 5];
  let at = 0;
  const groups = ROLES.map((role, r) => ({ role, name: role, columns: Array.from({ length: T[r]! }, () => `#${at++}`) }));
  return { kind: 'waveform', points: kind === 'uneven' ? 0 : 5, groups, featureNames: null, inputColumns: at };
}

export function handState(kind: HandLayout, seed = 1): PipelineState {
  const rng = new Rng(seed);
  const u = (n: number, lo: number, hi: number) => Float32Array.from({ length: n }, () => rng.range(lo, hi));
  const layout = layoutOf(kind);
  const F = layout.inputColumns;
  const dims = [12, 7, 3];
  const d = dims[dims.length - 1]!;
  const enc = (s: string): Record<string, NamedTensor> => {
    const out: Record<string, NamedTensor> = {};
    const w = [F, ...dims];
    dims.forEach((o, l) => {
      const scale = 1.5 / Math.sqrt(w[l]!);
      out[`${s}.encoder.${l}.weight`] = { shape: [o, w[l]!], data: u(o * w[l]!, -scale, scale) };
      out[`${s}.encoder.${l}.bias`] = { shape: [o], data: u(o, -0.2, 0.2) };
    });
    return out;
  };
  const rhoRows = (classes: number, k: number) => {
    const r = u(classes * k, 0.05, 1);
    for (let c = 0; c < classes; c++) {
      let s = 0;
      for (let j = 0; j < k; j++) s += r[c * k + j]!;
      for (let j = 0; j < k; j++) r[c * k + j]! /= s;
    }
    return Float64Array.from(r);
  };
  const mix = (k: number, dd: number, classes: number) => ({ k, d: dd, classes, mu: Float64Array.from(u(k * dd, -1.5, 1.5)), logVar: Float64Array.from(u(k * dd, -1, 0.5)), rho: rhoRows(classes, k) });
  const roles = summaryRoles(layout);
  const P = roles.length;
  // Two classes, each with components of its own (ρ zero off the map, as fitClassMap leaves it).
  const hardMix = (k: number, dd: number) => {
    const m = mix(k, dd, 2);
    for (let j = 0; j < k; j++) m.rho[(j % 2 === 0 ? 1 : 0) * k + j] = 0;
    for (let c = 0; c < 2; c++) {
      let t = 0;
      for (let j = 0; j < k; j++) t += m.rho[c * k + j];
      for (let j = 0; j < k; j++) m.rho[c * k + j] /= t;
    }
    return m;
  };
  const dA = levelAColumns(d, roles).length;
  return {
    meta: { name: `hand-made ${kind}`, features: F, classes: [...CLASSES], createdAt: '2026-12-07T00:00:00Z', version: 'test' },
    layout,
    pre: { offset: u(F, -0.1, 0.1), scale: u(F, 0.2, 0.6), mean: u(F, 0.5, 1.5), std: u(F, 0.5, 1.5) },
    dims,
    stage1: { encoder: enc('stage1'), centers: u(4 * d, -1, 1), k: 4, alpha: 1, pltMembers: [true, false, false, true],
      // The scalar model's platelet side reads the embedding without axes or re-estimation (as files
      // with platelet sub-clusters are read); the others read the pulse summaries in their axes.
      side: kind === 'scalar'
        ? { mixture: hardMix(3, d), prior: [0.7, 0.3], input: 'embedding', mean: new Float64Array(d), std: new Float64Array(d).fill(1), rotation: null, reestimate: false, fit: 0 }
        : { mixture: hardMix(3, P), prior: [0.85, 0.15], input: 'pulse', mean: Float64Array.from(u(P, 0, 1)), std: Float64Array.from(u(P, 0.5, 1.5)), rotation: principalAxes(u(P * 60, -1, 1).map((v, i) => v + (i % P) * v), 60, P), reestimate: true, fit: 0 },
      redSide: null },
    stage2: { encoder: enc('stage2'), mixture: mix(4, d, 3), thetaPrior: [0.9, 0.05, 0.05], reticScale: 1.1, pulse: { mean: u(P, 0, 1), std: u(P, 0.5, 1.5) },
      levels: { embeddingDim: d, roles, a: mix(5, dA, 2), b: mix(4, levelBColumns(d, roles).length, 2), priorA: [0.97, 0.03], priorB: [0.96, 0.04],
        // The scalar model stays as files before per-sample centring were (3 passes, no axes).
        centred: kind !== 'scalar', rotationA: kind !== 'scalar' ? principalAxes(u(dA * 50, -1, 1).map((v, i) => v + (i % dA) * v), 50, dA) : null } },
    pca: null,
    domain: { refMin: { plt_pct: 1, retic_pct: 0.5, clump_pct: 0 }, refMax: { plt_pct: 40, retic_pct: 30, clump_pct: 30 }, eventsMedian: 300, summaryMedian: Array.from(u(P, 0, 1)), summarySpread: Array.from(u(P, 0.5, 1)), logDensityCut: -9 },
  };
}

/** rows × F positive-ish signals in the model's units (pulses above a baseline). */
export function handSignals(st: PipelineState, rows: number, seed: number): Float32Array {
  const rng = new Rng(seed, 1);
  const F = st.meta.features;
  const x = new Float32Array(rows * F);
  for (let r = 0; r < rows; r++) {
    const size = Math.exp(3 * rng.uniform());
    for (let c = 0; c < F; c++) x[r * F + c] = st.pre.offset[c]! + st.pre.scale[c]! * size * (0.2 + rng.uniform());
  }
  return x;
}
