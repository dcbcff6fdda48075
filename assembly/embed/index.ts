// The exported classifier's C-style ABI (docs/embedding.md): a whole BloodCellPipeline.classify
// (bindings/pipeline/index.ts) in one module with no imports, over a sample streamed in chunks.
//
// A sample is streamed three times, four for a model that reads level A relative to the sample
// (red-levels.ts sampleShift: a first pass collects the histogram of each level-A summary over the
// red cells, whose medians are taken off every later row). hc_pass says which pass runs; the per-sample proportion EMs
// need every red-cell event of the sample before any event's posterior is known, and the rbc |
// reticulocyte level's EM runs on the events the single | clumped level calls single under the
// sample's own proportions. So pass 1 collects level A's histogram (em.ts), pass 2 level B's on the
// events that are single under level A's proportions, pass 3 writes each event's probabilities and
// counts them; pass 1 also collects the platelet side's histogram (platelet-side.ts). What is kept
// between passes is bounded: three histograms and one bit per event (red
// cell or not, so pass 2 needs no encoder), up to MAX_EVENTS.
import { blobBase, blobValid, dim, slot, slotLen, S_COLS_A, S_META, S_SCALARS, S_SIDE_INFO, S_RED_INFO } from './model';
import { CAP, MAX_EVENTS, SUMMARY_F64, initWork, ensureBitmap, W_INPUT, W_OUT, W_HIST_A, W_HIST_B, W_HIST_S, W_HIST_R, W_SUMMARY, W_BITMAP, W_PPLT, W_XS, W_XR, W_XA, W_XB, W_SHIFT, W_SHIFT_HIST, W_SUMM, SHIFT_BINS, SHIFT_HI, SHIFT_LO, bitmapBytes, isRed, setRed } from './work';
import { unitsAndSummaries, stage1, levels } from './event';
import { histAdd, histClear, histCount, squarem, theta0, theta1, posterior, postA, postB } from './em';
import { E_EMPTY, E_FEATURES, E_MEMORY, E_NO_MODEL, E_NOT_FINITE, E_POINTER, E_ROWS, E_STATE, E_STREAM, E_TOO_MANY, fail, lastError, msgBase, msgLen, ok, say, sayInt } from './errors';
import { qualityBegin, qualityPass2, qualityEnd } from './quality';

const ABI_VERSION = 1;
/** 3, plus the red side's pass and the sample-shift pass first where the model has them (init). */
let passes: i32 = 3;
/** The red side's pass (its proportions: which red-side events are platelets). */
const STEP_RED: i32 = -1;

let ready: i32 = 0; // 0 not tried, 1 ready, < 0 the init error
let pass: i32 = 0; // 0 idle, 1..3 the pass expected, 4 done
let events: i32 = 0; // in the current pass
let events1: i32 = 0; // in pass 1
let redEvents: i32 = 0;
let shiftEvents: i32 = 0; // red-cell events of the shift pass (the median's n)
let maxEvents: i32 = MAX_EVENTS;
let hash: u32 = 0;
let hash1: u32 = 0;
let thA0: f64 = 0, thA1: f64 = 0, thB0: f64 = 0, thB1: f64 = 0, thS0: f64 = 1, thS1: f64 = 0, thR0: f64 = 0, thR1: f64 = 1;
const counts: usize = memory.data(32); // f64 per class

function init(): i32 {
  if (ready == 1) return ok();
  if (!blobValid()) {
    ready = -E_NO_MODEL;
    return fail(E_NO_MODEL, 'no model in this module (a generic build: run hemaclust export)');
  }
  if (!initWork()) {
    ready = -E_MEMORY;
    return fail(E_MEMORY, 'the work area does not fit: memory cannot grow');
  }
  passes = 3 + (dim(11) != 0 ? 1 : 0) + (dim(13) > 0 ? 1 : 0);
  ready = 1;
  return ok();
}

/** What the current pass does: STEP_RED the red side's histogram, 0 the sample shift, 1 level A's
 *  histogram, 2 level B's, 3 the output (the first passes are there only when the model needs them). */
