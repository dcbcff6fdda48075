// Builds the generic exported classifier (assembly/embed/, docs/embedding.md) once per flavour:
//   build/embed-simd.wasm    SIMD128 encoder
//   build/embed-scalar.wasm  no SIMD and no bulk memory: for runtimes and compilers without them (wasm2c)
// `hemaclust export` appends a model to one of them (bindings/export/module.ts); no compiler runs then.
// Flags: the stub runtime (the classifier never allocates: its buffers are computed offsets after
// the model), no `abort` import (a failed check traps; the ABI validates everything first), so the
// module imports nothing.
import asc from 'assemblyscript/asc';
import { copyFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);

// Flags and targets: assembly/embed/asconfig.json (its own, not the kernels' asconfig.json).
const flavours = [
  { target: 'simd', file: 'embed-simd.wasm' },
  { target: 'scalar', file: 'embed-scalar.wasm' },
];

await mkdir('build', { recursive: true });
await mkdir(join('dist', 'build'), { recursive: true });
for (const { target, file } of flavours) {
  const t0 = performance.now();
  const { error, stderr } = await asc.main(['--config', 'assembly/embed/asconfig.json', '--target', target], {});
  if (error) {
    console.error(stderr.toString());
    console.error(`build-embed: ${file} failed: ${error.message}`);
    process.exit(1);
  }
  await copyFile(join('build', file), join('dist', 'build', file));
  console.log(`build-embed: build/${file} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
