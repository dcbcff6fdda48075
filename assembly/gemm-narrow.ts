// gemm for narrow outputs (N ≤ NARROW_MAX_N): C = alpha*op(A)*op(B) + beta*C, f32, row-major, rows
// [m0, m1) of C. Taken by gemm() in gemm.ts; the DEC layout's 10-wide layers (latent z: fwd M×2000×10,
// dW 2000×M×10) are its shapes.
//
// Why a path of its own: the general kernel puts its SIMD lanes along N, so 10 columns fill an 8-wide
// panel plus a ragged 2-of-8 one (through a scratch tile), and it packs op(A) — one load and one
// store per A element for only N multiply-adds. Here op(A) is never packed (it is read straight from
// A, once per column pass) and only op(B), N×K floats, is:
//   transA = 0 (A rows contiguous in k): lanes along K. A 4-row × 2-column tile: per 4 k, 4 loads of
//     A, 2 of the packed op(B) columns ([j][k]), 8 multiply-adds into 8 accumulators; lane sums once
//     per K block (≤ 512), the last k % 4 terms scalar. Each row tile runs through all of K (op(B) is
//     packed up front), so A is read as 4 sequential row streams, its column passes taking turns
//     every 128 k (sums kept in a small scratch between turns).
//   transA = 1 (op(A)[i][k] = A[k][i], contiguous in i): lanes along M. A 16-row × 2-column tile:
//     per k, 4 loads (one 64-byte line of A's row k), 2 splats of op(B)[k][j] (packed [k][j]; at an
//     even N without transB, B itself is that layout and is read in place), 8 multiply-adds; K
//     blocks ≤ 512. Last tiles of 4, 8 or 12 rows, then scalar rows: nothing is
//     read past the matrix end.
// Why 2 columns × 4 vectors: V8 keeps 15 xmm registers for wasm and loads each step's operands
// before the multiplies; 10 accumulators (2×5 tiles) spilled three of them to the stack, 8 plus
// 6 operands do not spill. Columns go in passes of 2 (N = 10: five, nothing wasted; odd N: op(B) gets
// a zero column whose results are never written).
// alpha/beta as in gemm.ts: the first K block writes C = alpha*acc (beta = 0: C is never read, NaN in
// it is ignored) or alpha*acc + beta*C, later K blocks add alpha*acc.
import { hsum, madd } from './common';

/** Widest N this path takes: the widest at which it beats the general kernel. */
export const NARROW_MAX_N: i32 = 16;
/** Columns per pass. */
const NP: i32 = 2;
/** K block; also the column stride of op(B) packed [j][k], so the kernel's column offset is an
 *  immediate. Without transA: 4 A rows × 2 KiB + 2 columns × 2 KiB per tile pass. With transA: the
 *  512 A lines of a tile (32 KiB) are re-read by the next column passes, from L1 (the depth that
 *  timed best on the 10-wide dW). */
const NKC: i32 = 512;
const NKC_BYTES: usize = <usize>NKC << 2;
/** Without transA, a tile's column passes take turns every KP k (128: 512 bytes of each A row), its
 *  accumulators kept in ACC_BYTES of scratch between turns. One pass after another over a whole K
 *  block left the later passes running from L1 while nothing was fetched from memory, then the first
 *  pass of the next block waited on its A lines; taking turns keeps the 4 row streams moving at an
 *  even rate. Shorter turns cost more in saved accumulators than they gain; with transA, where each
 *  k is a different line, turns do not help and are not taken. */
const KP: i32 = 128;
const ACC_BYTES: i32 = (NARROW_MAX_N + NP - 1) / NP * 8 * 16; // 8 vectors per column pass

// @ts-ignore: decorator
@inline function put(c: usize, v: f32, alpha: f32, beta: f32, mode: i32): void {
  const x = alpha * v;
  if (mode == 0) store<f32>(c, x);
  else if (mode == 1) store<f32>(c, x + beta * load<f32>(c));
  else store<f32>(c, load<f32>(c) + x);
}

