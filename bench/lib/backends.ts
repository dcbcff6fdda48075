// Our backends as the bench sees them: one "config" per measured column (backend × threads ×
// SIMD flavour). A backend that does not exist yet, fails to start, or cannot honour the config
// (fewer threads, no relaxed build) becomes an "n/a: reason" row instead of stopping the run.
import type { ComputeBackend } from '../../bindings/backend.js';
import type { BackendChoice } from './args.js';
import type { SizeSet } from '../ops/cases.js';

export interface BackendConfig {
  choice: BackendChoice;
  threads: number;
  /** Row label, e.g. "wasm 2t", "wasm-relaxed 1t", "webgpu". */
  label: string;
}

export interface LoadedBackend {
  config: BackendConfig;
  be: ComputeBackend | null;
  /** Why `be` is null. */
  na?: string;
  /** Device string for the header (backend info or adapter). */
  device: string;
  /** Which size set this backend is measured at. */
  sizes: SizeSet['name'];
  /** Threads the ceiling is scaled by. */
  ceilingThreads: number;
  /** A software device: numbers are not speed claims. */
  software: boolean;
  relaxed: boolean;
}

export function backendConfigs(choices: readonly BackendChoice[], threads: readonly number[]): BackendConfig[] {
  const out: BackendConfig[] = [];
  for (const choice of choices) {
    if (choice === 'wasm' || choice === 'wasm-relaxed') {
      for (const t of threads) out.push({ choice, threads: t, label: `${choice} ${t}t` });
    } else {
      out.push({ choice, threads: 1, label: choice });
    }
  }
  return out;
}

// Variable specifiers keep tsc from requiring modules other helpers are still writing.
async function importModule(spec: string): Promise<Record<string, unknown>> {
  return (await import(spec)) as Record<string, unknown>;
}

const SOFTWARE_GPU = /llvmpipe|lavapipe|swiftshader|software/i;

/** The row-less placeholder of a backend that is not there. */
export function naBackend(config: BackendConfig, quick: boolean): LoadedBackend {
  return { config, be: null, device: '', sizes: quick ? 'quick' : 'full', ceilingThreads: config.threads, software: false, relaxed: false };
}

export async function loadBackend(config: BackendConfig, quick: boolean): Promise<LoadedBackend> {
  const base = naBackend(config, quick);
  try {
    if (config.choice === 'reference') {
      const m = await importModule('../../bindings/backends/reference/index.js');
      const be = (m.createReferenceBackend as () => ComputeBackend)();
      return { ...base, be, device: be.info().device, sizes: quick ? 'quick' : 'small' };
    }
    if (config.choice === 'wasm' || config.choice === 'wasm-relaxed') {
      const m = await importModule('../../bindings/backends/wasm/index.js');
      const create = m.createWasmBackend as ((o: { threads?: number; relaxed?: boolean }) => Promise<ComputeBackend>) | undefined;
      if (typeof create !== 'function') return { ...base, na: 'wasm backend: createWasmBackend not exported' };
      const relaxed = config.choice === 'wasm-relaxed';
      const be = await create({ threads: config.threads, relaxed });
      const info = be.info();
      const got = info.threads ?? 1;
      // The device string is the only place BackendInfo names the SIMD flavour.
      const na = got !== config.threads ? `wasm backend runs ${got} thread(s), asked ${config.threads}`
        : relaxed && !/relaxed/i.test(info.device) ? `wasm backend has no relaxed-SIMD build here ('${info.device}')` : undefined;
      if (na) { be.destroy(); return { ...base, na, device: info.device }; }
      return { ...base, be, device: info.device, relaxed };
    }
    // webgpu
    const m = await importModule('../../bindings/backends/webgpu/index.js');
    const create = m.createWebGPUBackend as ((o?: object) => Promise<ComputeBackend | null>) | undefined;
    if (typeof create !== 'function') return { ...base, na: 'webgpu backend: createWebGPUBackend not exported' };
    const be = await create({});
    if (!be) return { ...base, na: 'no WebGPU adapter answered' };
    const device = be.info().device;
    const software = SOFTWARE_GPU.test(device);
    return { ...base, be, device, software, sizes: quick ? 'quick' : software ? 'small' : 'full' };
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0];
    const missing = /Cannot find module|ERR_MODULE_NOT_FOUND|no such file/i.test(msg);
    return { ...base, na: missing ? `${config.choice} backend not available yet (${msg.slice(0, 160)})` : `${config.choice}: ${msg.slice(0, 200)}` };
  }
}
