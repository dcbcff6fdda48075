// Stage 2's final decision in two levels, both reference-constrained mixtures (mixture.ts):
//
//   level A  single cell | clumped_rbc   over the volume/shape pulse summaries (FSC, SSC, IMP:
//            heights and widths) — no fluorescence, so a clump holding a reticulocyte is still a
//            clump (one mixture over all four summaries put RNA-carrying clumps with the
//            reticulocytes, which then filled the reticulocyte quota and pushed low-RNA
//            reticulocytes to rbc);
//   level B  rbc | reticulocyte          on the events level A calls single, over the RNA-stain
//            (FL) height and width: the one signal that separates the two.
//
// Supervision stays the references only: level A's per-sample proportions are (1 − clump − u,
// clump + u) with one offset u shared by all samples and chosen from the references (clump-offset.ts:
// room for the clump-like coincidences that no reference counts), level B's (rbc, retic)
// renormalised to the single cells. Both start from the trained VaDE's
// components (their responsibilities, liftMixture) and their map is re-decided by fitClassMap.
import type { ComputeBackend } from '../backend.js';
import { CLUMP_OFFSETS, levelATargets, offsetTrackingError } from './clump-offset.js';
import { classLogLik, classLogLikOnBackend, logGauss, rowsBySample, selectRows, type ClassMixture } from './mixture.js';
import { cloneMixture, fitClassMap, liftMixture } from './em-known.js';
import { proportionsFromClassLogLik, proportionsFromRelativeLik, relativeLikelihoods } from './proportions.js';
import type { PulseScaler } from './pulse-features.js';
import { principalAxes, rotateRows } from './axes.js';
import type { Role } from './layout.js';

/** Level A reads the volume/shape summaries (no fluorescence, see above); level B the RNA stain
 *  alone: with the embedding and all summaries as well, the rbc/reticulocyte boundary moved with
 *  dimensions that carry no RNA information. */
export const LEVEL_A_ROLES: readonly Role[] = ['FSC', 'SSC', 'IMP'];
export const LEVEL_B_ROLES: readonly Role[] = ['FL'];

export interface RedLevels {
  /** Width of the VaDE embedding; the pulse summaries follow it in each row. */
  embeddingDim: number;
  /** The role of each pulse-summary column (pulse-features.ts summaryRoles). */
  roles: Role[];
  a: ClassMixture;
  b: ClassMixture;
  /** Initial proportions for inference EM: mean of the training references. */
  priorA: number[];
  priorB: number[];
  /** Whether level A's summaries are read relative to the sample's own red cells (sampleShift). */
  centred: boolean;
  /** Level A's columns are read in these axes (axes.ts, w × w, fitted on the training red cells);
   *  null: as they are (files written before the rotation). */
  rotationA: Float64Array | null;
}

export interface LevelOptions {
  emIterations: number;
  smoothing: number;
  floor: number;
  /** The rows' summaries were centred per sample (sampleShift); stored so classify does the same. */
  centred: boolean;
  /** Read level A in the principal axes of its training rows (axes.ts). */
  rotate: boolean;
}

/** Columns of [embedding (d), pulse summaries] rows whose role is in `want`. */
function roleColumns(d: number, roles: readonly Role[], want: readonly Role[]): number[] {
  return roles.flatMap((r, p) => (want.includes(r) ? [d + p] : []));
}

/** Columns of [embedding (d), pulse] rows that level A uses (volume/shape summaries). */
export function levelAColumns(d: number, roles: readonly Role[]): number[] {
  return roleColumns(d, roles, LEVEL_A_ROLES);
}

/** Columns of [embedding (d), pulse] rows that level B uses: the RNA stain. */
export function levelBColumns(d: number, roles: readonly Role[]): number[] {
  return roleColumns(d, roles, LEVEL_B_ROLES);
}

/**
 * What one sample's summaries are read relative to: the median over its red-cell `rows` of each
 * volume/shape summary (level A's columns; 0 for the others). A clump is a doublet of the sample's
 * own cells, so single | clumped is a question about a cell against its sample's red cells; in
 * absolute terms it moves with every sample's MCV and each channel's gain on the day, and a sample
 * whose red cells are larger than any in training would be read as partly clumped. Clumps are a
 * few % of red events, so the median is the single cells'. The RNA stain is read as it is: its
 * zero (no RNA) is absolute, and a sample's reticulocyte share would move its median.
 */
