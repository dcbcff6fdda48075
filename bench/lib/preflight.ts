// A backend whose native side aborts (Dawn's C++ terminate, a worker futex error) takes the whole
// process with it; no try/catch can turn that into an "n/a" row. So before a backend is timed in
// this process, a child process loads it and runs each selected op once at toy size, syncs and
// downloads. If the child dies, the backend's rows become "n/a: <last lines of its stderr>".
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BackendConfig } from './backends.js';

const self = fileURLToPath(import.meta.url);
const repoRoot = join(dirname(self), '..', '..');

export function preflight(config: BackendConfig, families: string[]): string | null {
  // `--import tsx` (from the repo root) rather than our own execArgv: under vitest the parent has no
  // TypeScript loader a child could inherit.
  const r = spawnSync(process.execPath, ['--import', 'tsx', self, JSON.stringify({ config, families })], {
    cwd: repoRoot, encoding: 'utf8', timeout: 300_000, env: { ...process.env, HEMACLUST_BENCH_PREFLIGHT: '1' },
  });
  if (r.status === 0) return null;
  const tail = `${r.stderr}\n${r.stdout}`.split('\n').map((l) => l.trim())
    .filter((l) => l && !/^Warning: maxDynamic|nodedir/.test(l)).slice(-3).join(' / ');
  return `crashed in a preflight child (${r.signal ?? `exit ${r.status}`}): ${tail.slice(0, 240)}`;
}

async function child(arg: string): Promise<void> {
  const v8 = await import('node:v8');
  v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  const { config, families } = JSON.parse(arg) as { config: BackendConfig; families: string[] };
  const { loadBackend } = await import('./backends.js');
  const { opCases, prepare, SIZES } = await import('../ops/cases.js');
  const lb = await loadBackend(config, true);
  if (!lb.be) { console.error(lb.na); process.exit(0); } // absence is reported by the parent, not a crash
  const be = lb.be;
  for (const c of opCases(SIZES.quick).filter((x) => families.includes(x.family))) {
    const p = prepare(be, c);
    p.run();
    await be.sync();
    p.dispose();
  }
  const t = be.create([4]);
  await be.download(t);
  be.destroy();
  process.exit(0);
}

if (process.env.HEMACLUST_BENCH_PREFLIGHT === '1' && process.argv[1] === self) {
  await child(process.argv[2]);
}
