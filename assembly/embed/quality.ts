// The per-sample quality flags of classify (bindings/pipeline/quality.ts sampleFlags), over the
// sample's red-cell events (all events when stage 1 finds none), gathered in pass 2:
//   bits 0–2  plt % / retic % / clump % outside the trained range (± max(1, a quarter of it))
//   bit 3     a pulse-summary median shifted by more than 1.5 training spreads
//   bit 4     more than 5 % of the events below the training 1 % log-density quantile (level A)
//   bit 5     an event count 5× away from the training samples' median
// The shift needs each summary's median over the sample; it is read from a histogram of the
// shift itself (MEDIAN_BINS bins over ±16 training spreads, so memory stays bounded), so the
// reported shift is within 1/256 spread (half a bin) of the exact median's, and beyond 16 spreads reads as 16.
import { dim, slot, slotLen, S_DOMAIN } from './model';
import { MEDIAN_BINS, W_MEDIAN, W_SUMM, isRed } from './work';
import { nearestLogDensityA } from './event';

const RANGE: f64 = 16;
let rowsSeen: f64 = 0;
let low: f64 = 0;
let useAll: bool = false;

// @ts-ignore: decorator
@inline function dom(i: i32): f64 {
  return load<f64>(slot(S_DOMAIN) + (<usize>i << 3));
}

function present(): bool {
  return slotLen(S_DOMAIN) > 0 && dom(0) == 1;
}

export function qualityBegin(): void {
  rowsSeen = 0;
  low = 0;
  if (present()) memory.fill(W_MEDIAN, 0, <usize>(dim(6) * MEDIAN_BINS) << 3);
}

/** Pass 2 rows [first, first + rows) (which rows count is known only after pass 1): their
 *  summaries' shifts and level A log densities. */
export function qualityPass2(rows: i32, first: i32, redEvents: i32): void {
  if (!present()) return;
  useAll = redEvents == 0;
  const P = dim(6);
  const cut = dom(8);
  for (let r = 0; r < rows; r++) {
    const e = first + r;
    if (!useAll && !isRed(e)) continue;
    const f = W_SUMM + (<usize>(r * P) << 3);
    rowsSeen++;
    if (nearestLogDensityA(f) < cut) low++;
    for (let c = 0; c < P; c++) {
      const shift = (load<f64>(f + (<usize>c << 3)) - dom(9 + c)) / Math.max(dom(9 + P + c), 1e-6);
      let b = <i32>Math.floor((Math.min(Math.max(shift, -RANGE), RANGE) + RANGE) * (<f64>MEDIAN_BINS / (2 * RANGE)));
      if (b >= MEDIAN_BINS) b = MEDIAN_BINS - 1;
      const p = W_MEDIAN + (<usize>(c * MEDIAN_BINS + b) << 3);
      store<f64>(p, load<f64>(p) + 1);
    }
  }
}

/** The k-th smallest (from 0) of column c's shifts: the centre of its bin (within half a bin). */
function orderStat(c: i32, k: f64): f64 {
  const h = W_MEDIAN + (<usize>(c * MEDIAN_BINS) << 3);
  const width = (2 * RANGE) / <f64>MEDIAN_BINS;
  let acc: f64 = 0;
  for (let b = 0; b < MEDIAN_BINS; b++) {
    acc += load<f64>(h + (<usize>b << 3));
    if (acc > k) return -RANGE + width * (<f64>b + 0.5);
  }
  return 0;
}

/** The median of column c's shift as quality.ts medianOf takes it (the mean of the two middle
 *  values of an even count), each middle value within half a bin. */
function medianShift(c: i32): f64 {
  const m = Math.floor(rowsSeen / 2);
  return rowsSeen % 2 == 1 ? orderStat(c, m) : 0.5 * (orderStat(c, m - 1) + orderStat(c, m));
}

/** Writes the flags (summary[14]), the low-likelihood share (15), the largest shift (16) and
 *  whether the model has training-domain statistics (17). s: the summary. */
export function qualityEnd(s: usize): void {
  if (!present()) return;
  const P = dim(6);
  let flags = 0;
  for (let k = 0; k < 3; k++) {
    const lo = dom(1 + k);
    const hi = dom(4 + k);
    const margin = Math.max(1, 0.25 * (hi - lo));
    const v = load<f64>(s + 48 + (<usize>k << 3));
    if (v < lo - margin || v > hi + margin) flags |= 1 << k;
  }
  let shift: f64 = 0;
  for (let c = 0; c < P; c++) shift = Math.max(shift, Math.abs(medianShift(c)));
  if (shift > 1.5) flags |= 8;
  const lowShare = rowsSeen > 0 ? low / rowsSeen : 0;
  if (lowShare > 5 * 0.01) flags |= 16;
  const n = load<f64>(s);
  if (n < dom(7) / 5 || n > dom(7) * 5) flags |= 32;
  store<f64>(s, <f64>flags, 112);
  store<f64>(s, lowShare, 120);
  store<f64>(s, shift, 128);
  store<f64>(s, 1, 136);
}
