// @ts-nocheck -- AssemblyScript, not TypeScript: compiled by asc (bench/ceilings/probe.ts); tsc must skip it.
//
// Ceiling probes for the benchmark (baseline SIMD128 build):
//   mulAdd{4,8,12}  register-only f32x4 chains a = a*m + c  (a mul and an add per step: 8 FLOP)
//   clockChain      a dependent chain of 1-cycle integer ops, to estimate the core clock
//   triad           a[i] = b[i] + s*c[i] over memory (STREAM's triad), for bandwidth
// The chains carry a dependency through every step so neither Binaryen nor V8 can hoist or fold
// them; several independent chains per loop hide the mul+add latency (≈ 6–8 cycles) so the loop
// is limited by issue rate, not latency. 12 chains + 2 constants fit x64's 16 XMM registers
// without spills; 4 chains show the latency-bound rate for contrast.

export function mulAdd4(iters: i32, seed: f32): f32 {
  const m = f32x4.splat(0.99999994);
  const c = f32x4.splat(1.0e-7);
  let a0 = f32x4.splat(seed);
  let a1 = f32x4.add(a0, c);
  let a2 = f32x4.add(a1, c);
  let a3 = f32x4.add(a2, c);
  for (let i = 0; i < iters; i++) {
    a0 = f32x4.add(f32x4.mul(a0, m), c);
    a1 = f32x4.add(f32x4.mul(a1, m), c);
    a2 = f32x4.add(f32x4.mul(a2, m), c);
    a3 = f32x4.add(f32x4.mul(a3, m), c);
  }
  const s = f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3));
  return f32x4.extract_lane(s, 0);
}

export function mulAdd8(iters: i32, seed: f32): f32 {
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
    a0 = f32x4.add(f32x4.mul(a0, m), c);
    a1 = f32x4.add(f32x4.mul(a1, m), c);
    a2 = f32x4.add(f32x4.mul(a2, m), c);
    a3 = f32x4.add(f32x4.mul(a3, m), c);
    a4 = f32x4.add(f32x4.mul(a4, m), c);
    a5 = f32x4.add(f32x4.mul(a5, m), c);
    a6 = f32x4.add(f32x4.mul(a6, m), c);
    a7 = f32x4.add(f32x4.mul(a7, m), c);
  }
  const s = f32x4.add(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), f32x4.add(f32x4.add(a4, a5), f32x4.add(a6, a7)));
  return f32x4.extract_lane(s, 0);
}

export function mulAdd12(iters: i32, seed: f32): f32 {
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
    a0 = f32x4.add(f32x4.mul(a0, m), c);
    a1 = f32x4.add(f32x4.mul(a1, m), c);
    a2 = f32x4.add(f32x4.mul(a2, m), c);
    a3 = f32x4.add(f32x4.mul(a3, m), c);
    a4 = f32x4.add(f32x4.mul(a4, m), c);
    a5 = f32x4.add(f32x4.mul(a5, m), c);
    a6 = f32x4.add(f32x4.mul(a6, m), c);
    a7 = f32x4.add(f32x4.mul(a7, m), c);
    a8 = f32x4.add(f32x4.mul(a8, m), c);
    a9 = f32x4.add(f32x4.mul(a9, m), c);
    a10 = f32x4.add(f32x4.mul(a10, m), c);
    a11 = f32x4.add(f32x4.mul(a11, m), c);
  }
  const s0 = f32x4.add(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), f32x4.add(f32x4.add(a4, a5), f32x4.add(a6, a7)));
  const s = f32x4.add(s0, f32x4.add(f32x4.add(a8, a9), f32x4.add(a10, a11)));
  return f32x4.extract_lane(s, 0);
}

// 32 dependent 1-cycle integer ops per iteration (add and xor alternate so no pass can
// reassociate them into one multiply). The loop counter runs beside the chain on other ports,
// so cycles/iteration ≈ 32 and iterations/s × 32 ≈ the clock.
export function clockChain(iters: i32, y: i32, z: i32): i32 {
  let x = y;
  for (let i = 0; i < iters; i++) {
    x = (x + y) ^ z; x = (x + y) ^ z; x = (x + y) ^ z; x = (x + y) ^ z;
    x = (x + y) ^ z; x = (x + y) ^ z; x = (x + y) ^ z; x = (x + y) ^ z;
    x = (x + y) ^ z; x = (x + y) ^ z; x = (x + y) ^ z; x = (x + y) ^ z;
    x = (x + y) ^ z; x = (x + y) ^ z; x = (x + y) ^ z; x = (x + y) ^ z;
  }
  return x;
}

// STREAM triad over f32, 4 vectors (64 B) per step; n must be a multiple of 16, pointers 16-aligned.
export function triad(a: usize, b: usize, c: usize, n: i32, s: f32): void {
  const sv = f32x4.splat(s);
  for (let i: usize = 0, bytes = <usize>n << 2; i < bytes; i += 64) {
    v128.store(a + i, f32x4.add(v128.load(b + i), f32x4.mul(sv, v128.load(c + i))));
    v128.store(a + i, f32x4.add(v128.load(b + i, 16), f32x4.mul(sv, v128.load(c + i, 16))), 16);
    v128.store(a + i, f32x4.add(v128.load(b + i, 32), f32x4.mul(sv, v128.load(c + i, 32))), 32);
    v128.store(a + i, f32x4.add(v128.load(b + i, 48), f32x4.mul(sv, v128.load(c + i, 48))), 48);
  }
}
