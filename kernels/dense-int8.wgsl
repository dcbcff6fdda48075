// dense-int8.wgsl — denseInt8 (bindings/backend.ts): a dense layer with int8 weights, quantised per
// output channel beforehand (packInt8Rows in bindings/int8.ts), and int8 inputs, quantised per row
// inside the op. Two passes over each row chunk:
//   denseInt8Quantise  one thread per row, 256 per workgroup (as rowwise.wgsl; rows are short next
//                      to the OUT dot products each row feeds): m = max_i |x_ri|, then
//                      qx_ri = clamp(round(x_ri · (127/m)), ±127) packed four to an i32 word as wq
//                      is (byte j of word t is input 4t + j, padding bytes 0), and xs_r = m/127,
//                      into scratch; an all-zero row gives qx = 0, xs = 0.
//   denseInt8          one thread per output (r, o), 256 per workgroup: the i32 sum of the byte
//                      products over the ⌈IN/4⌉ words (exact: 127² · IN < 2^31 for IN ≤ 2^17, which
//                      checks.ts enforces), then act(((f32(Σ) · xs_r) · ws_o) + bias_o).
// The arithmetic is bindings/int8.ts's: WGSL round() is half to even, as wasm's f32.nearest, and the
// products are correctly rounded; only the divisions 127/m and m/127 may be off by WGSL's 2.5 ulp,
// which moves a qx that lies within that of a half by one step (the webgpu tolerance allows it).
// Bytes are unpacked with extractBits on i32 (sign-extending), not dot4I8Packed: that needs the
// packed_4x8_integer_dot_product language feature, which not every adapter has.
// Variants (compile-time const ACT, as in elementwise.wgsl): 0 identity, 1 relu, 2 sigmoid, 3 tanh.
// denseInt8Quantise does not use ACT; the host compiles it with ACT = 0 only.

struct QuantParams { rows: u32, nin: u32, words: u32 }
@group(0) @binding(0) var<uniform> pq: QuantParams;
@group(0) @binding(1) var<storage, read> qX: array<f32>;
@group(0) @binding(2) var<storage, read_write> qPacked: array<i32>;
@group(0) @binding(3) var<storage, read_write> qScale: array<f32>;

// x [rows, nin] → packed [rows, words] (four int8 per word), scale [rows]; one thread per row.
@compute @workgroup_size(256)
fn denseInt8Quantise(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let r = groupIndex(wid, nwg) * 256u + li;
  if (r >= pq.rows) { return; }
  let base = r * pq.nin;
  var m = 0.0;
  for (var i = 0u; i < pq.nin; i = i + 1u) { m = max(m, abs(qX[base + i])); }
  var inv = 0.0;
  if (m > 0.0) { inv = 127.0 / m; }
  for (var t = 0u; t < pq.words; t = t + 1u) {
    var word = 0u;
    for (var j = 0u; j < 4u; j = j + 1u) {
      let i = 4u * t + j;
      if (i < pq.nin) {
        let q = i32(clamp(round(qX[base + i] * inv), -127.0, 127.0));
        word = word | ((bitcast<u32>(q) & 0xffu) << (8u * j));
      }
    }
    qPacked[r * pq.words + t] = bitcast<i32>(word);
  }
  qScale[r] = m / 127.0;
}

struct DotParams { n: u32, nout: u32, words: u32 }
@group(0) @binding(0) var<uniform> pd: DotParams;
@group(0) @binding(1) var<storage, read> dPacked: array<i32>;
@group(0) @binding(2) var<storage, read> dScale: array<f32>;
@group(0) @binding(3) var<storage, read> dW: array<i32>;
@group(0) @binding(4) var<storage, read> dWs: array<f32>;
@group(0) @binding(5) var<storage, read> dBias: array<f32>;
@group(0) @binding(6) var<storage, read_write> dOut: array<f32>;

// Σ_j a_j · b_j over the four sign-extended bytes of each word.
fn dot4(a: i32, b: i32) -> i32 {
  var s = 0;
  for (var j = 0u; j < 32u; j = j + 8u) { s = s + extractBits(a, j, 8u) * extractBits(b, j, 8u); }
  return s;
}

// out [rows, nout] from packed [rows, words], scale [rows], wq [nout, words], ws and bias [nout];
// n = rows · nout.
@compute @workgroup_size(256)
fn denseInt8(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let e = groupIndex(wid, nwg) * 256u + li;
  if (e >= pd.n) { return; }
  let r = e / pd.nout;
  let o = e % pd.nout;
  var acc = 0;
  for (var t = 0u; t < pd.words; t = t + 1u) { acc = acc + dot4(dPacked[r * pd.words + t], dW[o * pd.words + t]); }
  dOut[e] = activateAs(ACT, ((f32(acc) * dScale[r]) * dWs[o]) + dBias[o]);
}