/** Columns j, j+1 of one C row (only j when cols = 1). */
// @ts-ignore: decorator
@inline function putPair(c: usize, cols: i32, t0: f32, t1: f32, alpha: f32, beta: f32, mode: i32): void {
  put(c, t0, alpha, beta, mode);
  if (cols > 1) put(c + 4, t1, alpha, beta, mode);
}

/** One C column of 4 consecutive rows (row stride ldc bytes) from the 4 lanes of v. */
// @ts-ignore: decorator
@inline function putCol4(c: usize, ldc: usize, v: v128, alpha: f32, beta: f32, mode: i32): void {
  put(c, f32x4.extract_lane(v, 0), alpha, beta, mode);
  put(c + ldc, f32x4.extract_lane(v, 1), alpha, beta, mode);
  put(c + 2 * ldc, f32x4.extract_lane(v, 2), alpha, beta, mode);
  put(c + 3 * ldc, f32x4.extract_lane(v, 3), alpha, beta, mode);
}

/** Columns j (v0) and j+1 (v1, only when cols > 1) of 4 consecutive C rows. */
// @ts-ignore: decorator
@inline function putCols(c: usize, ldc: usize, cols: i32, v0: v128, v1: v128, alpha: f32, beta: f32, mode: i32): void {
  putCol4(c, ldc, v0, alpha, beta, mode);
  if (cols > 1) putCol4(c + 4, ldc, v1, alpha, beta, mode);
}

export function gemmNarrow(a: usize, b: usize, c: usize, m: i32, n: i32, k: i32, transA: i32, transB: i32,
  alpha: f32, beta: f32, buf: usize, bufBytes: i32, m0: i32, m1: i32): void {
  const lda = transA ? m : k;
  const ldb = transB ? k : n;
  const np = (n + NP - 1) / NP * NP;
  // Equal K blocks as in gemm.ts, each a multiple of 4 deep but the last (one scalar k tail).
  const kBlocks = max(1, (k + NKC - 1) / NKC);
  const kcStep = ((k + kBlocks - 1) / kBlocks + 3) & ~3;
  if (transA) {
    for (let pc = 0; pc < k; pc += kcStep) {
      const kc = min(kcStep, k - pc);
      // op(B) without transB at an even N already is kc rows of np floats: read in place. The copy
      // (a float at a time, with per-element tests) would be made by every call, at 2 threads by
      // each of the dW's row chunks.
      const inPlace = !transB && n == np;
      if (!inPlace) packRows(b, ldb, transB, pc, kc, n, np, buf);
      const bk = inPlace ? b + (<usize>(pc * ldb) << 2) : buf;
      lanesAlongM(a, lda, pc, kc, bk, n, np, c, alpha, beta, pc > 0 ? 2 : beta == 0 ? 0 : 1, m0, m1);
    }
    return;
  }
  // Without transA, every K block of op(B) is packed up front (as many as the buffer holds: all of
  // them up to K = 15872 at N = 16, beyond that in several packs), so that a row tile then runs
  // through all of K: its 4 rows of A are read as 4 sequential streams, not in 2 KiB pieces one K
  // block apart.
  const blockBytes = <usize>np * NKC_BYTES;
  const acc = buf + <usize>(bufBytes - ACC_BYTES); // the tile passes' accumulators between K pieces
  const perPack = max(1, (bufBytes - ACC_BYTES) / <i32>blockBytes) * kcStep;
  for (let ps = 0; ps < k; ps += perPack) {
    const pe = min(k, ps + perPack);
    for (let pc = ps; pc < pe; pc += kcStep) {
      packColumns(b, ldb, transB, pc, min(kcStep, pe - pc), n, np, buf + <usize>((pc - ps) / kcStep) * blockBytes);
    }
    lanesAlongK(a, lda, ps, pe, kcStep, buf, blockBytes, n, c, alpha, beta, m0, m1, acc);
  }
}

