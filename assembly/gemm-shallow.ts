// gemm for shallow K (K ≤ SHALLOW_MAX_K = 32): C = alpha*op(A)*op(B) + beta*C, f32, row-major, rows
// [m0, m1) of C. Taken by gemm() in gemm.ts (after the narrow-N test); the DEC layout's 10-deep
// products are its shapes: the latent layer's dX (NT M×10×2000) and a decoder's first layer
// (NN M×10×2000), and any layer of width ≤ 32.
//
// Why a path of its own: with K = 10 the general kernel's 4×8 tile does only 10 rank-1 updates
// between its fixed costs — a call, zeroing 8 accumulators, 8 alpha multiplies, a stack check and
// loop count per k, splat loads whose offsets V8 does not fold (an extra lea each) — and it writes C
// in column panels down 128-row blocks (each 4×8 tile 4 lines 8000 B apart, half a line each), so
// the fixed costs, not the multiply-adds, set its speed at these shapes. Here:
//   - op(B) (K × up to 2048 columns) is packed once per call into NR-wide k-major panels (gemm-pack.ts);
//   - op(A) is never packed into panels: each 4-row tile copies its 4×K values once as splatted
//     vectors (K·64 bytes), so the inner loop loads them with plain v128 loads (immediate offsets);
//   - a 4-row tile then sweeps the whole width of C: 4 sequential row streams to memory, one tile
//     after another in one loop (no call per tile), the first k step a multiply (no zeroing), and
//     the write-back a plain store when alpha = 1 and beta = 0.
// Every transpose is handled by the two copies (the kernel only sees packed panels and splats).
// alpha/beta as in gemm.ts: C = alpha*acc (beta = 0: C is never read, NaN in it is ignored) or
// alpha*acc + beta*C; K is one block, so there is no later pass.
import { madd } from './common';
import { packB } from './gemm-pack';

/** Deepest K this path takes: the deepest at which it beats the general kernel in both builds
 *  (the relaxed build's FMA needs fewer instructions per k, so there the strip's re-reads of op(B)
 *  from L2 weigh more, and deeper K stops paying first). */
export const SHALLOW_MAX_K: i32 = 32;
const MR: i32 = 4;
const NR: i32 = 8;
/** Widest column chunk per op(B) pack (fewer only where K·NCS floats would exceed the packing
 *  buffer, never at K ≤ 128): N = 2000 is one chunk, 80 KB of panels at K = 10 (in L2). */
const NCS: i32 = 2048;

/** Bytes of the splatted op(A) strip (4 rows × SHALLOW_MAX_K vectors: 2 KiB), before the edge tile. */
const SPLAT_BYTES: usize = <usize>(MR * SHALLOW_MAX_K) << 4;

/** op(A)[i0+r][kk] for r < rows as splatted vectors at dst + kk·64 + r·16; rows past `rows` zero.
 *  (gemm.ts's deep-K strips call it per K block with `a` moved to the block's first k.)
 *  A whole strip has no per-element tests: it costs ≈ 3 instructions a value, against a strip's ≈ 28
 *  per k and 8-column panel (it is ≈ 1/(2·panels) of the strip's work: small N pays it most). */
function splatRows(a: usize, lda: i32, transA: i32, i0: i32, rows: i32, k: i32, dst: usize): void {
  const ld = <usize>lda << 2;
  if (rows == MR && !transA) { // op(A)[i][kk] = A[i][kk]: 4 rows, each k contiguous
    const r0 = a + <usize>i0 * ld, r1 = r0 + ld, r2 = r1 + ld, r3 = r2 + ld;
    for (let kk = 0; kk < k; kk++) {
      const o = <usize>kk << 2;
      const d = dst + (<usize>kk << 6);
      v128.store(d, v128.load32_splat(r0 + o));
      v128.store(d, v128.load32_splat(r1 + o), 16);
      v128.store(d, v128.load32_splat(r2 + o), 32);
      v128.store(d, v128.load32_splat(r3 + o), 48);
    }
    return;
  }
  if (rows == MR) { // transA: op(A)[i][kk] = A[kk][i], the strip's 4 values of k are one v128
    for (let kk = 0; kk < k; kk++) {
      const v = v128.load(a + <usize>kk * ld + (<usize>i0 << 2));
      const d = dst + (<usize>kk << 6);
      v128.store(d, v128.shuffle<f32>(v, v, 0, 0, 0, 0));
      v128.store(d, v128.shuffle<f32>(v, v, 1, 1, 1, 1), 16);
      v128.store(d, v128.shuffle<f32>(v, v, 2, 2, 2, 2), 32);
      v128.store(d, v128.shuffle<f32>(v, v, 3, 3, 3, 3), 48);
    }
    return;
  }
  for (let kk = 0; kk < k; kk++) {
    const d = dst + (<usize>kk << 6);
    for (let r = 0; r < MR; r++) {
      const i = i0 + r;
      const v: f32 = r >= rows ? 0 : transA ? load<f32>(a + (<usize>(kk * lda + i) << 2)) : load<f32>(a + (<usize>(i * lda + kk) << 2));
      v128.store(d + (<usize>r << 4), f32x4.splat(v));
    }
  }
}

