// reduce.wgsl — colSum: column sums of a row-major matrix, the one reduction every other
// reduction finishes with (losses, kmeansUpdate, softAssignBackward's dmu, VaDE gradients,
// the class-mixture sums of mixture.wgsl).
// No float atomics: each workgroup sums a block of RPG = LANES*SEQ rows of COLS columns — every lane
// adds SEQ rows in order, then the LANES partial sums meet in a tree in workgroup memory — and writes
// one partial row. The host repeats the pass on the partial rows until one row is left, then a final
// pass applies `scale` and `accumulate`. Error grows like SEQ + log2(rows) roundings, not rows.
// Compile-time constants: COLS (16 or 1), LANES = 256/COLS, SEQ; chosen by reduceTile() in plan.ts.

struct ColSumParams {
  rows: u32,      // rows of the input bound here
  ld: u32,        // input row stride (elements)
  col0: u32,      // first input column reduced
  width: u32,     // columns reduced
  outLd: u32,     // output row stride (0 for the final pass)
  outOff: u32,    // output element offset
  pbase: u32,     // first output row written by this dispatch
  colGroups: u32, // workgroups across the columns
  accumulate: u32,
  scale: f32,
}
@group(0) @binding(0) var<uniform> pc: ColSumParams;
@group(0) @binding(1) var<storage, read> csIn: array<f32>;
@group(0) @binding(2) var<storage, read_write> csOut: array<f32>;

var<workgroup> lanes: array<f32, 256>;

@compute @workgroup_size(256)
fn colSum(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let g = groupIndex(wid, nwg);
  let rb = g / pc.colGroups;
  if (rb * LANES * SEQ >= pc.rows) { return; } // whole workgroup: uniform
  let col = (g % pc.colGroups) * COLS + li % COLS;
  let lane = li / COLS;
  var s = 0.0;
  if (col < pc.width) {
    for (var q = 0u; q < SEQ; q = q + 1u) {
      let r = rb * LANES * SEQ + q * LANES + lane;
      if (r < pc.rows) { s = s + csIn[r * pc.ld + pc.col0 + col]; }
    }
  }
  lanes[li] = s;
  workgroupBarrier();
  for (var h = LANES / 2u; h > 0u; h = h >> 1u) {
    if (lane < h) { lanes[li] = lanes[li] + lanes[li + h * COLS]; }
    workgroupBarrier();
  }
  if (lane == 0u && col < pc.width) {
    let o = pc.outOff + (pc.pbase + rb) * pc.outLd + col;
    var v = pc.scale * lanes[li];
    if (pc.accumulate != 0u) { v = v + csOut[o]; }
    csOut[o] = v;
  }
}
