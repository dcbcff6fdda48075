// vade.wgsl — Variational Deep Embedding (Jiang et al. 2017, "Variational Deep Embedding: An
// Unsupervised and Generative Approach to Clustering", eqs. 10-12 and 16): reparameterize,
// reparameterizeBackward, gmmLogResp, vadeKlLoss, vadeKlLossBackward (+ vadeKlLossBackwardC, the
// row-block partials of the GMM-parameter gradients, finished by colSum).
// π = softmax(piLogits) keeps the mixture weights on the simplex; log π is computed by log-sum-exp.

struct FlatParams { n: u32, accumulate: u32 }
@group(0) @binding(0) var<uniform> pf: FlatParams;
@group(0) @binding(1) var<storage, read> rpMu: array<f32>;
@group(0) @binding(2) var<storage, read> rpLogVar: array<f32>;
@group(0) @binding(3) var<storage, read> rpEps: array<f32>;
@group(0) @binding(4) var<storage, read_write> rpZ: array<f32>;

// z = μ + exp(logσ²/2)·ε.
@compute @workgroup_size(256)
fn reparameterize(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let e = groupIndex(wid, nwg) * 256u + li;
  if (e < pf.n) { rpZ[e] = rpMu[e] + exp(0.5 * rpLogVar[e]) * rpEps[e]; }
}

@group(0) @binding(0) var<uniform> pfb: FlatParams;
@group(0) @binding(1) var<storage, read> rbDz: array<f32>;
@group(0) @binding(2) var<storage, read> rbLogVar: array<f32>;
@group(0) @binding(3) var<storage, read> rbEps: array<f32>;
@group(0) @binding(4) var<storage, read_write> rbDmu: array<f32>;
@group(0) @binding(5) var<storage, read_write> rbDlogVar: array<f32>;

// dμ = dz; dlogσ² = dz·ε·exp(logσ²/2)/2 (added to the outputs when accumulate is set).
@compute @workgroup_size(256)
fn reparameterizeBackward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let e = groupIndex(wid, nwg) * 256u + li;
  if (e >= pfb.n) { return; }
  let dz = rbDz[e];
  var dmu = dz;
  var dlv = dz * rbEps[e] * exp(0.5 * rbLogVar[e]) * 0.5;
  if (pfb.accumulate != 0u) {
    dmu = dmu + rbDmu[e];
    dlv = dlv + rbDlogVar[e];
  }
  rbDmu[e] = dmu;
  rbDlogVar[e] = dlv;
}

struct GmmParams { rows: u32, d: u32, k: u32, pbase: u32, coef: f32, accumulate: u32 }

@group(0) @binding(0) var<uniform> pg: GmmParams;
@group(0) @binding(1) var<storage, read> grZ: array<f32>;
@group(0) @binding(2) var<storage, read> grPi: array<f32>;
@group(0) @binding(3) var<storage, read> grMu: array<f32>;
@group(0) @binding(4) var<storage, read> grLogVar: array<f32>;
@group(0) @binding(5) var<storage, read_write> grOut: array<f32>;

// log-sum-exp of the K mixture logits (K is small; every thread recomputes it).
fn lsePiG() -> f32 {
  var m = grPi[0];
  for (var c = 1u; c < pg.k; c = c + 1u) { m = max(m, grPi[c]); }
  var s = 0.0;
  for (var c = 0u; c < pg.k; c = c + 1u) { s = s + exp(grPi[c] - m); }
  return m + log(s);
}

const LOG_2PI: f32 = 1.8378770664093453;

// log γ_ic = log π_c + log N(z_i | μ_c, diag σ²_c) − logsumexp_c'(…) (eq. 16, in log space).
@compute @workgroup_size(256)
fn gmmLogResp(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let i = groupIndex(wid, nwg) * 256u + li;
  if (i >= pg.rows) { return; }
  let lsePi = lsePiG();
  var m = -3.4e38;
  for (var c = 0u; c < pg.k; c = c + 1u) {
    var q = 0.0;
    for (var d = 0u; d < pg.d; d = d + 1u) {
      let lv = grLogVar[c * pg.d + d];
      let t = grZ[i * pg.d + d] - grMu[c * pg.d + d];
      q = q + LOG_2PI + lv + t * t * exp(-lv);
    }
    let l = grPi[c] - lsePi - 0.5 * q;
    grOut[i * pg.k + c] = l;
    m = max(m, l);
  }
  var s = 0.0;
  for (var c = 0u; c < pg.k; c = c + 1u) { s = s + exp(grOut[i * pg.k + c] - m); }
  let lse = m + log(s);
  for (var c = 0u; c < pg.k; c = c + 1u) { grOut[i * pg.k + c] = grOut[i * pg.k + c] - lse; }
}