function step(): i32 {
  const s = pass - (passes - 3);
  if (s > 0) return s;
  return dim(13) > 0 && pass == 1 ? STEP_RED : 0;
}

/** A red cell for stage 2: stage 1's red side, less what the red side's split calls platelet. */
function isRedCell(r: i32): bool {
  if (load<f32>(W_PPLT + (<usize>r << 2)) >= 0.5) return false;
  if (dim(13) == 0) return true;
  posterior(load<f64>(W_XR + (<usize>r << 3)), thR0, thR1);
  return postA < 0.5;
}

export function hc_abi_version(): i32 { return ABI_VERSION; }
/** Where the exporter puts the model blob (model.ts blobBase): past this module's static data. */
export function hc_blob_base(): usize { return blobBase(); }
export function hc_init(): i32 { return init(); }
export function hc_error(): i32 { return lastError; }
export function hc_error_ptr(): usize { return msgBase(); }
export function hc_error_len(): i32 { return msgLen; }
export function hc_meta_ptr(): usize { return init() == 0 ? slot(S_META) : 0; }
export function hc_meta_len(): i32 { return init() == 0 ? slotLen(S_META) : 0; }
export function hc_features(): i32 { return init() == 0 ? dim(0) : 0; }
export function hc_classes(): i32 { return 4; }
export function hc_passes(): i32 { return init() == 0 ? passes : 0; }
export function hc_chunk_rows(): i32 { return CAP; }
export function hc_max_events(): i32 { return maxEvents; }

/** Lowers the per-sample event cap, which bounds the red-cell bitmap (1 bit per event) for a
 *  firmware's memory budget; n ≤ 0 or above MAX_EVENTS restores MAX_EVENTS. Applies from the next push. */
export function hc_limit_events(n: i32): i32 {
  maxEvents = n <= 0 || n > MAX_EVENTS ? MAX_EVENTS : n;
  return ok();
}
export function hc_input_ptr(): usize { return init() == 0 ? W_INPUT : 0; }
export function hc_output_ptr(): usize { return init() == 0 ? W_OUT : 0; }
export function hc_summary_ptr(): usize { return init() == 0 ? W_SUMMARY : 0; }
export function hc_summary_len(): i32 { return SUMMARY_F64; }
export function hc_pass(): i32 { return pass; }

/** Starts a sample (abandoning one in progress). */
export function hc_begin(): i32 {
  if (init() != 0) return lastError;
  histClear(W_HIST_A);
  histClear(W_HIST_B);
  histClear(W_HIST_S);
  histClear(W_HIST_R);
  memory.fill(W_SHIFT, 0, <usize>max(dim(6), 1) << 3);
  if (dim(11) != 0) memory.fill(W_SHIFT_HIST, 0, <usize>(dim(8) * SHIFT_BINS) << 3);
  memory.fill(W_BITMAP, 0, bitmapBytes);
  memory.fill(W_SUMMARY, 0, <usize>SUMMARY_F64 << 3);
  memory.fill(counts, 0, 32);
  qualityBegin();
  pass = 1;
  events = 0;
  events1 = 0;
  redEvents = 0;
  shiftEvents = 0;
  hash = 0x811c9dc5;
  return ok();
}