/** op(B)[p0:p0+kc, 0:n] as np columns of NKC floats ([j][k]), columns n..np-1 zero. */
function packColumns(b: usize, ldb: i32, transB: i32, p0: i32, kc: i32, n: i32, np: i32, dst: usize): void {
  for (let j = 0; j < np; j++) {
    const d = dst + <usize>j * NKC_BYTES;
    if (j >= n) {
      memory.fill(d, 0, <usize>kc << 2);
    } else if (transB) {
      memory.copy(d, b + (<usize>(j * ldb + p0) << 2), <usize>kc << 2); // op(B)[k][j] = B[j][k]
    } else {
      const s = b + (<usize>(p0 * ldb + j) << 2);
      const ld = <usize>ldb << 2;
      for (let kk = 0; kk < kc; kk++) store<f32>(d + (<usize>kk << 2), load<f32>(s + <usize>kk * ld));
    }
  }
}

/** op(B)[p0:p0+kc, 0:n] as kc rows of np floats ([k][j]), columns n..np-1 zero. */
function packRows(b: usize, ldb: i32, transB: i32, p0: i32, kc: i32, n: i32, np: i32, dst: usize): void {
  for (let kk = 0; kk < kc; kk++) {
    const d = dst + (<usize>(kk * np) << 2);
    for (let j = 0; j < np; j++) {
      const v: f32 = j >= n ? 0 : transB ? load<f32>(b + (<usize>(j * ldb + p0 + kk) << 2))
        : load<f32>(b + (<usize>((p0 + kk) * ldb + j) << 2));
      store<f32>(d + (<usize>j << 2), v);
    }
  }
}

/** transA = 0: rows [m0, m1) of C over K blocks [ps, pe) (packed one after another, blockBytes apart),
 *  4 rows at a time (a last tile of 1–3 rows points its missing rows at its first one and does not
 *  write them); each row tile goes through all the blocks before the next one starts. */
function lanesAlongK(a: usize, lda: i32, ps: i32, pe: i32, kcStep: i32, bt: usize, blockBytes: usize, n: i32, c: usize,
  alpha: f32, beta: f32, m0: i32, m1: i32, acc: usize): void {
  const ldc = <usize>n << 2;
  const ldaB = <usize>lda << 2;
  for (let i = m0; i < m1; i += 4) {
    const rows = min(4, m1 - i);
    const ar0 = a + <usize>i * ldaB;
    const ar1 = rows > 1 ? ar0 + ldaB : ar0;
    const ar2 = rows > 2 ? ar1 + ldaB : ar0;
    const ar3 = rows > 3 ? ar2 + ldaB : ar0;
    const crow = c + <usize>i * ldc;
    let pb = bt;
    for (let pc = ps; pc < pe; pc += kcStep) {
      const kc = min(kcStep, pe - pc);
      const mode = pc > 0 ? 2 : beta == 0 ? 0 : 1;
      const o = <usize>pc << 2;
      const turns = max(1, ((kc & ~3) + KP - 1) / KP);
      for (let t = 0; t < turns; t++) {
        const kb = t * KP, ke = min(kc & ~3, kb + KP);
        for (let j0 = 0; j0 < n; j0 += NP) {
          tileK(acc + (<usize>j0 << 6), ar0 + o, ar1 + o, ar2 + o, ar3 + o, pb + <usize>j0 * NKC_BYTES, kb, ke, kc, t == 0,
            t == turns - 1, crow + (<usize>j0 << 2), ldc, rows, n - j0, alpha, beta, mode);
        }
      }
      pb += blockBytes;
    }
  }
}

/** 4 rows × 2 columns, lanes along k: acc[r][j] += A[r][k:k+4] · Bt[j][k:k+4] over k in [kb, ke)
 *  (8 accumulators, 4 A and 2 B loads per step: 14 of the 15 xmm registers V8 allocates — 10
 *  accumulators spilled three). The first turn starts from zero, the others from acc; all but the
 *  last leave their sums in acc, the last adds the scalar k tail [kc & ~3, kc) and writes C. */
