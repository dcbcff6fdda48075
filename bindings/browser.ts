// The browser entry of the hemaclust API (bundled by scripts/build-browser.mjs into
// dist/browser/hemaclust.js): the same pipeline, readers and backends as in Node. What differs is
// only where resources come from — the wasm kernels are fetched from `wasmBase` (default: /build/
// on the serving origin) and the GPU is navigator.gpu. The wasm backend needs a cross-origin
// isolated page (COOP/COEP headers) because its memory is a SharedArrayBuffer.
import type { ComputeBackend } from './backend.js';
import { createWasmBackend, WASM_FILES } from './backends/wasm/index.js';
import { createWebGPUBackend } from './backends/webgpu/index.js';
import { isSoftwareAdapter } from './backends/index.js';

export { BloodCellPipeline, CLASSES, validateSample } from './pipeline/index.js';
export type { SampleInput, SampleSummary, ClassifyResult, Reference, PipelineMeta, PipelineProgress, ClassName } from './pipeline/index.js';
export { parseMatrix, detectFormat, FormatError, encodeNpy, parseNpy, encodeFcs, parseFcs, parseCsv, formatCsv } from './io/index.js';
export type { Matrix, MatrixFormat } from './io/index.js';
export { simulateSample, featureNames } from './simulate/index.js';
export type { ComputeBackend } from './backend.js';

export type BrowserBackendKind = 'auto' | 'wasm' | 'webgpu';

export interface BrowserBackendOptions {
  /** Where the wasm builds are served (default new URL('/build/', location.href)). */
  wasmBase?: string | URL;
  /** Told which backend `auto` chose and why. */
  log?: (message: string) => void;
}

/** Creates a compute backend in the browser. `auto` takes WebGPU only on a hardware adapter and
 *  otherwise WASM, and tells `log` why — the same rule as the Node side (backends/index.ts): a
 *  software adapter (Chromium's SwiftShader, lavapipe, WARP) emulates the GPU on the CPU and runs
 *  the pipeline far slower than the wasm kernels. */
export async function createBrowserBackend(kind: BrowserBackendKind = 'auto', opts: BrowserBackendOptions = {}): Promise<ComputeBackend> {
  const log = opts.log ?? (() => undefined);
  const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (kind === 'webgpu' || kind === 'auto') {
    let why = 'navigator.gpu is missing (WebGPU needs a secure context and a supporting browser)';
    if (gpu) {
      try {
        const be = await createWebGPUBackend({ gpu });
        if (be && (kind === 'webgpu' || !isSoftwareAdapter(be.info().device))) {
          log(`backend: webgpu (${be.info().device})`);
          return be;
        }
        if (be) {
          why = `the WebGPU adapter is a software rasteriser (${be.info().device}), slower than WASM; choose WebGPU explicitly to use it anyway`;
          be.destroy();
        } else {
          why = 'no WebGPU adapter answered';
        }
      } catch (e) {
        why = `WebGPU failed: ${(e as Error).message}`;
      }
    }
    if (kind === 'webgpu') throw new Error(`webgpu: ${why}`);
    log(`backend: auto → wasm (${why})`);
  }
  const base = new URL(opts.wasmBase ?? '/build/', (globalThis as { location?: Location }).location?.href);
  const be = await createWasmBackend({
    threads: 1,
    urls: { simd: new URL(WASM_FILES.simd, base), relaxed: new URL(WASM_FILES.relaxed, base) },
  });
  log(`backend: wasm (${be.info().device})`);
  return be;
}