/** Checks a chunk before anything changes: a refused chunk leaves the sample as it was. */
function check(ptr: usize, rows: i32, cols: i32): i32 {
  if (init() != 0) return lastError;
  const F = dim(0);
  if (pass < 1 || pass > passes) return fail(E_STATE, 'hc_push outside a sample: call hc_begin first (and not after the last pass)');
  if (cols != F) {
    fail(E_FEATURES, 'wrong feature count: ');
    sayInt(cols);
    say(' values per event, the model reads ');
    sayInt(F);
    return say(' (in the order of the metadata\'s "features")');
  }
  if (rows < 0 || rows > CAP) {
    fail(E_ROWS, 'rows per push must be 0 to ');
    sayInt(CAP);
    say(', got ');
    return sayInt(rows);
  }
  const bytes = <u64>rows * <u64>F * 4;
  if ((ptr & 3) != 0 || <u64>ptr < <u64>W_INPUT || <u64>ptr + bytes > <u64>W_INPUT + <u64>CAP * <u64>F * 4) {
    fail(E_POINTER, 'the rows must lie inside the input buffer (hc_input_ptr, ');
    sayInt(CAP);
    return say(' rows), 4-byte aligned');
  }
  if (<i64>events + <i64>rows > <i64>maxEvents) {
    fail(E_TOO_MANY, 'too many events: at most ');
    sayInt(maxEvents);
    return say(' per sample');
  }
  if (step() == 1 && !ensureBitmap(events + rows)) return fail(E_MEMORY, 'memory cannot grow for the red-cell bitmap');
  for (let i = 0; i < rows * F; i++) {
    const bits = load<u32>(ptr + (<usize>i << 2));
    if ((bits & 0x7f800000) == 0x7f800000) {
      fail(E_NOT_FINITE, 'value at event ');
      sayInt(<i64>events + <i64>(i / F));
      say(', feature ');
      sayInt(i % F);
      return say(' is not finite (NaN or infinity)');
    }
  }
  return ok();
}

/** Streams `rows` events of F features (f32, row-major) at ptr through the current pass. */
export function hc_push(ptr: usize, rows: i32, cols: i32): i32 {
  if (check(ptr, rows, cols) != 0) return lastError;
  const F = dim(0);
  for (let i = 0; i < rows * F; i++) hash = (hash ^ load<u32>(ptr + (<usize>i << 2))) * 16777619;
  unitsAndSummaries(ptr, rows);
  const st = step();
  if (st != 2) stage1(rows);
  if (st == STEP_RED) redPass(rows);
  else if (st == 0) shiftPass(rows);
  else {
    levels(rows);
    if (st == 1) pass1(rows);
    else if (st == 2) pass2(rows);
    else pass3(rows);
  }
  events += rows;
  return ok();
}

/** The red side's histogram over stage 1's red-side events. */
function redPass(rows: i32): void {
  for (let r = 0; r < rows; r++) if (load<f32>(W_PPLT + (<usize>r << 2)) < 0.5) histAdd(W_HIST_R, load<f64>(W_XR + (<usize>r << 3)));
}

/** Each level-A summary of the red-cell rows onto its grid (red-levels.ts addLinear). */
function shiftPass(rows: i32): void {
  const P = dim(6);
  for (let r = 0; r < rows; r++) if (isRedCell(r)) shiftEvents++;
  const dA = dim(8);
  const cols = slot(S_COLS_A);
  const step = (SHIFT_HI - SHIFT_LO) / <f64>(SHIFT_BINS - 1);
  for (let r = 0; r < rows; r++) {
    if (!isRedCell(r)) continue;
    for (let t = 0; t < dA; t++) {
      const v = load<f64>(W_SUMM + (<usize>(r * P + load<i32>(cols + (<usize>t << 2))) << 3));
      const x = (Math.min(Math.max(v, SHIFT_LO), SHIFT_HI) - SHIFT_LO) / step;
      const b = min(<i32>Math.floor(x), SHIFT_BINS - 2);
      const frac = x - <f64>b;
      const h = W_SHIFT_HIST + (<usize>(t * SHIFT_BINS + b) << 3);
      store<f64>(h, load<f64>(h) + (1 - frac));
      store<f64>(h, load<f64>(h, 8) + frac, 8);
    }
  }
}

