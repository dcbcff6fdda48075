// gemm: C = alpha*op(A)*op(B) + beta*C, f32, row-major. op(A) [M,K], op(B) [K,N], C [M,N].
//
// Structure (Goto & van de Geijn, "Anatomy of High-Performance Matrix Multiplication", ACM TOMS 2008;
// the BLIS loop nest of Van Zee & van de Geijn 2015):
//   for jc in N by NC:                 B block  KC×NC  packed once (lives in L2/L3)
//     for pc in K by kc ≤ KC:          K cut into equal blocks (no thin last block)
//       pack op(B)[pc:pc+kc, jc:jc+nc] into NR-wide column panels (zero padded)
//       for ic in [m0,m1) by MC:       A block  MC×KC  packed (L2), MR-tall row panels
//         for jr over B panels:        one KC×NR micro-panel of B stays in L1
//           for ir over A panels:      microkernel MR×NR: kc rank-1 updates in v128 registers
// All four transpose combinations are handled by the two packing routines, so the microkernel
// only ever sees unit-stride packed panels. alpha/beta are applied when a tile is written back:
// the first K block does C = alpha*acc + beta*C (beta = 0 never reads C, so NaN in C is ignored),
// later K blocks add alpha*acc.
// The row range [m0, m1) lets a worker thread compute a horizontal slice of C with its own
// scratch panels over the same shared memory.
//
// Kernel variants (selected by the build, both checked against the reference by the op tests):
//   1. baseline SIMD128: gemmStrips below (K > 32): gemm-shallow.ts's splatted-A whole-strip loop
//      per 384-deep K block, f32x4.mul + f32x4.add — faster than the nest above in this build
//   2. relaxed-simd:     the nest above, 4×8 microkernel with f32x4.relaxed_madd (FMA where the CPU
//      has it; with half the FP instructions there is less for the strips to save, and they lose)
import { madd } from './common';
import { packB, storeTransposed4x4 } from './gemm-pack';
import { gemmNarrow, NARROW_MAX_N } from './gemm-narrow';
import { edgeToC, gemmShallow, putRow, SHALLOW_MAX_K, sweepStrips } from './gemm-shallow';

const MR: i32 = 4;
const NR: i32 = 8;
// KC: every K block ends in one pass over the C tiles (a read-modify-write of C after the first), so
// fewer, deeper blocks mean less C traffic per FLOP; 512 still keeps a kc×NR B micro-panel (16 KiB)
// and a kc×MR A micro-panel (8 KiB) in a 32–48 KiB L1.
const KC: i32 = 512;
const MC: i32 = 128;
const NC: i32 = 512;

// Deep-K strips (gemmStrips): gemm-shallow.ts's loop run per K block. One 4-row
// strip of op(A) is splatted (4 vectors per k: KS·64 bytes = 24 KiB, in the 48 KiB L1 beside the B
// panel that streams past it) and sweeps every 8-wide panel of a KS×NS op(B) block (768 KiB, in L2).
// KS: the block depth that timed best on the deep dW shapes among the ones tried.
const KS: i32 = 384;
const NS: i32 = 512;
/** Whether gemm() takes gemmStrips for K > SHALLOW_MAX_K, else the BLIS nest with micro4x8: the
 *  baseline build only, where the strips are faster; in the relaxed build (FMA: half the FP
 *  instructions, so less to save) they are slower on the forward and dX shapes. */
const DEEP_STRIPS: bool = !ASC_FEATURE_RELAXED_SIMD;

/** Bytes of scratch one gemm call (or one thread) needs for the packed A block (+ an edge tile). */
export function gemmPackABytes(): i32 {
  return MC * KC * 4 + MR * NR * 4;
}
/** Bytes of scratch for the packed B block. */
export function gemmPackBBytes(): i32 {
  return KC * NC * 4;
}

// op(B)'s packing (packB, with its PACK_ROWS row-block order) lives in gemm-pack.ts, shared with
// gemm-shallow.ts.
// op(A) with transA (dW: Xᵀ) is packed panel by panel all the same (PACK_ROWS_A = KC): the
// row-block order that helps op(B) made dW slower, most where packing A is most of the work (a
// 10-wide layer's dW).
const PACK_ROWS_A: i32 = KC;

