// Stage 1's platelet side: platelet | other, a reference-constrained mixture (docs/method.md).
//
// Debris (cell fragments) lands with the platelets: IDEC's few clusters follow the bulk of the
// data and never spend one on a population of a few per cent of events. So the events stage 1
// puts on the platelet side are split once more, by the same mechanism as stage 2's decision: a
// diagonal mixture with two classes whose per-sample proportions are fixed by the references
// during training. A training sample's platelets are its reference share of ALL its events, so
// the platelet class must take exactly that many of the sample's platelet-side events, and debris
// (whose share does not follow the platelet share) is what is left. At inference each sample's
// (platelet, other) proportions are re-estimated by EM on its own platelet-side events, as the
// levels do for the red classes.
//
// The side reads the pulse summaries (heights and widths of every channel, pulse-features.ts),
// standardised and turned to their principal axes (axes.ts) for the diagonal components; a plain
// matrix layout has no summaries, so there it reads stage 1's embedding. The components start from
// k-means, and the sub-clusters whose per-sample shares best follow the platelet share
// (mapping.ts bestScaledSubset) are offered to fitClassMap as a candidate map beside its own.
// How many components: the references decide that too. The side is fitted with each count of
// SIDE_COMPONENTS, and the one whose re-estimated training proportions follow the references best
// (fitClassMap's reference fit: what inference does, on the training samples) is kept. Debris
// and platelets overlap, and a split that gives "other" a component holding small platelets
// drifts when each sample re-estimates its proportions; that shows as a poor reference fit.
import type { ComputeBackend } from '../backend.js';
import { kmeansOnBackend } from '../models/kmeans.js';
import { uploadMatrix } from '../models/data.js';
import { bestScaledSubset } from './mapping.js';
import { classLogLikOnBackend, rowsBySample, selectRows, type ClassMixture } from './mixture.js';
import { fitClassMap, mStep, START_KMEANS_RESTARTS } from './em-known.js';
import { proportionsFromClassLogLik } from './proportions.js';
import { principalAxes, rotateRows } from './axes.js';

/** Which per-event vectors the side reads. */
export type SideInput = 'pulse' | 'embedding';

export interface PlateletSplit {
  /** Classes (platelet, other) over the standardised, rotated inputs. */
  mixture: ClassMixture;
  /** Mean training proportions (platelet, other): where each sample's EM starts. */
  prior: number[];
  input: SideInput;
  mean: Float64Array;
  std: Float64Array;
  /** Axes the standardised inputs are read in (w × w); null: as they are. */
  rotation: Float64Array | null;
  /** Re-estimate each sample's proportions (false only for files written before: their platelet
   *  sub-clusters were weighed by one fixed prior). */
  reestimate: boolean;
  /** How well the re-estimated training proportions follow the references (fitClassMap). */
  fit: number;
}

/** The component counts tried (the best reference fit wins). */
export const SIDE_COMPONENTS: readonly number[] = [4, 6, 8];

export interface SideOptions {
  /** Mixture component counts to try; the best reference fit wins. */
  components: readonly number[];
  seed: number;
  emIterations: number;
  smoothing: number;
  floor: number;
}

/** A fixed platelet sub-cluster map may miss this fraction of a sample's platelets (those on the
 *  red side) or count this much more, when choosing the candidate map (mapping.ts). */
const SUBSET_SCALE: [number, number] = [0.8, 1.25];
/** Fewer platelet-side training rows per component than this: no split (everything is platelet). */
const MIN_ROWS_PER_COMPONENT = 20;
const VAR_FLOOR = 1e-4;

/** Rows of x [· × w] standardised with the side's scaler and turned to its axes. */
export function sideRows(side: Pick<PlateletSplit, 'mean' | 'std' | 'rotation'>, x: ArrayLike<number>, rows: ArrayLike<number> | null, n: number): Float64Array {
  const w = side.mean.length;
  const out = rows ? selectRows(x, w, rows) : Float64Array.from(x as ArrayLike<number>).subarray(0, n * w);
  for (let i = 0; i < n; i++) for (let j = 0; j < w; j++) out[i * w + j] = (out[i * w + j] - side.mean[j]) / side.std[j];
  return side.rotation ? rotateRows(out, n, w, side.rotation) : out;
}

/**
 * Fits a split of the training `rows` (one side of stage 1) into platelet | the rest. `x` [n × w]:
 * every training row's inputs; pltShare[s]: the share of ALL sample s's training rows that are
 * platelets among `rows` (the reference platelet share, for the platelet side). Null when there
 * are too few rows to split.
 */
