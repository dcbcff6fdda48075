// common.wgsl — prepended to every kernel module (after the per-variant `const` header).
// Conventions of every kernel in kernels/:
// - binding 0 is a uniform struct of 4-byte scalars (shapes, scalars, chunk offsets), so one
//   pipeline serves every shape; storage bindings follow in the order the TS side lists them.
// - workgroups are laid out on a 2-D grid when a dispatch exceeds maxComputeWorkgroupsPerDimension;
//   `groupIndex` recovers the linear workgroup index.
// - "pbase" in a uniform is the first partial row a chunk writes (tensors beyond the storage
//   binding limit are bound in row chunks); "row0" is the chunk's first global row.

fn groupIndex(wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return wid.x + wid.y * nwg.x;
}

// Tree sum of one value per thread over a 256-thread workgroup (must be called in uniform
// control flow by all 256 threads); the total is returned to every thread.
var<workgroup> redBuf: array<f32, 256>;
fn groupSum(li: u32, v: f32) -> f32 {
  redBuf[li] = v;
  workgroupBarrier();
  for (var h = 128u; h > 0u; h = h >> 1u) {
    if (li < h) { redBuf[li] = redBuf[li] + redBuf[li + h]; }
    workgroupBarrier();
  }
  let total = redBuf[0];
  workgroupBarrier();
  return total;
}

// log(1 + x) with a small RELATIVE error. For x in [−0.5, 1] (all softplus and Box–Muller need)
// it does not call the builtin log at all: Goldberg's trick log(w)·x/(w − 1) assumes log is
// accurate relative to its result near w = 1, which Mesa lavapipe's is not (measured there: a
// Box–Muller normal from u1 = 1 − 5e-4 off by 2.5e-5 relative). Instead, with s = x/(2 + x),
// log(1 + x) = 2 atanh(s) = 2(s + s³/3 + s⁵/5 + …); |s| ≤ 1/3 so the series to s¹⁹ is exact to
// < 1e-9 relative. Outside that range log(1 + x) is well conditioned (|result| ≥ 0.69).
fn log1pAcc(x: f32) -> f32 {
  if (x < -0.5 || x > 1.0) { return log(1.0 + x); }
  let s = x / (2.0 + x);
  let z = s * s;
  var p = 1.0 / 19.0;
  for (var k = 17.0; k >= 1.0; k = k - 2.0) { p = 1.0 / k + z * p; }
  return 2.0 * s * p;
}

// Numerically stable softplus(x) = log(1 + e^x).
fn softplus(x: f32) -> f32 {
  return max(x, 0.0) + log1pAcc(exp(-abs(x)));
}

// tanh with a small RELATIVE error for every x. Drivers may build the builtin tanh from
// (e^{2x} − 1)/(e^{2x} + 1) (Mesa lavapipe does): the cancellation costs all relative precision
// for small |x| (measured there: 7% error at x = 1e-6, 7e-6 at 1e-2). Below |x| = 1 this uses
// Lambert's continued fraction tanh x = x/(1 + x²/(3 + x²/(5 + …))), truncated after the 15 term
// (truncation error < 1e-9 relative for |x| ≤ 1, so f32 rounding, ≈ 1 ulp, dominates); above it,
// 1 − 2/(e^{2|x|} + 1) has no cancellation (the result is ≥ 0.76) and saturates to ±1 by |x| = 10.
fn tanhAcc(x: f32) -> f32 {
  let a = abs(x);
  if (a >= 10.0) { return sign(x); }
  if (a >= 1.0) { return sign(x) * (1.0 - 2.0 / (exp(2.0 * a) + 1.0)); }
  let x2 = x * x;
  var t = 15.0;
  for (var k = 13.0; k >= 1.0; k = k - 2.0) { t = k + x2 / t; }
  return x / t;
}

fn sigmoid(x: f32) -> f32 {
  if (x >= 0.0) { return 1.0 / (1.0 + exp(-x)); }
  let e = exp(x);
  return e / (1.0 + e);
}

// A layer's activation by its code (0 identity, 1 relu, 2 sigmoid, 3 tanh: ACTIVATIONS in
// bindings/backend.ts), shared by biasAct and denseInt8; kernels pass their compile-time ACT.
fn activateAs(act: u32, v: f32) -> f32 {
  if (act == 1u) { return max(v, 0.0); }
  if (act == 2u) { return sigmoid(v); }
  if (act == 3u) { return tanhAcc(v); } // not the builtin: see tanhAcc above
  return v;
}