function tileK(acc: usize, ar0: usize, ar1: usize, ar2: usize, ar3: usize, pb: usize, kb: i32, ke: i32, kc: i32,
  first: bool, last: bool, c: usize, ldc: usize, rows: i32, cols: i32, alpha: f32, beta: f32, mode: i32): void {
  const z = f32x4.splat(0);
  let s00 = first ? z : v128.load(acc), s01 = first ? z : v128.load(acc, 16);
  let s10 = first ? z : v128.load(acc, 32), s11 = first ? z : v128.load(acc, 48);
  let s20 = first ? z : v128.load(acc, 64), s21 = first ? z : v128.load(acc, 80);
  let s30 = first ? z : v128.load(acc, 96), s31 = first ? z : v128.load(acc, 112);
  const kc4 = kc & ~3;
  const ob = <usize>kb << 2;
  const end = pb + (<usize>ke << 2);
  let p0 = ar0 + ob, p1 = ar1 + ob, p2 = ar2 + ob, p3 = ar3 + ob, w = pb + ob;
  while (w < end) {
    const y0 = v128.load(w);
    const y1 = v128.load(w, NKC_BYTES);
    const x0 = v128.load(p0);
    s00 = madd(x0, y0, s00);
    s01 = madd(x0, y1, s01);
    const x1 = v128.load(p1);
    s10 = madd(x1, y0, s10);
    s11 = madd(x1, y1, s11);
    const x2 = v128.load(p2);
    s20 = madd(x2, y0, s20);
    s21 = madd(x2, y1, s21);
    const x3 = v128.load(p3);
    s30 = madd(x3, y0, s30);
    s31 = madd(x3, y1, s31);
    p0 += 16;
    p1 += 16;
    p2 += 16;
    p3 += 16;
    w += 16;
  }
  if (!last) {
    v128.store(acc, s00); v128.store(acc, s01, 16); v128.store(acc, s10, 32); v128.store(acc, s11, 48);
    v128.store(acc, s20, 64); v128.store(acc, s21, 80); v128.store(acc, s30, 96); v128.store(acc, s31, 112);
    return;
  }
  let t00 = hsum(s00), t01 = hsum(s01), t10 = hsum(s10), t11 = hsum(s11);
  let t20 = hsum(s20), t21 = hsum(s21), t30 = hsum(s30), t31 = hsum(s31);
  for (let kk = kc4; kk < kc; kk++) {
    const o = <usize>kk << 2;
    const y0 = load<f32>(pb + o), y1 = load<f32>(pb + o, NKC_BYTES);
    const x0 = load<f32>(ar0 + o), x1 = load<f32>(ar1 + o), x2 = load<f32>(ar2 + o), x3 = load<f32>(ar3 + o);
    t00 += x0 * y0; t01 += x0 * y1;
    t10 += x1 * y0; t11 += x1 * y1;
    t20 += x2 * y0; t21 += x2 * y1;
    t30 += x3 * y0; t31 += x3 * y1;
  }
  putPair(c, cols, t00, t01, alpha, beta, mode);
  if (rows > 1) putPair(c + ldc, cols, t10, t11, alpha, beta, mode);
  if (rows > 2) putPair(c + 2 * ldc, cols, t20, t21, alpha, beta, mode);
  if (rows > 3) putPair(c + 3 * ldc, cols, t30, t31, alpha, beta, mode);
}

/** transA = 1: rows [m0, m1) of C over one K block: tiles of 16 rows (the last one 4, 8 or 12), then
 *  scalar rows. */
