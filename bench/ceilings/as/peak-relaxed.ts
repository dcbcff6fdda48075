// @ts-nocheck -- AssemblyScript, not TypeScript: compiled by asc (bench/ceilings/probe.ts); tsc must skip it.
//
// Ceiling probe for the relaxed-SIMD build: f32x4.relaxed_madd chains a = a*m + c. On x64 with
// FMA3, V8 lowers relaxed_madd to one vfmadd (8 FLOP per instruction, latency ≈ 4 cycles), so
// 8–12 independent chains are needed to fill two FMA pipes.

export function madd8(iters: i32, seed: f32): f32 {
  const m = f32x4.splat(0.99999994);
  const c = f32x4.splat(1.0e-7);
  let a0 = f32x4.splat(seed);
  let a1 = f32x4.add(a0, c);
  let a2 = f32x4.add(a1, c);
  let a3 = f32x4.add(a2, c);
  let a4 = f32x4.add(a3, c);
  let a5 = f32x4.add(a4, c);
  let a6 = f32x4.add(a5, c);
  let a7 = f32x4.add(a6, c);
  for (let i = 0; i < iters; i++) {
    a0 = f32x4.relaxed_madd(a0, m, c);
    a1 = f32x4.relaxed_madd(a1, m, c);
    a2 = f32x4.relaxed_madd(a2, m, c);
    a3 = f32x4.relaxed_madd(a3, m, c);
    a4 = f32x4.relaxed_madd(a4, m, c);
    a5 = f32x4.relaxed_madd(a5, m, c);
    a6 = f32x4.relaxed_madd(a6, m, c);
    a7 = f32x4.relaxed_madd(a7, m, c);
  }
  const s = f32x4.add(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), f32x4.add(f32x4.add(a4, a5), f32x4.add(a6, a7)));
  return f32x4.extract_lane(s, 0);
}

export function madd12(iters: i32, seed: f32): f32 {
  const m = f32x4.splat(0.99999994);
  const c = f32x4.splat(1.0e-7);
  let a0 = f32x4.splat(seed);
  let a1 = f32x4.add(a0, c);
  let a2 = f32x4.add(a1, c);
  let a3 = f32x4.add(a2, c);
  let a4 = f32x4.add(a3, c);
  let a5 = f32x4.add(a4, c);
  let a6 = f32x4.add(a5, c);
  let a7 = f32x4.add(a6, c);
  let a8 = f32x4.add(a7, c);
  let a9 = f32x4.add(a8, c);
  let a10 = f32x4.add(a9, c);
  let a11 = f32x4.add(a10, c);
  for (let i = 0; i < iters; i++) {
    a0 = f32x4.relaxed_madd(a0, m, c);
    a1 = f32x4.relaxed_madd(a1, m, c);
    a2 = f32x4.relaxed_madd(a2, m, c);
    a3 = f32x4.relaxed_madd(a3, m, c);
    a4 = f32x4.relaxed_madd(a4, m, c);
    a5 = f32x4.relaxed_madd(a5, m, c);
    a6 = f32x4.relaxed_madd(a6, m, c);
    a7 = f32x4.relaxed_madd(a7, m, c);
    a8 = f32x4.relaxed_madd(a8, m, c);
    a9 = f32x4.relaxed_madd(a9, m, c);
    a10 = f32x4.relaxed_madd(a10, m, c);
    a11 = f32x4.relaxed_madd(a11, m, c);
  }
  const s0 = f32x4.add(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), f32x4.add(f32x4.add(a4, a5), f32x4.add(a6, a7)));
  const s = f32x4.add(s0, f32x4.add(f32x4.add(a8, a9), f32x4.add(a10, a11)));
  return f32x4.extract_lane(s, 0);
}
