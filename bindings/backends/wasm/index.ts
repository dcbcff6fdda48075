// The wasm backend: AssemblyScript SIMD128 kernels (assembly/) over one shared linear memory.
//   const be = await createWasmBackend();            // relaxed-simd build when the engine has it
//   const be = await createWasmBackend({ relaxed: false, threads: 1 });
import { WasmBackend } from './backend.js';
import { instantiate, loadModule } from './loader.js';
import { PAGE, WasmAllocator } from './memory.js';

export { WasmBackend } from './backend.js';
export { WasmTensor } from './tensor.js';
export { OutOfMemoryError, WasmAllocator } from './memory.js';
export { loadModule, readWasm, wasmUrl, WASM_FILES } from './loader.js';
export type { BuildFlavor, LoadOptions } from './loader.js';

/** The module declares at most 65536 pages (4 GiB); a smaller maximum may be asked for. */
export const MAX_PAGES = 65536;
const INITIAL_PAGES = 256; // 16 MiB, the module's declared minimum

export interface WasmBackendOptions {
  /** Which build: 'auto' (default) picks relaxed-simd when WebAssembly.validate accepts it. */
  relaxed?: 'auto' | boolean;
  /** Threads for gemm (default 1 = no workers). */
  threads?: number;
  /** Module bytes to use instead of reading build/ (e.g. from a bundler). */
  bytes?: { simd?: Uint8Array; relaxed?: Uint8Array };
  /** Where to fetch/read the builds from instead of build/ beside the package. */
  urls?: { simd?: URL | string; relaxed?: URL | string };
  /** Maximum memory in 64 KiB pages (default and upper bound 65536 = 4 GiB). */
  maxPages?: number;
}

export async function createWasmBackend(opts: WasmBackendOptions = {}): Promise<WasmBackend> {
  const threads = opts.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`wasm: threads must be a positive integer (got ${threads})`);
  const maxPages = opts.maxPages ?? MAX_PAGES;
  if (!Number.isInteger(maxPages) || maxPages < INITIAL_PAGES || maxPages > MAX_PAGES) {
    throw new Error(`wasm: maxPages must be an integer in ${INITIAL_PAGES}..${MAX_PAGES} (got ${maxPages})`);
  }
  const loaded = await loadModule({ relaxed: opts.relaxed, bytes: opts.bytes, urls: opts.urls });
  const memory = createSharedMemory(maxPages, opts.maxPages === undefined);
  const kernels = await instantiate(loaded.module, memory);
  const alloc = new WasmAllocator(memory, kernels.heapBase(), maxPagesOf(memory, maxPages));
  let pool = null;
  if (threads > 1) {
    const { createWorkerPool } = await import('./threads.js');
    pool = await createWorkerPool(threads - 1, loaded, memory, alloc, kernels);
  }
  return new WasmBackend(kernels, alloc, loaded.flavor, loaded.source, pool);
}

export { PAGE };

// Pages actually granted (a fallback may have lowered the maximum); recorded on creation.
const grantedMax = new WeakMap<WebAssembly.Memory, number>();
const maxPagesOf = (m: WebAssembly.Memory, asked: number) => grantedMax.get(m) ?? asked;

/** The shared memory every thread's instance imports. Engines that cannot reserve 4 GiB of address
 *  space (32-bit, some mobile browsers) get a smaller maximum when the caller did not ask for one;
 *  browsers only allow shared memory on cross-origin-isolated pages, which the error says. */
function createSharedMemory(maxPages: number, mayShrink: boolean): WebAssembly.Memory {
  let lastError: unknown;
  for (let max = maxPages; max >= INITIAL_PAGES; max = mayShrink ? max >> 1 : 0) {
    try {
      const m = new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum: max, shared: true });
      grantedMax.set(m, max);
      return m;
    } catch (e) {
      lastError = e;
    }
    if (!mayShrink) break;
  }
  const hint = typeof SharedArrayBuffer === 'undefined'
    ? '; in a browser this needs a cross-origin-isolated page (Cross-Origin-Opener-Policy: same-origin, Cross-Origin-Embedder-Policy: require-corp)'
    : '';
  throw new Error(`wasm: cannot create a shared WebAssembly.Memory of up to ${maxPages} pages (${(lastError as Error)?.message})${hint}`);
}
