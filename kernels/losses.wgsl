// losses.wgsl — reconstruction and label-proportion losses with their backward kernels:
// mseLoss, mseLossBackward, bceLogitsLoss, bceLogitsLossBackward, proportionXentLoss,
// proportionXentLossBackward.
// Forward kernels are the first pass of a two-pass reduction: each 256-thread workgroup adds
// 1024 per-element terms (4 per thread, then a tree) into partial[pbase + group]; colSum
// (reduce.wgsl) sums the partials and applies the 1/(N*D), 1/N or 1/S scale on the host's side.
// Backward kernels are elementwise; `coef` folds scale and the mean's denominator (computed in f64).

struct LossParams { n: u32, pbase: u32 }
@group(0) @binding(0) var<uniform> pl: LossParams;
@group(0) @binding(1) var<storage, read> lossA: array<f32>;
@group(0) @binding(2) var<storage, read> lossB: array<f32>;
@group(0) @binding(3) var<storage, read_write> lossPartial: array<f32>;

fn lossTerm(kind: u32, a: f32, b: f32) -> f32 {
  if (kind == 0u) { let d = a - b; return d * d; }            // squared error
  // BCE on logits, softplus(a) − b·a written as a sum of two non-negative terms (for b in [0, 1]):
  // (1 − b)·a or −b·a, plus log(1 + e^−|a|). The plain difference cancels when b ≈ 1 and a ≫ 0.
  if (kind == 1u) { return select(-b * a, (1.0 - b) * a, a > 0.0) + log1pAcc(exp(-abs(a))); }
  return -b * log(max(a, 1e-12));                               // proportion cross-entropy
}

fn lossPass(kind: u32, g: u32, li: u32) {
  var s = 0.0;
  for (var q = 0u; q < 4u; q = q + 1u) {
    let e = g * 1024u + q * 256u + li;
    if (e < pl.n) { s = s + lossTerm(kind, lossA[e], lossB[e]); }
  }
  let total = groupSum(li, s);
  if (li == 0u) { lossPartial[pl.pbase + g] = total; }
}

@compute @workgroup_size(256)
fn mseLoss(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let g = groupIndex(wid, nwg);
  if (g * 1024u >= pl.n) { return; }
  lossPass(0u, g, li);
}

@compute @workgroup_size(256)
fn bceLogitsLoss(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let g = groupIndex(wid, nwg);
  if (g * 1024u >= pl.n) { return; }
  lossPass(1u, g, li);
}

@compute @workgroup_size(256)
fn proportionXentLoss(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let g = groupIndex(wid, nwg);
  if (g * 1024u >= pl.n) { return; }
  lossPass(2u, g, li);
}

struct LossBwdParams { n: u32, coef: f32 }
@group(0) @binding(0) var<uniform> plb: LossBwdParams;
@group(0) @binding(1) var<storage, read> lbA: array<f32>;
@group(0) @binding(2) var<storage, read> lbB: array<f32>;
@group(0) @binding(3) var<storage, read_write> lbOut: array<f32>;

// dpred = coef * (pred - target), coef = scale * 2 / (N*D).
@compute @workgroup_size(256)
fn mseLossBackward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let e = groupIndex(wid, nwg) * 256u + li;
  if (e < plb.n) { lbOut[e] = plb.coef * (lbA[e] - lbB[e]); }
}

// dlogits = coef * (sigmoid(x) - t), coef = scale / N.
@compute @workgroup_size(256)
fn bceLogitsLossBackward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let e = groupIndex(wid, nwg) * 256u + li;
  if (e < plb.n) { lbOut[e] = plb.coef * (sigmoid(lbA[e]) - lbB[e]); }
}

// dpred = -coef * t / max(p, 1e-12), coef = scale / S.
@compute @workgroup_size(256)
fn proportionXentLossBackward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let e = groupIndex(wid, nwg) * 256u + li;
  if (e < plb.n) { lbOut[e] = -plb.coef * lbB[e] / max(lbA[e], 1e-12); }
}
