// Peers: ONNX Runtime Web (its wasm build, SIMD and threads, run in Node) and ONNX Runtime Node (its
// native CPU build), both devDependencies. Each run is a child process (onnx_encoder.ts) at one
// thread count: ONNX Runtime Web fixes its threads when its module loads, and a child keeps either
// runtime's thread pool off our process. A runtime that is not installed gives a row that says so.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type OnnxRuntime = 'web' | 'node';

const script = join(dirname(fileURLToPath(import.meta.url)), 'onnx_encoder.ts');
const PACKAGE: Record<OnnxRuntime, string> = { web: 'onnxruntime-web', node: 'onnxruntime-node' };

export interface OnnxEncoderRun { seconds: number; version: string; threads: number }

/** Whether the runtime's package resolves from here (it is a devDependency; an install without
 *  dev dependencies has neither). */
export function onnxRuntimeMissing(runtime: OnnxRuntime): string | null {
  try {
    createRequire(import.meta.url).resolve(PACKAGE[runtime]);
    return null;
  } catch {
    return `${PACKAGE[runtime]} not installed (a devDependency: npm ci)`;
  }
}

/** The encoder-1m chain (same weights, inputs, chunks) in ONNX Runtime `runtime` at `threads`. */
export function runOnnxEncoder(runtime: OnnxRuntime, dims: readonly number[], cells: number, chunk: number, threads: number): OnnxEncoderRun | { why: string } {
  const missing = onnxRuntimeMissing(runtime);
  if (missing) return { why: missing };
  const r = spawnSync(process.execPath, ['--import', 'tsx', script], {
    input: JSON.stringify({ runtime, threads, dims, cells, chunk }), encoding: 'utf8', maxBuffer: 1 << 20, timeout: 30 * 60_000,
    cwd: join(dirname(fileURLToPath(import.meta.url)), '../..'),
  });
  if (r.status !== 0) throw new Error(`${PACKAGE[runtime]} peer failed (${r.status ?? r.signal}): ${(r.stderr || r.error?.message || '').slice(-2000)}`);
  return JSON.parse(r.stdout) as OnnxEncoderRun;
}
