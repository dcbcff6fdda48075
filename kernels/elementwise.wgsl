// elementwise.wgsl — data movement and per-element layers: fill, axpby, gatherRows, biasAct,
// biasActBackward, asinhStandardize (the pipeline's input normalisation). One thread per element, 256 per workgroup; `n` is the element count of the chunk.
// pulseSummaries (the pipeline's per-channel pulse heights and widths) is the exception: one thread
// per (row, channel) block of T samples, `n` the chunk's rows × channels.
// Variants (compile-time const ACT for the activation kernels): 0 identity, 1 relu, 2 sigmoid, 3 tanh.

struct FillParams { n: u32, bits: u32 }
@group(0) @binding(0) var<uniform> pFill: FillParams;
@group(0) @binding(1) var<storage, read_write> fillOut: array<u32>;

// out[i] = value, written as raw bits so one kernel serves f32 and i32 tensors.
@compute @workgroup_size(256)
fn fill(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let e = groupIndex(wid, nwg) * 256u + li;
  if (e < pFill.n) { fillOut[e] = pFill.bits; }
}

struct AxpbyParams { n: u32, alpha: f32, beta: f32 }
@group(0) @binding(0) var<uniform> pAxpby: AxpbyParams;
@group(0) @binding(1) var<storage, read> axX: array<f32>;
@group(0) @binding(2) var<storage, read_write> axY: array<f32>;

// y = alpha*x + beta*y; beta = 0 overwrites y without reading it (NaN in y must not leak).
@compute @workgroup_size(256)
fn axpby(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let e = groupIndex(wid, nwg) * 256u + li;
  if (e >= pAxpby.n) { return; }
  var v = pAxpby.alpha * axX[e];
  if (pAxpby.beta != 0.0) { v = v + pAxpby.beta * axY[e]; }
  axY[e] = v;
}

struct GatherParams { n: u32, d: u32, srcRow0: u32, srcRows: u32, srcTotal: u32 }
@group(0) @binding(0) var<uniform> pGather: GatherParams;
@group(0) @binding(1) var<storage, read> gSrc: array<f32>;
@group(0) @binding(2) var<storage, read> gIdx: array<i32>;
@group(0) @binding(3) var<storage, read_write> gOut: array<f32>;

// out[r,:] = src[idx[r],:] for the rows of src bound in this dispatch (src may be bound in
// row chunks: rows whose index falls outside [srcRow0, srcRow0+srcRows) are left to another
// dispatch). Indices outside 0..N-1 (not checkable on the GPU) are clamped into range.
@compute @workgroup_size(256)
fn gatherRows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let e = groupIndex(wid, nwg) * 256u + li;
  if (e >= pGather.n) { return; }
  let r = e / pGather.d;
  let c = e % pGather.d;
  let s = u32(clamp(gIdx[r], 0, i32(pGather.srcTotal) - 1));
  if (s < pGather.srcRow0 || s >= pGather.srcRow0 + pGather.srcRows) { return; }
  gOut[e] = gSrc[(s - pGather.srcRow0) * pGather.d + c];
}

// Derivative expressed through the activation's output y.
fn activateGrad(y: f32) -> f32 {
  if (ACT == 1u) { return select(0.0, 1.0, y > 0.0); }
  if (ACT == 2u) { return y * (1.0 - y); }
  // (1 − y)(1 + y), not 1 − y·y: near |y| = 1 the rounding of y·y (≈ 3e-8) is a large part of
  // 1 − y² (1e-3 at y = tanh 4), while 1 − y is exact there (Sterbenz) and 1 + y rounds by ½ ulp.
  if (ACT == 3u) { return (1.0 - y) * (1.0 + y); }
  return 1.0;
}

struct BiasActParams { n: u32, d: u32 }
@group(0) @binding(0) var<uniform> pBias: BiasActParams;
@group(0) @binding(1) var<storage, read> baX: array<f32>;
@group(0) @binding(2) var<storage, read> baBias: array<f32>;
@group(0) @binding(3) var<storage, read_write> baOut: array<f32>;

// out = act(x + bias) row-wise; x [rows, d], bias [d].
@compute @workgroup_size(256)
fn biasAct(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let e = groupIndex(wid, nwg) * 256u + li;
  if (e >= pBias.n) { return; }
  baOut[e] = activateAs(ACT, baX[e] + baBias[e % pBias.d]);
}

struct BiasActBwdParams { n: u32 }
@group(0) @binding(0) var<uniform> pBab: BiasActBwdParams;
@group(0) @binding(1) var<storage, read> babDy: array<f32>;
@group(0) @binding(2) var<storage, read> babY: array<f32>;
@group(0) @binding(3) var<storage, read_write> babDx: array<f32>;