/** The medians of the shift pass into W_SHIFT (red-levels.ts histogramMedian; 0 without red cells). */
function endShiftPass(): void {
  const dA = dim(8);
  const cols = slot(S_COLS_A);
  const step = (SHIFT_HI - SHIFT_LO) / <f64>(SHIFT_BINS - 1);
  const n = <f64>shiftEvents;
  for (let t = 0; t < dA; t++) {
    const h = W_SHIFT_HIST + (<usize>(t * SHIFT_BINS) << 3);
    let m: f64 = 0;
    if (n > 0) {
      const half = n / 2;
      let below: f64 = 0;
      m = SHIFT_HI;
      for (let b = 0; b < SHIFT_BINS; b++) {
        const c = load<f64>(h + (<usize>b << 3));
        if (below + c >= half && c > 0) {
          m = SHIFT_LO + (<f64>b - 0.5 + (half - below) / c) * step;
          break;
        }
        below += c;
      }
    }
    store<f64>(W_SHIFT + (<usize>load<i32>(cols + (<usize>t << 2)) << 3), m);
  }
}

/** Level A's histogram over the red-cell events, the platelet side's over the others. */
function pass1(rows: i32): void {
  for (let r = 0; r < rows; r++) {
    if (isRedCell(r)) {
      setRed(events + r);
      histAdd(W_HIST_A, load<f64>(W_XA + (<usize>r << 3)));
      redEvents++;
    } else if (dim(5) > 0 && load<f32>(W_PPLT + (<usize>r << 2)) >= 0.5) histAdd(W_HIST_S, load<f64>(W_XS + (<usize>r << 3)));
  }
}

function pass2(rows: i32): void {
  for (let r = 0; r < rows; r++) {
    if (!isRed(events + r)) continue;
    posterior(load<f64>(W_XA + (<usize>r << 3)), thA0, thA1);
    if (postA >= 0.5) histAdd(W_HIST_B, load<f64>(W_XB + (<usize>r << 3)));
  }
  qualityPass2(rows, events, redEvents);
}

/** Probabilities of the rows (index.ts classify: platelet, rbc, reticulocyte, clumped_rbc) and the argmax counts. */
function pass3(rows: i32): void {
  for (let r = 0; r < rows; r++) {
    const p = <f64>load<f32>(W_PPLT + (<usize>r << 2));
    let keep: f64 = 1;
    if (dim(5) > 0) {
      // P(platelet | platelet side) under the sample's (platelet, other) proportions.
      posterior(load<f64>(W_XS + (<usize>r << 3)), thS0, thS1);
      keep = postA;
    }
    posterior(load<f64>(W_XA + (<usize>r << 3)), thA0, thA1);
    const a0 = postA, a1 = postB;
    let rk: f64 = 0;
    if (dim(13) > 0) {
      posterior(load<f64>(W_XR + (<usize>r << 3)), thR0, thR1);
      rk = postA;
    }
    posterior(load<f64>(W_XB + (<usize>r << 3)), thB0, thB1);
    const v0 = p * keep + (1 - p) * rk;
    const v1 = (1 - p) * (1 - rk) * (a0 * postA) + p * (1 - keep);
    const v2 = (1 - p) * (1 - rk) * (a0 * postB);
    const v3 = (1 - p) * (1 - rk) * a1;
    const o = W_OUT + (<usize>(r * 4) << 2);
    store<f32>(o, <f32>v0);
    store<f32>(o, <f32>v1, 4);
    store<f32>(o, <f32>v2, 8);
    store<f32>(o, <f32>v3, 12);
    let best = 0;
    let bv = v0;
    if (v1 > bv) { best = 1; bv = v1; }
    if (v2 > bv) { best = 2; bv = v2; }
    if (v3 > bv) best = 3;
    store<f64>(counts + (<usize>best << 3), load<f64>(counts + (<usize>best << 3)) + 1);
  }
}

/** Ends the current pass: after the shift pass the sample's level-A medians are set, after the
 *  level passes their proportions are estimated, after the last the summary is written
 *  (hc_summary_ptr) and hc_pass() is hc_passes() + 1. */
