// CSV/TSV numeric matrices: dialects, header detection, and errors naming file, line and column.
import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCsv, readCsvFile, writeCsv, writeMatrixCsv, formatCsv, FormatError } from '../bindings/io/index.js';

describe('parseCsv', () => {
  it('reads a header and numbers in every notation numpy and spreadsheets write', () => {
    const m = parseCsv('\ufeffFSC,SSC,FL\r\n1,2.5,-3e2\r\n.5, +4 ,1E-3\r\nnan,inf,-inf\r\n', 'a.csv');
    expect(m.columns).toEqual(['FSC', 'SSC', 'FL']);
    expect([m.rows, m.cols]).toEqual([3, 3]);
    expect(Array.from(m.data)).toEqual([1, 2.5, -300, 0.5, 4, Math.fround(1e-3), NaN, Infinity, -Infinity]);
  });

  it('detects the delimiter, skips comments and blank lines, handles quotes', () => {
    const tsv = parseCsv('# exported by numpy.savetxt\n"a b"\t"c ""q"""\n\n1\t2\n3\t4\n\n');
    expect(tsv.columns).toEqual(['a b', 'c "q"']);
    expect(Array.from(tsv.data)).toEqual([1, 2, 3, 4]);
    const semi = parseCsv('x;y\n1,5;2\n3;4,25\n');
    expect(Array.from(semi.data)).toEqual([1.5, 2, 3, 4.25]);
    const multi = parseCsv('"first\nline",b\n1,"2"\n', 'q.csv');
    expect(multi.columns).toEqual(['first\nline', 'b']);
    expect(Array.from(multi.data)).toEqual([1, 2]);
  });

  it('header: auto, forced on and forced off', () => {
    expect(parseCsv('1,2\n3,4\n').columns).toBeNull();
    const forced = parseCsv('1,2\n3,4\n', 'h.csv', { header: true });
    expect(forced.columns).toEqual(['1', '2']);
    expect(forced.rows).toBe(1);
    expect(() => parseCsv('a,b\n1,2\n', 'n.csv', { header: false })).toThrow(/n\.csv: line 1, column 1: expected a number in column 1, found 'a'/);
  });

  it('an empty file is an empty matrix', () => {
    expect(parseCsv('')).toEqual({ columns: null, rows: 0, cols: 0, data: new Float32Array(0) });
    const onlyHeader = parseCsv('a,b\n');
    expect([onlyHeader.rows, onlyHeader.cols, onlyHeader.columns]).toEqual([0, 2, ['a', 'b']]);
  });

  it.each([
    ['non-numeric cell', 'a,b\n1,2\n3,x7\n', /x\.csv: line 3, column 2: expected a number in column 2 \('b'\), found 'x7'/],
    ['empty cell', 'a,b\n1,\n', /line 2, column 2: expected a number in column 2 \('b'\), found an empty cell/],
    ['ragged row', 'a,b\n1,2\n3,4,5\n', /line 3: ragged row: expected 2 cells \(as in the header\), found 3/],
    ['ragged after comment lines', '# c\n1,2\n# d\n\n3\n', /line 5: ragged row: expected 2 cells \(as in the first row\), found 1/],
    ['unterminated quote', 'a,b\n1,"2\n3,4\n', /line 2: unterminated quoted field/],
    ['junk after quote', 'a,"b"c\n', /line 1, column 2: unexpected 'c' after a closing quote/],
    ['hex is not a number', 'a\n0x10\n', /found '0x10'/],
    // Found by the differential fuzzer: an object-literal lookup took these for NaN.
    ['__proto__ is not a number', 'a,b\n1,__proto__\n', /line 2, column 2: expected a number in column 2 \('b'\), found '__proto__'/],
    ['constructor is not a number', 'a\nconstructor\n', /found 'constructor'/],
  ])('%s', (_n, text, re) => {
    let err: unknown;
    try { parseCsv(text, 'x.csv'); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(FormatError);
    expect((err as Error).message).toMatch(re);
  });
});

describe('issue 24: quoting does not decide the header or the delimiter', () => {
  it('a quoted number in the first row is data, not a column name', () => {
    const m = parseCsv('1,"2"\n3,4\n5,6\n', 'q.csv');
    expect(m.columns).toBeNull();
    expect([m.rows, m.cols]).toEqual([3, 2]);
    expect(Array.from(m.data)).toEqual([1, 2, 3, 4, 5, 6]);
  });
  it('a headerless file with every field quoted keeps its first event', () => {
    const m = parseCsv('"1.5","-2"\n"3","4e1"\n', 'allq.csv');
    expect(m.columns).toBeNull();
    expect(Array.from(m.data)).toEqual([1.5, -2, 3, 40]);
  });
  it('quoted names still make a header', () => {
    expect(parseCsv('"a","b"\n1,2\n').columns).toEqual(['a', 'b']);
  });
  it('a delimiter inside quotes does not count when detecting the delimiter', () => {
    const m = parseCsv('"semi;colon",x\n1,2\n', 'd.csv');
    expect(m.columns).toEqual(['semi;colon', 'x']);
    expect(Array.from(m.data)).toEqual([1, 2]);
    const t = parseCsv('"a\tb";"c,d";e\n1;2,5;3\n', 't.csv');
    expect(t.columns).toEqual(['a\tb', 'c,d', 'e']);
    expect(Array.from(t.data)).toEqual([1, 2.5, 3]);
  });
  it('a one-column file with a decimal comma', () => {
    const m = parseCsv('FSC\n1,5\n2,25\n-3\n', 'one.csv');
    expect(m.columns).toEqual(['FSC']);
    expect([m.rows, m.cols]).toEqual([3, 1]);
    expect(Array.from(m.data)).toEqual([1.5, 2.25, -3]);
    expect(Array.from(parseCsv('"FSC"\r\n"1,5"\r\n').data)).toEqual([1.5]);
    expect(Array.from(parseCsv('7\n8\n').data)).toEqual([7, 8]);
  });
});

describe('CSV writing', () => {
  it('quotes only where needed and round-trips through parseCsv', async () => {
    expect(formatCsv(['s', 'v'], [['a,b', 1.5], ['say "hi"', NaN], [' pad', -Infinity]])).toBe('s,v\n"a,b",1.5\n"say ""hi""",nan\n" pad",-inf\n');
    const dir = mkdtempSync(join(tmpdir(), 'csv-'));
    const path = join(dir, 'm.csv');
    const data = Float32Array.from([1.25, -2, 3e-5, 4, 5, 6]);
    await writeMatrixCsv(path, ['a', 'b c', 'd,e'], 2, 3, data);
    expect(readdirSync(dir)).toEqual(['m.csv']);
    const back = await readCsvFile(path);
    expect(back.columns).toEqual(['a', 'b c', 'd,e']);
    expect(Array.from(back.data)).toEqual(Array.from(data));
    await writeCsv(path, ['sample', 'plt_pct'], [['s1', 2.5]]);
    expect(readFileSync(path, 'utf8')).toBe('sample,plt_pct\ns1,2.5\n');
  });
});
