import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { crc32, decodeSafetensors, encodeSafetensors, readSafetensorsFile, writeSafetensorsFile } from '../bindings/io/safetensors.js';
import { FormatError } from '../bindings/io/errors.js';

const tensors = {
  'encoder.0.weight': { shape: [3, 2], data: new Float32Array([1, -2, 3.5, 4, 5e-8, -6]) },
  'encoder.0.bias': { shape: [3], data: new Float32Array([0.25, 0, -1]) },
};

/** Builds a file by hand from a header object and a data buffer, to test the reader's checks. */
function handMade(header: unknown, data: Uint8Array): Uint8Array {
  const h = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

describe('safetensors', () => {
  it('crc32 of "123456789" is the standard check value cbf43926', () => {
    expect(crc32(new TextEncoder().encode('123456789')).toString(16)).toBe('cbf43926');
  });

  it('has the documented byte layout', () => {
    const bytes = encodeSafetensors(tensors, { arch: '{"a":1}' });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    // Sorted by name: bias first (12 bytes), then weight (24 bytes).
    expect(header['encoder.0.bias']).toEqual({ dtype: 'F32', shape: [3], data_offsets: [0, 12] });
    expect(header['encoder.0.weight']).toEqual({ dtype: 'F32', shape: [3, 2], data_offsets: [12, 36] });
    expect(header.__metadata__.arch).toBe('{"a":1}');
    expect(bytes.length).toBe(8 + n + 36);
    expect(new DataView(bytes.buffer).getFloat32(8 + n + 12 + 8, true)).toBe(3.5);
  });

  it('round-trips tensors and metadata through a file, atomically', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'st-'));
    const path = join(dir, 'm.safetensors');
    await writeSafetensorsFile(path, tensors, { config: '{"k":3}' });
    expect(readdirSync(dir)).toEqual(['m.safetensors']); // no temp file left behind
    const back = await readSafetensorsFile(path);
    expect(back.metadata).toEqual({ config: '{"k":3}' });
    expect(back.tensors['encoder.0.weight'].shape).toEqual([3, 2]);
    expect(Array.from(back.tensors['encoder.0.weight'].data)).toEqual(Array.from(tensors['encoder.0.weight'].data));
    expect(Array.from(back.tensors['encoder.0.bias'].data)).toEqual([0.25, 0, -1]);
  });

  it('rejects truncated, extended and altered files, naming the file', async () => {
    const bytes = encodeSafetensors(tensors);
    const dir = mkdtempSync(join(tmpdir(), 'st-'));
    const path = join(dir, 'bad.safetensors');
    writeFileSync(path, bytes.subarray(0, bytes.length - 4));
    await expect(readSafetensorsFile(path)).rejects.toThrow(/bad\.safetensors: .*past the data buffer/);
    writeFileSync(path, bytes.subarray(0, 5));
    await expect(readSafetensorsFile(path)).rejects.toThrow(/bad\.safetensors: byte 0: .*too short/);
    writeFileSync(path, Buffer.concat([bytes, new Uint8Array(4)]));
    await expect(readSafetensorsFile(path)).rejects.toThrow(/bad\.safetensors: byte \d+: file length/);
    const altered = Uint8Array.from(bytes);
    altered[altered.length - 1] ^= 0x40;
    writeFileSync(path, altered);
    await expect(readSafetensorsFile(path)).rejects.toThrow(/bad\.safetensors: byte \d+: data checksum mismatch/);
    const hugeHeader = Uint8Array.from(bytes);
    new DataView(hugeHeader.buffer).setBigUint64(0, 1n << 40n, true);
    writeFileSync(path, hugeHeader);
    await expect(readSafetensorsFile(path)).rejects.toThrow(/bad\.safetensors: byte 0: header length/);
    await expect(readSafetensorsFile(join(dir, 'missing.safetensors'))).rejects.toThrow(/missing\.safetensors: cannot read/);
    expect(readFileSync(path).length).toBe(bytes.length);
  });

  it('rejects overlapping, out-of-range, gapped and mis-sized offsets', () => {
    const data = new Uint8Array(16);
    const f = (h: unknown) => () => decodeSafetensors(handMade(h, data), 'x.safetensors');
    expect(f({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [3], data_offsets: [4, 16] } }))
      .toThrow(/x\.safetensors: byte \d+: tensor 'b' overlaps/);
    expect(f({ a: { dtype: 'F32', shape: [5], data_offsets: [0, 20] } })).toThrow(/past the data buffer/);
    expect(f({ a: { dtype: 'F32', shape: [2], data_offsets: [8, 16] } })).toThrow(/gap in the data buffer/);
    expect(f({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 16] } })).toThrow(/occupies 16 bytes but F32\[3\] needs 12/);
    expect(f({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } })).toThrow(/file length/);
    expect(f({ a: { dtype: 'BF16', shape: [8], data_offsets: [0, 16] } })).toThrow(/unsupported dtype/);
    // A valid hand-made file without our checksum (as another writer would produce) loads.
    const ok = decodeSafetensors(handMade({ a: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] } }, data), 'x');
    expect(ok.tensors.a.shape).toEqual([2, 2]);
  });
});