/** Pack op(A)[i0:i0+mc, p0:p0+kc] into ceil(mc/MR) panels of kc×MR (k-major), rows past mc zeroed. */
function packA(a: usize, lda: i32, transA: i32, i0: i32, p0: i32, mc: i32, kc: i32, dst: usize): void {
  if (transA) {
    packARowBlocks(a, lda, i0, p0, mc, kc, dst);
    return;
  }
  for (let ip = 0; ip < mc; ip += MR) {
    const rows = min(MR, mc - ip);
    const panel = dst + (<usize>(ip * kc) << 2);
    // op(A)[i][k] = A[i][k]: rows are contiguous in k; transpose 4×4 blocks through registers.
    const src = a + (<usize>((i0 + ip) * lda + p0) << 2);
    const ld = <usize>lda << 2;
    if (rows == MR) {
      let kk = 0;
      for (; kk + 4 <= kc; kk += 4) {
        const s = src + (<usize>kk << 2);
        const r0 = v128.load(s);
        const r1 = v128.load(s + ld);
        const r2 = v128.load(s + 2 * ld);
        const r3 = v128.load(s + 3 * ld);
        storeTransposed4x4(panel + (<usize>kk << 4), 16, r0, r1, r2, r3);
      }
      for (; kk < kc; kk++) {
        const s = src + (<usize>kk << 2);
        const d = panel + (<usize>kk << 4);
        store<f32>(d, load<f32>(s));
        store<f32>(d, load<f32>(s + ld), 4);
        store<f32>(d, load<f32>(s + 2 * ld), 8);
        store<f32>(d, load<f32>(s + 3 * ld), 12);
      }
    } else {
      for (let kk = 0; kk < kc; kk++) {
        const s = src + (<usize>kk << 2);
        const d = panel + (<usize>kk << 4);
        for (let r = 0; r < MR; r++) store<f32>(d + (<usize>r << 2), r < rows ? load<f32>(s + <usize>r * ld) : 0);
      }
    }
  }
}

/** packA for transA: op(A)[i][k] = A[k][i], MR consecutive floats of row k per panel, in blocks of
 *  PACK_ROWS_A rows (= KC: one panel after another; the same loop as packBRowBlocks at width MR). */
function packARowBlocks(a: usize, lda: i32, i0: i32, p0: i32, mc: i32, kc: i32, dst: usize): void {
  const ld = <usize>lda << 2;
  for (let kb = 0; kb < kc; kb += PACK_ROWS_A) {
    const kr = min(PACK_ROWS_A, kc - kb);
    const srcRows = a + (<usize>((p0 + kb) * lda + i0) << 2);
    for (let ip = 0; ip < mc; ip += MR) {
      const rows = min(MR, mc - ip);
      const s = srcRows + (<usize>ip << 2);
      const d = dst + (<usize>(ip * kc + kb * MR) << 2); // panel ip/MR, its row kb
      if (rows == MR) {
        for (let r = 0; r < kr; r++) v128.store(d + (<usize>r << 4), v128.load(s + <usize>r * ld));
      } else {
        for (let r = 0; r < kr; r++) {
          const sr = s + <usize>r * ld;
          const dr = d + (<usize>r << 4);
          for (let q = 0; q < MR; q++) store<f32>(dr + (<usize>q << 2), q < rows ? load<f32>(sr + (<usize>q << 2)) : 0);
        }
      }
    }
  }
}

/** MR×NR microkernel: acc = Σ_k pa[k,:]ᵀ pb[k,:] over kc steps, then written to c (row stride ldc
 *  bytes) with the write mode of putRow (gemm-shallow.ts). */
function micro4x8(pa: usize, pb: usize, kc: i32, c: usize, ldc: usize, alpha: f32, beta: f32, mode: i32): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  const end = pa + (<usize>kc << 4);
  while (pa < end) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    const a0 = v128.load32_splat(pa);
    c00 = madd(a0, b0, c00);
    c01 = madd(a0, b1, c01);
    const a1 = v128.load32_splat(pa, 4);
    c10 = madd(a1, b0, c10);
    c11 = madd(a1, b1, c11);
    const a2 = v128.load32_splat(pa, 8);
    c20 = madd(a2, b0, c20);
    c21 = madd(a2, b1, c21);
    const a3 = v128.load32_splat(pa, 12);
    c30 = madd(a3, b0, c30);
    c31 = madd(a3, b1, c31);
    pa += 16;
    pb += 32;
  }
  const va = f32x4.splat(alpha);
  const vb = f32x4.splat(beta);
  putRow(c, c00, c01, va, vb, false, mode);
  putRow(c + ldc, c10, c11, va, vb, false, mode);
  putRow(c + 2 * ldc, c20, c21, va, vb, false, mode);
  putRow(c + 3 * ldc, c30, c31, va, vb, false, mode);
}

/** The deep-K path: for each KS×NS block of op(B) (packed once per call and block, as in the BLIS nest),
 *  every 4-row strip of [m0, m1) splats its KS values of op(A) and sweeps all the block's panels in
 *  one loop (gemm-shallow.ts's sweepStrips: no call or zeroing per 4×8 tile, plain v128 loads of A at
 *  immediate offsets). K is cut into equal blocks; the first writes C with alpha/beta, later ones add. */
