#!/usr/bin/env node
// Thin launcher: the CLI is compiled TypeScript in dist/ (built by `npm run build`, run by `npm ci`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/bindings/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  console.error('hemaclust: dist/ is missing; run `npm run build` (npm ci does it for you).');
  process.exit(1);
}
const { run } = await import(main.href);
process.exitCode = await run(process.argv.slice(2));
