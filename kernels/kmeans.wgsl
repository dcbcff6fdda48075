// kmeans.wgsl — Lloyd's k-means steps: kmeansAssign (nearest centroid) and kmeansUpdate
// (per-cluster sums and counts as row-block partials, finished by colSum; no atomics).

struct AssignParams { rows: u32, d: u32, k: u32 }
@group(0) @binding(0) var<uniform> pka: AssignParams;
@group(0) @binding(1) var<storage, read> kaX: array<f32>;
@group(0) @binding(2) var<storage, read> kaC: array<f32>;
@group(0) @binding(3) var<storage, read_write> kaLabels: array<i32>;
@group(0) @binding(4) var<storage, read_write> kaDist: array<f32>;

// labels[i] = argmin_j ‖x_i − c_j‖² (first on ties), minDist[i] = that squared distance,
// summed as Σ (x − c)² (no ‖x‖² − 2x·c + ‖c‖² cancellation).
@compute @workgroup_size(256)
fn kmeansAssign(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let i = groupIndex(wid, nwg) * 256u + li;
  if (i >= pka.rows) { return; }
  var best = 0.0;
  var arg = 0u;
  for (var j = 0u; j < pka.k; j = j + 1u) {
    var d2 = 0.0;
    for (var c = 0u; c < pka.d; c = c + 1u) {
      let t = kaX[i * pka.d + c] - kaC[j * pka.d + c];
      d2 = d2 + t * t;
    }
    if (j == 0u || d2 < best) { best = d2; arg = j; }
  }
  kaLabels[i] = i32(arg);
  kaDist[i] = best;
}

struct UpdateParams { rows: u32, d: u32, k: u32, pbase: u32 }
@group(0) @binding(0) var<uniform> pku: UpdateParams;
@group(0) @binding(1) var<storage, read> kuX: array<f32>;
@group(0) @binding(2) var<storage, read> kuLabels: array<i32>;
@group(0) @binding(3) var<storage, read_write> kuPartial: array<f32>;

var<workgroup> blockLabels: array<i32, 64>;

// Row-block partials: for rows [64g, 64g+64), output o < K*D is Σ_{label=j} x[., c] (j = o/D,
// c = o%D) and output K*D + j is the count of label j. Labels outside 0..K-1 match no cluster
// (skipped: a GPU kernel cannot throw; host-uploaded labels are range-checked on the CPU).
@compute @workgroup_size(256)
fn kmeansUpdate(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let g = groupIndex(wid, nwg);
  let r0 = g * 64u;
  if (r0 >= pku.rows) { return; }
  let r1 = min(r0 + 64u, pku.rows);
  if (li < 64u && r0 + li < r1) { blockLabels[li] = kuLabels[r0 + li]; }
  workgroupBarrier();
  let kd = pku.k * pku.d;
  let width = kd + pku.k;
  for (var o = li; o < width; o = o + 256u) {
    var s = 0.0;
    if (o < kd) {
      let j = i32(o / pku.d);
      let c = o % pku.d;
      for (var r = r0; r < r1; r = r + 1u) {
        if (blockLabels[r - r0] == j) { s = s + kuX[r * pku.d + c]; }
      }
    } else {
      let j = i32(o - kd);
      for (var r = r0; r < r1; r = r + 1u) {
        if (blockLabels[r - r0] == j) { s = s + 1.0; }
      }
    }
    kuPartial[(pku.pbase + g) * width + o] = s;
  }
}
