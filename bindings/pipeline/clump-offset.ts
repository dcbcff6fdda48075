// Level A's clump targets carry one shared offset u: the share of red events that are clump-like
// but in no reference (coincidences: two cells in the beam at once).
//
// Coincidences look like clumps, so in level A's proportion-matched EM they fill part of each
// training sample's clump quota (ref_s), and a component of real clumps can end up mapped to single.
// With targets ref_s + u the quota makes room for them. u is the same for every sample (an
// instrument's coincidence rate; a per-sample free class could instead absorb single-cell mass and
// rescale the referenced shares), and it is chosen from the references alone: level A is
// fitted for each u of a small grid and each fit is scored by how well the clump shares that
// INFERENCE estimates on the training samples (free per-sample EM) follow the references up to one
// constant. A component of constant share (coincidences) costs nothing there, a component whose
// share follows clump % but is mapped to single costs its whole variation.
import type { ComputeBackend } from '../backend.js';
import type { ClassMixture } from './mixture.js';
import { perSampleProportions } from './em-known.js';

/** Candidate offsets u, as fractions of red events (0, 0.25, 0.5 pp). Each costs one level-A fit,
 *  so the grid stops where larger offsets stopped being chosen on the training cohorts measured. */
export const CLUMP_OFFSETS = [0, 0.0025, 0.005];
/** The constant of the tracking score is clamped to [0, this]: a coincidence rate, not more. Any
 *  clump share above the references by more than this is paid in full, so a big single component
 *  of near-constant share cannot move to clump for free. */
export const MAX_CLUMP_OFFSET = 0.02;

/** Level A's per-sample targets (single, clump) for red-cell references θ_s = (rbc, retic, clump). */
export function levelATargets(theta: number[][], u: number): number[][] {
  return theta.map((t) => {
    const clump = Math.min(1, t[2] + u);
    return [1 - clump, clump];
  });
}

/**
 * Σ_s (est_s − ref_s − b)²: est_s the share of class `cls` that the free per-sample EM (components
 * and ρ fixed, started at `init`, as classify does) estimates on training sample s, ref_s its
 * reference share, b the mean residual clamped to [0, MAX_CLUMP_OFFSET] (the least-squares constant
 * within the bound). Returns the error and b.
 */
export async function offsetTrackingError(be: ComputeBackend, m: ClassMixture, z: ArrayLike<number>, n: number, sampleOf: ArrayLike<number>,
  ref: number[], cls: number, init: number[]): Promise<{ error: number; offset: number }> {
  const resid: number[] = [];
  (await perSampleProportions(be, m, z, n, sampleOf, ref.length, () => init)).forEach((est, s) => est && resid.push(est[cls] - ref[s]));
  if (!resid.length) return { error: 0, offset: 0 };
  const mean = resid.reduce((a, r) => a + r, 0) / resid.length;
  const offset = Math.min(MAX_CLUMP_OFFSET, Math.max(0, mean));
  return { error: resid.reduce((a, r) => a + (r - offset) ** 2, 0), offset };
}