@group(0) @binding(0) var<uniform> pk: GmmParams;
@group(0) @binding(1) var<storage, read> kMuE: array<f32>;
@group(0) @binding(2) var<storage, read> kLvE: array<f32>;
@group(0) @binding(3) var<storage, read> kGamma: array<f32>;
@group(0) @binding(4) var<storage, read> kPi: array<f32>;
@group(0) @binding(5) var<storage, read> kMuC: array<f32>;
@group(0) @binding(6) var<storage, read> kLvC: array<f32>;
@group(0) @binding(7) var<storage, read_write> kPartial: array<f32>;

// log-sum-exp of the K mixture logits (K is small; every thread recomputes it).
fn lsePiK() -> f32 {
  var m = kPi[0];
  for (var c = 1u; c < pk.k; c = c + 1u) { m = max(m, kPi[c]); }
  var s = 0.0;
  for (var c = 0u; c < pk.k; c = c + 1u) { s = s + exp(kPi[c] - m); }
  return m + log(s);
}

// Per-row term of the KL part of the negative ELBO (eq. 12 with L = 1, γ held fixed):
//   ½ Σ_c γ_c Σ_d (logσ²_cd + σ̃²_d/σ²_cd + (μ̃_d−μ_cd)²/σ²_cd) − Σ_c γ_c (log π_c − log γ_c) − ½ Σ_d (1 + log σ̃²_d)
// Terms with γ_c = 0 contribute 0 (0·log 0 = 0). One thread per row; the workgroup's 256 rows are
// tree-summed into partial[pbase + g]; colSum finishes the mean.
@compute @workgroup_size(256)
fn vadeKlLoss(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let g = groupIndex(wid, nwg);
  if (g * 256u >= pk.rows) { return; }
  let i = g * 256u + li;
  var l = 0.0;
  if (i < pk.rows) {
    let lsePi = lsePiK();
    for (var c = 0u; c < pk.k; c = c + 1u) {
      let gam = kGamma[i * pk.k + c];
      if (gam <= 0.0) { continue; }
      var inner = 0.0;
      for (var d = 0u; d < pk.d; d = d + 1u) {
        let lvc = kLvC[c * pk.d + d];
        let lve = kLvE[i * pk.d + d];
        let t = kMuE[i * pk.d + d] - kMuC[c * pk.d + d];
        inner = inner + lvc + exp(lve - lvc) + t * t * exp(-lvc);
      }
      l = l + 0.5 * gam * inner - gam * ((kPi[c] - lsePi) - log(gam));
    }
    for (var d = 0u; d < pk.d; d = d + 1u) { l = l - 0.5 * (1.0 + kLvE[i * pk.d + d]); }
  }
  let total = groupSum(li, l);
  if (li == 0u) { kPartial[pk.pbase + g] = total; }
}

@group(0) @binding(0) var<uniform> pkb: GmmParams;
@group(0) @binding(1) var<storage, read> bMuE: array<f32>;
@group(0) @binding(2) var<storage, read> bLvE: array<f32>;
@group(0) @binding(3) var<storage, read> bGamma: array<f32>;
@group(0) @binding(4) var<storage, read> bMuC: array<f32>;
@group(0) @binding(5) var<storage, read> bLvC: array<f32>;
@group(0) @binding(6) var<storage, read_write> bDMuE: array<f32>;
@group(0) @binding(7) var<storage, read_write> bDLvE: array<f32>;

