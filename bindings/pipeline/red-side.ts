// Platelets on stage 1's red side: a platelet | red split of the events stage 1 calls red cells.
//
// Stage 1's clusters follow the bulk of the data. Where platelets reach red-cell size (feline
// platelets clump readily, and their aggregates sit on the red-cell volume peak), part of every
// sample's platelets falls in the red clusters, and no later step looks for them there: the
// sample's platelet % comes out low and its red classes carry platelets. The references say how
// many: a training sample's platelets that the platelet side does not hold are the reference
// platelet % less what the platelet side counts (never below 0). The red side is split by the
// same reference-constrained mixture as the platelet side (platelet-side.ts), with that excess as
// each sample's platelet share, and each sample re-estimates its share at classify time.
//
// Most instruments put (nearly) every platelet on the platelet side; there the excess is noise and
// a split would only take red cells for platelets. So the references decide twice. The split is
// looked for only when the platelet side alone misses the training samples' platelet % by more
// than a lab tolerates (the quality gate's platelet tolerance, as RMS): within it there is nothing
// a lab would see for a split to mend, and the search (three mixtures over nearly every training
// event) is a large part of training. And it is kept only when the training samples' platelet % (counted
// as classify counts, proportions re-estimated) follows the references at least RED_SIDE_GAIN
// times better in RMS with it than without it.
import type { ComputeBackend } from '../backend.js';
import { fitPlateletSplit, perSampleKeep, type PlateletSplit, type SideOptions } from './platelet-side.js';
import { ABS_TOLERANCE_PP } from './quality.js';

/** Component counts tried on the red side: red cells are ~95 % of its events, so a platelet
 *  component needs more of them than on the platelet side. */
export const RED_SIDE_COMPONENTS: readonly number[] = [8, 12, 16];
/** How much better the training platelet % must follow the references with the split. */
const RED_SIDE_GAIN = 2;

export interface RedSideResult {
  split: PlateletSplit;
  /** Per training row: P(platelet | red side) under its sample's re-estimated proportions. */
  keep: Float32Array;
}

/**
 * The red side's split, or null when the references do not ask for one. `x` [n × w]: every
 * training row's pulse summaries; `pPlt` stage 1's P(platelet); `sideKeep` each row's
 * P(platelet | platelet side) (1 without a platelet side); pltShare[s] the reference share.
 */
export async function fitRedSide(be: ComputeBackend, x: ArrayLike<number>, w: number, pPlt: ArrayLike<number>, sideKeep: ArrayLike<number>,
  sampleOf: Int32Array, pltShare: number[], o: SideOptions, log?: (message: string) => void): Promise<RedSideResult | null> {
  const n = pPlt.length;
  const S = pltShare.length;
  const total = new Float64Array(S);
  const onSide = new Float64Array(S);
  for (let i = 0; i < n; i++) {
    total[sampleOf[i]]++;
    if (pPlt[i] >= 0.5 && sideKeep[i] >= 0.5) onSide[sampleOf[i]]++;
  }
  const rms = (f: (s: number) => number) => Math.sqrt(pltShare.reduce((a, p, s) => a + (f(s) - p) ** 2, 0) / S);
  const sideShare = pltShare.map((_, s) => onSide[s] / Math.max(total[s], 1));
  const without = rms((s) => sideShare[s]);
  if (100 * without <= ABS_TOLERANCE_PP.plt_pct) {
    log?.(`red side: training platelet % RMS ${(100 * without).toFixed(3)} pp without a split, within the ${ABS_TOLERANCE_PP.plt_pct} pp a lab asks: not searched`);
    return null;
  }
  const excess = pltShare.map((p, s) => Math.max(0, p - sideShare[s]));
  if (!excess.some((e) => e > 0)) return null;
  const rows: number[] = [];
  for (let i = 0; i < n; i++) if (pPlt[i] < 0.5) rows.push(i);
  // Every red-side row: platelets are a few per cent of them, and a thinner subsample (tried, to
  // save time) left the split too few of them to place.
  const split = await fitPlateletSplit(be, x, w, 'pulse', rows, sampleOf, excess, o, (m) => log?.(`red side, ${m}`));
  if (!split) return null;
  const keep = await perSampleKeep(be, split, x, n, sampleOf, S, (i) => pPlt[i] < 0.5);
  const found = new Float64Array(S);
  for (const i of rows) if (keep[i] >= 0.5) found[sampleOf[i]]++;
  const withSplit = rms((s) => (onSide[s] + found[s]) / total[s]);
  const kept = withSplit * RED_SIDE_GAIN < without;
  log?.(`red side: training platelet % RMS ${(100 * without).toFixed(3)} pp without the split, ${(100 * withSplit).toFixed(3)} pp with it (${split.mixture.k} components): ${kept ? 'kept' : 'not kept'}`);
  return kept ? { split, keep } : null;
}