export function sampleShift(roles: readonly Role[], f: ArrayLike<number>, rows: ArrayLike<number>): Float64Array {
  const P = roles.length;
  const shift = new Float64Array(P);
  if (!rows.length) return shift;
  const mass = new Float64Array(SHIFT_BINS);
  roles.forEach((r, p) => {
    if (!LEVEL_A_ROLES.includes(r)) return;
    mass.fill(0);
    for (let i = 0; i < rows.length; i++) addLinear(mass, f[rows[i] * P + p]);
    shift[p] = histogramMedian(mass, rows.length);
  });
  return shift;
}

/** The median is read off a fixed grid rather than a sort, so that a host streaming a sample's
 *  events (the embedded module) computes the same value in one pass with bounded memory. Each value
 *  shares its unit mass between the two nearest grid points in proportion to its distance (linear
 *  binning): the median is then a continuous function of the values, so two hosts whose summaries
 *  differ in the last bits get medians that differ in the last bits too (a plain histogram jumps
 *  when one value crosses a bin edge). Summaries are asinh heights, widths in time samples, or
 *  scalar shapes: all inside [SHIFT_LO, SHIFT_HI); the grid step 1/128 is far below any spread. */
export const SHIFT_LO = -32;
export const SHIFT_HI = 96;
export const SHIFT_BINS = (SHIFT_HI - SHIFT_LO) * 128 + 1;
const SHIFT_STEP = (SHIFT_HI - SHIFT_LO) / (SHIFT_BINS - 1);

/** Adds value v to the grid masses (linear binning; clamped to the grid's ends). */
export function addLinear(mass: Float64Array, v: number): void {
  const t = (Math.min(Math.max(v, SHIFT_LO), SHIFT_HI) - SHIFT_LO) / SHIFT_STEP;
  const b = Math.min(Math.floor(t), SHIFT_BINS - 2);
  const frac = t - b;
  mass[b] += 1 - frac;
  mass[b + 1] += frac;
}

/** The point where the grid's cumulative mass reaches n/2, linear between grid points. */
export function histogramMedian(mass: Float64Array, n: number): number {
  const half = n / 2;
  let below = 0;
  for (let b = 0; b < mass.length; b++) {
    if (below + mass[b] >= half && mass[b] > 0) {
      // The mass at grid point b stands for the half-steps on either side of it.
      return SHIFT_LO + (b - 0.5 + (half - below) / mass[b]) * SHIFT_STEP;
    }
    below += mass[b];
  }
  return SHIFT_HI;
}

/** Summaries [n × P] with each row's sample shift taken off (training: rows of several samples). */
export function centreBySample(roles: readonly Role[], f: Float64Array, n: number, sampleOf: Int32Array, S: number): Float64Array {
  const P = roles.length;
  const out = Float64Array.from(f);
  for (const rows of rowsBySample(sampleOf, S, n)) {
    const shift = sampleShift(roles, f, rows);
    for (const i of rows) for (let p = 0; p < P; p++) out[i * P + p] -= shift[p];
  }
  return out;
}

// Plain loops, no closure per row: at classify time these run over every event of a sample.
function selectColumns(z: ArrayLike<number>, D: number, n: number, cols: number[]): Float64Array {
  const w = cols.length;
  const out = new Float64Array(n * w);
  for (let i = 0; i < n; i++) for (let j = 0; j < w; j++) out[i * w + j] = z[i * D + cols[j]];
  return out;
}

/** ρ rows of a 3-class (rbc, retic, clump) mixture merged into the given groups, weighted by mean θ. */
function mergeRho(m: ClassMixture, groups: number[][], meanTheta: number[]): Float64Array {
  const { k } = m;
  const rho = new Float64Array(groups.length * k);
  groups.forEach((g, gi) => {
    let t = 0;
    for (let j = 0; j < k; j++) {
      let v = 0;
      for (const c of g) v += meanTheta[c] * m.rho[c * k + j];
      t += (rho[gi * k + j] = v);
    }
    for (let j = 0; j < k; j++) rho[gi * k + j] /= Math.max(t, 1e-300);
  });
  return rho;
}

const dominant = (rho: Float64Array, C: number, k: number) =>
  Array.from({ length: k }, (_, j) => {
    let b = 0;
    for (let c = 1; c < C; c++) if (rho[c * k + j] > rho[b * k + j]) b = c;
    return b;
  });

/**
 * Fits both levels. `vade` is the trained stage-2 mixture over the embedding `zEmb` (n × d); `z`
 * the same rows as [embedding, scaled pulse summaries] (n × D); theta[s] = (rbc, retic, clump).
 */
