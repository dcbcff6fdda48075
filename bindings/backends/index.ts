// Backend selection shared by the CLI, the server and the browser build.
// `auto` prefers WebGPU when an adapter answers, else WASM, and says why it chose what it chose.
import type { ComputeBackend } from '../backend.js';

export type BackendKind = 'auto' | 'reference' | 'wasm' | 'webgpu';
export const BACKEND_KINDS: readonly BackendKind[] = ['auto', 'reference', 'wasm', 'webgpu'];

export interface CreateBackendOptions {
  /** Where `auto` reports its choice (default console.error, so stdout stays clean for --json). */
  log?: (message: string) => void;
  /** Worker threads for the wasm backend (default 1). */
  threads?: number;
  /** A GPU object (e.g. navigator.gpu) to use instead of discovering one. */
  gpu?: GPU;
}

export async function createBackend(kind: BackendKind = 'auto', opts: CreateBackendOptions = {}): Promise<ComputeBackend> {
  const log = opts.log ?? ((m: string) => console.error(m));
  if (!BACKEND_KINDS.includes(kind)) {
    throw new Error(`unknown backend '${kind}' (expected ${BACKEND_KINDS.join('|')})`);
  }
  if (kind === 'reference') {
    const { createReferenceBackend } = await import('./reference/index.js');
    return createReferenceBackend();
  }
  if (kind === 'wasm') return createWasm(opts);
  if (kind === 'webgpu') {
    const be = await createWebGPU(opts);
    if (!be) throw new Error('webgpu: no GPU adapter answered (try --backend wasm, or install a Vulkan driver such as Mesa lavapipe)');
    return be;
  }
  // auto
  let reason: string;
  const probed = await probeInChild(opts);
  if (probed !== undefined) {
    // Known without loading Dawn here: a software adapter or none goes straight to wasm (and Dawn's
    // native warnings about the software driver never reach this process's stderr).
    const be = await createWasm(opts);
    log(`hemaclust: backend auto → wasm (${be.info().device}); ${probed}`);
    return be;
  }
  try {
    const be = await createWebGPU(opts);
    if (be && !isSoftwareAdapter(be.info().device)) {
      log(`hemaclust: backend auto → webgpu (${be.info().device})`);
      return be;
    }
    if (be) {
      // A CPU-emulated GPU (lavapipe, SwiftShader) is a correctness device, far slower than wasm.
      reason = `the WebGPU adapter is a software rasteriser (${be.info().device}); ask for --backend webgpu to use it anyway`;
      be.destroy();
    } else {
      reason = 'no WebGPU adapter answered';
    }
  } catch (e) {
    reason = `WebGPU failed: ${(e as Error).message}`;
  }
  const be = await createWasm(opts);
  log(`hemaclust: backend auto → wasm (${be.info().device}); ${reason}`);
  return be;
}

/** In Node with no GPU object given: why `auto` should not use WebGPU, from a child-process probe
 *  (webgpu/node-probe.ts); undefined when the adapter is worth a try here or the probe could not tell. */
async function probeInChild(opts: CreateBackendOptions): Promise<string | undefined> {
  if (opts.gpu || typeof process === 'undefined' || !process.versions?.node) return undefined;
  try {
    const { probeDawnAdapter } = await import('./webgpu/node-probe.js');
    const a = await probeDawnAdapter();
    if (!a) return 'no WebGPU adapter answered';
    if (isSoftwareAdapter(a.description) || a.fallback === true) {
      return `the WebGPU adapter is a software rasteriser (${a.description}); ask for --backend webgpu to use it anyway`;
    }
    return undefined;
  } catch {
    return undefined; // no webgpu package or a failed probe: try in this process as before
  }
}

async function createWasm(opts: CreateBackendOptions): Promise<ComputeBackend> {
  const { createWasmBackend } = await import('./wasm/index.js');
  return createWasmBackend({ threads: opts.threads });
}

async function createWebGPU(opts: CreateBackendOptions): Promise<ComputeBackend | null> {
  const { createWebGPUBackend } = await import('./webgpu/index.js');
  return createWebGPUBackend({ gpu: opts.gpu });
}

/** Adapters that run on the CPU (Mesa lavapipe/llvmpipe, SwiftShader, WARP). */
export function isSoftwareAdapter(description: string): boolean {
  return /llvmpipe|lavapipe|swiftshader|software|\bwarp\b/i.test(description);
}
