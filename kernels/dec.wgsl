// dec.wgsl — DEC / IDEC clustering layer (Xie et al. 2016, "Unsupervised Deep Embedding for
// Clustering Analysis", eqs. 1-3 and 5-6; Guo et al. 2017, IDEC): softAssign, targetDistribution,
// klDivLoss, softAssignBackward (+ softAssignBackwardMu, the row-block partials of dL/dμ).
// Per-row kernels use one thread per row (K and D are small: clusters × embedding), 256 rows per
// workgroup. Sums over rows never use atomics: row-block partials are finished by colSum.

struct SoftAssignParams { rows: u32, d: u32, k: u32, alpha: f32 }
@group(0) @binding(0) var<uniform> psa: SoftAssignParams;
@group(0) @binding(1) var<storage, read> saZ: array<f32>;
@group(0) @binding(2) var<storage, read> saMu: array<f32>;
@group(0) @binding(3) var<storage, read_write> saQ: array<f32>;

// q_ij ∝ (1 + ‖z_i − μ_j‖²/α)^(−(α+1)/2) (eq. 1), normalised per row. Each kernel value is taken
// relative to the row's largest one (the nearest centroid), so far-away rows cannot underflow to 0/0.
@compute @workgroup_size(256)
fn softAssign(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let i = groupIndex(wid, nwg) * 256u + li;
  if (i >= psa.rows) { return; }
  let expo = (psa.alpha + 1.0) / 2.0;
  var tmin = 3.4e38;
  for (var j = 0u; j < psa.k; j = j + 1u) {
    var d2 = 0.0;
    for (var c = 0u; c < psa.d; c = c + 1u) {
      let t = saZ[i * psa.d + c] - saMu[j * psa.d + c];
      d2 = d2 + t * t;
    }
    let base = 1.0 + d2 / psa.alpha;
    saQ[i * psa.k + j] = base;
    tmin = min(tmin, base);
  }
  var s = 0.0;
  for (var j = 0u; j < psa.k; j = j + 1u) {
    let r = saQ[i * psa.k + j] / tmin;
    var v: f32;
    if (expo == 1.0) { v = 1.0 / r; } else { v = pow(r, -expo); }
    saQ[i * psa.k + j] = v;
    s = s + v;
  }
  for (var j = 0u; j < psa.k; j = j + 1u) { saQ[i * psa.k + j] = saQ[i * psa.k + j] / s; }
}

struct TargetParams { rows: u32, k: u32 }
@group(0) @binding(0) var<uniform> ptd: TargetParams;
@group(0) @binding(1) var<storage, read> tdQ: array<f32>;
@group(0) @binding(2) var<storage, read> tdF: array<f32>;
@group(0) @binding(3) var<storage, read_write> tdP: array<f32>;

// p_ij = (q_ij²/f_j) / Σ_j' (q_ij'²/f_j') (eq. 3); f = column sums of q over the whole data set.
@compute @workgroup_size(256)
fn targetDistribution(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let i = groupIndex(wid, nwg) * 256u + li;
  if (i >= ptd.rows) { return; }
  var s = 0.0;
  for (var j = 0u; j < ptd.k; j = j + 1u) {
    let q = tdQ[i * ptd.k + j];
    let w = q * q / tdF[j];
    tdP[i * ptd.k + j] = w;
    s = s + w;
  }
  for (var j = 0u; j < ptd.k; j = j + 1u) { tdP[i * ptd.k + j] = tdP[i * ptd.k + j] / s; }
}

struct KlParams { n: u32, pbase: u32 }
@group(0) @binding(0) var<uniform> pkl: KlParams;
@group(0) @binding(1) var<storage, read> klP: array<f32>;
@group(0) @binding(2) var<storage, read> klQ: array<f32>;
@group(0) @binding(3) var<storage, read_write> klPartial: array<f32>;

