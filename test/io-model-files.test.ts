// Model files (issue 24, class 5): the architecture metadata is validated — types, ranges,
// consistency with the tensor shapes — before anything is allocated, it is covered by the file
// checksum, and every error is a FormatError naming the file. Also the metadata helper the
// pipeline loader uses (bindings/io/model-meta.ts).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createReferenceBackend } from '../bindings/backends/reference/index.js';
import { FormatError } from '../bindings/io/errors.js';
import { ModelFileReader, parseJsonNullProto } from '../bindings/io/model-meta.js';
import { decodeSafetensors, encodeSafetensors } from '../bindings/io/safetensors.js';
import { KMeans, loadModel } from '../bindings/models/index.js';
import { loadModelBytes } from '../bindings/models/serialize.js';
import { modelSeeds } from './helpers/fuzz-seeds.js';

const be = createReferenceBackend();
const seeds = await modelSeeds(); // KMeans, Autoencoder, DEC, IDEC, VaDE
const dir = mkdtempSync(join(tmpdir(), 'model-files-'));

/** Re-encodes a seed with one metadata entry replaced (checksums recomputed: a crafted file). */
function withMeta(seed: Uint8Array, key: string, edit: (v: Record<string, unknown>) => unknown): Uint8Array {
  const { tensors, metadata } = decodeSafetensors(seed, 'seed');
  const meta = { ...metadata, [key]: JSON.stringify(edit(JSON.parse(metadata[key]!))) };
  return encodeSafetensors(tensors, meta);
}

function refusal(bytes: Uint8Array, name = 'm.safetensors'): FormatError {
  let err: unknown;
  try { loadModelBytes(be, bytes, name); } catch (e) { err = e; }
  expect(err).toBeInstanceOf(FormatError);
  expect((err as FormatError).message.startsWith(`${name}: `)).toBe(true);
  return err as FormatError;
}

describe('issue 24: architecture metadata is validated before allocation', () => {
  const dec = seeds[2]!;
  it('the seeds load', () => {
    expect(seeds.map((s) => loadModelBytes(be, s, 's').kind)).toEqual(['kmeans', 'autoencoder', 'dec', 'idec', 'vade']);
  });
  it('dims "8,4" (a string) is a FormatError, not c.dims.map is not a function', () => {
    expect(refusal(withMeta(dec, 'architecture', (a) => ({ ...a, dims: '8,4' }))).message).toMatch(/metadata architecture field 'dims': expected an array of 1 to 16 elements, found "8,4"/);
  });
  it('dims [1e9, 4] is refused by range', () => {
    expect(refusal(withMeta(dec, 'architecture', (a) => ({ ...a, dims: [1e9, 4] }))).message).toMatch(/field 'dims\.0': expected an integer in \[1, 16777216\], found 1000000000/);
  });
  it('dims [30000000, 4] in a 2 KB file is refused at once, without allocating the layer', () => {
    const bytes = withMeta(dec, 'architecture', (a) => ({ ...a, dims: [30000000, 4] }));
    const before = process.memoryUsage().arrayBuffers;
    const t0 = performance.now();
    refusal(bytes);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * bytes.length + (1 << 20));
  });
  it('a width within the limits but not backed by the tensors is refused before any layer is built', () => {
    const bytes = withMeta(dec, 'architecture', (a) => ({ ...a, dims: [4000000, 2] }));
    const before = process.memoryUsage().arrayBuffers;
    expect(refusal(bytes).message).toMatch(/tensor 'encoder\.0\.weight' has shape \[5,6\], but the architecture metadata implies \[4000000,6\]/);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1 << 20);
  });
  it.each([
    ['an unknown activation', (a: Record<string, unknown>) => ({ ...a, hiddenActivation: 'gelu' }), /field 'hiddenActivation': expected one of identity, relu, sigmoid, tanh/],
    ['a fractional k', (a: Record<string, unknown>) => ({ ...a, k: 2.5 }), /field 'k': expected an integer in \[1, 65536\], found 2\.5/],
    ['a missing inputDim', (a: Record<string, unknown>) => ({ ...a, inputDim: undefined }), /field 'inputDim': expected an integer .* found nothing/],
    ['an unknown field', (a: Record<string, unknown>) => ({ ...a, extra: 1 }), /unexpected field 'extra' for a dec model/],
    ['a __proto__ field', (a: Record<string, unknown>) => JSON.parse(JSON.stringify(a).replace('{', '{"__proto__":{"dims":[1]},')), /unexpected field '__proto__'/],
    ['an unknown kind', (a: Record<string, unknown>) => ({ ...a, model: 'gan' }), /field 'model': expected one of kmeans, dec, idec, vade, autoencoder/],
    ['a non-positive alpha', (a: Record<string, unknown>) => ({ ...a, alpha: 0 }), /field 'alpha': expected a finite number > 0/],
  ])('%s', (_n, edit, re) => {
    expect(refusal(withMeta(dec, 'architecture', edit)).message).toMatch(re);
  });
  it('normalisation and classes must fit the architecture', () => {
    expect(refusal(withMeta(dec, 'normalization', () => ({ kind: 'standard', mean: [0], std: [1] }))).message).toMatch(/metadata normalization field 'mean': expected an array of 6 elements/);
    expect(refusal(withMeta(seeds[0]!, 'classes', () => ['a'])).message).toMatch(/metadata classes: expected null or an array of 3 class names, found 1 entries/);
  });
  it('a tensor the architecture does not declare, or one missing, is refused', () => {
    const { tensors, metadata } = decodeSafetensors(dec, 'seed');
    expect(refusal(encodeSafetensors({ ...tensors, extra: { shape: [1], data: new Float32Array(1) } }, metadata)).message).toMatch(/unexpected tensor 'extra'/);
    const { cluster_centers: _c, ...rest } = tensors;
    expect(refusal(encodeSafetensors(rest, metadata)).message).toMatch(/missing tensor 'cluster_centers' \(expected shape \[3,2\]/);
  });
});

