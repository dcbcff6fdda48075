// Entry point of the WebGPU backend. The same code runs in Node and in browsers; only where the
// `GPU` object comes from differs: an explicit `opts.gpu`, else `navigator.gpu` (browsers, Deno),
// else in Node the `webgpu` package (Dawn), whose globals (GPUBufferUsage, …) are installed too.
import { WebGPUBackend } from './backend.js';
import type { ContextOptions } from './context.js';

export { WebGPUBackend } from './backend.js';
export { WebGPUTensor } from './tensor.js';

export interface WebGPUBackendOptions extends ContextOptions {
  gpu?: GPU;
  powerPreference?: GPUPowerPreference;
}

async function findGPU(): Promise<GPU | null> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return nav.gpu;
  if (typeof process === 'undefined' || !process.versions?.node) return null;
  let mod: { create: (flags: string[]) => GPU; globals: object };
  try {
    mod = (await import(/* @vite-ignore */ 'webgpu' as string)) as typeof mod;
  } catch {
    return null; // the optional Node binding is not installed: no adapter
  }
  Object.assign(globalThis, mod.globals);
  nodeGPU ??= mod.create([]);
  return nodeGPU;
}

// Dawn's instance must outlive every device made from it: if the GPU object were garbage-collected
// while a device is alive, the native side tears down under it (random crashes). Keep one per process.
let nodeGPU: GPU | null = null;

/**
 * Create the WebGPU backend, or null when no adapter is available. Other failures (device request
 * refused, …) throw. Requests the adapter's largest storage-binding, buffer and workgroup-memory
 * limits so big tensors need as few chunks as possible.
 */
export async function createWebGPUBackend(opts: WebGPUBackendOptions = {}): Promise<WebGPUBackend | null> {
  const gpu = opts.gpu ?? (await findGPU());
  if (!gpu) return null;
  const adapter = await gpu.requestAdapter(opts.powerPreference ? { powerPreference: opts.powerPreference } : undefined);
  if (!adapter) return null;
  const lim = adapter.limits;
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({
      label: 'hemaclust',
      requiredLimits: {
        maxStorageBufferBindingSize: lim.maxStorageBufferBindingSize,
        maxBufferSize: lim.maxBufferSize,
        maxComputeWorkgroupStorageSize: lim.maxComputeWorkgroupStorageSize,
        maxStorageBuffersPerShaderStage: Math.min(lim.maxStorageBuffersPerShaderStage, 10),
        // Finer binding offsets mean smaller row quanta when big tensors are bound in chunks.
        minStorageBufferOffsetAlignment: lim.minStorageBufferOffsetAlignment,
      },
    });
  } catch (e) {
    throw new Error(`webgpu: requestDevice failed: ${(e as Error).message}`);
  }
  const info = adapter.info;
  const description = [info?.description, info?.vendor, info?.architecture].filter((s) => s).join(' / ') || 'unknown WebGPU adapter';
  return new WebGPUBackend(device, description, opts, [gpu, adapter]);
}
