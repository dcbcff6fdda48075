// Builds the two WASM flavours of the kernels in assembly/ with the AssemblyScript compiler:
//   build/hemaclust-simd.wasm     baseline SIMD128 (runs everywhere WASM SIMD does)
//   build/hemaclust-relaxed.wasm  SIMD128 + relaxed-simd (f32x4.relaxed_madd in the hot loops)
// Targets and flags live in asconfig.json (imported shared memory, stub runtime, -O3, noAssert).
// The same loop builds the generic exported classifier (assembly/embed/, docs/embedding.md) from
// its own assembly/embed/asconfig.json (no imports at all, no abort):
//   build/embed-simd.wasm     SIMD128 encoder
//   build/embed-scalar.wasm   no SIMD, no bulk memory: runtimes and compilers without them (wasm2c)
// `hemaclust export` appends a model to one of them (bindings/export/module.ts); no compiler runs then.
// Both files are copied to dist/build/ too, because the compiled loader in
// dist/bindings/backends/wasm/ resolves '../../../build/' relative to itself.
import asc from 'assemblyscript/asc';
import { copyFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);

const targets = [
  { config: 'asconfig.json', target: 'simd', file: 'hemaclust-simd.wasm' },
  { config: 'asconfig.json', target: 'relaxed', file: 'hemaclust-relaxed.wasm' },
  { config: 'assembly/embed/asconfig.json', target: 'simd', file: 'embed-simd.wasm' },
  { config: 'assembly/embed/asconfig.json', target: 'scalar', file: 'embed-scalar.wasm' },
];

await mkdir('build', { recursive: true });
await mkdir(join('dist', 'build'), { recursive: true });
for (const { config, target, file } of targets) {
  const t0 = performance.now();
  const { error, stderr } = await asc.main(['--config', config, '--target', target], {});
  if (error) {
    console.error(stderr.toString());
    console.error(`build-wasm: target '${target}' failed: ${error.message}`);
    process.exit(1);
  }
  await copyFile(join('build', file), join('dist', 'build', file));
  console.log(`build-wasm: build/${file} (${target}) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
