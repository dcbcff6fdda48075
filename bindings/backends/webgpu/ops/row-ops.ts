// The shapes of dispatch most ops share: elementwise over flat elements, a scalar loss over flat
// element terms, and per-row-block partials for a later column reduction. Each records into the
// context's current encoder like any op.
import type { Activation, Tensor } from '../../../backend.js';
import type { Arg, GpuContext, KernelRef, Param } from '../context.js';
import { u } from '../context.js';
import { ceilDiv, BLOCK_ROWS, LOSS_ELEMS_PER_GROUP } from '../plan.js';
import type { WebGPUTensor } from '../tensor.js';
import { reduceRows } from './reduce.js';

/** The ACT constant of elementwise.wgsl for each activation. */
export const ACT_CODE: Record<Activation, number> = { identity: 0, relu: 1, sigmoid: 2, tanh: 3 };
/** Threads per workgroup of the one-thread-per-row/element kernels (their @workgroup_size). */
const THREADS_PER_GROUP = 256;

export const k = (file: string, entry: string, consts?: Record<string, number | boolean>): KernelRef => ({ file, entry, consts });
export const ew = (entry: string, act = 0) => k('elementwise.wgsl', entry, { ACT: act });
/** Workgroups of a one-thread-per-item kernel over `items` items. */
export const perThread = (items: number) => ceilDiv(items, THREADS_PER_GROUP);

/** Elementwise kernel over all elements of same-shape tensors (flat, chunked by element ranges). */
export function flatOp(ctx: GpuContext, kernel: KernelRef, n: number, args: { t: Tensor; write?: boolean }[],
  extra: (rows: number, row0: number) => Param[]): void {
  ctx.rowOp(kernel, n, args.map((a) => ({ rows: a.t as WebGPUTensor, width: 1, write: a.write })),
    (c) => extra(c.rows, c.row0), (c) => perThread(c.rows));
}

/** First pass of a scalar loss over flat element terms, then colSum into loss[0] with `scale`. */
export function flatLoss(ctx: GpuContext, kernel: KernelRef, a: Tensor, b: Tensor, loss: Tensor, scale: number): void {
  const chunks = ctx.chunks(a.size, [1]);
  const groups = chunks.reduce((s, c) => s + ceilDiv(c.rows, LOSS_ELEMS_PER_GROUP), 0);
  const partial = ctx.scratch(groups * 4);
  let pbase = 0;
  ctx.rowOp(kernel, a.size, [{ rows: a as WebGPUTensor, width: 1 }, { rows: b as WebGPUTensor, width: 1 }, { whole: partial, write: true, bytes: groups * 4 }],
    (c) => { const p = [u(c.rows), u(pbase)]; pbase += ceilDiv(c.rows, LOSS_ELEMS_PER_GROUP); return p; },
    (c) => ceilDiv(c.rows, LOSS_ELEMS_PER_GROUP));
  reduceRows(ctx, partial, groups, 1, [{ col0: 0, cols: 1, target: loss as WebGPUTensor, scale, accumulate: false }]);
}

/** Row-block partials ([blocks, width] in scratch, BLOCK_ROWS rows per workgroup) over row chunks. */
export function blockPartials(ctx: GpuContext, kernel: KernelRef, rows: number, args: Arg[], width: number,
  params: (rows: number, row0: number, pbase: number) => Param[]): { partial: GPUBuffer; blocks: number } {
  const widths = args.flatMap((a) => ('rows' in a ? [a.width] : []));
  const blocks = ctx.chunks(rows, widths).reduce((s, c) => s + ceilDiv(c.rows, BLOCK_ROWS), 0);
  const partial = ctx.scratch(blocks * width * 4);
  let pbase = 0;
  ctx.rowOp(kernel, rows, [...args, { whole: partial, write: true, bytes: blocks * width * 4 }],
    (c) => { const p = params(c.rows, c.row0, pbase); pbase += ceilDiv(c.rows, BLOCK_ROWS); return p; },
    (c) => ceilDiv(c.rows, BLOCK_ROWS));
  return { partial, blocks };
}