export function hc_end_pass(): i32 {
  if (init() != 0) return lastError;
  if (pass < 1 || pass > passes) return fail(E_STATE, 'hc_end_pass outside a sample: call hc_begin first');
  if (pass == 1) {
    if (events == 0) {
      pass = 0;
      return fail(E_EMPTY, 'the sample is empty (0 events)');
    }
    events1 = events;
    hash1 = hash;
  } else if (events != events1 || hash != hash1) {
    fail(E_STREAM, 'pass ');
    sayInt(pass);
    say(' streamed ');
    sayInt(events);
    say(' events, pass 1 ');
    sayInt(events1);
    say(events == events1 ? ' (the same count, other values)' : '');
    pass = 0;
    return say(': every pass must stream the same events in the same order; start again with hc_begin');
  }
  const st = step();
  if (st == STEP_RED) endRed();
  else if (st == 0) endShiftPass();
  else if (st == 1) {
    const sc = slot(S_SCALARS);
    squarem(W_HIST_A, load<f64>(sc, 16), load<f64>(sc, 24));
    thA0 = theta0;
    thA1 = theta1;
    endSide();
  } else if (st == 2) endPass2();
  else summarize();
  pass++;
  events = 0;
  hash = 0x811c9dc5;
  return ok();
}

/** The sample's (platelet, red) proportions on stage 1's red side (red-side.ts). */
function endRed(): void {
  const sc = slot(S_SCALARS);
  thR0 = load<f64>(sc, 64);
  thR1 = load<f64>(sc, 72);
  if (load<i32>(slot(S_RED_INFO), 12) != 0 && histCount(W_HIST_R) > 0) {
    squarem(W_HIST_R, thR0, thR1);
    thR0 = theta0;
    thR1 = theta1;
  }
}

/** The sample's (platelet, other) proportions: EM on the platelet side's histogram, or the
 *  model's prior (no platelet-side events, or a model whose side keeps one prior). */
function endSide(): void {
  const sc = slot(S_SCALARS);
  thS0 = load<f64>(sc, 48);
  thS1 = load<f64>(sc, 56);
  if (dim(5) > 0 && load<i32>(slot(S_SIDE_INFO), 12) != 0 && histCount(W_HIST_S) > 0) {
    squarem(W_HIST_S, thS0, thS1);
    thS0 = theta0;
    thS1 = theta1;
  }
}

function endPass2(): void {
  const sc = slot(S_SCALARS);
  if (histCount(W_HIST_B) > 0) {
    squarem(W_HIST_B, load<f64>(sc, 32), load<f64>(sc, 40));
    thB0 = theta0;
    thB1 = theta1;
  } else {
    thB0 = load<f64>(sc, 32);
    thB1 = load<f64>(sc, 40);
  }
}

/** JS Math.round for x ≥ 0 (ties up). */
function roundHalfUp(x: f64): f64 {
  const f = Math.floor(x);
  return x - f >= 0.5 ? f + 1 : f;
}

function summarize(): void {
  const n = <f64>events1;
  const c = counts;
  const argmaxRetic = load<f64>(c, 16);
  // The reticulocyte count scaled by the model's factor (retic-count.ts scaleReticCount).
  const single = load<f64>(c, 8) + load<f64>(c, 16);
  const retic = Math.min(single, Math.max(0, roundHalfUp(load<f64>(slot(S_SCALARS), 8) * argmaxRetic)));
  store<f64>(c, single - retic, 8);
  store<f64>(c, retic, 16);
  const red = load<f64>(c, 8) + load<f64>(c, 16) + load<f64>(c, 24);
  const s = W_SUMMARY;
  store<f64>(s, n);
  store<f64>(s, <f64>redEvents, 8);
  for (let k = 0; k < 4; k++) store<f64>(s + 16 + (<usize>k << 3), load<f64>(c + (<usize>k << 3)));
  store<f64>(s, n > 0 ? (100 * load<f64>(c)) / n : 0, 48);
  store<f64>(s, red > 0 ? (100 * load<f64>(c, 16)) / red : 0, 56);
  store<f64>(s, red > 0 ? (100 * load<f64>(c, 24)) / red : 0, 64);
  store<f64>(s, thA0, 72);
  store<f64>(s, thA1, 80);
  store<f64>(s, thB0, 88);
  store<f64>(s, thB1, 96);
  store<f64>(s, argmaxRetic, 104);
  qualityEnd(s);
}