function lanesAlongM(a: usize, lda: i32, p0: i32, kc: i32, bk: usize, n: i32, np: i32, c: usize,
  alpha: f32, beta: f32, mode: i32, m0: i32, m1: i32): void {
  const ldc = <usize>n << 2;
  const ldaB = <usize>lda << 2;
  const src = a + <usize>p0 * ldaB; // A's row p0
  const m4 = m0 + ((m1 - m0) & ~3);
  for (let i = m0; i < m4; i += 16) {
    const rows = min(16, m4 - i);
    for (let j0 = 0; j0 < n; j0 += NP) {
      tileM(src + (<usize>i << 2), ldaB, bk + (<usize>j0 << 2), np, kc, c + <usize>i * ldc + (<usize>j0 << 2), ldc, rows,
        n - j0, alpha, beta, mode);
    }
  }
  // Fewer than 4 rows left: one dot product per element, A read down its column.
  for (let i = m4; i < m1; i++) {
    for (let j = 0; j < n; j++) {
      let s: f32 = 0;
      for (let kk = 0; kk < kc; kk++) {
        s += load<f32>(src + <usize>kk * ldaB + (<usize>i << 2)) * load<f32>(bk + (<usize>(kk * np + j) << 2));
      }
      put(c + <usize>i * ldc + (<usize>j << 2), s, alpha, beta, mode);
    }
  }
}

/** 16 rows × 2 columns, lanes along m: acc[h][j] += A[k][i+4h:i+4h+4] · splat(op(B)[k][j]); a tile
 *  of 16 floats is one 64-byte line of A's row k. A tile of 4, 8 or 12 rows runs its missing quarters
 *  on the first quarter's lanes and does not write them (nothing read past the matrix end). */
function tileM(pa: usize, ldaB: usize, pb: usize, np: i32, kc: i32, c: usize, ldc: usize, rows: i32, cols: i32,
  alpha: f32, beta: f32, mode: i32): void {
  let s00 = f32x4.splat(0), s01 = f32x4.splat(0), s10 = f32x4.splat(0), s11 = f32x4.splat(0);
  let s20 = f32x4.splat(0), s21 = f32x4.splat(0), s30 = f32x4.splat(0), s31 = f32x4.splat(0);
  const ldb = <usize>np << 2;
  let p0 = pa;
  let p1 = rows > 4 ? pa + 16 : pa;
  let p2 = rows > 8 ? pa + 32 : pa;
  let p3 = rows > 12 ? pa + 48 : pa;
  let w = pb;
  for (let kk = 0; kk < kc; kk++) {
    const y0 = v128.load32_splat(w);
    const y1 = v128.load32_splat(w, 4);
    const x0 = v128.load(p0);
    s00 = madd(x0, y0, s00);
    s01 = madd(x0, y1, s01);
    const x1 = v128.load(p1);
    s10 = madd(x1, y0, s10);
    s11 = madd(x1, y1, s11);
    const x2 = v128.load(p2);
    s20 = madd(x2, y0, s20);
    s21 = madd(x2, y1, s21);
    const x3 = v128.load(p3);
    s30 = madd(x3, y0, s30);
    s31 = madd(x3, y1, s31);
    p0 += ldaB;
    p1 += ldaB;
    p2 += ldaB;
    p3 += ldaB;
    w += ldb;
  }
  putCols(c, ldc, cols, s00, s01, alpha, beta, mode);
  if (rows > 4) putCols(c + 4 * ldc, ldc, cols, s10, s11, alpha, beta, mode);
  if (rows > 8) putCols(c + 8 * ldc, ldc, cols, s20, s21, alpha, beta, mode);
  if (rows > 12) putCols(c + 12 * ldc, ldc, cols, s30, s31, alpha, beta, mode);
}

// ---- Split K for the worker pool (transA only) ----
// At 2 threads the pool's row chunks of L4 dW (TN 2000×4096×10) each read 1 KB of every 8 KB row of
// A; here each of the K blocks above is a chunk instead (a whole run of A rows, read end to end):
// block kb writes alpha*acc (mode 0: exactly the value put() would scale) into its own partial
// buffer, then gemmNarrowReduce folds the partials into C in block order with the scalar write-back's
// operations, so C is bit-identical to gemmNarrow's, whichever thread ran which block.

