// .npy reader/writer. Fixtures were written by NumPy 2.4 (numpy.lib.format.write_array), an
// independent implementation. Regenerate with, e.g.:
//   python3 -c "import numpy as np,io,base64; from numpy.lib import format as F; b=io.BytesIO();
//     F.write_array(b, np.array([0.1,-1e300,np.pi],dtype='>f8'), version=(2,0)); print(base64.b64encode(b.getvalue()))"
import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseNpy, encodeNpy, toFloat32, toInt32, readNpyFile, writeNpyFile, FormatError } from '../bindings/io/index.js';

const FIXTURES: Record<string, string> = {
  f4_le_v1: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGY0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDMpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAMA/AAAAwAAAQEAAAIBAAACoQKabxLs=',
  f8_be_v2: 'k05VTVBZAgB0AAAAeydkZXNjcic6ICc+ZjgnLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMywpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAo/uZmZmZmZmv435DyIAHWcQAkh+1RELRg=',
  i2_be_v1: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPmkyJywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDIpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAf/+ASyAAA==',
  b1_v1: 'k05VTVBZAQB2AHsnZGVzY3InOiAnfGIxJywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDQsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoBAAAB',
  i8_le_v3: 'k05VTVBZAwB0AAAAeydkZXNjcic6ICc8aTgnLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMiwpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAr7/////////wAAAAAAAQAA',
  u4_be_v1: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPnU0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDEpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAruaygAAAAABw==',
  u2_le_v1: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPHUyJywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDMsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAr//wAADAA=',
  i1_v1: 'k05VTVBZAQB2AHsnZGVzY3InOiAnfGkxJywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDMsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAqAfwA=',
  f2_le_v1: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGYyJywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDQsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAPAC4/3sBAA==',
  i4_be_3d: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPmk0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDMsIDQpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAAAAAQAAAAIAAAADAAAABAAAAAUAAAAGAAAABwAAAAgAAAAJAAAACgAAAAsAAAAMAAAADQAAAA4AAAAPAAAAEAAAABEAAAASAAAAEwAAABQAAAAVAAAAFgAAABc=',
  scalar_f8: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGY4JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKCksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAAAEQA==',
  empty_f4: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGY0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDAsIDUpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAo=',
  fortran_f4: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGY0JywgJ2ZvcnRyYW5fb3JkZXInOiBUcnVlLCAnc2hhcGUnOiAoMiwgMyksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAABAQAAAgD8AAIBAAAAAQAAAoEA=',
};
const fx = (name: string) => new Uint8Array(Buffer.from(FIXTURES[name]!, 'base64'));

describe('parseNpy on files written by NumPy', () => {
  const cases: [string, number[], string, ArrayLike<number | bigint>, string][] = [
    ['f4_le_v1', [2, 3], 'f4', Float32Array.from([1.5, -2, 3, 4, 5.25, -6e-3]), 'Float32Array'],
    ['f8_be_v2', [3], 'f8', [0.1, -1e300, Math.PI], 'Float64Array'],
    ['i2_be_v1', [2, 2], 'i2', [1, -2, 300, -32768], 'Int16Array'],
    ['b1_v1', [4], 'b1', [1, 0, 0, 1], 'Uint8Array'],
    ['i8_le_v3', [2], 'i8', [-5n, 2n ** 40n], 'BigInt64Array'],
    ['u4_be_v1', [2, 1], 'u4', [4000000000, 7], 'Uint32Array'],
    ['u2_le_v1', [3], 'u2', [65535, 0, 12], 'Uint16Array'],
    ['i1_v1', [3], 'i1', [-128, 127, 0], 'Int8Array'],
    ['f2_le_v1', [4], 'f2', [1, -0.5, 65504, 5.960464477539063e-8], 'Float32Array'],
    ['i4_be_3d', [2, 3, 4], 'i4', Array.from({ length: 24 }, (_, i) => i), 'Int32Array'],
    ['scalar_f8', [], 'f8', [2.5], 'Float64Array'],
    ['empty_f4', [0, 5], 'f4', [], 'Float32Array'],
  ];
  for (const [name, shape, dtype, values, ctor] of cases) {
    it(name, () => {
      const a = parseNpy(fx(name), name);
      expect(a.shape).toEqual(shape);
      expect(a.dtype).toBe(dtype);
      expect(a.data.constructor.name).toBe(ctor);
      expect(Array.from(a.data as ArrayLike<number>)).toEqual(Array.from(values));
    });
  }

  it('refuses Fortran order with a message that says how to fix it', () => {
    expect(() => parseNpy(fx('fortran_f4'), 'f.npy')).toThrow(/f\.npy: byte 10: Fortran-ordered.*ascontiguousarray/);
  });

  it('toFloat32 converts every dtype, toInt32 refuses non-int32 values', () => {
    expect(Array.from(toFloat32(parseNpy(fx('i8_le_v3'))))).toEqual([-5, 2 ** 40]);
    expect(Array.from(toFloat32(parseNpy(fx('i2_be_v1'))))).toEqual([1, -2, 300, -32768]);
    expect(Array.from(toInt32(parseNpy(fx('u2_le_v1'))))).toEqual([65535, 0, 12]);
    expect(() => toInt32(parseNpy(fx('u4_be_v1')), 'l.npy')).toThrow(/l\.npy: element 0 \(4000000000\)/);
    expect(() => toInt32(parseNpy(fx('f4_le_v1')), 'l.npy')).toThrow(/not an int32 label/);
  });
});