// Encoder-side gradients, coef = scale/N:
//   dμ̃_id = coef Σ_c γ_ic (μ̃_id − μ_cd)/σ²_cd;  dlogσ̃²_id = coef ½ (Σ_c γ_ic σ̃²_id/σ²_cd − 1).
@compute @workgroup_size(256)
fn vadeKlLossBackward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let i = groupIndex(wid, nwg) * 256u + li;
  if (i >= pkb.rows) { return; }
  for (var d = 0u; d < pkb.d; d = d + 1u) {
    let me = bMuE[i * pkb.d + d];
    let lve = bLvE[i * pkb.d + d];
    var gm = 0.0;
    var gv = 0.0;
    for (var c = 0u; c < pkb.k; c = c + 1u) {
      let gam = bGamma[i * pkb.k + c];
      let lvc = bLvC[c * pkb.d + d];
      gm = gm + gam * (me - bMuC[c * pkb.d + d]) * exp(-lvc);
      gv = gv + gam * exp(lve - lvc);
    }
    var dm = pkb.coef * gm;
    var dv = pkb.coef * 0.5 * (gv - 1.0);
    if (pkb.accumulate != 0u) {
      dm = dm + bDMuE[i * pkb.d + d];
      dv = dv + bDLvE[i * pkb.d + d];
    }
    bDMuE[i * pkb.d + d] = dm;
    bDLvE[i * pkb.d + d] = dv;
  }
}

@group(0) @binding(0) var<uniform> pkc: GmmParams;
@group(0) @binding(1) var<storage, read> cMuE: array<f32>;
@group(0) @binding(2) var<storage, read> cLvE: array<f32>;
@group(0) @binding(3) var<storage, read> cGamma: array<f32>;
@group(0) @binding(4) var<storage, read> cPi: array<f32>;
@group(0) @binding(5) var<storage, read> cMuC: array<f32>;
@group(0) @binding(6) var<storage, read> cLvC: array<f32>;
@group(0) @binding(7) var<storage, read_write> cPartial: array<f32>;

// log-sum-exp of the K mixture logits (K is small; every thread recomputes it).
fn lsePiC() -> f32 {
  var m = cPi[0];
  for (var c = 1u; c < pkc.k; c = c + 1u) { m = max(m, cPi[c]); }
  var s = 0.0;
  for (var c = 0u; c < pkc.k; c = c + 1u) { s = s + exp(cPi[c] - m); }
  return m + log(s);
}

// Row-block partials (rows [64g, 64g+64)) of the GMM-side gradients, before the coef scale:
//   o <  KD:        Σ_i γ_ic (μ_cd − μ̃_id)/σ²_cd                       → dμ_c
//   o < 2KD:        Σ_i ½ γ_ic (1 − (σ̃²_id + (μ̃_id − μ_cd)²)/σ²_cd)    → dlogσ²_c
//   o < 2KD + K:    Σ_i (γ_ik − π_k Σ_c γ_ic)                          → −dπ-logit_k
@compute @workgroup_size(256)
fn vadeKlLossBackwardC(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let g = groupIndex(wid, nwg);
  let r0 = g * 64u;
  if (r0 >= pkc.rows) { return; }
  let r1 = min(r0 + 64u, pkc.rows);
  let kd = pkc.k * pkc.d;
  let width = 2u * kd + pkc.k;
  for (var o = li; o < width; o = o + 256u) {
    var s = 0.0;
    if (o < 2u * kd) {
      let oc = o % kd;
      let c = oc / pkc.d;
      let d = oc % pkc.d;
      let mc = cMuC[oc];
      let lvc = cLvC[oc];
      let inv = exp(-lvc);
      for (var r = r0; r < r1; r = r + 1u) {
        let gam = cGamma[r * pkc.k + c];
        let t = cMuE[r * pkc.d + d] - mc;
        if (o < kd) {
          s = s - gam * t * inv;
        } else {
          s = s + 0.5 * gam * (1.0 - exp(cLvE[r * pkc.d + d] - lvc) - t * t * inv);
        }
      }
    } else {
      let k = o - 2u * kd;
      let piK = exp(cPi[k] - lsePiC());
      for (var r = r0; r < r1; r = r + 1u) {
        var rowSum = 0.0;
        for (var c = 0u; c < pkc.k; c = c + 1u) { rowSum = rowSum + cGamma[r * pkc.k + c]; }
        s = s + cGamma[r * pkc.k + k] - piK * rowSum;
      }
    }
    cPartial[(pkc.pbase + g) * width + o] = s;
  }
}
