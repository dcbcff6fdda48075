// Philox4x32-10 counter-based random numbers (Salmon, Moraes, Dror & Shaw, "Parallel random numbers:
// as easy as 1, 2, 3", SC'11), in plain TypeScript with exact uint32 arithmetic, plus the one
// normal-noise recipe every backend shares (see `philoxNormal` in backend.ts).
//
// A round maps (x0, x1, x2, x3) with key (k0, k1) to
//   (hi(M1·x2) ^ x1 ^ k0,  lo(M1·x2),  hi(M0·x0) ^ x3 ^ k1,  lo(M0·x0))
// and the key is bumped by the Weyl constants (W0, W1) between rounds; ten rounds in all.

export const PHILOX_M0 = 0xd2511f53;
export const PHILOX_M1 = 0xcd9e8d57;
export const PHILOX_W0 = 0x9e3779b9;
export const PHILOX_W1 = 0xbb67ae85;

/** High 32 bits of the 64-bit product of two uint32, via 16-bit halves (every partial sum < 2^53). */
export function mulhi32(a: number, b: number): number {
  const aLo = a & 0xffff, aHi = a >>> 16;
  const bLo = b & 0xffff, bHi = b >>> 16;
  const lolo = aLo * bLo;
  const hilo = aHi * bLo;
  const lohi = aLo * bHi;
  const hihi = aHi * bHi;
  // Carry out of the low 32 bits: bits 16..31 of the three terms that reach them.
  const mid = (lolo >>> 16) + (hilo & 0xffff) + (lohi & 0xffff);
  return (hihi + (hilo >>> 16) + (lohi >>> 16) + (mid >>> 16)) >>> 0;
}

/** Low 32 bits of the product of two uint32. */
export const mullo32 = (a: number, b: number): number => Math.imul(a, b) >>> 0;

/**
 * Philox4x32-10 of counter (c0..c3) under key (k0, k1). All inputs are uint32 (checked by callers).
 * Writes the four output words into `out` (reused to avoid allocation in hot loops) and returns it.
 */
export function philox4x32(
  c0: number, c1: number, c2: number, c3: number, k0: number, k1: number,
  out: Uint32Array = new Uint32Array(4),
): Uint32Array {
  let x0 = c0 >>> 0, x1 = c1 >>> 0, x2 = c2 >>> 0, x3 = c3 >>> 0;
  let key0 = k0 >>> 0, key1 = k1 >>> 0;
  for (let round = 0; round < 10; round++) {
    if (round > 0) {
      key0 = (key0 + PHILOX_W0) >>> 0;
      key1 = (key1 + PHILOX_W1) >>> 0;
    }
    const hi0 = mulhi32(PHILOX_M0, x0), lo0 = mullo32(PHILOX_M0, x0);
    const hi1 = mulhi32(PHILOX_M1, x2), lo1 = mullo32(PHILOX_M1, x2);
    x0 = (hi1 ^ x1 ^ key0) >>> 0;
    x1 = lo1;
    x2 = (hi0 ^ x3 ^ key1) >>> 0;
    x3 = lo0;
  }
  out[0] = x0; out[1] = x1; out[2] = x2; out[3] = x3;
  return out;
}

const TWO_POW_M24 = 1 / 16777216;

/**
 * The shared normal recipe (backend.ts `philoxNormal`): element `i` uses counter
 * e = (offset + i) mod 2^32 as (e, 0, 0, 0) with key (seed, stream);
 * u1 = ((r0 >>> 8) + 0.5)·2^-24 ∈ (0, 1) so the log is finite, u2 = (r1 >>> 8)·2^-24 ∈ [0, 1);
 * value = sqrt(−2 ln u1)·cos(2π u2)  (Box & Muller 1958, cosine branch only).
 */
export function philoxNormalAt(seed: number, stream: number, counter: number, scratch?: Uint32Array): number {
  const r = philox4x32(counter >>> 0, 0, 0, 0, seed, stream, scratch);
  const u1 = ((r[0] >>> 8) + 0.5) * TWO_POW_M24;
  const u2 = (r[1] >>> 8) * TWO_POW_M24;
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** Fills `out` with philoxNormalAt(seed, stream, offset + i) in float64. */
export function philoxNormalFill(out: Float64Array | Float32Array, seed: number, stream: number, offset: number): void {
  const scratch = new Uint32Array(4);
  for (let i = 0; i < out.length; i++) out[i] = philoxNormalAt(seed, stream, (offset + i) % 4294967296, scratch);
}
