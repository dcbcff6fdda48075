import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { crc32, decodeSafetensors, encodeSafetensors, readSafetensorsFile, writeSafetensorsFile } from '../bindings/io/safetensors.js';

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
    await expect(readSafetensorsFile(path)).rejects.toThrow(/bad\.safetensors: .*too short/);
    writeFileSync(path, Buffer.concat([bytes, new Uint8Array(4)]));
    await expect(readSafetensorsFile(path)).rejects.toThrow(/bad\.safetensors: file length/);
    const altered = Uint8Array.from(bytes);
    altered[altered.length - 1] ^= 0x40;
    writeFileSync(path, altered);
    await expect(readSafetensorsFile(path)).rejects.toThrow(/bad\.safetensors: data checksum mismatch/);
    const hugeHeader = Uint8Array.from(bytes);
    new DataView(hugeHeader.buffer).setBigUint64(0, 1n << 40n, true);
    writeFileSync(path, hugeHeader);
    await expect(readSafetensorsFile(path)).rejects.toThrow(/bad\.safetensors: header length/);
    await expect(readSafetensorsFile(join(dir, 'missing.safetensors'))).rejects.toThrow(/missing\.safetensors: cannot read/);
    expect(readFileSync(path).length).toBe(bytes.length);
  });

  it('rejects overlapping, out-of-range, gapped and mis-sized offsets', () => {
    const data = new Uint8Array(16);
    const f = (h: unknown) => () => decodeSafetensors(handMade(h, data), 'x.safetensors');
    expect(f({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [3], data_offsets: [4, 16] } }))
      .toThrow(/x\.safetensors: tensor 'b' overlaps/);
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
