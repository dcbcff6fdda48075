// Starting a worker thread on a module beside the caller, from compiled JS or from the TypeScript
// sources alike (Node only). From compiled JS (dist/, the CLI) the worker runs `<name>.js`; from the
// sources (tsx, vitest) it runs `<name>.ts` with tsx's ESM hooks registered inside the worker
// first: a worker started with `--import tsx` in its execArgv does not get them on Node 20, and
// under vitest the parent has no TypeScript loader to inherit.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/** A worker on `./<name>.(ts|js)` next to `callerUrl` (the caller's import.meta.url). */
export function startModuleWorker(callerUrl: string, name: string, workerData: unknown): Worker {
  const fromSource = callerUrl.endsWith('.ts');
  const entry = new URL(`./${name}.${fromSource ? 'ts' : 'js'}`, callerUrl);
  if (!fromSource) return new Worker(entry, { workerData });
  const boot = `import(${JSON.stringify(tsxApiUrl())}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(boot, { eval: true, workerData });
}

/** File URL of tsx's ESM API (its `./esm/api` export, import condition): a dev dependency, needed
 *  only when running from the TypeScript sources. */
function tsxApiUrl(): string {
  const require = createRequire(import.meta.url);
  const pkgPath = require.resolve('tsx/package.json');
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { exports: Record<string, { import?: { default?: string } }> };
  const target = pkg.exports['./esm/api']?.import?.default;
  if (!target) throw new Error(`worker start: ${pkgPath} has no './esm/api' import export (tsx 4 expected)`);
  return new URL(target, pathToFileURL(pkgPath)).href;
}
