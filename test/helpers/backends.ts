// The backends the shared op harness (test/ops.test.ts) compares against the float64 reference.
//
// `create()` returns null when the backend cannot run here (no WebGPU adapter). Then the suite skips
// it LOUDLY (console.warn) — unless `required` is true or process.env.CI === 'true', where a null is
// a failure, never a skip.
import { afterAll, beforeAll } from 'vitest';
import type { ComputeBackend } from '../../bindings/backend.js';
import { createReferenceBackend } from '../../bindings/backends/reference/index.js';

export interface TargetBackend {
  name: string;
  create(): Promise<ComputeBackend | null>;
  /** A null from create() fails the suite (otherwise it skips loudly, except under CI=true). */
  required: boolean;
}

export const TARGET_BACKENDS: TargetBackend[] = [
  // A fresh reference instance against the oracle instance: exercises the harness itself and checks
  // that the reference is deterministic (its tolerance is 0: results must be bit-identical).
  { name: 'reference', create: async () => createReferenceBackend(), required: true },

  // wasm: the build the engine picks (relaxed-simd on Node 22+/Chromium, baseline SIMD128 on Node 20).
  { name: 'wasm', create: async () => (await import('../../bindings/backends/wasm/index.js')).createWasmBackend(), required: true },

  // webgpu: the webgpu helper adds its entry HERE; its create() returns null when no adapter answers
  // (required: false, so it skips loudly outside CI and fails under CI=true).
  { name: 'webgpu', create: async () => (await import('../../bindings/backends/webgpu/index.js')).createWebGPUBackend(), required: false },
];

/** Whether a backend that could not be created must fail the run instead of being skipped. */
export const mustRun = (b: TargetBackend): boolean => b.required || process.env.CI === 'true';

/**
 * The backends a per-op or pipeline-op test compares element by element: reference, wasm on 1 and on 2
 * threads (the row split must not change a result), webgpu. Registers beforeAll/afterAll in the
 * calling suite; `be` is null until beforeAll ran, and stays null for webgpu without an adapter (a
 * loud skip outside CI, a failure under CI=true).
 */
export function opTestBackends(file: string): { name: string; be: ComputeBackend | null }[] {
  const list: { name: string; be: ComputeBackend | null }[] = [
    { name: 'reference', be: null },
    { name: 'wasm', be: null },
    { name: 'wasm, 2 threads', be: null },
    { name: 'webgpu', be: null },
  ];
  beforeAll(async () => {
    const { createWasmBackend } = await import('../../bindings/backends/wasm/index.js');
    const { createWebGPUBackend } = await import('../../bindings/backends/webgpu/index.js');
    list[0].be = createReferenceBackend();
    list[1].be = await createWasmBackend({ relaxed: false });
    list[2].be = await createWasmBackend({ relaxed: false, threads: 2 });
    list[3].be = await createWebGPUBackend();
    if (!list[3].be) {
      if (process.env.CI === 'true') throw new Error('webgpu: no adapter under CI=true: this is a failure, not a skip');
      console.warn(`\n*** SKIPPING the webgpu part of ${file}: no WebGPU adapter. Under CI=true this fails. ***\n`);
    }
  });
  afterAll(() => {
    for (const b of list) b.be?.destroy();
  });
  return list;
}
