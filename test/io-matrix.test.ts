// readMatrix: format detection by magic bytes first, extension second.
import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readMatrix, encodeNpy, encodeFcs } from '../bindings/io/index.js';

describe('readMatrix', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mat-'));
  const data = Float32Array.from({ length: 12 }, (_, i) => i - 5.5);

  it('reads NPY (2-D, and 3-D flattened to rows × rest), FCS and CSV to the same matrix', async () => {
    writeFileSync(join(dir, 'a.npy'), encodeNpy([4, 3], data));
    writeFileSync(join(dir, 'b.npy'), encodeNpy([4, 3, 1], data));
    writeFileSync(join(dir, 'c.fcs'), encodeFcs({ parameters: [{ name: 'x' }, { name: 'y' }, { name: 'z' }], data, events: 4 }));
    writeFileSync(join(dir, 'd.csv'), 'x,y,z\n' + [0, 1, 2, 3].map((r) => Array.from(data.subarray(3 * r, 3 * r + 3)).join(',')).join('\n'));
    writeFileSync(join(dir, 'e.tsv'), [0, 1, 2, 3].map((r) => Array.from(data.subarray(3 * r, 3 * r + 3)).join('\t')).join('\n'));
    writeFileSync(join(dir, 'misnamed.csv'), encodeNpy([4, 3], data)); // magic bytes win
    const expected = { a: ['npy', null], b: ['npy', null], c: ['fcs', ['x', 'y', 'z']], d: ['csv', ['x', 'y', 'z']], e: ['csv', null], misnamed: ['npy', null] } as const;
    for (const [name, [format, columns]] of Object.entries(expected)) {
      const file = (await import('node:fs')).readdirSync(dir).find((f) => f.startsWith(name + '.'))!;
      const m = await readMatrix(join(dir, file));
      expect([m.rows, m.cols, m.format, m.columns], file).toEqual([4, 3, format, columns]);
      expect(Array.from(m.data), file).toEqual(Array.from(data));
    }
  });

  it('names the file and the problem for unknown or mislabelled formats', async () => {
    writeFileSync(join(dir, 'x.bin'), 'abc');
    writeFileSync(join(dir, 'y.npy'), '1,2,3');
    writeFileSync(join(dir, 'z.npy'), encodeNpy([], new Float32Array([1])));
    await expect(readMatrix(join(dir, 'x.bin'))).rejects.toThrow(/x\.bin: unknown file format \(extension '\.bin'\)/);
    await expect(readMatrix(join(dir, 'y.npy'))).rejects.toThrow(/y\.npy: byte 0: the extension says \.npy but the file does not start/);
    await expect(readMatrix(join(dir, 'z.npy'))).rejects.toThrow(/z\.npy: a 0-d \(scalar\) array is not a matrix/);
  });
});