export async function fitRedLevels(be: ComputeBackend, vade: ClassMixture, zEmb: ArrayLike<number>, z: Float64Array, roles: Role[], n: number, sampleOf: Int32Array,
  theta: number[][], o: LevelOptions, log?: (m: string) => void): Promise<RedLevels> {
  const d = vade.d;
  const D = d + roles.length;
  const meanTheta = meanOf(theta);
  // Level A.
  const colsA = levelAColumns(d, roles);
  const zRaw = selectColumns(z, D, n, colsA);
  const rotationA = o.rotate ? principalAxes(zRaw, n, colsA.length) : null;
  const zA = rotationA ? rotateRows(zRaw, n, colsA.length, rotationA) : zRaw;
  const a0 = liftMixture(vade, zEmb, zA, colsA.length, n, sampleOf, theta, o.floor);
  const rhoA = mergeRho(vade, [[0, 1], [2]], meanTheta);
  // One fit per clump-target offset u (clump-offset.ts); the one whose inferred clump shares best
  // follow the references up to a constant wins (the smaller u on a tie).
  const clumpRef = theta.map((t) => t[2]);
  let best: { a: ClassMixture; thetaA: number[][]; u: number; error: number } | null = null;
  for (const u of CLUMP_OFFSETS) {
    const thetaA = levelATargets(theta, u);
    const a: ClassMixture = { ...cloneMixture(a0), classes: 2, rho: Float64Array.from(rhoA) };
    const fitA = await fitClassMap(be, a, zA, n, sampleOf, thetaA, { softIterations: o.emIterations, hardIterations: o.emIterations, smoothing: o.smoothing, floor: o.floor, candidates: [dominant(a.rho, 2, a.k)] });
    const track = await offsetTrackingError(be, a, zA, n, sampleOf, clumpRef, 1, meanOf(thetaA));
    log?.(`stage 2 level A (single | clump), clump targets + ${(100 * u).toFixed(2)} pp: map [${fitA.classOf.join(',')}] of ${fitA.tried} (reference fit ${fitA.fit.toFixed(3)}; clump tracking ${(1e4 * track.error).toFixed(3)} pp², offset ${(100 * track.offset).toFixed(2)} pp)`);
    if (!best || track.error < best.error) best = { a, thetaA, u, error: track.error };
  }
  const { a, thetaA } = best!;
  log?.(`stage 2 level A: clump-target offset ${(100 * best!.u).toFixed(2)} pp chosen`);
  // Level B on the rows level A calls single (under each sample's reference prior).
  const postA = posteriorsUnder(a, await classLogLikOnBackend(be, a, zA, n), n, sampleOf, thetaA, o.floor);
  const single: number[] = [];
  for (let i = 0; i < n; i++) if (postA[i * 2] >= 0.5) single.push(i);
  const colsB = levelBColumns(d, roles);
  const zB = selectColumns(selectRows(z, D, single), D, single.length, colsB);
  const embB = selectRows(zEmb, d, single);
  const sB = Int32Array.from(single, (i) => sampleOf[i]);
  const thetaB = theta.map((t) => [t[0] / Math.max(t[0] + t[1], 1e-12), t[1] / Math.max(t[0] + t[1], 1e-12)]);
  const b0 = liftMixture(vade, embB, zB, colsB.length, single.length, sB, theta, o.floor);
  const b: ClassMixture = { ...b0, classes: 2, rho: mergeRho(vade, [[0], [1]], meanTheta) };
  const fitB = await fitClassMap(be, b, zB, single.length, sB, thetaB, { softIterations: o.emIterations, hardIterations: o.emIterations, smoothing: o.smoothing, floor: o.floor, candidates: [dominant(b.rho, 2, b.k)] });
  log?.(`stage 2 level B (rbc | retic) on ${single.length} of ${n} rows: map [${fitB.classOf.join(',')}] of ${fitB.tried} (reference fit ${fitB.fit.toFixed(3)})`);
  return { embeddingDim: d, roles, a, b, priorA: meanOf(thetaA), priorB: meanOf(thetaB), centred: o.centred, rotationA };
}

/** Per-class means of per-sample proportions [S × classes]. */
const meanOf = (th: number[][]) => th[0].map((_, c) => th.reduce((s, t) => s + t[c], 0) / th.length);

/** Class posteriors [n × classes] from the class log-likelihoods L [n × classes], with each row's
 *  sample prior θ_s (no re-estimation). */
function posteriorsUnder(m: ClassMixture, L: ArrayLike<number>, n: number, sampleOf: Int32Array, theta: number[][], floor: number): Float64Array {
  const out = new Float64Array(n * m.classes);
  rowsBySample(sampleOf, theta.length, n).forEach((rows, s) => {
    const { post } = proportionsFromClassLogLik(m.classes, selectRows(L, m.classes, rows), rows.length, { init: theta[s].map((v) => Math.max(v, floor)), iterations: 1 });
    rows.forEach((r, i) => {
      for (let c = 0; c < m.classes; c++) out[r * m.classes + c] = post[i * m.classes + c];
    });
  });
  return out;
}