// First pass of KL(P‖Q) = Σ p log(p/q) (eq. 2): 1024 terms per workgroup into partial[pbase + g];
// terms with p = 0 are 0. colSum then sums the partials and scales by 1/N.
@compute @workgroup_size(256)
fn klDivLoss(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let g = groupIndex(wid, nwg);
  if (g * 1024u >= pkl.n) { return; }
  var s = 0.0;
  for (var q = 0u; q < 4u; q = q + 1u) {
    let e = g * 1024u + q * 256u + li;
    if (e < pkl.n) {
      let p = klP[e];
      if (p > 0.0) { s = s + p * (log(p) - log(klQ[e])); }
    }
  }
  let total = groupSum(li, s);
  if (li == 0u) { klPartial[pkl.pbase + g] = total; }
}

struct SabParams { rows: u32, d: u32, k: u32, alpha: f32, coef: f32, accumulate: u32 }
@group(0) @binding(0) var<uniform> psb: SabParams;
@group(0) @binding(1) var<storage, read> sbZ: array<f32>;
@group(0) @binding(2) var<storage, read> sbMu: array<f32>;
@group(0) @binding(3) var<storage, read> sbP: array<f32>;
@group(0) @binding(4) var<storage, read> sbQ: array<f32>;
@group(0) @binding(5) var<storage, read_write> sbDz: array<f32>;
@group(0) @binding(6) var<storage, read_write> sbW: array<f32>;

// dz_i = coef Σ_j (1+‖z_i−μ_j‖²/α)^−1 (p_ij − q_ij)(z_i − μ_j) (eq. 4 generalised to α),
// coef = scale/N·(α+1)/α. The weights w_ij are kept in scratch for the dμ pass.
@compute @workgroup_size(256)
fn softAssignBackward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let i = groupIndex(wid, nwg) * 256u + li;
  if (i >= psb.rows) { return; }
  for (var j = 0u; j < psb.k; j = j + 1u) {
    var d2 = 0.0;
    for (var c = 0u; c < psb.d; c = c + 1u) {
      let t = sbZ[i * psb.d + c] - sbMu[j * psb.d + c];
      d2 = d2 + t * t;
    }
    sbW[i * psb.k + j] = psb.coef * (sbP[i * psb.k + j] - sbQ[i * psb.k + j]) / (1.0 + d2 / psb.alpha);
  }
  for (var c = 0u; c < psb.d; c = c + 1u) {
    let zc = sbZ[i * psb.d + c];
    var s = 0.0;
    for (var j = 0u; j < psb.k; j = j + 1u) { s = s + sbW[i * psb.k + j] * (zc - sbMu[j * psb.d + c]); }
    if (psb.accumulate != 0u) { s = s + sbDz[i * psb.d + c]; }
    sbDz[i * psb.d + c] = s;
  }
}

struct SabMuParams { rows: u32, d: u32, k: u32, pbase: u32 }
@group(0) @binding(0) var<uniform> psm: SabMuParams;
@group(0) @binding(1) var<storage, read> smZ: array<f32>;
@group(0) @binding(2) var<storage, read> smMu: array<f32>;
@group(0) @binding(3) var<storage, read> smW: array<f32>;
@group(0) @binding(4) var<storage, read_write> smPartial: array<f32>;

// Row-block partials of Σ_i w_ij (z_i − μ_j): workgroup g covers rows [64g, 64g+64), one thread per
// (j, c) output; colSum finishes dμ_j = −Σ (partials).
@compute @workgroup_size(256)
fn softAssignBackwardMu(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let g = groupIndex(wid, nwg);
  let r0 = g * 64u;
  if (r0 >= psm.rows) { return; }
  let r1 = min(r0 + 64u, psm.rows);
  let width = psm.k * psm.d;
  for (var o = li; o < width; o = o + 256u) {
    let j = o / psm.d;
    let c = o % psm.d;
    let mu = smMu[o];
    var s = 0.0;
    for (var r = r0; r < r1; r = r + 1u) { s = s + smW[r * psm.k + j] * (smZ[r * psm.d + c] - mu); }
    smPartial[(psm.pbase + g) * width + o] = s;
  }
}
