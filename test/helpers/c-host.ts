// The exported classifier as firmware runs it: the scalar build through wasm2c (Debian's wabt) and
// cc into a native program (examples/embed/host.c) that streams a sample's events from a file.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Where Debian's wabt puts the wasm2c runtime sources. */
export const WASM2C_RUNTIME = '/usr/share/wabt/wasm2c';

function has(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Whether wasm2c, cc and the runtime sources are here. Under CI=true (.ci/run installs wabt) their
 *  absence is an error, so a CI run cannot pass by skipping; elsewhere the caller skips loudly. */
export function cHostTools(testFile: string): boolean {
  const ok = has('wasm2c') && has('cc') && existsSync(join(WASM2C_RUNTIME, 'wasm-rt-impl.c'));
  if (!ok) {
    if (process.env.CI === 'true') throw new Error('wasm2c, cc or the wasm2c runtime sources are missing (CI: .ci/run installs wabt)');
    console.warn(`SKIPPING ${testFile}: wasm2c (Debian package wabt) or cc not found`);
  }
  return ok;
}

/** Compiles a scalar classifier module into `dir`/classify. */
export async function buildCHost(dir: string, wasm: Uint8Array): Promise<void> {
  await writeFile(join(dir, 'classifier.wasm'), wasm);
  execFileSync('wasm2c', ['classifier.wasm', '-n', 'hc', '-o', 'classifier.c'], { cwd: dir });
  const host = join(process.cwd(), 'examples/embed/host.c');
  execFileSync('cc', ['-O1', '-I.', `-I${WASM2C_RUNTIME}`, host, 'classifier.c', join(WASM2C_RUNTIME, 'wasm-rt-impl.c'), '-lm', '-o', 'classify'], { cwd: dir });
}

/** Runs the compiled host on one sample's events (rows × features, float32): its JSON output and
 *  every event's probabilities. */
export async function runCHost(dir: string, signals: Float32Array): Promise<{ meta: { features: number; precision?: string }; summary: number[]; probabilities: Float32Array }> {
  await writeFile(join(dir, 'events.f32'), signals);
  const out = JSON.parse(execFileSync(join(dir, 'classify'), ['events.f32', 'probabilities.f32'], { cwd: dir }).toString()) as { meta: { features: number; precision?: string }; summary: number[] };
  const raw = await readFile(join(dir, 'probabilities.f32'));
  return { ...out, probabilities: new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4) };
}
