// `auto` in Node must not print Dawn's native warnings (issue 18, item 5): on a machine whose only
// WebGPU adapter is a software one (Mesa lavapipe in CI) Dawn writes "…artificially reduced…" lines
// straight to stderr while it enumerates the driver, so `auto` asks a child process instead
// (bindings/backends/webgpu/node-probe.ts). Checked in a fresh process, since the lines come from
// native code that no spy in this process can see.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const SCRIPT = `
const { createBackend } = await import(${JSON.stringify(new URL('../bindings/backends/index.ts', import.meta.url).href)});
const be = await createBackend('auto', { log: (m) => process.stdout.write(m + '\\n') });
process.stdout.write('CHOSE ' + be.info().name + '\\n');
be.destroy();
process.exit(0);
`;

describe('backend auto in Node', () => {
  it('chooses without Dawn warnings on stderr, and says why', async () => {
    const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
      execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', SCRIPT], { cwd: root, timeout: 60_000, encoding: 'utf8' }, (err, stdout, stderr) => (err ? reject(Object.assign(err, { stderr })) : resolve({ stdout, stderr })));
    });
    expect(stderr).not.toMatch(/artificially reduced/);
    expect(stderr).not.toMatch(/^Warning:/m);
    const chose = /CHOSE (\w+)/.exec(stdout)?.[1];
    expect(['wasm', 'webgpu']).toContain(chose);
    expect(stdout).toMatch(new RegExp(`backend auto → ${chose}`));
    if (chose === 'wasm') expect(stdout).toMatch(/software rasteriser|no WebGPU adapter|WebGPU failed/);
  }, 90_000);
});
