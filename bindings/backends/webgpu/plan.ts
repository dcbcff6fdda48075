// Pure planning functions of the WebGPU backend: how work is split into dispatches and bindings.
// Kept apart from any GPU object so they can be unit-tested and read on their own.

export const ceilDiv = (a: number, b: number) => Math.floor((a + b - 1) / b);

/** A range of rows [row0, row0 + rows) bound at once. */
export interface Chunk {
  row0: number;
  rows: number;
  /** Index of the chunk (0-based). */
  index: number;
}

/**
 * Split `totalRows` rows into chunks so that every row-bound tensor (one entry of `widths`, its row
 * width in 4-byte elements) fits in one storage binding of at most `limitBytes`, and every chunk's
 * binding offset (row0 * width * 4) is a multiple of `alignBytes` (minStorageBufferOffsetAlignment).
 * Rows per chunk are a multiple of alignBytes/4, which makes the offset aligned for every width.
 */
export function planRowChunks(totalRows: number, widths: readonly number[], limitBytes: number, alignBytes: number): Chunk[] {
  const maxW = Math.max(1, ...widths);
  const rowBytes = maxW * 4;
  if (totalRows * rowBytes <= limitBytes) return [{ row0: 0, rows: totalRows, index: 0 }];
  const quantum = Math.max(1, alignBytes / 4);
  const perChunk = Math.floor(Math.floor(limitBytes / rowBytes) / quantum) * quantum;
  if (perChunk < 1) {
    throw new Error(`webgpu: a block of ${quantum} row(s) of ${maxW} elements does not fit in one storage binding ` +
      `(limit ${limitBytes} bytes, offset alignment ${alignBytes})`);
  }
  const chunks: Chunk[] = [];
  for (let r = 0, i = 0; r < totalRows; r += perChunk, i++) chunks.push({ row0: r, rows: Math.min(perChunk, totalRows - r), index: i });
  return chunks;
}

/**
 * Lay `groups` workgroups out on a 2-D grid whose dimensions stay within `maxPerDim`
 * (maxComputeWorkgroupsPerDimension, 65,535 on most adapters). Kernels recover the linear index as
 * wid.x + wid.y * num_workgroups.x and return (uniformly, per workgroup) when it is >= the count.
 */
export function splitGroups(groups: number, maxPerDim: number): [number, number] {
  if (groups <= maxPerDim) return [Math.max(groups, 1), 1];
  const y = ceilDiv(groups, maxPerDim);
  if (y > maxPerDim) throw new Error(`webgpu: ${groups} workgroups exceed ${maxPerDim}² in one dispatch`);
  return [ceilDiv(groups, y), y];
}

/** GEMM tiling: TM×TN outputs per workgroup of WG_X×WG_Y threads, each thread RM×RN, K steps of TK. */
export interface GemmTile {
  variant: 'gemm64' | 'gemm32';
  TM: number; TN: number; TK: number;
  WG_X: number; WG_Y: number;
  RM: number; RN: number;
}

/**
 * The one place that picks the GEMM tile. Big outputs use 64×64 tiles with 4×4 register blocks per
 * thread (16×16 = 256 threads, 2×16×64 floats = 8 KiB of workgroup memory); outputs narrower than
 * 64 in either dimension (the [N,K] cluster layers, small batches) use 32×32 tiles with 2×2 blocks
 * so fewer threads idle. Asserts the divisibility the kernel relies on.
 */
export function gemmTile(m: number, n: number): GemmTile {
  const t: GemmTile = m >= 64 && n >= 64
    ? { variant: 'gemm64', TM: 64, TN: 64, TK: 16, WG_X: 16, WG_Y: 16, RM: 4, RN: 4 }
    : { variant: 'gemm32', TM: 32, TN: 32, TK: 16, WG_X: 16, WG_Y: 16, RM: 2, RN: 2 };
  const wg = t.WG_X * t.WG_Y;
  if (t.TM !== t.WG_Y * t.RM || t.TN !== t.WG_X * t.RN || (t.TK * t.TM) % wg !== 0 || (t.TK * t.TN) % wg !== 0) {
    throw new Error(`webgpu: inconsistent GEMM tile ${JSON.stringify(t)}`);
  }
  return t;
}

/**
 * Column-reduction tiling (kernel `colSum`): a 256-thread workgroup covers COLS columns with
 * LANES = 256/COLS lanes each; a lane adds SEQ rows in order, then the lanes are combined by a tree
 * in workgroup memory. Rows covered per workgroup: RPG = LANES*SEQ. Narrow inputs (loss partials,
 * W < 16) use one column per workgroup so all 256 lanes work.
 */
export interface ReduceTile { COLS: number; LANES: number; SEQ: number; RPG: number }
export function reduceTile(width: number): ReduceTile {
  const COLS = width >= 16 ? 16 : 1;
  const LANES = 256 / COLS;
  const SEQ = 8;
  if (LANES * COLS !== 256 || (LANES & (LANES - 1)) !== 0) throw new Error('webgpu: reduce lanes must be a power of two');
  return { COLS, LANES, SEQ, RPG: LANES * SEQ };
}

/** Elements handled per 256-thread workgroup by the loss kernels' first pass (4 per thread). */
export const LOSS_ELEMS_PER_GROUP = 1024;
/** Rows per workgroup in the row-block partial kernels (kmeansUpdate, softAssignBackward dmu, VaDE, the class-mixture sums). */
export const BLOCK_ROWS = 64;
