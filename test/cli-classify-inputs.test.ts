// `hemaclust classify` checks its inputs before it loads a backend or a model and before it creates
// --out: a directory or a missing file as FILE fails at once with the path in the message, and no
// empty output folder is left behind (issue 18, item 5).
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { run } from '../bindings/cli/main.js';

let dir: string;

async function cli(args: string[]): Promise<{ code: number; err: string }> {
  const err: string[] = [];
  const error = vi.spyOn(console, 'error').mockImplementation((...a) => void err.push(a.join(' ')));
  const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
  try {
    return { code: await run(args), err: err.join('\n') };
  } finally {
    error.mockRestore();
    log.mockRestore();
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hemaclust-inputs-'));
  await mkdir(join(dir, 'samples'));
  // Not a real model: every case below must fail before the model is read.
  await writeFile(join(dir, 'model.safetensors'), 'not a model');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('classify input checks', () => {
  it('a directory as FILE names the path and creates no --out folder', async () => {
    const out = join(dir, 'out-a');
    const r = await cli(['classify', '--model', join(dir, 'model.safetensors'), join(dir, 'samples'), '--out', out, '--backend', 'wasm']);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${join(dir, 'samples')} is a directory`);
    expect(r.err).not.toMatch(/EISDIR/);
    expect(existsSync(out)).toBe(false);
  });
  it('a missing FILE fails before the model is loaded, naming the file', async () => {
    const out = join(dir, 'out-b');
    const r = await cli(['classify', '--model', join(dir, 'model.safetensors'), join(dir, 'nope.fcs'), '--out', out, '--backend', 'wasm']);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${join(dir, 'nope.fcs')}: no such file`);
    expect(r.err).not.toMatch(/not a model|safetensors/); // the model was never parsed
    expect(existsSync(out)).toBe(false);
  });
  it('a missing model is named before any FILE', async () => {
    const r = await cli(['classify', '--model', join(dir, 'missing.safetensors'), join(dir, 'nope.fcs'), '--out', join(dir, 'out-c'), '--backend', 'wasm']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/missing\.safetensors: cannot read model file \(ENOENT\)/);
  });
});
