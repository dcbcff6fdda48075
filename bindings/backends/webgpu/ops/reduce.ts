// Host side of the column reduction (kernels/reduce.wgsl `colSum`): repeated passes over partial
// rows until one workgroup can finish, then one final pass per output range with scale/accumulate.
import type { GpuContext } from '../context.js';
import { f, u } from '../context.js';
import { ceilDiv, reduceTile } from '../plan.js';
import type { WebGPUTensor } from '../tensor.js';

export interface ReduceFinal {
  /** First column of the partial rows summed into this output, and how many columns. */
  col0: number;
  cols: number;
  target: WebGPUTensor;
  scale: number;
  accumulate: boolean;
}

const kernelFor = (width: number) => {
  const t = reduceTile(width);
  return { file: 'reduce.wgsl', entry: 'colSum', consts: { COLS: t.COLS, LANES: t.LANES, SEQ: t.SEQ } };
};

/** One colSum dispatch: rows of `src` (row stride ld) → rows of `dst` (pbase, outLd, outOff). */
export function colSumPass(ctx: GpuContext, src: { buffer: GPUBuffer; offset: number }, rows: number, ld: number, col0: number,
  width: number, dst: GPUBuffer, dstBytes: number, o: { outLd: number; outOff: number; pbase: number; scale: number; accumulate: boolean }): number {
  const t = reduceTile(width);
  const colGroups = ceilDiv(width, t.COLS);
  const blocks = ceilDiv(rows, t.RPG);
  ctx.dispatch(kernelFor(width),
    [u(rows), u(ld), u(col0), u(width), u(o.outLd), u(o.outOff), u(o.pbase), u(colGroups), u(o.accumulate ? 1 : 0), f(o.scale)],
    [{ buffer: src.buffer, offset: src.offset, size: rows * ld * 4, write: false }, { buffer: dst, offset: 0, size: dstBytes, write: true }],
    blocks * colGroups);
  return blocks;
}

/** Sum the `rows` rows (stride ld) of a scratch buffer into the finals. */
export function reduceRows(ctx: GpuContext, src: GPUBuffer, rows: number, ld: number, finals: ReduceFinal[]): void {
  // A final pass must cover all remaining rows in one workgroup: reduce until rows fit the smallest RPG.
  const minRpg = Math.min(reduceTile(ld).RPG, ...finals.map((x) => reduceTile(x.cols).RPG));
  let cur = src;
  let r = rows;
  while (r > minRpg) {
    const blocks = ceilDiv(r, reduceTile(ld).RPG);
    const next = ctx.scratch(blocks * ld * 4);
    colSumPass(ctx, { buffer: cur, offset: 0 }, r, ld, 0, ld, next, blocks * ld * 4, { outLd: ld, outOff: 0, pbase: 0, scale: 1, accumulate: false });
    cur = next;
    r = blocks;
  }
  for (const fin of finals) {
    colSumPass(ctx, { buffer: cur, offset: 0 }, r, ld, fin.col0, fin.cols, fin.target.buffer, fin.target.bytes,
      { outLd: 0, outOff: 0, pbase: 0, scale: fin.scale, accumulate: fin.accumulate });
  }
}

/** out[j] (+)= scale Σ_i x[i,j] for a tensor that may exceed one binding (bound in row chunks). */
export function colSumTensor(ctx: GpuContext, x: WebGPUTensor, out: WebGPUTensor, scale: number, accumulate: boolean): void {
  const [n, d] = x.shape.length === 2 ? [x.shape[0], x.shape[1]] : [x.shape[0], 1];
  const t = reduceTile(d);
  if (n <= t.RPG && n * d * 4 <= ctx.bindLimit) {
    colSumPass(ctx, { buffer: x.buffer, offset: 0 }, n, d, 0, d, out.buffer, out.bytes, { outLd: 0, outOff: 0, pbase: 0, scale, accumulate });
    return;
  }
  const chunks = ctx.chunks(n, [d]);
  const partialRows = chunks.reduce((acc, c) => acc + ceilDiv(c.rows, t.RPG), 0);
  const partial = ctx.scratch(partialRows * d * 4);
  let pbase = 0;
  ctx.rowOp({ file: 'reduce.wgsl', entry: 'colSum', consts: { COLS: t.COLS, LANES: t.LANES, SEQ: t.SEQ } }, n,
    [{ rows: x, width: d }, { whole: partial, write: true, bytes: partialRows * d * 4 }],
    (c) => {
      const p = [u(c.rows), u(d), u(0), u(d), u(d), u(0), u(pbase), u(ceilDiv(d, t.COLS)), u(0), f(1)];
      pbase += ceilDiv(c.rows, t.RPG);
      return p;
    },
    (c) => ceilDiv(c.rows, t.RPG) * ceilDiv(d, t.COLS));
  reduceRows(ctx, partial, partialRows, d, [{ col0: 0, cols: d, target: out, scale, accumulate }]);
}
