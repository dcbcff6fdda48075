// JS-side allocator over the WASM module's linear memory (imported, shared). Kernels never allocate:
// every tensor and every scratch panel is a 64-byte-aligned block handed out here, identified by its
// byte offset (`ptr`). Freed blocks go to an address-ordered free list and are coalesced with their
// neighbours, so a training loop that creates and disposes the same shapes every step reuses the
// same memory instead of growing it; a block that ends at the top lowers the top instead.

export const ALIGN = 64;
export const PAGE = 65536;

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
/** The smallest scratch block: the small kernels' temporaries then share one allocation. */
const MIN_SCRATCH_BYTES = 4096;

function fmtBytes(n: number): string {
  if (n >= GiB) return `${(n / GiB).toFixed(1)} GiB`;
  if (n >= MiB) return `${(n / MiB).toFixed(1)} MiB`;
  return `${(n / 1024).toFixed(1)} KiB`;
}

export class OutOfMemoryError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = 'OutOfMemoryError';
  }
}

interface Block {
  ptr: number;
  size: number;
}

export class WasmAllocator {
  /** Free blocks, sorted by address, never adjacent to each other (coalesced). */
  private free: Block[] = [];
  /** Size of every live block by its ptr. */
  private live = new Map<number, number>();
  /** First byte above every block ever handed out and still below the top. */
  private top: number;

  constructor(
    readonly memory: WebAssembly.Memory,
    /** First usable byte (the module's __heap_base). */
    base: number,
    /** The memory's maximum in pages (what memory.grow can reach). */
    readonly maxPages: number,
  ) {
    this.top = align(base);
  }

  /** Bytes currently handed out (sum of live blocks). */
  get liveBytes(): number {
    let s = 0;
    for (const v of this.live.values()) s += v;
    return s;
  }

  /** Number of live blocks. */
  get liveCount(): number {
    return this.live.size;
  }

  /** Current size of the linear memory in bytes. */
  get memoryBytes(): number {
    return this.memory.buffer.byteLength;
  }

  /** A 64-byte-aligned block of at least `bytes` bytes (contents undefined). `what` names the
   *  request in the out-of-memory message, e.g. "[4096,784] f32". */
  alloc(bytes: number, what: string): number {
    const size = align(Math.max(bytes, 1));
    // first fit in the free list
    for (let i = 0; i < this.free.length; i++) {
      const b = this.free[i];
      if (b.size >= size) {
        const ptr = b.ptr;
        if (b.size === size) this.free.splice(i, 1);
        else {
          b.ptr += size;
          b.size -= size;
        }
        this.live.set(ptr, size);
        return ptr;
      }
    }
    // bump from the top, growing the memory when needed
    const ptr = this.top;
    const end = ptr + size;
    if (end > this.memory.buffer.byteLength) this.grow(end, bytes, what);
    this.top = end;
    this.live.set(ptr, size);
    return ptr;
  }

  /** Return a block. Freeing a pointer that is not live is a bug in the caller and throws. */
  release(ptr: number): void {
    const size = this.live.get(ptr);
    if (size === undefined) throw new Error(`wasm allocator: release of unknown pointer ${ptr}`);
    this.live.delete(ptr);
    // insert keeping address order, then merge with neighbours
    let lo = 0;
    let hi = this.free.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.free[mid].ptr < ptr) lo = mid + 1;
      else hi = mid;
    }
    let blk: Block = { ptr, size };
    const prev = this.free[lo - 1];
    if (prev && prev.ptr + prev.size === ptr) {
      prev.size += size;
      blk = prev;
      lo -= 1;
    } else {
      this.free.splice(lo, 0, blk);
    }
    const next = this.free[lo + 1];
    if (next && blk.ptr + blk.size === next.ptr) {
      blk.size += next.size;
      this.free.splice(lo + 1, 1);
    }
    // a free block that reaches the top goes back to the bump region
    if (blk.ptr + blk.size === this.top) {
      this.top = blk.ptr;
      this.free.splice(lo, 1);
    }
  }

  private grow(end: number, bytes: number, what: string): void {
    const have = this.memory.buffer.byteLength;
    const pages = Math.ceil((end - have) / PAGE);
    try {
      if (have / PAGE + pages > this.maxPages) throw new RangeError('beyond maximum');
      this.memory.grow(pages);
    } catch {
      throw new OutOfMemoryError(
        `wasm: out of memory allocating ${what} (${fmtBytes(bytes)}); memory is ${fmtBytes(have)} of ` +
          `${fmtBytes(this.maxPages * PAGE)} max, ${fmtBytes(this.liveBytes)} in use`,
      );
    }
  }
}

const align = (n: number) => Math.ceil(n / ALIGN) * ALIGN;

/**
 * A block that grows on demand and is otherwise reused: kernels' f64 temporaries live here, so a
 * training loop does not allocate per op. Growth at least doubles, so a slowly growing need
 * reallocates O(log n) times.
 */
export class ScratchBlock {
  private ptr = 0;
  private size = 0;

  constructor(private readonly alloc: WasmAllocator) {}

  /** The block's pointer, grown first to at least `bytes` (`op` names the allocation on failure). */
  atLeast(bytes: number, op: string): number {
    if (bytes > this.size) {
      const size = Math.max(bytes, 2 * this.size, MIN_SCRATCH_BYTES);
      if (this.size) this.alloc.release(this.ptr);
      this.size = 0;
      this.ptr = this.alloc.alloc(size, `${op} scratch`);
      this.size = size;
    }
    return this.ptr;
  }
}