/** The K block depth gemmNarrow uses for this K (equal blocks, a multiple of 4 but the last). */
function narrowKcStep(k: i32): i32 {
  const kBlocks = max(1, (k + NKC - 1) / NKC);
  return ((k + kBlocks - 1) / kBlocks + 3) & ~3;
}

/** Number of K blocks gemmNarrow runs for this K (the split path's chunk count). */
export function gemmNarrowKBlocks(k: i32): i32 {
  const step = narrowKcStep(k);
  return (k + step - 1) / step;
}

/** Bytes of one block's scratch: its M×N partial (16-byte aligned), then room for its packed op(B). */
export function gemmNarrowPartBytes(m: i32, n: i32, k: i32): i32 {
  const np = (n + NP - 1) / NP * NP;
  return ((m * n + 3) & ~3) * 4 + narrowKcStep(k) * np * 4;
}

// @ts-ignore: decorator
@inline function partBytesOf(m: i32, n: i32, k: i32): usize {
  return <usize>gemmNarrowPartBytes(m, n, k);
}

/** K blocks [kb0, kb1) of op(A)·op(B) (transA = 1), each scaled by alpha into its own partial
 *  (scratch + kb·gemmNarrowPartBytes). A row kernel for the pool: blocks are its "rows". */
export function gemmNarrowSplitK(a: usize, b: usize, m: i32, n: i32, k: i32, transB: i32, alpha: f32, scratch: usize,
  kb0: i32, kb1: i32): void {
  const ldb = transB ? k : n;
  const np = (n + NP - 1) / NP * NP;
  const kcStep = narrowKcStep(k);
  const part = partBytesOf(m, n, k);
  const packAt = <usize>(((m * n + 3) & ~3) * 4);
  for (let kb = kb0; kb < kb1; kb++) {
    const pc = kb * kcStep;
    const kc = min(kcStep, k - pc);
    const dst = scratch + <usize>kb * part;
    const inPlace = !transB && n == np; // as in gemmNarrow
    if (!inPlace) packRows(b, ldb, transB, pc, kc, n, np, dst + packAt);
    const bk = inPlace ? b + (<usize>(pc * ldb) << 2) : dst + packAt;
    lanesAlongM(a, m, pc, kc, bk, n, np, dst, alpha, 0, 0, 0, m);
  }
}

/** Rows [r0, r1) of C from the partials of gemmNarrowSplitK, in block order: block 0 as mode 0
 *  (C = x; beta = 0 never reads C) or mode 1 (C = x + beta*C), the others as mode 2 (C = C + x) —
 *  put()'s expressions lane by lane (plain f32 mul and add, never fused: put() is scalar). */
export function gemmNarrowReduce(c: usize, m: i32, n: i32, k: i32, beta: f32, scratch: usize, r0: i32, r1: i32): void {
  const blocks = gemmNarrowKBlocks(k);
  const part = partBytesOf(m, n, k);
  const e0 = <usize>(r0 * n) << 2, e1 = <usize>(r1 * n) << 2;
  const e4 = e0 + ((e1 - e0) & ~15);
  const vb = f32x4.splat(beta);
  for (let o = e0; o < e4; o += 16) {
    let x = v128.load(scratch + o);
    if (beta != 0) x = f32x4.add(x, f32x4.mul(vb, v128.load(c + o)));
    for (let kb = 1; kb < blocks; kb++) x = f32x4.add(x, v128.load(scratch + <usize>kb * part + o));
    v128.store(c + o, x);
  }
  for (let o = e4; o < e1; o += 4) {
    let x = load<f32>(scratch + o);
    if (beta != 0) x = x + beta * load<f32>(c + o);
    for (let kb = 1; kb < blocks; kb++) x = load<f32>(scratch + <usize>kb * part + o) + x;
    store<f32>(c + o, x);
  }
}
