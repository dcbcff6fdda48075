// Node only: which adapter would Dawn (the `webgpu` package) give, asked in a child process.
//
// Why a child: while Dawn enumerates a software Vulkan driver (Mesa lavapipe) it prints warnings
// straight to the process's stderr from native code ("maxDynamic…PerPipelineLayout artificially
// reduced…"), which JavaScript cannot intercept. `auto` only needs to know whether the adapter is
// a software one; asked in a child, those lines land in the child's discarded stderr, and Dawn is
// loaded into this process only when its adapter is worth using. The child costs about what
// loading Dawn here costs (~0.5 s).
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

export interface ProbedAdapter {
  /** Built like createWebGPUBackend's device description: description / vendor / architecture. */
  description: string;
  /** The adapter's own isFallbackAdapter flag (null when it does not say). */
  fallback: boolean | null;
}

const SCRIPT = `
const { create } = await import(process.argv[1]);
const a = await create([]).requestAdapter();
const i = a?.info;
process.stdout.write(JSON.stringify(a ? { description: [i?.description, i?.vendor, i?.architecture].filter(Boolean).join(' / ') || 'unknown WebGPU adapter', fallback: i?.isFallbackAdapter ?? null } : null));
process.exit(0);
`;

/** The adapter Dawn would give; null when it gives none; throws when the probe itself fails
 *  (no `webgpu` package, the child crashed or timed out). */
export async function probeDawnAdapter(timeoutMs = 20_000): Promise<ProbedAdapter | null> {
  const entry = pathToFileURL(createRequire(import.meta.url).resolve('webgpu')).href;
  const out = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', SCRIPT, entry], { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
  });
  return JSON.parse(out) as ProbedAdapter | null;
}
