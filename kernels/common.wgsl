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

// log(1 + x) accurate for small x (Goldberg's trick: the rounding error of 1 + x cancels).
fn log1pAcc(x: f32) -> f32 {
  let w = 1.0 + x;
  if (w == 1.0) { return x; }
  return log(w) * x / (w - 1.0);
}

// Numerically stable softplus(x) = log(1 + e^x).
fn softplus(x: f32) -> f32 {
  return max(x, 0.0) + log1pAcc(exp(-abs(x)));
}

fn sigmoid(x: f32) -> f32 {
  if (x >= 0.0) { return 1.0 / (1.0 + exp(-x)); }
  let e = exp(x);
  return e / (1.0 + e);
}
