// optim.wgsl — optimisers, in place on parameters and state: adamUpdate, sgdUpdate.
// Bias corrections 1 - beta^t, and 1 - beta itself, are computed in f64 on the host and passed as
// uniforms: 1 - f32(0.999) in f32 is 0.0009999871, 1.3e-5 away from 0.001, an error v (dominated by
// (1-b2) g² at step 1) would inherit.

struct AdamParams { n: u32, lr: f32, beta1: f32, beta2: f32, eps: f32, bc1: f32, bc2: f32, wd: f32, omb1: f32, omb2: f32 }
@group(0) @binding(0) var<uniform> pa: AdamParams;
@group(0) @binding(1) var<storage, read_write> adamP: array<f32>;
@group(0) @binding(2) var<storage, read> adamG: array<f32>;
@group(0) @binding(3) var<storage, read_write> adamM: array<f32>;
@group(0) @binding(4) var<storage, read_write> adamV: array<f32>;

// Adam (Kingma & Ba 2015, Alg. 1) with decoupled weight decay (Loshchilov & Hutter 2019):
// m = b1 m + (1-b1) g; v = b2 v + (1-b2) g²; p -= lr (m/bc1 / (sqrt(v/bc2) + eps) + wd p).
@compute @workgroup_size(256)
fn adamUpdate(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let e = groupIndex(wid, nwg) * 256u + li;
  if (e >= pa.n) { return; }
  let g = adamG[e];
  let m = pa.beta1 * adamM[e] + pa.omb1 * g;
  let v = pa.beta2 * adamV[e] + pa.omb2 * g * g;
  adamM[e] = m;
  adamV[e] = v;
  let p = adamP[e];
  adamP[e] = p - pa.lr * ((m / pa.bc1) / (sqrt(v / pa.bc2) + pa.eps) + pa.wd * p);
}

struct SgdParams { n: u32, lr: f32, momentum: f32 }
@group(0) @binding(0) var<uniform> ps: SgdParams;
@group(0) @binding(1) var<storage, read_write> sgdP: array<f32>;
@group(0) @binding(2) var<storage, read> sgdG: array<f32>;
@group(0) @binding(3) var<storage, read_write> sgdVel: array<f32>;

// vel = momentum*vel + grad; param -= lr*vel.
@compute @workgroup_size(256)
fn sgdUpdate(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let e = groupIndex(wid, nwg) * 256u + li;
  if (e >= ps.n) { return; }
  let v = ps.momentum * sgdVel[e] + sgdG[e];
  sgdVel[e] = v;
  sgdP[e] = sgdP[e] - ps.lr * v;
}
