// Row jobs of the wasm kernels: a row kernel run over all rows, split across the worker pool when
// the job is worth waking it, each thread with its own f64 scratch; and row reductions in fixed
// chunks whose per-chunk sums are folded in chunk order (deterministic on any thread count).
import type { KernelExports } from './exports.js';
import { ScratchBlock, type WasmAllocator } from './memory.js';
import type { RowKernel, WorkerPool } from './threads.js';

/** Work weight of a transcendental (asinh, exp) against a multiply-add, for the pool's split test. */
export const TRANSCENDENTAL_WORK = 16;
/** Rows per chunk of a chunked reduction (chunkReduce): the per-chunk f64 sums are folded on the
 *  host, so a chunk should be large against its accumulators (C·K + 2·K·D for mixtureStats). */
const REDUCE_CHUNK_ROWS = 2048;

export class RowJobs {
  /** One block for the f64 temporaries of whichever kernel runs (ops run one at a time). */
  private readonly block: ScratchBlock;

  constructor(private readonly k: KernelExports, private readonly alloc: WasmAllocator, private readonly pool: WorkerPool | null) {
    this.block = new ScratchBlock(alloc);
  }

  private get threads(): number {
    return this.pool ? this.pool.size + 1 : 1;
  }

  /**
   * Runs a row kernel (its last two arguments are [r0, r1)) over all rows: split across the worker
   * pool when there is one and the job is big enough (`work` = element·terms in all), else here.
   * `scratchArg` names the argument that holds an f64 scratch pointer: each thread then gets its own
   * block of `scratchBytes` (threads must not share temporaries).
   */
  rowJob(kernel: RowKernel, rows: number, work: number, args: number[], scratchArg = -1, scratchBytes = 0): void {
    if (this.pool && this.pool.worthSplittingRows(rows, work)) {
      if (scratchArg < 0) {
        this.pool.rows(kernel, rows, args);
        return;
      }
      const stride = Math.ceil(scratchBytes / 64) * 64;
      const base = this.scratch(stride * this.threads, kernel);
      this.pool.rows(kernel, rows, args, { arg: scratchArg, base, stride });
      return;
    }
    if (scratchArg >= 0) args[scratchArg] = this.scratch(scratchBytes, kernel);
    (this.k[kernel] as (...a: number[]) => void)(...args, 0, rows);
  }

  /**
   * A row reduction in fixed chunks of REDUCE_CHUNK_ROWS rows: the kernel (whose last arguments
   * before its range are scratch, acc, chunkRows) sums each chunk into its own block of `accBytes`
   * f64 accumulators; the blocks are then added here in chunk order. The chunks depend on the row
   * count alone, so the result is the same on any number of threads and in any order they run.
   */
  chunkReduce(kernel: RowKernel, rows: number, work: number, args: number[], scratchBytes: number, accBytes: number): Float64Array {
    const chunk = REDUCE_CHUNK_ROWS;
    const chunks = Math.max(1, Math.ceil(rows / chunk));
    const stride = Math.ceil(scratchBytes / 64) * 64;
    const split = this.pool !== null && chunks > 1 && this.pool.worthSplittingRows(rows, work);
    const threadBlocks = split ? this.threads : 1;
    const scratch = this.scratch(stride * threadBlocks + accBytes * chunks, kernel);
    const acc = scratch + stride * threadBlocks;
    const scratchArg = args.length;
    args.push(scratch, acc, chunk);
    if (split) this.pool!.rows(kernel, rows, args, { arg: scratchArg, base: scratch, stride }, { chunk, chunks });
    else for (let b = 0; b < chunks; b++) (this.k[kernel] as (...a: number[]) => void)(...args, b * chunk, Math.min(rows, (b + 1) * chunk));
    const width = accBytes / 8;
    const blocks = new Float64Array(this.alloc.memory.buffer, acc, width * chunks);
    const out = new Float64Array(width);
    for (let b = 0; b < chunks; b++) for (let j = 0; j < width; j++) out[j] += blocks[b * width + j];
    return out;
  }

  /** A scratch block of at least `bytes` for a kernel's f64 temporaries; reused across calls. */
  scratch(bytes: number, op: string): number {
    return this.block.atLeast(bytes, op);
  }

}
