// rowwise.wgsl — per-row classification helpers: argmax, softmax, softmaxBackward.
// One thread per row (rows are short: K clusters), 256 rows per workgroup; `rows` counts the chunk's rows.

struct RowParams { rows: u32, k: u32 }
@group(0) @binding(0) var<uniform> pr: RowParams;
@group(0) @binding(1) var<storage, read> rwX: array<f32>;
@group(0) @binding(2) var<storage, read_write> rwIdx: array<i32>;

// out[i] = argmax_j x[i,j], first index on ties.
@compute @workgroup_size(256)
fn argmax(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let i = groupIndex(wid, nwg) * 256u + li;
  if (i >= pr.rows) { return; }
  var best = rwX[i * pr.k];
  var arg = 0u;
  for (var j = 1u; j < pr.k; j = j + 1u) {
    let v = rwX[i * pr.k + j];
    if (v > best) { best = v; arg = j; }
  }
  rwIdx[i] = i32(arg);
}

@group(0) @binding(0) var<uniform> prs: RowParams;
@group(0) @binding(1) var<storage, read> smX: array<f32>;
@group(0) @binding(2) var<storage, read_write> smOut: array<f32>;

// Row softmax, max-subtracted.
@compute @workgroup_size(256)
fn softmax(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let i = groupIndex(wid, nwg) * 256u + li;
  if (i >= prs.rows) { return; }
  let base = i * prs.k;
  var m = smX[base];
  for (var j = 1u; j < prs.k; j = j + 1u) { m = max(m, smX[base + j]); }
  var s = 0.0;
  for (var j = 0u; j < prs.k; j = j + 1u) {
    let e = exp(smX[base + j] - m);
    smOut[base + j] = e;
    s = s + e;
  }
  let inv = 1.0 / s;
  for (var j = 0u; j < prs.k; j = j + 1u) { smOut[base + j] = smOut[base + j] * inv; }
}

@group(0) @binding(0) var<uniform> psb: RowParams;
@group(0) @binding(1) var<storage, read> sbY: array<f32>;
@group(0) @binding(2) var<storage, read> sbDy: array<f32>;
@group(0) @binding(3) var<storage, read_write> sbDx: array<f32>;

// dx_ij = y_ij (dy_ij - Σ_k dy_ik y_ik).
@compute @workgroup_size(256)
fn softmaxBackward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let i = groupIndex(wid, nwg) * 256u + li;
  if (i >= psb.rows) { return; }
  let base = i * psb.k;
  var dot = 0.0;
  for (var j = 0u; j < psb.k; j = j + 1u) { dot = dot + sbDy[base + j] * sbY[base + j]; }
  for (var j = 0u; j < psb.k; j = j + 1u) { sbDx[base + j] = sbY[base + j] * (sbDy[base + j] - dot); }
}