describe('encodeNpy', () => {
  it('writes the same bytes as NumPy for a little-endian f4 array', () => {
    const bytes = encodeNpy([2, 3], Float32Array.from([1.5, -2, 3, 4, 5.25, -6e-3]));
    expect(Buffer.from(bytes).toString('base64')).toBe(FIXTURES.f4_le_v1);
  });

  it('round-trips every writable type, header padded to 64 bytes', () => {
    const arrays = [
      new Float64Array([1e-300, -0, 7]), new Int32Array([-(2 ** 31), 5, 2 ** 31 - 1]), new Uint8Array([0, 255, 9]),
      new Int8Array([-1, 2, 3]), new Int16Array([-300, 2, 3]), new Uint16Array([1, 2, 65535]), new Uint32Array([1, 2, 2 ** 32 - 1]),
    ];
    for (const d of arrays) {
      const bytes = encodeNpy([3, 1], d);
      const dataStart = 10 + (bytes[8]! | (bytes[9]! << 8));
      expect(dataStart % 64).toBe(0);
      const back = parseNpy(bytes);
      expect(back.shape).toEqual([3, 1]);
      expect(back.data.constructor).toBe(d.constructor);
      expect(Array.from(back.data as ArrayLike<number>)).toEqual(Array.from(d));
    }
  });

  it('refuses a shape that does not match the data', () => {
    expect(() => encodeNpy([2, 2], new Float32Array(3))).toThrow(/holds 4 elements but data has 3/);
  });

  it('writes files atomically (no temp file left behind) and reads them back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'npy-'));
    const path = join(dir, 'sub', 'a.npy');
    const data = Float32Array.from({ length: 35 }, (_, i) => i * 0.5 - 3);
    await writeNpyFile(path, [7, 5], data);
    expect(readdirSync(join(dir, 'sub'))).toEqual(['a.npy']);
    const back = await readNpyFile(path);
    expect(back.shape).toEqual([7, 5]);
    expect(Array.from(back.data as Float32Array)).toEqual(Array.from(data));
    expect(readFileSync(path).subarray(0, 6).toString('latin1')).toBe('\x93NUMPY');
  });
});

