// gemm.wgsl — C = alpha*op(A)*op(B) + beta*C, tiled through workgroup memory with register blocking.
// Compile-time constants (one pipeline per combination; chosen by gemmTile() in plan.ts):
//   TM, TN: output tile per workgroup; TK: K step; WG_X, WG_Y: threads; RM, RN: outputs per thread
//   (TM = WG_Y*RM, TN = WG_X*RN); TRANS_A, TRANS_B: operand layouts.
// Variants: gemm64 (64×64 tile, 4×4 per thread) and gemm32 (32×32 tile, 2×2 per thread).
// Chunking: A, B, C may be bound from a row offset; aColOff/bColOff select the K (or M) columns of
// the bound rows, so large operands are processed in M and K chunks (beta = 1 after the first K chunk).

struct GemmParams {
  m: u32, n: u32, k: u32,
  lda: u32, ldb: u32,
  aColOff: u32, bColOff: u32,
  groupsN: u32,
  alpha: f32, beta: f32,
}
@group(0) @binding(0) var<uniform> gp: GemmParams;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;

var<workgroup> tileA: array<f32, TK * TM>; // [k][m]
var<workgroup> tileB: array<f32, TK * TN>; // [k][n]

// Element (row, kk) of op(A), zero outside the matrix.
fn loadA(row: u32, kk: u32) -> f32 {
  if (row >= gp.m || kk >= gp.k) { return 0.0; }
  if (TRANS_A) { return A[kk * gp.lda + gp.aColOff + row]; }
  return A[row * gp.lda + gp.aColOff + kk];
}

// Element (kk, col) of op(B), zero outside the matrix.
fn loadB(kk: u32, col: u32) -> f32 {
  if (kk >= gp.k || col >= gp.n) { return 0.0; }
  if (TRANS_B) { return B[col * gp.ldb + gp.bColOff + kk]; }
  return B[kk * gp.ldb + gp.bColOff + col];
}

@compute @workgroup_size(WG_X, WG_Y)
fn gemm(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let g = groupIndex(wid, nwg);
  let m0 = (g / gp.groupsN) * TM;
  let n0 = (g % gp.groupsN) * TN;
  if (m0 >= gp.m) { return; } // whole workgroup: uniform
  var acc: array<f32, RM * RN>;
  var a: array<f32, RM>;
  var b: array<f32, RN>;
  for (var k0 = 0u; k0 < gp.k; k0 = k0 + TK) {
    for (var e = li; e < TK * TM; e = e + WG_X * WG_Y) {
      tileA[e] = loadA(m0 + e % TM, k0 + e / TM);
    }
    for (var e = li; e < TK * TN; e = e + WG_X * WG_Y) {
      tileB[e] = loadB(k0 + e / TN, n0 + e % TN);
    }
    workgroupBarrier();
    for (var kk = 0u; kk < TK; kk = kk + 1u) {
      // Thread rows/cols are strided by WG_Y/WG_X so neighbouring threads read neighbouring words.
      for (var r = 0u; r < RM; r = r + 1u) { a[r] = tileA[kk * TM + r * WG_Y + lid.y]; }
      for (var c = 0u; c < RN; c = c + 1u) { b[c] = tileB[kk * TN + c * WG_X + lid.x]; }
      for (var r = 0u; r < RM; r = r + 1u) {
        for (var c = 0u; c < RN; c = c + 1u) {
          acc[r * RN + c] = fma(a[r], b[c], acc[r * RN + c]);
        }
      }
    }
    workgroupBarrier();
  }
  for (var r = 0u; r < RM; r = r + 1u) {
    let row = m0 + r * WG_Y + lid.y;
    if (row >= gp.m) { continue; }
    for (var c = 0u; c < RN; c = c + 1u) {
      let col = n0 + c * WG_X + lid.x;
      if (col >= gp.n) { continue; }
      let o = row * gp.n + col;
      var v = gp.alpha * acc[r * RN + c];
      if (gp.beta != 0.0) { v = v + gp.beta * C[o]; } // beta = 0 never reads C (NaN stays out)
      C[o] = v;
    }
  }
}
