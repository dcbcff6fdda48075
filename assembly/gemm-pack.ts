// Packing op(B) into the NR-wide, k-major column panels that gemm.ts's micro4x8, its deep-K strips and
// gemm-shallow.ts's strips all read: panel p holds columns [8p, 8p+8) of op(B), kc rows of 8 floats,
// columns past the matrix zeroed. One routine for every path, so they cannot drift apart.

const NR: i32 = 8;

// Row-major sources whose packed panels cut across rows (op(A) with transA: MR floats of each k row;
// op(B) without transB: NR floats of each k row) are packed PACK_ROWS k rows at a time, all panels
// of those rows before the next ones: the source is read as PACK_ROWS sequential row streams, each
// cache line used whole. Panel by panel instead, one panel walks kc rows (up to KC lines, as many
// pages) at the source's row stride, and its lines must survive in L1 until the neighbouring panels
// take the rest of them.
const PACK_ROWS: i32 = 8;

/** Stores the 4×4 block whose rows are r0..r3 transposed: column q of the block goes to d + q·ld. */
// @ts-ignore: decorator
@inline export function storeTransposed4x4(d: usize, ld: usize, r0: v128, r1: v128, r2: v128, r3: v128): void {
  // t0 = (r0[0] r1[0] r0[1] r1[1]), t1 = (r2[0] r3[0] r2[1] r3[1]), t2/t3 the same for lanes 2, 3.
  const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5);
  const t1 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
  const t2 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
  const t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
  v128.store(d, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
  v128.store(d + ld, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7));
  v128.store(d + 2 * ld, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5));
  v128.store(d + 3 * ld, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7));
}

/** Pack op(B)[p0:p0+kc, j0:j0+nc] into ceil(nc/NR) panels of kc×NR (k-major), columns past nc zeroed. */
export function packB(b: usize, ldb: i32, transB: i32, p0: i32, j0: i32, kc: i32, nc: i32, dst: usize): void {
  if (!transB) {
    packBRowBlocks(b, ldb, p0, j0, kc, nc, dst);
    return;
  }
  // op(B)[k][j] = B[j][k]: each of the NR columns is a contiguous row of B. A full panel reads its
  // NR rows 4 floats at a time and transposes two 4×4 blocks through registers, instead of copying
  // a float at a time (the dX shapes pack their B once per chunk, so the copy is on their path).
  const ld = <usize>ldb << 2;
  for (let jp = 0; jp < nc; jp += NR) {
    const cols = min(NR, nc - jp);
    const panel = dst + (<usize>(jp * kc) << 2);
    const src = b + (<usize>((j0 + jp) * ldb + p0) << 2);
    if (cols == NR) {
      let kk = 0;
      for (; kk + 4 <= kc; kk += 4) {
        const s = src + (<usize>kk << 2);
        const d = panel + (<usize>kk << 5);
        storeTransposed4x4(d, 32, v128.load(s), v128.load(s + ld), v128.load(s + 2 * ld), v128.load(s + 3 * ld));
        const s4 = s + 4 * ld;
        storeTransposed4x4(d + 16, 32, v128.load(s4), v128.load(s4 + ld), v128.load(s4 + 2 * ld), v128.load(s4 + 3 * ld));
      }
      for (; kk < kc; kk++) {
        const s = src + (<usize>kk << 2);
        const d = panel + (<usize>kk << 5);
        for (let c = 0; c < NR; c++) store<f32>(d + (<usize>c << 2), load<f32>(s + <usize>c * ld));
      }
      continue;
    }
    for (let c = 0; c < NR; c++) {
      const d = panel + (<usize>c << 2);
      if (c < cols) {
        const s = src + <usize>c * ld;
        for (let kk = 0; kk < kc; kk++) store<f32>(d + (<usize>kk << 5), load<f32>(s + (<usize>kk << 2)));
      } else {
        for (let kk = 0; kk < kc; kk++) store<f32>(d + (<usize>kk << 5), 0);
      }
    }
  }
}

/** packB without transB: op(B)[k][j] = B[k][j], NR consecutive floats of row k per panel, by row blocks. */
function packBRowBlocks(b: usize, ldb: i32, p0: i32, j0: i32, kc: i32, nc: i32, dst: usize): void {
  const ld = <usize>ldb << 2;
  for (let kb = 0; kb < kc; kb += PACK_ROWS) {
    const kr = min(PACK_ROWS, kc - kb);
    const srcRows = b + (<usize>((p0 + kb) * ldb + j0) << 2);
    for (let jp = 0; jp < nc; jp += NR) {
      const cols = min(NR, nc - jp);
      const s = srcRows + (<usize>jp << 2);
      const d = dst + (<usize>(jp * kc + kb * NR) << 2); // panel jp/NR, its row kb
      if (cols == NR) {
        for (let r = 0; r < kr; r++) {
          const sr = s + <usize>r * ld;
          const dr = d + (<usize>r << 5);
          v128.store(dr, v128.load(sr));
          v128.store(dr, v128.load(sr, 16), 16);
        }
      } else {
        for (let r = 0; r < kr; r++) {
          const sr = s + <usize>r * ld;
          const dr = d + (<usize>r << 5);
          for (let q = 0; q < NR; q++) store<f32>(dr + (<usize>q << 2), q < cols ? load<f32>(sr + (<usize>q << 2)) : 0);
        }
      }
    }
  }
}