describe('parseNpy errors name the file, the byte and what was expected', () => {
  const good = () => fx('f4_le_v1');
  const header = (h: string) => {
    const b = encodeNpy([1], new Float32Array([1]));
    const text = `{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }`;
    const hb = new TextEncoder().encode(h.padEnd(Math.max(h.length, b[8]! - 1), ' ') + '\n');
    const out = new Uint8Array(10 + hb.length + 4);
    out.set(b.subarray(0, 10));
    out[8] = hb.length & 0xff; out[9] = hb.length >> 8;
    out.set(hb, 10);
    out.set(b.subarray(10 + b[8]!), 10 + hb.length);
    expect(text.length).toBeLessThan(hb.length);
    return out;
  };
  it.each([
    ['truncated', () => good().subarray(0, 5), /x\.npy: byte 5: truncated \.npy file/],
    ['bad magic', () => { const b = good(); b[1] = 0; return b; }, /x\.npy: byte 0: not a \.npy file/],
    ['version 9', () => { const b = good(); b[6] = 9; return b; }, /byte 6: unsupported \.npy format version 9\.0/],
    ['header length past the end', () => { const b = good(); b[9] = 0xff; return b; }, /byte 8: header length \d+ runs past the end/],
    ['data truncated', () => good().subarray(0, good().length - 1), /byte 128: shape \(2, 3\) of <f4 needs 24 data bytes, file holds 23/],
    ['structured dtype', () => header(`{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }`), /structured \(record\) dtypes are not supported/],
    ['unknown dtype', () => header(`{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }`), /unsupported dtype '<c8'/],
    ['negative dim', () => header(`{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }`), /'shape' must be a tuple of non-negative integers/],
    ['no fortran_order', () => header(`{'descr': '<f4', 'shape': (1,), }`), /no boolean 'fortran_order'/],
    ['broken literal', () => header(`{'descr': '<f4' 'fortran_order': False}`), /malformed \.npy header: expected ',' or '}'/],
    ['lying shape', () => header(`{'descr': '<f4', 'fortran_order': False, 'shape': (100000000000, 100000000), }`), /byte 10: shape \(100000000000, 100000000\) declares more than 2147483647 elements/],
    ['shape within limits but lying', () => header(`{'descr': '<f4', 'fortran_order': False, 'shape': (3, 5), }`), /byte 128: shape \(3, 5\) of <f4 needs 60 data bytes, file holds 4/],
    // Issue 24 mutants: an empty array may not declare inexact or absurd extents.
    ['9e15 rows of nothing', () => header(`{'descr': '<f4', 'fortran_order': False, 'shape': (9007199254740991, 0), }`), /declares more than 2147483647 elements/],
    ['inexact column count', () => header(`{'descr': '<f4', 'fortran_order': False, 'shape': (0, 9007199254740991, 9007199254740991), }`), /declares more than 2147483647 elements/],
    ['product over the limit', () => header(`{'descr': '<f4', 'fortran_order': False, 'shape': (0, 65536, 65536), }`), /declares more than 2147483647 elements/],
    ['extra key', () => header(`{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1, }`), /unexpected header key 'x'/],
    ['repeated key', () => header(`{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'shape': (1,), }`), /'shape' appears twice/],
    ['nested too deep', () => header(`{'descr': '<f4', 'fortran_order': False, 'shape': ((((((((1,),),),),),),),), }`), /expected at most 8 levels of nested tuples/],
  ])('%s', (_name, make, re) => {
    const bytes = make();
    let err: unknown;
    try { parseNpy(bytes, 'x.npy'); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(FormatError);
    expect((err as Error).message).toMatch(re);
    expect((err as Error).message.startsWith('x.npy')).toBe(true);
  });
});

describe('issue 24: a deeply nested NPY shape is a FormatError, not a stack overflow', () => {
  // The mutant from the issue: ~7,000 levels of '(' in a 14 KB version-1.0 header.
  const nested = (depth: number) => {
    const h = `{'descr': '<f4', 'fortran_order': False, 'shape': ${'('.repeat(depth)}1${',)'.repeat(depth)}, }`;
    const hb = new TextEncoder().encode(h + ' '.repeat((64 - ((10 + h.length + 1) % 64)) % 64) + '\n');
    const out = new Uint8Array(10 + hb.length + 4);
    out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, hb.length & 0xff, hb.length >> 8]);
    out.set(hb, 10);
    return out;
  };
  it.each([7000, 21000])('%i levels', (depth) => {
    const b = nested(depth);
    expect(b.length).toBeLessThan(65536 + 14);
    expect(() => parseNpy(b, 'deep.npy')).toThrow(FormatError);
    expect(() => parseNpy(b, 'deep.npy')).toThrow(/^deep\.npy: byte \d+: malformed \.npy header: expected at most 8 levels of nested tuples/);
  });
  it('a shape nested within the cap is still refused as not a tuple of integers', () => {
    expect(() => parseNpy(nested(3), 'n.npy')).toThrow(/n\.npy: byte 10: header 'shape' must be a tuple of non-negative integers/);
  });
  it('parseMatrix refuses rows without features', async () => {
    const { parseMatrix } = await import('../bindings/io/index.js');
    expect(() => parseMatrix(encodeNpy([5, 0], new Float32Array(0)), 'e.npy')).toThrow(/e\.npy: shape \(5, 0\) has 5 rows but no features/);
    expect(parseMatrix(encodeNpy([0, 3], new Float32Array(0)), 'e.npy')).toMatchObject({ rows: 0, cols: 3 });
  });
});