describe('issue 24: keys from the file cannot reach a prototype; the checksum covers the metadata', () => {
  it('a tensor and a metadata key named __proto__ are read as themselves', () => {
    const data = new Uint8Array(16);
    new DataView(data.buffer).setFloat32(8, 2.5, true);
    const h = JSON.parse('{"__proto__": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]}, "__metadata__": {"__proto__": "m", "k": "v"}}');
    const got = decodeSafetensors(handMade(h, data), 'p.safetensors');
    expect(Object.keys(got.tensors).sort()).toEqual(['__proto__', 'b']);
    expect(Object.getPrototypeOf(got.tensors)).toBeNull();
    expect(Object.hasOwn(got.tensors, '__proto__')).toBe(true);
    expect(got.tensors['__proto__']!.shape).toEqual([2]);
    expect(Array.from(got.tensors.b!.data)).toEqual([2.5, 0]);
    expect(Object.keys(got.metadata).sort()).toEqual(['__proto__', 'k']);
    expect(got.metadata['__proto__']).toBe('m');
  });

  it('encodes a tensor named __proto__ and reads it back', () => {
    const t: Record<string, { shape: number[]; data: Float32Array }> = Object.create(null);
    t['__proto__'] = { shape: [1], data: new Float32Array([7]) };
    t.a = { shape: [1], data: new Float32Array([8]) };
    const back = decodeSafetensors(encodeSafetensors(t, JSON.parse('{"__proto__": "x"}')), 'e');
    expect(Array.from(back.tensors['__proto__']!.data)).toEqual([7]);
    expect(back.metadata['__proto__']).toBe('x');
    expect(back.checksums).toEqual({ data: true, file: true });
  });

  it('an altered metadata string or shape fails the header checksum; whitespace does not', () => {
    const bytes = encodeSafetensors(tensors, { architecture: '{"dims":[8,4]}' });
    const text = new TextDecoder('latin1').decode(bytes);
    const at = text.indexOf('[8,4]');
    const altered = Uint8Array.from(bytes);
    altered[at + 1] = '9'.charCodeAt(0);
    expect(() => decodeSafetensors(altered, 'm.safetensors')).toThrow(FormatError);
    expect(() => decodeSafetensors(altered, 'm.safetensors')).toThrow(/^m\.safetensors: byte 8: header checksum mismatch/);
    const shape = Uint8Array.from(bytes);
    const s0 = text.indexOf('"shape":[3,2]');
    shape.set(new TextEncoder().encode('"shape":[2,3]'), s0);
    expect(() => decodeSafetensors(shape, 'm.safetensors')).toThrow(/header checksum mismatch/);
    // A space after a comma in the JSON changes no content: still accepted (the padding absorbs it).
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const json = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    const spaced = json.trimEnd().replace('"shape":[3,2]', '"shape": [3,2]');
    expect(spaced.length).toBeLessThanOrEqual(n);
    const ws = Uint8Array.from(bytes);
    ws.set(new TextEncoder().encode(spaced.padEnd(n, ' ')), 8);
    expect(decodeSafetensors(ws, 'm').tensors['encoder.0.weight']!.shape).toEqual([3, 2]);
  });

  it('errors are FormatErrors naming the file and a byte', () => {
    let err: unknown;
    try { decodeSafetensors(new Uint8Array(3), 'short.safetensors'); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(FormatError);
    expect((err as FormatError).source).toBe('short.safetensors');
    expect((err as FormatError).where).toEqual({ byte: 0 });
  });

  it('refuses inexact or absurd shapes of empty tensors', () => {
    const f = (shape: number[]) => () => decodeSafetensors(handMade({ a: { dtype: 'F32', shape, data_offsets: [0, 0] } }, new Uint8Array(0)), 'z');
    expect(f([0, 2 ** 53 - 1, 2 ** 53 - 1])).toThrow(/declares more than 2147483647 elements/);
    expect(f([2 ** 40, 0])).toThrow(/declares more than 2147483647 elements/);
    expect(f(new Array(17).fill(1))).toThrow(/invalid shape/);
    expect(decodeSafetensors(handMade({ a: { dtype: 'F32', shape: [0, 7], data_offsets: [0, 0] } }, new Uint8Array(0)), 'z').tensors.a!.shape).toEqual([0, 7]);
  });
});
