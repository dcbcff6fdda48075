// philox.wgsl — philoxNormal: standard normals from the Philox4x32-10 counter-based generator
// (Salmon et al. 2011, "Parallel Random Numbers: As Easy as 1, 2, 3", SC'11) and Box–Muller.
// WGSL has no 64-bit integers: the 32×32→64 multiply is assembled from 16-bit halves, so the
// uniforms are bit-identical to every other backend. Recipe (bindings/backend.ts):
//   e = (offset + i) mod 2^32; (r0..r3) = Philox4x32-10(counter (e,0,0,0), key (seed, stream));
//   u1 = ((r0 >>> 8) + 0.5)·2^-24; u2 = (r1 >>> 8)·2^-24; out = sqrt(−2 ln u1)·cos(2π u2).

struct PhiloxParams { n: u32, row0: u32, seed: u32, stream: u32, offset: u32 }
@group(0) @binding(0) var<uniform> pp: PhiloxParams;
@group(0) @binding(1) var<storage, read_write> phOut: array<f32>;

// (hi, lo) of the 64-bit product a*b.
fn mulhilo(a: u32, b: u32) -> vec2<u32> {
  let a0 = a & 0xffffu;
  let a1 = a >> 16u;
  let b0 = b & 0xffffu;
  let b1 = b >> 16u;
  let p00 = a0 * b0;
  let p01 = a0 * b1;
  let p10 = a1 * b0;
  let p11 = a1 * b1;
  let mid = (p00 >> 16u) + (p01 & 0xffffu) + (p10 & 0xffffu);
  let hi = p11 + (p01 >> 16u) + (p10 >> 16u) + (mid >> 16u);
  return vec2<u32>(hi, a * b);
}

fn philox4x32_10(ctr: vec4<u32>, key: vec2<u32>) -> vec4<u32> {
  var c = ctr;
  var k = key;
  for (var round = 0u; round < 10u; round = round + 1u) {
    if (round > 0u) { k = k + vec2<u32>(0x9E3779B9u, 0xBB67AE85u); }
    let p0 = mulhilo(0xD2511F53u, c.x);
    let p1 = mulhilo(0xCD9E8D57u, c.z);
    c = vec4<u32>(p1.x ^ c.y ^ k.x, p1.y, p0.x ^ c.w ^ k.y, p0.y);
  }
  return c;
}

// cos(2π t) for t in [0, 1) without relying on the builtin's loose accuracy bound (WGSL allows
// 2^-11 absolute error): reduce to a quarter turn exactly, then Taylor polynomials on [−π/4, π/4]
// (truncation error < 3e-8).
fn cosTurns(t: f32) -> f32 {
  let x = t * 4.0;
  let q = floor(x + 0.5);
  let th = (x - q) * 1.5707963267948966;
  let t2 = th * th;
  let c = 1.0 + t2 * (-0.5 + t2 * (1.0 / 24.0 + t2 * (-1.0 / 720.0 + t2 * (1.0 / 40320.0))));
  let s = th * (1.0 + t2 * (-1.0 / 6.0 + t2 * (1.0 / 120.0 + t2 * (-1.0 / 5040.0 + t2 * (1.0 / 362880.0)))));
  let quadrant = u32(q) & 3u;
  if (quadrant == 0u) { return c; }
  if (quadrant == 1u) { return -s; }
  if (quadrant == 2u) { return -c; }
  return s;
}

// ln u1 with u1 = (m + 0.5)·2^-24, m < 2^24. Below 1/2, 2m+1 < 2^24 is exact in f32; above, the
// complement w = 1 − u1 = (2^25 − 2m − 1)·2^-25 is exact and ln(1 − w) is taken with log1p.
fn logU1(m: u32) -> f32 {
  if (m < 0x800000u) { return log(f32(2u * m + 1u) * exp2(-25.0)); }
  let w = f32(0x2000000u - 2u * m - 1u) * exp2(-25.0);
  return log1pAcc(-w);
}

@compute @workgroup_size(256)
fn philoxNormal(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let local = groupIndex(wid, nwg) * 256u + li;
  if (local >= pp.n) { return; }
  let e = pp.offset + pp.row0 + local; // u32 addition wraps: mod 2^32
  let r = philox4x32_10(vec4<u32>(e, 0u, 0u, 0u), vec2<u32>(pp.seed, pp.stream));
  let u2 = f32(r.y >> 8u) * exp2(-24.0);
  phOut[local] = sqrt(-2.0 * logU1(r.x >> 8u)) * cosTurns(u2);
}