describe('issue 24: the checksum covers the metadata; errors name the file', () => {
  it('one byte of the architecture changed is a checksum error', () => {
    const b = seeds[0]!.slice();
    const at = new TextDecoder('latin1').decode(b).indexOf('\\"k\\":3');
    expect(at).toBeGreaterThan(0);
    b[at + 6] = '4'.charCodeAt(0);
    expect(refusal(b).message).toMatch(/header checksum mismatch/);
  });
  it('a model file without the file checksum is refused', () => {
    const { tensors, metadata } = decodeSafetensors(seeds[0]!, 'seed');
    const raw = encodeSafetensors(tensors, metadata);
    const n = Number(new DataView(raw.buffer).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(raw.subarray(8, 8 + n)));
    delete header.__metadata__['hemaclust.crc32.file'];
    const h = new TextEncoder().encode(JSON.stringify(header));
    const out = new Uint8Array(8 + h.length + raw.length - 8 - n);
    new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
    out.set(h, 8);
    out.set(raw.subarray(8 + n), 8 + h.length);
    expect(refusal(out).message).toMatch(/no hemaclust\.crc32\.file checksum/);
  });
  it('loadModel and Model.load name the path in every error', async () => {
    const p = join(dir, 'bad.safetensors');
    writeFileSync(p, withMeta(seeds[2]!, 'architecture', (a) => ({ ...a, dims: '8,4' })));
    await expect(loadModel(be, p)).rejects.toThrow(new RegExp(`^${p.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: byte 8: metadata architecture`));
    await expect(KMeans.load(be, p)).rejects.toThrow(FormatError);
    await expect(loadModel(be, join(dir, 'missing.safetensors'))).rejects.toThrow(/missing\.safetensors: cannot read model file \(ENOENT\)/);
  });
});

describe('ModelFileReader: the helper for other loaders (the pipeline)', () => {
  const file = encodeSafetensors({ 'a.w': { shape: [2, 3], data: new Float32Array(6) } }, {
    format: 'demo/1', architecture: JSON.stringify({ dims: [3, 2], stage1: { k: 2, members: [true, false] } }),
  });
  it('reads typed fields, checks tensors against the metadata, and names the file', () => {
    const r = ModelFileReader.open(file, 'p.safetensors', ['demo/1']);
    const arch = r.obj('metadata architecture', r.json('architecture'));
    const dims = r.intArray('metadata architecture', arch, 'dims', { minLength: 1, maxLength: 8, min: 1, max: 1 << 20 });
    expect(r.int('metadata architecture', arch, 'stage1.k', 1, 64)).toBe(2);
    expect(r.boolArray('metadata architecture', arch, 'stage1.members', 2)).toEqual([true, false]);
    r.expectTensors(new Map([['a.w', [dims[1]!, dims[0]!]]]));
    expect(r.declaredLimit()).toBe(6);
    r.budget(12, 'workspace', 2);
    expect(() => r.budget(13, 'metadata architecture field stage2.width', 2)).toThrow(/^p\.safetensors: byte 8: metadata architecture field stage2\.width declares 13 elements, more than the 12 that 2 × the file's 6 tensor elements allow$/);
    expect(() => r.budget(2.5, 'x')).toThrow(FormatError);
    expect(() => r.obj('metadata architecture', arch, 'stage2')).toThrow(/^p\.safetensors: byte 8: metadata architecture field 'stage2': expected an object, found nothing$/);
    expect(() => r.expectTensors(new Map([['a.w', [3, 3]]]))).toThrow(/tensor 'a\.w' has shape \[2,3\], but the architecture metadata implies \[3,3\]/);
    expect(() => ModelFileReader.open(file, 'p.safetensors', 'other/1')).toThrow(/not a hemaclust other\/1 file \(metadata format "demo\/1"\)/);
  });
  it('parses JSON into null-prototype objects', () => {
    const o = parseJsonNullProto('{"__proto__": {"x": 1}, "a": {"b": 2}}') as Record<string, Record<string, number>>;
    expect(Object.getPrototypeOf(o)).toBeNull();
    expect(Object.keys(o)).toEqual(['__proto__', 'a']);
    expect(o['__proto__']!.x).toBe(1);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });
});
