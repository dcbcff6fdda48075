import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // WebGPU (Dawn) and WASM workers hold native resources: one process per file keeps them apart.
    // (Dawn aborts its process if the GPU object from create([]) is garbage-collected while a device
    // lives: bindings/backends/webgpu/index.ts keeps it for the process lifetime, and
    // test/webgpu.test.ts forces collections to prove it. A crash here is "Worker exited unexpectedly".)
    pool: 'forks',
    isolate: true,
  },
});