export async function fitPlateletSplit(be: ComputeBackend, x: ArrayLike<number>, w: number, input: SideInput, rows: ArrayLike<number>,
  sampleOf: Int32Array, pltShare: number[], o: SideOptions, log?: (message: string) => void): Promise<PlateletSplit | null> {
  const counts = o.components.filter((k) => k > 1 && rows.length >= MIN_ROWS_PER_COMPONENT * k);
  if (!counts.length) return null;
  const S = pltShare.length;
  const raw = selectRows(x, w, rows);
  const mean = new Float64Array(w);
  const std = new Float64Array(w);
  for (let i = 0; i < rows.length; i++) for (let j = 0; j < w; j++) mean[j] += raw[i * w + j] / rows.length;
  for (let i = 0; i < rows.length; i++) for (let j = 0; j < w; j++) std[j] += (raw[i * w + j] - mean[j]) ** 2 / rows.length;
  for (let j = 0; j < w; j++) std[j] = Math.sqrt(std[j]) || 1;
  const scaled = sideRows({ mean, std, rotation: null }, raw, null, rows.length);
  const rotation = principalAxes(scaled, rows.length, w);
  const z = rotateRows(scaled, rows.length, w, rotation);
  const sOf = Int32Array.from(rows, (r) => sampleOf[r]);

  // Per sample: its training rows, its rows on this side, and the platelet share of the side.
  const total = new Float64Array(S);
  const side = new Float64Array(S);
  for (let i = 0; i < sampleOf.length; i++) total[sampleOf[i]]++;
  for (const s of sOf) side[s]++;
  const theta = pltShare.map((p, s) => {
    const t = Math.min(Math.max((p * total[s]) / Math.max(side[s], 1), o.floor), 1 - o.floor);
    return [t, 1 - t];
  });

  let best: { mixture: ClassMixture; fit: number } | null = null;
  for (const k of counts) {
    const { mixture, members } = await startingMixture(be, z, rows.length, w, sOf, S, total, pltShare, k, o.seed);
    const map = members.map((m) => (m ? 0 : 1));
    const { fit } = await fitClassMap(be, mixture, z, rows.length, sOf, theta, { softIterations: o.emIterations, hardIterations: o.emIterations, smoothing: o.smoothing, floor: o.floor, candidates: [map] });
    log?.(`${k} components: reference fit ${fit.toFixed(3)}`);
    if (!best || fit < best.fit) best = { mixture, fit };
  }
  const prior = [0, 1].map((c) => theta.reduce((a, t) => a + t[c], 0) / S);
  return { mixture: best!.mixture, prior, input, mean, std, rotation, reestimate: true, fit: best!.fit };
}

/** k-means components of the side's rows, and the sub-clusters whose per-sample shares (of all the
 *  sample's events) best follow the platelet share; ρ of each class over its candidate members. */
async function startingMixture(be: ComputeBackend, z: Float64Array, n: number, w: number, sOf: Int32Array, S: number, total: Float64Array,
  pltShare: number[], k: number, seed: number): Promise<{ mixture: ClassMixture; members: boolean[] }> {
  const host = { rows: n, cols: w, data: Float32Array.from(z) };
  const Z = uploadMatrix(be, host);
  let labels: Int32Array;
  try {
    labels = (await kmeansOnBackend(be, Z, host, { k, nInit: START_KMEANS_RESTARTS, seed })).labels;
  } finally {
    be.dispose(Z);
  }
  const mixture: ClassMixture = { k, d: w, classes: 2, mu: new Float64Array(k * w), logVar: new Float64Array(k * w), rho: new Float64Array(2 * k) };
  const resp = new Float64Array(n * k);
  const size = new Float64Array(k);
  const shares = Array.from({ length: S }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < n; i++) {
    resp[i * k + labels[i]] = 1;
    size[labels[i]]++;
    shares[sOf[i]][labels[i]] += 1 / total[sOf[i]];
  }
  mStep(mixture, z, n, resp, VAR_FLOOR);
  const { members } = bestScaledSubset(shares, pltShare, SUBSET_SCALE[0], SUBSET_SCALE[1]);
  for (let c = 0; c < 2; c++) {
    let t = 0;
    for (let j = 0; j < k; j++) t += (mixture.rho[c * k + j] = (members[j] === (c === 0) ? size[j] : 0) + 1e-6);
    for (let j = 0; j < k; j++) mixture.rho[c * k + j] /= t;
  }
  return { mixture, members };
}

/**
 * P(platelet) of each event from the side's class log-likelihoods L [n × 2]: the sample's
 * (platelet, other) proportions re-estimated by EM on its platelet-side events (`sideEvents`), then
 * every event's posterior under them.
 */
export function sideKeep(side: PlateletSplit, L: ArrayLike<number>, n: number, sideEvents: ArrayLike<number>): Float32Array {
  let theta: ArrayLike<number> = side.prior;
  if (side.reestimate && sideEvents.length) {
    theta = proportionsFromClassLogLik(2, selectRows(L, 2, sideEvents), sideEvents.length, { init: side.prior, accelerate: true }).theta;
  }
  const { post } = proportionsFromClassLogLik(2, L, n, { init: theta, iterations: 1 });
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = post[i * 2];
  return out;
}

/** sideKeep at classify time: `x` [n × w] every event's side inputs; class log-likelihoods on the backend. */
export async function sideKeepOnBackend(be: ComputeBackend, side: PlateletSplit, x: ArrayLike<number>, n: number, sideEvents: ArrayLike<number>): Promise<Float32Array> {
  const L = await classLogLikOnBackend(be, side.mixture, sideRows(side, x, null, n), n);
  return sideKeep(side, L, n, sideEvents);
}

/** Each row's P(platelet) under a split, with its sample's proportions re-estimated on the
 *  sample's rows of that side (`onSide`), as classify does sample by sample. */
export async function perSampleKeep(be: ComputeBackend, split: PlateletSplit, x: ArrayLike<number>, n: number, sampleOf: ArrayLike<number>, S: number,
  onSide: (i: number) => boolean): Promise<Float32Array> {
  const L = await classLogLikOnBackend(be, split.mixture, sideRows(split, x, null, n), n);
  const out = new Float32Array(n);
  for (const rows of rowsBySample(sampleOf, S, n)) {
    if (!rows.length) continue;
    const Ls = selectRows(L, 2, rows);
    const side: number[] = [];
    rows.forEach((r, j) => onSide(r) && side.push(j));
    const keep = sideKeep(split, Ls, rows.length, side);
    rows.forEach((r, j) => (out[r] = keep[j]));
  }
  return out;
}
