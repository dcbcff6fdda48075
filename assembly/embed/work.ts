// The exported classifier's work area: fixed buffers after the model blob, sized from the model
// once (initWork), then only the red-cell bitmap grows (1 bit per event, up to MAX_EVENTS).
import { blobEnd, dim, slot, slotLen, S_QLAYERS, S_WIDTHS, S_SIDE_INFO, S_SIDE_LOGVAR, S_SIDE_RHO, S_RED_INFO, S_RED_LOGVAR, S_RED_RHO, S_A_LOGVAR, S_A_RHO, S_B_LOGVAR, S_B_RHO } from './model';
import { HIST_F64 } from './em';

/** Rows per hc_push. */
export const CAP: i32 = 512;
/** Events per sample: the bitmap of red-cell events then takes at most 32 MiB. */
export const MAX_EVENTS: i32 = 1 << 28;
export const MSG_BYTES: i32 = 1024;
export const SUMMARY_F64: i32 = 64;

export let W_INPUT: usize = 0; // CAP × F f32: the caller's rows (hc_input)
export let W_UNITS: usize = 0; // CAP × F f32: (x − offset) / scale
export let W_PING: usize = 0; // CAP × maxWidth f32
export let W_PONG: usize = 0;
export let W_SUMM: usize = 0; // CAP × P f64: pulse summaries
export let W_PPLT: usize = 0; // CAP f32
export let W_XS: usize = 0; // CAP f64: the platelet side's class log-likelihood difference (other − platelet)
export let W_XR: usize = 0; // CAP f64: the red side's (red − platelet)
export let W_XA: usize = 0; // CAP f64: level A's class log-likelihood difference
export let W_XB: usize = 0;
export let W_OUT: usize = 0; // CAP × 4 f32: probabilities of the last push (last pass)
export let W_HIST_A: usize = 0;
export let W_HIST_B: usize = 0;
export let W_HIST_S: usize = 0; // the platelet side's
export let W_HIST_R: usize = 0; // the red side's
export let W_MSG: usize = 0;
export let W_SUMMARY: usize = 0;
export let W_MEDIAN: usize = 0; // quality: P × MEDIAN_BINS f64 counts
export let W_MIX_SIDE: usize = 0; // derived mixtures (mixPrepare)
export let W_MIX_RED: usize = 0;
export let W_MIX_A: usize = 0;
export let W_MIX_B: usize = 0;
export let W_LD: usize = 0; // f64 per component of the largest mixture
export let W_ROW: usize = 0; // f64 per column of the widest row a mixture reads (summaries or the side's inputs)
export let W_ROW2: usize = 0; // f64 per summary column: level A's row in its axes
export let W_SHIFT: usize = 0; // f64 per summary column: the sample's level-A medians (0 elsewhere)
export let W_SHIFT_HIST: usize = 0; // f64 × SHIFT_BINS grid masses per level-A column (centred models only)
export let W_QX: usize = 0; // CAP × maxWidth i16: a layer's quantised input rows (int8 exports only)
export let W_QS: usize = 0; // CAP f32: their scales
export let W_BITMAP: usize = 0; // grows
export let bitmapBytes: usize = 0;
export let maxWidth: i32 = 0;

export const MEDIAN_BINS: i32 = 4096;
/** red-levels.ts SHIFT_LO / SHIFT_HI / SHIFT_BINS: the same grid, so the same median. */
export const SHIFT_LO: f64 = -32;
export const SHIFT_HI: f64 = 96;
export const SHIFT_BINS: i32 = 128 * 128 + 1;

/** Doubles of a prepared mixture: per component 1/σ² [k × d] and its constant [k], log ρ [classes × k]. */
function mixBytes(k: i32, d: i32, classes: i32): usize {
  return (<usize>(k * d + k + classes * k)) << 3;
}

function align(p: usize): usize {
  return (p + 63) & ~(<usize>63);
}