// dx = dy * act'(.) written through y = act(.).
@compute @workgroup_size(256)
fn biasActBackward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let e = groupIndex(wid, nwg) * 256u + li;
  if (e >= pBab.n) { return; }
  babDx[e] = babDy[e] * activateGrad(babY[e]);
}

struct AsinhStdParams { n: u32, d: u32, invScale: f32 }
@group(0) @binding(0) var<uniform> pAsinh: AsinhStdParams;
@group(0) @binding(1) var<storage, read> asX: array<f32>;
@group(0) @binding(2) var<storage, read> asMean: array<f32>;
@group(0) @binding(3) var<storage, read> asStd: array<f32>;
@group(0) @binding(4) var<storage, read_write> asOut: array<f32>;

// asinh(v) for v ≥ 0 without the builtin: log(v + sqrt(v² + 1)) loses the small values of the
// noisy baseline to cancellation (1 + v rounds away v's low bits), so below 0.5 the Maclaurin
// series asinh v = v Σ_k (−1)^k (2k)! / (4^k (k!)² (2k+1)) v^(2k) is used, k = 0..9 (the first
// omitted term is < 1e-8 relative at v = 0.5); above 2^12, v² + 1 rounds to v² anyway and
// overflows beyond ~1.8e19, so log(2v) = log v + log 2.
fn asinhPos(v: f32) -> f32 {
  if (v < 0.5) {
    let v2 = v * v;
    var s = -9.7616095292e-03; // k = 9: -12155/1245184
    s = s * v2 + 1.1551800896e-02; // k = 8: 6435/557056
    s = s * v2 - 1.3964843750e-02; // k = 7: -143/10240
    s = s * v2 + 1.7352764423e-02; // k = 6: 231/13312
    s = s * v2 - 2.2372159091e-02; // k = 5: -63/2816
    s = s * v2 + 3.0381944444e-02; // k = 4: 35/1152
    s = s * v2 - 4.4642857143e-02; // k = 3: -5/112
    s = s * v2 + 7.5000000000e-02; // k = 2: 3/40
    s = s * v2 - 1.6666666667e-01; // k = 1: -1/6
    s = s * v2 + 1.0000000000e+00; // k = 0: 1
    return v * s;
  }
  if (v > 4096.0) { return log(v) + 0.6931471806; }
  return log(v + sqrt(v * v + 1.0));
}

// out[i,j] = (asinh(x[i,j]·invScale) − mean[j]) / std[j]; x, out [rows, d], mean, std [d].
@compute @workgroup_size(256)
fn asinhStandardize(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let e = groupIndex(wid, nwg) * 256u + li;
  if (e >= pAsinh.n) { return; }
  let v = asX[e] * pAsinh.invScale;
  let j = e % pAsinh.d;
  let a = sign(v) * asinhPos(abs(v));
  asOut[e] = (a - asMean[j]) / asStd[j];
}

struct PulseParams { n: u32, d: u32, channels: u32, scale: f32 }
@group(0) @binding(0) var<uniform> pPulse: PulseParams;
@group(0) @binding(1) var<storage, read> puX: array<f32>;
@group(0) @binding(2) var<storage, read_write> puOut: array<f32>;

// Per (row, channel) of x [rows, d], d = channels·T: peak = max_t x, area = Σ_t max(x, 0);
// out[row, 2c] = asinh(peak / scale), out[row, 2c + 1] = area / max(peak, scale). (Samples are
// finite: validateSample rejects others, and WGSL does not promise NaN semantics.) The area is an
// f32 running sum of T non-negative terms: relative error ≤ T·2⁻²⁴ (no cancellation), the
// documented tolerance of this kernel.
@compute @workgroup_size(256)
fn pulseSummaries(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let e = groupIndex(wid, nwg) * 256u + li;
  if (e >= pPulse.n) { return; }
  let row = e / pPulse.channels;
  let c = e % pPulse.channels;
  let T = pPulse.d / pPulse.channels;
  let base = row * pPulse.d + c * T;
  var peak = puX[base];
  var area = 0.0;
  for (var t = 0u; t < T; t = t + 1u) {
    let v = puX[base + t];
    if (v > peak) { peak = v; }
    if (v > 0.0) { area = area + v; }
  }
  let h = peak / pPulse.scale;
  puOut[2u * e] = sign(h) * asinhPos(abs(h));
  puOut[2u * e + 1u] = area / max(peak, pPulse.scale);
}
