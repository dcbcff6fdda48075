// The model blob of an exported classifier (bindings/export/blob.ts writes it; docs/embedding.md).
//
// The generic classifier module is compiled once; `hemaclust export` appends the model as one
// active data segment at BLOB (the first 64-byte boundary past the compiler's static data), so
// the weights are in linear memory when the module starts and nothing is loaded at run time.
// Layout: u32 magic, u32 version, u32 slot count, then per slot (u32 byte offset from BLOB, u32
// element count), then the arrays. Slot numbers are shared with blob.ts (SLOT there).

export const MAGIC: u32 = 0x42454348; // "HCEB" little-endian
/** fp32 exports: SLOTS_FP32 slots. */
export const BLOB_VERSION: u32 = 3;
/** --int8 exports: the same slots and three more (S_QLAYERS …); an fp32 blob stays as it was. */
export const BLOB_VERSION_INT8: u32 = 4;

// i32 slots
export const S_DIMS = 0; // [F, kind (0 waveform, 1 scalar), layers, k1, d, sideK (0: no platelet side), P, kA, dA, kB, dB, centred, rotated, redK (0: no red-side split)]
export const S_WIDTHS = 1; // layer output widths
export const S_PLT = 2; // per stage-1 cluster: 1 = platelet
export const S_SIDE_INFO = 3; // the platelet side: [width, input (0 stage-1 embedding, 1 pulse summaries), rotated, re-estimated]
export const S_WAVE = 4; // waveform: per channel [start, length]
export const S_SCALAR = 5; // scalar: per summary column [param (0 H, 1 A, 2 W), its height column]
export const S_COLS_A = 6; // level A's summary columns
export const S_COLS_B = 7;
// f32 slots
export const S_PRE_OFFSET = 8;
export const S_PRE_SCALE = 9;
export const S_PRE_MEAN = 10;
export const S_PRE_STD = 11;
export const S_WEIGHTS = 12; // every layer's W [out × in] then b [out], in order
export const S_CENTERS = 13;
export const S_SIDE_MU = 14;
export const S_SIDE_LOGVAR = 15;
export const S_SIDE_RHO = 16;
export const S_PULSE_MEAN = 17;
export const S_PULSE_STD = 18;
export const S_A_MU = 19;
export const S_A_LOGVAR = 20;
export const S_A_RHO = 21;
export const S_B_MU = 22;
export const S_B_LOGVAR = 23;
export const S_B_RHO = 24;
// f64 slots
export const S_SCALARS = 25; // [alpha, reticScale, priorA0, priorA1, priorB0, priorB1, priorSide0, priorSide1, priorRed0, priorRed1]
export const S_DOMAIN = 26; // quality flags: see quality.ts in this folder
// u8 slot
export const S_META = 27; // UTF-8 JSON (hc_meta)
// f32 slot
export const S_ROT_A = 28; // level A's axes [dA × dA] (red-levels.ts rotationA), empty when unrotated
// f32 slots: the platelet side's standardisation and axes (platelet-side.ts)
export const S_SIDE_MEAN = 29;
export const S_SIDE_STD = 30;
export const S_SIDE_ROT = 31;
// the red side's platelet | red split (red-side.ts): i32 info as S_SIDE_INFO, then f32 as the side's
export const S_RED_INFO = 32;
export const S_RED_MU = 33;
export const S_RED_LOGVAR = 34;
export const S_RED_RHO = 35;
export const S_RED_MEAN = 36;
export const S_RED_STD = 37;
export const S_RED_ROT = 38;
export const SLOTS_FP32 = 39;
// version 4 (--int8): per encoder layer 1 = int8 (int8.ts); such a layer's S_WEIGHTS entry is its
// bias alone, its weights are in S_QWEIGHTS and its per-output-channel scales in S_QSCALES
export const S_QLAYERS = 39; // i32 per layer
export const S_QWEIGHTS = 40; // i8: every int8 layer's W [out × in], in order
export const S_QSCALES = 41; // f32: every int8 layer's scales [out], in order
export const SLOTS = 42;

// @ts-ignore: decorator
@inline export function blobBase(): usize {
  return (__heap_base + 63) & ~(<usize>63);
}

// @ts-ignore: decorator
@inline export function slot(id: i32): usize {
  return blobBase() + <usize>load<u32>(blobBase() + 12 + (<usize>id << 3));
}

// @ts-ignore: decorator
@inline export function slotLen(id: i32): i32 {
  return id < slotCount() ? load<i32>(blobBase() + 16 + (<usize>id << 3)) : 0;
}

// @ts-ignore: decorator
@inline export function dim(i: i32): i32 {
  return load<i32>(slot(S_DIMS) + (<usize>i << 2));
}

/** The blob's slot count: slots past it (an fp32 blob's S_QLAYERS …) read as empty. */
// @ts-ignore: decorator
@inline export function slotCount(): i32 {
  return load<i32>(blobBase() + 8);
}

/** Whether a model blob is present (an unexported, generic module has none) and of a version this
 *  module reads, with that version's slot count. */
export function blobValid(): bool {
  const b = blobBase();
  if (<u64>b + 12 + (<u64>SLOTS_FP32 << 3) > (<u64>memory.size() << 16)) return false;
  const v = load<u32>(b + 4);
  const n = load<u32>(b + 8);
  if (load<u32>(b) != MAGIC || !((v == BLOB_VERSION && n == <u32>SLOTS_FP32) || (v == BLOB_VERSION_INT8 && n == <u32>SLOTS))) return false;
  return <u64>b + 12 + (<u64>n << 3) <= (<u64>memory.size() << 16);
}

/** End of the blob (the work area starts after it). */
export function blobEnd(): usize {
  const n = slotCount();
  let end = blobBase() + 12 + (<usize>n << 3);
  for (let s = 0; s < n; s++) {
    const size: usize = s == S_META || s == S_QWEIGHTS ? 1 : s == S_SCALARS || s == S_DOMAIN ? 8 : 4;
    const e = slot(s) + <usize>slotLen(s) * size;
    if (e > end) end = e;
  }
  return end;
}
