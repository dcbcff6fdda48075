#!/usr/bin/env node
// Builds the browser ESM bundle into dist/browser/:
//   hemaclust.js  the API (bindings/browser.ts: pipeline, readers, wasm + webgpu backends)
//   app.js        the page's script (server/public/app.ts), sharing chunks with hemaclust.js
// The wasm kernels are not inlined: the page fetches them from /build/ (the server maps that to
// build/ or dist/build/). Node built-ins that the shared readers import for their file helpers
// (node:fs/promises, node:path, …) are replaced by small browser stand-ins: path functions work,
// file functions throw a clear error — the browser API only parses bytes already in memory.
import { build } from 'esbuild';
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist', 'browser');

const PATH_SHIM = `
export const sep = '/';
export function basename(p, ext) { const b = String(p).split(/[\\\\/]/).pop() ?? ''; return ext && b.endsWith(ext) ? b.slice(0, -ext.length) : b; }
export function extname(p) { const b = basename(p); const i = b.lastIndexOf('.'); return i > 0 ? b.slice(i) : ''; }
export function dirname(p) { const s = String(p); const i = s.lastIndexOf('/'); return i > 0 ? s.slice(0, i) : i === 0 ? '/' : '.'; }
export function join(...parts) { return parts.filter((x) => x !== '').join('/').replace(/\\/+/g, '/'); }
export const resolve = join;
export default { sep, basename, extname, dirname, join, resolve };
`;

/** A stand-in exporting every name of a Node built-in as a function that throws when called. */
async function stubFor(name) {
  const mod = await import(name);
  const names = Object.keys(mod).filter((k) => k !== 'default' && /^[A-Za-z_$][\w$]*$/.test(k));
  return [
    `const fail = (f) => () => { throw new Error(\`${name} \${f}() is not available in the browser build\`); };`,
    ...names.map((k) => `export const ${k} = fail('${k}');`),
    `export default {};`,
  ].join('\n');
}

const nodeShims = {
  name: 'node-shims',
  setup(b) {
    b.onResolve({ filter: /^node:|^(fs|path|crypto|url|worker_threads|os)(\/.*)?$/ }, (args) => {
      const bare = args.path.replace(/^node:/, '');
      if (!builtinModules.includes(bare)) return undefined;
      return { path: `node:${bare}`, namespace: 'node-shim' };
    });
    b.onLoad({ filter: /.*/, namespace: 'node-shim' }, async (args) => ({
      contents: args.path === 'node:path' ? PATH_SHIM : await stubFor(args.path),
      loader: 'js',
    }));
  },
};

const t0 = Date.now();
const result = await build({
  absWorkingDir: root,
  entryPoints: { hemaclust: 'bindings/browser.ts', app: 'server/public/app.ts' },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022', 'chrome113'],
  sourcemap: true,
  minify: process.argv.includes('--minify'),
  metafile: true,
  logLevel: 'warning',
  plugins: [nodeShims],
  chunkNames: 'chunks/[name]-[hash]',
  // Only reached in Node (no navigator.gpu there): the browser never loads it.
  external: ['webgpu'],
});
const outputs = Object.entries(result.metafile.outputs).filter(([f]) => f.endsWith('.js'));
const kib = (n) => `${(n / 1024).toFixed(0)} KiB`;
console.log(`build-browser: ${outputs.length} files in ${Date.now() - t0} ms → ${outdir}`);
for (const [f, o] of outputs) console.log(`  ${f.replace(/^.*dist\//, 'dist/')}  ${kib(o.bytes)}`);
