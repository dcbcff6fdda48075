// mixture.wgsl — class mixtures over shared diagonal-Gaussian components with per-sample class
// priors (the reference-constrained EM of pipeline/em-known.ts): mixtureLogLik, mixturePosteriors,
// mixtureStats (+ mixtureShares, its per-row first pass). Sums over rows are row-block partials
// (64 rows per workgroup, added in order) finished by colSum (reduce.wgsl): deterministic, no float
// atomics, and the error grows like 64 + log2(blocks) roundings rather than N.
// Every log-sum-exp subtracts its own maximum: rows far from all components have log densities near
// −2000 and below, where exp underflows in f32 long before the sum itself is small.

const LOG_2PI: f32 = 1.8378770664093453;

// −∞ for a class none of whose components has weight. Built at run time because a constant
// expression may not evaluate to an infinity in WGSL; it is only stored, never computed with.
fn negInf() -> f32 {
  var bits = 0xff800000u;
  return bitcast<f32>(bits);
}

struct LogLikParams { rows: u32, d: u32, k: u32, c: u32 }
@group(0) @binding(0) var<uniform> pl: LogLikParams;
@group(0) @binding(1) var<storage, read> llZ: array<f32>;
@group(0) @binding(2) var<storage, read> llMu: array<f32>;
@group(0) @binding(3) var<storage, read> llLogVar: array<f32>;
@group(0) @binding(4) var<storage, read> llRho: array<f32>;
@group(0) @binding(5) var<storage, read_write> llDens: array<f32>;
@group(0) @binding(6) var<storage, read_write> llClass: array<f32>;

// One thread per row: logDens_ik, then classLogLik_ic = log Σ_{ρ_ck > 0} ρ_ck exp(logDens_ik).
// Components with ρ_ck = 0 are left out rather than given log 0, so no −∞ enters the arithmetic.
@compute @workgroup_size(256)
fn mixtureLogLik(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let i = groupIndex(wid, nwg) * 256u + li;
  if (i >= pl.rows) { return; }
  for (var j = 0u; j < pl.k; j = j + 1u) {
    var q = 0.0;
    for (var t = 0u; t < pl.d; t = t + 1u) {
      let lv = llLogVar[j * pl.d + t];
      let e = llZ[i * pl.d + t] - llMu[j * pl.d + t];
      q = q + LOG_2PI + lv + e * e * exp(-lv);
    }
    llDens[i * pl.k + j] = -0.5 * q;
  }
  for (var a = 0u; a < pl.c; a = a + 1u) {
    var m = 0.0;
    var found = false;
    for (var j = 0u; j < pl.k; j = j + 1u) {
      let w = llRho[a * pl.k + j];
      if (w > 0.0) {
        let v = llDens[i * pl.k + j] + log(w);
        if (!found || v > m) { m = v; }
        found = true;
      }
    }
    if (!found) { llClass[i * pl.c + a] = negInf(); continue; }
    var s = 0.0;
    for (var j = 0u; j < pl.k; j = j + 1u) {
      let w = llRho[a * pl.k + j];
      if (w > 0.0) { s = s + exp(llDens[i * pl.k + j] + log(w) - m); }
    }
    llClass[i * pl.c + a] = m + log(s);
  }
}

struct PostParams { rows: u32, c: u32, s: u32, pbase: u32 }
@group(0) @binding(0) var<uniform> pp: PostParams;
@group(0) @binding(1) var<storage, read> mpLogLik: array<f32>;
@group(0) @binding(2) var<storage, read> mpSample: array<i32>;
@group(0) @binding(3) var<storage, read> mpLogPrior: array<f32>;
@group(0) @binding(4) var<storage, read_write> mpPost: array<f32>;
@group(0) @binding(5) var<storage, read_write> mpPartial: array<f32>;

var<workgroup> blockSample: array<u32, 64>;
var<workgroup> blockLse: array<f32, 64>;