function gemmStrips(a: usize, b: usize, c: usize, m: i32, n: i32, k: i32, transA: i32, transB: i32,
  alpha: f32, beta: f32, scratch: usize, packBBuf: usize, m0: i32, m1: i32): void {
  const lda = transA ? m : k;
  const ldb = transB ? k : n;
  const ldc = <usize>n << 2;
  const edge = scratch + (<usize>(MR * KS) << 4); // after the splatted 4×kc strip of op(A)
  const kBlocks = (k + KS - 1) / KS;
  const kcStep = (k + kBlocks - 1) / kBlocks;
  for (let jc = 0; jc < n; jc += NS) {
    const nc = min(NS, n - jc);
    for (let pc = 0; pc < k; pc += kcStep) {
      const kc = min(kcStep, k - pc);
      packB(b, ldb, transB, pc, jc, kc, nc, packBBuf);
      // op(A)[i][pc + kk]: the block's first k is column pc of A, or row pc with transA.
      const aBlock = a + (transA ? <usize>pc * (<usize>lda << 2) : <usize>pc << 2);
      sweepStrips(aBlock, lda, transA, m0, m1, kc, packBBuf, nc, c + (<usize>jc << 2), ldc, alpha, beta,
        pc > 0 ? 2 : beta == 0 ? 0 : 1, scratch, edge);
    }
  }
}

export function gemm(a: usize, b: usize, c: usize, m: i32, n: i32, k: i32, transA: i32, transB: i32,
  alpha: f32, beta: f32, packABuf: usize, packBBuf: usize, m0: i32, m1: i32): void {
  // Narrow C (the 10-wide latent layers): no op(A) pack, lanes along K or M (gemm-narrow.ts), its
  // packed op(B) in the packed-B buffer. (N = 0 stays here: nothing to do.)
  if (n > 0 && n <= NARROW_MAX_N) {
    gemmNarrow(a, b, c, m, n, k, transA, transB, alpha, beta, packBBuf, gemmPackBBytes(), m0, m1);
    return;
  }
  // Shallow K (≤ 32: the 10-deep layers' dX, a decoder's first layer, narrow hidden layers): op(A)
  // splatted per 4-row strip, each strip sweeping all of C's width (gemm-shallow.ts). (K = 0 stays
  // here: C is left alone.)
  if (k > 0 && k <= SHALLOW_MAX_K) {
    gemmShallow(a, b, c, m, n, k, transA, transB, alpha, beta, packABuf, packBBuf, gemmPackBBytes(), m0, m1);
    return;
  }
  if (DEEP_STRIPS && k > 0) {
    gemmStrips(a, b, c, m, n, k, transA, transB, alpha, beta, packABuf, packBBuf, m0, m1);
    return;
  }
  const lda = transA ? m : k;
  const ldb = transB ? k : n;
  const ldcB = <usize>n << 2;
  const tile = packABuf + (<usize>(MC * KC) << 2); // MR×NR edge tile
  const tileLd: usize = <usize>NR << 2;
  // K in ceil(k/KC) blocks of equal depth: K = 784 is two passes of 392, not 512 + a 272-deep one
  // (the tile write-back costs the same for a thin block as for a deep one).
  const kBlocks = max(1, (k + KC - 1) / KC);
  const kcStep = (k + kBlocks - 1) / kBlocks;
  for (let jc = 0; jc < n; jc += NC) {
    const nc = min(NC, n - jc);
    for (let pc = 0; pc < k; pc += kcStep) {
      const kc = min(kcStep, k - pc);
      const mode = pc > 0 ? 2 : beta == 0 ? 0 : 1;
      packB(b, ldb, transB, pc, jc, kc, nc, packBBuf);
      for (let ic = m0; ic < m1; ic += MC) {
        const mc = min(MC, m1 - ic);
        packA(a, lda, transA, ic, pc, mc, kc, packABuf);
        for (let jr = 0; jr < nc; jr += NR) {
          const cols = min(NR, nc - jr);
          const pb = packBBuf + (<usize>(jr * kc) << 2);
          for (let ir = 0; ir < mc; ir += MR) {
            const rows = min(MR, mc - ir);
            const pa = packABuf + (<usize>(ir * kc) << 2);
            const cp = c + <usize>(ic + ir) * ldcB + (<usize>(jc + jr) << 2);
            if (rows == MR && cols == NR) {
              micro4x8(pa, pb, kc, cp, ldcB, alpha, beta, mode);
            } else {
              // Ragged edge: full tile into scratch, then only the valid part goes to C.
              micro4x8(pa, pb, kc, tile, tileLd, 1, 0, 0);
              edgeToC(tile, tileLd, cp, ldcB, rows, cols, alpha, beta, mode);
            }
          }
        }
      }
    }
  }
}