/** Sets every buffer and grows the memory to hold them; false when the memory cannot grow. */
export function initWork(): bool {
  const F = dim(0);
  const L = dim(2);
  const P = dim(6);
  const sideW = load<i32>(slot(S_SIDE_INFO));
  const redW = load<i32>(slot(S_RED_INFO));
  const rowW = max(max(P, sideW), max(redW, 1));
  maxWidth = F;
  for (let l = 0; l < L; l++) maxWidth = max(maxWidth, load<i32>(slot(S_WIDTHS) + (<usize>l << 2)));
  let p = align(blobEnd());
  W_INPUT = p; p = align(p + (<usize>(CAP * F) << 2));
  W_UNITS = p; p = align(p + (<usize>(CAP * F) << 2));
  W_PING = p; p = align(p + (<usize>(CAP * maxWidth) << 2));
  W_PONG = p; p = align(p + (<usize>(CAP * maxWidth) << 2));
  W_SUMM = p; p = align(p + (<usize>(CAP * max(P, 1)) << 3));
  W_PPLT = p; p = align(p + (<usize>CAP << 2));
  W_XS = p; p = align(p + (<usize>CAP << 3));
  W_XR = p; p = align(p + (<usize>CAP << 3));
  W_XA = p; p = align(p + (<usize>CAP << 3));
  W_XB = p; p = align(p + (<usize>CAP << 3));
  W_OUT = p; p = align(p + (<usize>(CAP * 4) << 2));
  W_HIST_A = p; p = align(p + (<usize>HIST_F64 << 3));
  W_HIST_B = p; p = align(p + (<usize>HIST_F64 << 3));
  W_HIST_S = p; p = align(p + (<usize>HIST_F64 << 3));
  W_HIST_R = p; p = align(p + (<usize>HIST_F64 << 3));
  W_MSG = p; p = align(p + <usize>MSG_BYTES);
  W_SUMMARY = p; p = align(p + (<usize>SUMMARY_F64 << 3));
  W_MEDIAN = p; p = align(p + (<usize>(max(P, 1) * MEDIAN_BINS) << 3));
  W_MIX_SIDE = p; p = align(p + mixBytes(dim(5), sideW, 2));
  W_MIX_RED = p; p = align(p + mixBytes(dim(13), redW, 2));
  W_MIX_A = p; p = align(p + mixBytes(dim(7), dim(8), 2));
  W_MIX_B = p; p = align(p + mixBytes(dim(9), dim(10), 2));
  W_LD = p; p = align(p + (<usize>max(max(max(dim(5), dim(13)), dim(7)), max(dim(9), 1)) << 3));
  W_ROW = p; p = align(p + (<usize>rowW << 3));
  W_ROW2 = p; p = align(p + (<usize>rowW << 3));
  W_SHIFT = p; p = align(p + (<usize>max(P, 1) << 3));
  W_SHIFT_HIST = p; p = align(p + (dim(11) != 0 ? (<usize>(dim(8) * SHIFT_BINS)) << 3 : 0));
  const int8 = slotLen(S_QLAYERS) > 0;
  W_QX = p; p = align(p + (int8 ? <usize>(CAP * maxWidth) << 1 : 0));
  W_QS = p; p = align(p + (int8 ? <usize>CAP << 2 : 0));
  W_BITMAP = p;
  bitmapBytes = 0;
  if (!ensure(p)) return false;
  mixPrepare(W_MIX_SIDE, slot(S_SIDE_LOGVAR), slot(S_SIDE_RHO), dim(5), sideW, 2);
  mixPrepare(W_MIX_RED, slot(S_RED_LOGVAR), slot(S_RED_RHO), dim(13), redW, 2);
  mixPrepare(W_MIX_A, slot(S_A_LOGVAR), slot(S_A_RHO), dim(7), dim(8), 2);
  mixPrepare(W_MIX_B, slot(S_B_LOGVAR), slot(S_B_RHO), dim(9), dim(10), 2);
  return slotLen(S_WIDTHS) == L;
}

/** Grows the memory to cover [0, end); false when it cannot. */
export function ensure(end: usize): bool {
  const have = <usize>memory.size() << 16;
  if (end <= have) return true;
  const pages = <i32>((end - have + 65535) >> 16);
  return memory.grow(pages) >= 0;
}

/** Room for the bitmap of `events` events (grown in 64 KiB steps). */
export function ensureBitmap(events: i32): bool {
  const need = <usize>((events + 7) >> 3);
  if (need <= bitmapBytes) return true;
  const want = (need + 65535) & ~(<usize>65535);
  if (!ensure(W_BITMAP + want)) return false;
  memory.fill(W_BITMAP + bitmapBytes, 0, want - bitmapBytes);
  bitmapBytes = want;
  return true;
}

/** 1/σ², −½(d log 2π + Σ log σ²) per component and log max(ρ, 1e-300) (mixture.ts logGauss, classLogLik). */
function mixPrepare(out: usize, logVar: usize, rho: usize, k: i32, d: i32, classes: i32): void {
  const LOG_2PI = Math.log(2 * Math.PI);
  const cst = out + (<usize>(k * d) << 3);
  const lr = cst + (<usize>k << 3);
  for (let c = 0; c < k; c++) {
    let s = <f64>d * LOG_2PI;
    for (let t = 0; t < d; t++) {
      const lv = <f64>load<f32>(logVar + (<usize>(c * d + t) << 2));
      s += lv;
      store<f64>(out + (<usize>(c * d + t) << 3), Math.exp(-lv));
    }
    store<f64>(cst + (<usize>c << 3), -0.5 * s);
  }
  for (let i = 0; i < classes * k; i++) store<f64>(lr + (<usize>i << 3), Math.log(Math.max(<f64>load<f32>(rho + (<usize>i << 2)), 1e-300)));
}

/** Event e's red-cell bit (stage 1 called it a red cell in pass 1). */
export function isRed(e: i32): bool {
  return ((<i32>load<u8>(W_BITMAP + <usize>(e >> 3)) >> (e & 7)) & 1) != 0;
}

export function setRed(e: i32): void {
  const p = W_BITMAP + <usize>(e >> 3);
  store<u8>(p, <u8>(<i32>load<u8>(p) | (1 << (e & 7))));
}