// Rows [64g, 64g+64): first one thread per row writes post_i and keeps s_i and l_i in workgroup
// memory; then one thread per output o writes partial row g, o < S*C the posterior sum of (s, c) =
// (o/C, o%C), S*C + s the log-likelihood sum of sample s. Sample indices outside 0..S−1 (only
// GPU-produced ones can be; the host checks uploaded ones) are clamped, as gatherRows does.
@compute @workgroup_size(256)
fn mixturePosteriors(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let g = groupIndex(wid, nwg);
  let r0 = g * 64u;
  if (r0 >= pp.rows) { return; } // whole workgroup: uniform
  let r1 = min(r0 + 64u, pp.rows);
  let c = pp.c;
  if (li < r1 - r0) {
    let i = r0 + li;
    let s = u32(clamp(mpSample[i], 0, i32(pp.s) - 1));
    var m = mpLogLik[i * c] + mpLogPrior[s * c];
    for (var a = 1u; a < c; a = a + 1u) { m = max(m, mpLogLik[i * c + a] + mpLogPrior[s * c + a]); }
    var t = 0.0;
    for (var a = 0u; a < c; a = a + 1u) { t = t + exp(mpLogLik[i * c + a] + mpLogPrior[s * c + a] - m); }
    let l = m + log(t);
    for (var a = 0u; a < c; a = a + 1u) { mpPost[i * c + a] = exp(mpLogLik[i * c + a] + mpLogPrior[s * c + a] - l); }
    blockSample[li] = s;
    blockLse[li] = l;
  }
  // The posteriors other threads wrote are read back from storage below.
  storageBarrier();
  workgroupBarrier();
  let sc = pp.s * c;
  let width = sc + pp.s;
  for (var o = li; o < width; o = o + 256u) {
    var acc = 0.0;
    if (o < sc) {
      let s = o / c;
      let a = o % c;
      for (var r = r0; r < r1; r = r + 1u) {
        if (blockSample[r - r0] == s) { acc = acc + mpPost[r * c + a]; }
      }
    } else {
      for (var r = r0; r < r1; r = r + 1u) {
        if (blockSample[r - r0] == o - sc) { acc = acc + blockLse[r - r0]; }
      }
    }
    mpPartial[(pp.pbase + g) * width + o] = acc;
  }
}

struct StatsParams { rows: u32, d: u32, k: u32, c: u32, pbase: u32 }
@group(0) @binding(0) var<uniform> psh: StatsParams;
@group(0) @binding(1) var<storage, read> shDens: array<f32>;
@group(0) @binding(2) var<storage, read> shClass: array<f32>;
@group(0) @binding(3) var<storage, read> shPost: array<f32>;
@group(0) @binding(4) var<storage, read> shRho: array<f32>;
@group(0) @binding(5) var<storage, read_write> shOut: array<f32>;

// One thread per row: the shares g_ick (at c*K + k) and their class sums r_ik (at C*K + k) into a
// scratch row of C*K + K, so every exp is taken once and the partial pass below only adds.
// g is 0 where ρ_ck or post_ic is 0: there exp(logDens − classLogLik) may overflow (or be −∞ − −∞)
// and must not be multiplied by the zero.
@compute @workgroup_size(256)
fn mixtureShares(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let i = groupIndex(wid, nwg) * 256u + li;
  if (i >= psh.rows) { return; }
  let ck = psh.c * psh.k;
  let base = i * (ck + psh.k);
  for (var j = 0u; j < psh.k; j = j + 1u) {
    var r = 0.0;
    for (var a = 0u; a < psh.c; a = a + 1u) {
      let p = shPost[i * psh.c + a];
      let w = shRho[a * psh.k + j];
      var gik = 0.0;
      if (p > 0.0 && w > 0.0) { gik = p * w * exp(shDens[i * psh.k + j] - shClass[i * psh.c + a]); }
      shOut[base + a * psh.k + j] = gik;
      r = r + gik;
    }
    shOut[base + ck + j] = r;
  }
}

@group(0) @binding(0) var<uniform> pst: StatsParams;
@group(0) @binding(1) var<storage, read> stZ: array<f32>;
@group(0) @binding(2) var<storage, read> stCenter: array<f32>;
@group(0) @binding(3) var<storage, read> stShares: array<f32>;
@group(0) @binding(4) var<storage, read_write> stPartial: array<f32>;

// Row-block partials (rows [64g, 64g+64)) of width C*K + 2*K*D:
//   o < C*K:           Σ_i g_ick                      → classWeights[c, k]
//   o < C*K + K*D:     Σ_i r_ik (z_id − center_kd)    → sum1[k, d]
//   o < C*K + 2*K*D:   Σ_i r_ik (z_id − center_kd)²   → sum2[k, d]
@compute @workgroup_size(256)
fn mixtureStats(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let g = groupIndex(wid, nwg);
  let r0 = g * 64u;
  if (r0 >= pst.rows) { return; }
  let r1 = min(r0 + 64u, pst.rows);
  let ck = pst.c * pst.k;
  let kd = pst.k * pst.d;
  let sw = ck + pst.k;
  let width = ck + 2u * kd;
  for (var o = li; o < width; o = o + 256u) {
    var acc = 0.0;
    if (o < ck) {
      for (var r = r0; r < r1; r = r + 1u) { acc = acc + stShares[r * sw + o]; }
    } else {
      let e0 = (o - ck) % kd;
      let squared = o - ck >= kd;
      let j = e0 / pst.d;
      let t = e0 % pst.d;
      let cen = stCenter[e0];
      for (var r = r0; r < r1; r = r + 1u) {
        let e = stZ[r * pst.d + t] - cen;
        let w = stShares[r * sw + ck + j] * e;
        acc = acc + select(w, w * e, squared);
      }
    }
    stPartial[(pst.pbase + g) * width + o] = acc;
  }
}