/** One C row of 8 from two accumulators (every strip loop and gemm.ts's micro4x8): mode 0: C = alpha*acc; 1: C =
 *  alpha*acc + beta*C; 2 (gemm.ts's later K blocks): C += alpha*acc. `plain` (alpha = 1, mode 0 or 2)
 *  skips the multiply by alpha. */
// @ts-ignore: decorator
@inline export function putRow(c: usize, x0: v128, x1: v128, va: v128, vb: v128, plain: bool, mode: i32): void {
  if (plain && mode == 0) {
    v128.store(c, x0);
    v128.store(c, x1, 16);
  } else if (plain && mode == 2) {
    v128.store(c, f32x4.add(v128.load(c), x0));
    v128.store(c, f32x4.add(v128.load(c, 16), x1), 16);
  } else if (mode == 0) {
    v128.store(c, f32x4.mul(x0, va));
    v128.store(c, f32x4.mul(x1, va), 16);
  } else if (mode == 1) {
    v128.store(c, madd(v128.load(c), vb, f32x4.mul(x0, va)));
    v128.store(c, madd(v128.load(c, 16), vb, f32x4.mul(x1, va)), 16);
  } else {
    v128.store(c, madd(x0, va, v128.load(c)));
    v128.store(c, madd(x1, va, v128.load(c, 16)), 16);
  }
}

/** A 4-row strip of C, `panels` NR-wide panels from c on (row stride ldc bytes): for each,
 *  acc = Σ_k splat(A[r][k])·pb[k] (8 accumulators: 4 rows × 2 vectors, with 2 B and 4 A loads per k:
 *  14 of V8's 15 xmm registers), written as putRow. One k per loop turn: V8 issues a turn's loads
 *  before its arithmetic, so two k per turn (12 operands) spilled accumulators to the stack. */
// @ts-ignore: decorator
@inline function stripBody(pa: usize, pb: usize, k: i32, panels: i32, c: usize, ldc: usize, alpha: f32, beta: f32,
  plain: bool, mode: i32): void {
  const va = f32x4.splat(alpha);
  const vb = f32x4.splat(beta);
  const panelBytes = <usize>k << 5;
  const paEnd = pa + (<usize>k << 6);
  const cEnd = c + (<usize>panels << 5);
  while (c < cEnd) {
    // k = 0: products only (no zeroed accumulators, no adds).
    const b0 = v128.load(pb), b1 = v128.load(pb, 16);
    const a0 = v128.load(pa), a1 = v128.load(pa, 16), a2 = v128.load(pa, 32), a3 = v128.load(pa, 48);
    let c00 = f32x4.mul(a0, b0), c01 = f32x4.mul(a0, b1);
    let c10 = f32x4.mul(a1, b0), c11 = f32x4.mul(a1, b1);
    let c20 = f32x4.mul(a2, b0), c21 = f32x4.mul(a2, b1);
    let c30 = f32x4.mul(a3, b0), c31 = f32x4.mul(a3, b1);
    let p = pa + 64, q = pb + 32;
    while (p < paEnd) {
      const y0 = v128.load(q), y1 = v128.load(q, 16);
      const x0 = v128.load(p);
      c00 = madd(x0, y0, c00); c01 = madd(x0, y1, c01);
      const x1 = v128.load(p, 16);
      c10 = madd(x1, y0, c10); c11 = madd(x1, y1, c11);
      const x2 = v128.load(p, 32);
      c20 = madd(x2, y0, c20); c21 = madd(x2, y1, c21);
      const x3 = v128.load(p, 48);
      c30 = madd(x3, y0, c30); c31 = madd(x3, y1, c31);
      p += 64;
      q += 32;
    }
    putRow(c, c00, c01, va, vb, plain, mode);
    putRow(c + ldc, c10, c11, va, vb, plain, mode);
    putRow(c + 2 * ldc, c20, c21, va, vb, plain, mode);
    putRow(c + 3 * ldc, c30, c31, va, vb, plain, mode);
    pb += panelBytes;
    c += 32;
  }
}

/** stripBody for alpha = 1, beta = 0: the accumulators stored as they are. */
function stripPlain(pa: usize, pb: usize, k: i32, panels: i32, c: usize, ldc: usize): void {
  stripBody(pa, pb, k, panels, c, ldc, 1, 0, true, 0);
}

