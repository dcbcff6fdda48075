// Static files for Node: the page (server/public), the browser bundle (dist/browser, built by
// scripts/build-browser.mjs) and the wasm kernels (build/). URL paths are mapped onto those three
// roots only; a path with '..', a backslash or NUL never reaches the file system.
import { readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import type { AssetSource } from './assets.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.map': 'application/json',
};

/** The package root: the nearest directory above this file holding package.json (works from server/ and dist/server/). */
export function packageRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(d, 'package.json')) && existsSync(join(d, 'server'))) return d;
    d = dirname(d);
  }
  throw new Error('hemaclust: cannot find the package root from ' + fileURLToPath(import.meta.url));
}

export function fsAssets(root = packageRoot()): AssetSource {
  const mounts: [string, string][] = [
    ['/browser/', join(root, 'dist', 'browser')],
    ['/build/', existsSync(join(root, 'build')) ? join(root, 'build') : join(root, 'dist', 'build')],
    ['/', join(root, 'server', 'public')],
  ];
  return {
    async get(path) {
      if (path.includes('..') || path.includes('\\') || path.includes('\0')) return null;
      for (const [prefix, dir] of mounts) {
        if (!path.startsWith(prefix)) continue;
        const rel = path.slice(prefix.length);
        if (rel === '' || rel.endsWith('.ts')) return null;
        const file = resolve(dir, rel);
        if (!file.startsWith(resolve(dir) + sep)) return null;
        try {
          if (!(await stat(file)).isFile()) return null;
          const b = await readFile(file);
          const ext = file.slice(file.lastIndexOf('.'));
          return { body: new Uint8Array(b.buffer, b.byteOffset, b.byteLength), type: TYPES[ext] ?? 'application/octet-stream' };
        } catch {
          return null;
        }
      }
      return null;
    },
  };
}