/** The per-event inputs of the two levels: level A's and level B's columns of `z` (n × D). */
export function levelInputs(L: RedLevels, z: Float64Array, n: number): { zA: Float64Array; zB: Float64Array } {
  const d = L.embeddingDim;
  const D = d + L.roles.length;
  return { zA: inAxes(L, selectColumns(z, D, n, levelAColumns(d, L.roles)), n), zB: selectColumns(z, D, n, levelBColumns(d, L.roles)) };
}

/**
 * levelInputs(L, withPulse(emb, d, f − shift, P, sc, n), n) without building the joint rows: both
 * levels read pulse columns only, so each value is the same z-score (f − shift − mean) / std,
 * straight from the raw summaries `f` [n × P] (classify's path: it never needs the embedding
 * columns here). `shift`: the sample's sampleShift when the model is centred, else zeros.
 */
export function levelInputsFromPulse(L: RedLevels, f: ArrayLike<number>, sc: PulseScaler, n: number, shift?: Float64Array): { zA: Float64Array; zB: Float64Array } {
  const d = L.embeddingDim;
  const P = L.roles.length;
  const off = shift ?? new Float64Array(P);
  const pick = (cols: number[]) => {
    const ps = cols.map((c) => c - d);
    const w = ps.length;
    const out = new Float64Array(n * w);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < w; j++) out[i * w + j] = (f[i * P + ps[j]] - off[ps[j]] - sc.mean[ps[j]]) / sc.std[ps[j]];
    }
    return out;
  };
  return { zA: inAxes(L, pick(levelAColumns(d, L.roles)), n), zB: pick(levelBColumns(d, L.roles)) };
}

/** Level A's rows in the model's axes (unchanged when it has none). */
function inAxes(L: RedLevels, zA: Float64Array, n: number): Float64Array {
  return L.rotationA ? rotateRows(zA, n, L.a.d, L.rotationA) : zA;
}

/**
 * Inference for one sample: `z` all its events as [embedding, pulse] (n × D), `red` the events
 * stage 1 calls red cells. Proportions are re-estimated on the sample (level A on its red events,
 * level B on those level A calls single); returns (rbc, retic, clump) posteriors for every event.
 * All on the host; classify computes the class log-likelihoods on the backend and calls
 * classifyRedFromClassLogLik (pipeline/index.ts).
 */
export function classifyRed(L: RedLevels, z: Float64Array, n: number): (red: number[]) => Float64Array {
  const { zA, zB } = levelInputs(L, z, n);
  // Class log-likelihoods of every event once per level; the EM on a subset picks its rows.
  return classifyRedFromClassLogLik(L, classLogLik(L.a, logGauss(L.a, zA, n), n), classLogLik(L.b, logGauss(L.b, zB, n), n), n);
}

/**
 * classifyRed from the two levels' class log-likelihoods of every event, [n × 2] each, any per-row
 * constant allowed (the EM cancels it): at classify time they come from the backend
 * (mixture.ts classLogLikOnBackend, pipeline/index.ts).
 */
export function classifyRedFromClassLogLik(L: RedLevels, LA: ArrayLike<number>, LB: ArrayLike<number>, n: number): (red: number[]) => Float64Array {
  // Each event's class likelihoods exponentiated once per level; the EMs on row subsets select them.
  const eA = relativeLikelihoods(LA, n, 2);
  const eB = relativeLikelihoods(LB, n, 2);
  return (red) => {
    const { theta: tA } = proportionsFromRelativeLik(2, selectRows(eA, 2, red), red.length, { init: L.priorA, accelerate: true });
    const { post: pA } = proportionsFromRelativeLik(2, eA, n, { init: tA, iterations: 1 });
    const single = red.filter((i) => pA[i * 2] >= 0.5);
    const { theta: tB } = single.length
      ? proportionsFromRelativeLik(2, selectRows(eB, 2, single), single.length, { init: L.priorB, accelerate: true })
      : { theta: Float64Array.from(L.priorB) };
    const { post: pB } = proportionsFromRelativeLik(2, eB, n, { init: tB, iterations: 1 });
    const out = new Float64Array(n * 3);
    for (let i = 0; i < n; i++) {
      out[i * 3] = pA[i * 2] * pB[i * 2];
      out[i * 3 + 1] = pA[i * 2] * pB[i * 2 + 1];
      out[i * 3 + 2] = pA[i * 2 + 1];
    }
    return out;
  };
}