/** stripBody with C = alpha*acc (mode 0), alpha*acc + beta*C (mode 1) or C + alpha*acc (mode 2). */
function stripScaled(pa: usize, pb: usize, k: i32, panels: i32, c: usize, ldc: usize, alpha: f32, beta: f32, mode: i32): void {
  stripBody(pa, pb, k, panels, c, ldc, alpha, beta, false, mode);
}

/** The valid rows × cols of an edge tile (row stride tileLd bytes) into C at c (row stride ldc):
 *  C = alpha*t (mode 0), alpha*t + beta*C (mode 1) or C + alpha*t (mode 2, a later K block). */
export function edgeToC(tile: usize, tileLd: usize, c: usize, ldc: usize, rows: i32, cols: i32, alpha: f32, beta: f32, mode: i32): void {
  for (let r = 0; r < rows; r++) {
    const cr = c + <usize>r * ldc;
    const tr = tile + <usize>r * tileLd;
    for (let q = 0; q < cols; q++) {
      const o = <usize>q << 2;
      const v = alpha * load<f32>(tr + o);
      if (mode == 0) store<f32>(cr + o, v);
      else if (mode == 1) store<f32>(cr + o, v + beta * load<f32>(cr + o));
      else store<f32>(cr + o, load<f32>(cr + o) + v);
    }
  }
}

/** stripBody with C += acc (a later K block, alpha = 1). */
function stripPlainAdd(pa: usize, pb: usize, k: i32, panels: i32, c: usize, ldc: usize): void {
  stripBody(pa, pb, k, panels, c, ldc, 1, 0, true, 2);
}

/** Rows [m0, m1) of C against one packed op(B) block of kc rows and nc columns (`pb`; `c` is C at the
 *  block's first column, row stride ldc bytes): each 4-row strip splats its kc values of op(A) into
 *  `pa` and sweeps the block's whole panels in one loop; edge panels (a last zero-padded one, or every
 *  panel of a last strip of 1–3 rows) go through the scratch tile `edge`. Write mode as putRow. Shared
 *  by gemmShallow (one K block) and gemm.ts's gemmStrips (K blocks, later ones mode 2). */
export function sweepStrips(a: usize, lda: i32, transA: i32, m0: i32, m1: i32, kc: i32, pb: usize, nc: i32, c: usize, ldc: usize,
  alpha: f32, beta: f32, mode: i32, pa: usize, edge: usize): void {
  const edgeLd: usize = <usize>NR << 2;
  const plain = alpha == 1 && mode != 1;
  const full = nc / NR; // whole panels
  const tail = nc - full * NR; // columns of a last, zero-padded panel
  for (let i = m0; i < m1; i += MR) {
    const rows = min(MR, m1 - i);
    splatRows(a, lda, transA, i, rows, kc, pa);
    const crow = c + <usize>i * ldc;
    if (rows == MR) {
      if (plain && mode == 0) stripPlain(pa, pb, kc, full, crow, ldc);
      else if (plain) stripPlainAdd(pa, pb, kc, full, crow, ldc);
      else stripScaled(pa, pb, kc, full, crow, ldc, alpha, beta, mode);
      if (tail == 0) continue;
    }
    for (let jp = rows == MR ? full : 0; jp * NR < nc; jp++) {
      stripPlain(pa, pb + (<usize>(jp * kc) << 5), kc, 1, edge, edgeLd);
      edgeToC(edge, edgeLd, crow + (<usize>(jp * NR) << 2), ldc, rows, min(NR, nc - jp * NR), alpha, beta, mode);
    }
  }
}

export function gemmShallow(a: usize, b: usize, c: usize, m: i32, n: i32, k: i32, transA: i32, transB: i32,
  alpha: f32, beta: f32, scratch: usize, packBuf: usize, packBytes: i32, m0: i32, m1: i32): void {
  const lda = transA ? m : k;
  const ldb = transB ? k : n;
  const ldc = <usize>n << 2;
  const mode = beta == 0 ? 0 : 1;
  const ncs = min(NCS, packBytes / (k * NR * 4) * NR); // columns per op(B) pack
  for (let jc = 0; jc < n; jc += ncs) {
    const nc = min(ncs, n - jc);
    packB(b, ldb, transB, 0, jc, k, nc, packBuf);
    // scratch: the splatted 4×k op(A) strip, then the edge tile
    sweepStrips(a, lda, transA, m0, m1, k, packBuf, nc, c + (<usize>jc << 2), ldc, alpha, beta, mode, scratch, scratch + SPLAT_BYTES);
  }
}
