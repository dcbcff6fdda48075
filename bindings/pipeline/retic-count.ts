// The reported reticulocyte count: argmax counts under-call reticulocytes, by a share that the
// training references measure.
//
// Reticulocytes are a continuum of RNA fluorescence and their low-RNA end overlaps the mature red
// cells, so each event's argmax over (rbc, retic) gives the border events to the larger class, and
// the counted share falls short of the true one by a similar relative amount on training and
// held-out samples alike. The shortfall is a property of the trained model, so it is
// measured where the truth is known at sample level — the training samples' references — and the
// reported count is scaled by it. Per-event probabilities (and their argmax) are not changed.

/** Scale limits: a guard against a degenerate fit (few samples, almost no reticulocytes), not a tuned bound. */
const MIN_SCALE = 0.5;
const MAX_SCALE = 2;

/**
 * Least-squares scale c (through the origin) with reference ≈ c · counted over the training
 * samples, both reticulocyte percentages: c = Σ r·x / Σ x². Through the origin because the
 * shortfall is a share of the reticulocytes (a sample without them has none to lose); least
 * squares in percentage points, so the high-reticulocyte samples, where the shortfall is largest
 * in points, weigh most. 1 when the training samples have no counted reticulocytes.
 */
export function fitReticScale(counted: number[], reference: number[]): number {
  if (counted.length !== reference.length) throw new RangeError(`fitReticScale: ${counted.length} counts for ${reference.length} references`);
  let xy = 0;
  let xx = 0;
  for (let i = 0; i < counted.length; i++) {
    xy += counted[i] * reference[i];
    xx += counted[i] * counted[i];
  }
  if (!(xx > 0) || !Number.isFinite(xy / xx)) return 1;
  return Math.min(MAX_SCALE, Math.max(MIN_SCALE, xy / xx));
}

/** Scales the reticulocyte count in place, moving the difference from or to rbc (whole events),
 *  so the red-cell total and every other class count stay as counted. */
export function scaleReticCount(counts: { rbc: number; reticulocyte: number }, scale: number): void {
  const single = counts.rbc + counts.reticulocyte;
  const retic = Math.min(single, Math.max(0, Math.round(scale * counts.reticulocyte)));
  counts.rbc = single - retic;
  counts.reticulocyte = retic;
}
