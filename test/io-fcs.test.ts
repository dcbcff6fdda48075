// FCS 3.0/3.1 reader and 3.1 writer. Reader fixtures are assembled byte by byte by `buildFcs`
// below, independently of encodeFcs, following the FCS 3.1 spec (HEADER offsets inclusive, TEXT
// delimiter doubled inside values, $BEGINDATA/$ENDDATA when the HEADER holds 0).
import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseFcs, encodeFcs, streamFcsEvents, readFcsFile, FormatError } from '../bindings/io/index.js';

interface BuildOpts {
  version?: string;
  delim?: string;
  pairs: [string, string][];
  data: Uint8Array;
  /** Put 0 in the HEADER's DATA fields so readers must use $BEGINDATA/$ENDDATA. */
  dataOffsetsOnlyInText?: boolean;
  /** Bytes of padding between HEADER and TEXT (TEXT need not start at 58). */
  gap?: number;
  /** Supplemental TEXT pairs, placed after DATA. */
  stext?: [string, string][];
}

function buildFcs(o: BuildOpts): Uint8Array {
  const d = o.delim ?? '/';
  const esc = (s: string) => s.split(d).join(d + d);
  const textStart = 58 + (o.gap ?? 0);
  const pad10 = (n: number) => String(n).padStart(10, '0');
  // Offsets are fixed-width (zero-padded) so TEXT's length does not depend on them.
  const textFor = (bd: number, ed: number, bs: number, es: number) =>
    d + [...o.pairs, ['$BEGINDATA', pad10(bd)], ['$ENDDATA', pad10(ed)], ...(o.stext ? [['$BEGINSTEXT', pad10(bs)], ['$ENDSTEXT', pad10(es)]] : [])]
      .map(([k, v]) => `${esc(k!)}${d}${esc(v!)}${d}`).join('');
  const probe = new TextEncoder().encode(textFor(0, 0, 0, 0));
  const dataStart = textStart + probe.length;
  const dataEnd = o.data.length ? dataStart + o.data.length - 1 : 0;
  const stextBytes = o.stext ? new TextEncoder().encode(d + o.stext.map(([k, v]) => `${esc(k)}${d}${esc(v)}${d}`).join('')) : new Uint8Array(0);
  const sStart = dataStart + o.data.length;
  const text = new TextEncoder().encode(textFor(o.data.length ? dataStart : 0, dataEnd, o.stext ? sStart : 0, o.stext ? sStart + stextBytes.length - 1 : 0));
  expect(text.length).toBe(probe.length);
  const out = new Uint8Array(sStart + stextBytes.length);
  const hdrData = o.dataOffsetsOnlyInText ? [0, 0] : [o.data.length ? dataStart : 0, dataEnd];
  const header = (o.version ?? 'FCS3.0').padEnd(10, ' ') + [textStart, dataStart - 1, ...hdrData, 0, 0].map((v) => String(v).padStart(8, ' ')).join('');
  out.set(new TextEncoder().encode(header), 0);
  out.fill(0x20, 58, textStart);
  out.set(text, textStart);
  out.set(o.data, dataStart);
  out.set(stextBytes, sStart);
  return out;
}

function paramPairs(specs: { n: string; b: number; r: number; s?: string }[]): [string, string][] {
  return specs.flatMap((p, i) => {
    const k = `$P${i + 1}`;
    const pairs: [string, string][] = [[`${k}N`, p.n], [`${k}B`, String(p.b)], [`${k}E`, '0,0'], [`${k}R`, String(p.r)]];
    if (p.s) pairs.push([`${k}S`, p.s]);
    return pairs;
  });
}

function bytesOf(fill: (dv: DataView) => void, n: number): Uint8Array {
  const b = new Uint8Array(n);
  fill(new DataView(b.buffer));
  return b;
}

describe('parseFcs on hand-assembled files', () => {
  it('reads $DATATYPE I with mixed $PnB 8/16/32, big-endian, masking by $PnR', () => {
    // Per event: u8 (range 256), u16 (range 1024 → 10-bit mask), u32 (range 2^32).
    const events = [[7, 0xfc00 | 1000, 4000000000], [255, 0x0400 | 3, 1]];
    const data = bytesOf((dv) => {
      let o = 0;
      for (const [a, b, c] of events) { dv.setUint8(o, a!); dv.setUint16(o + 1, b!, false); dv.setUint32(o + 3, c!, false); o += 7; }
    }, 14);
    const bytes = buildFcs({
      pairs: [['$BYTEORD', '4,3,2,1'], ['$DATATYPE', 'I'], ['$MODE', 'L'], ['$NEXTDATA', '0'], ['$PAR', '3'], ['$TOT', '2'],
        ...paramPairs([{ n: 'A', b: 8, r: 256 }, { n: 'B', b: 16, r: 1024, s: 'bee' }, { n: 'C', b: 32, r: 4294967296 }])],
      data,
    });
    const f = parseFcs(bytes, 'i.fcs');
    expect(f.version).toBe('FCS3.0');
    expect(f.events).toBe(2);
    expect(f.parameters).toEqual([{ name: 'A', bits: 8, range: 256 }, { name: 'B', longName: 'bee', bits: 16, range: 1024 }, { name: 'C', bits: 32, range: 4294967296 }]);
    expect(Array.from(f.data)).toEqual([7, 1000, 4000000000, 255, 3, 1]);
  });

  it('reads $DATATYPE D little-endian and F big-endian', () => {
    const vals = [1.5, -2.25, 1e-3, 12345.5];
    const d = buildFcs({
      version: 'FCS3.1',
      pairs: [['$BYTEORD', '1,2,3,4'], ['$DATATYPE', 'D'], ['$MODE', 'L'], ['$PAR', '2'], ['$TOT', '2'], ...paramPairs([{ n: 'x', b: 64, r: 1 }, { n: 'y', b: 64, r: 1 }])],
      data: bytesOf((dv) => vals.forEach((v, i) => dv.setFloat64(8 * i, v, true)), 32),
    });
    expect(Array.from(parseFcs(d).data)).toEqual(vals.map(Math.fround));
    const f = buildFcs({
      pairs: [['$BYTEORD', '4,3,2,1'], ['$DATATYPE', 'F'], ['$MODE', 'L'], ['$PAR', '1'], ['$TOT', '4'], ...paramPairs([{ n: 'x', b: 32, r: 1 }])],
      data: bytesOf((dv) => vals.forEach((v, i) => dv.setFloat32(4 * i, v, false)), 16),
    });
    expect(Array.from(parseFcs(f).data)).toEqual(vals.map(Math.fround));
  });

  it('handles escaped delimiters, lower-case keys, a gap before TEXT, offsets only in TEXT, supplemental TEXT', () => {
    const bytes = buildFcs({
      delim: '|',
      gap: 100,
      dataOffsetsOnlyInText: true,
      pairs: [['$byteord', '1,2,3,4'], ['$DATATYPE', 'F'], ['$MODE', 'L'], ['$PAR', '1'], ['$TOT', '3'], ['$CYT', 'left|right||'], ['MY|KEY', 'v'],
        ...paramPairs([{ n: 'FSC|A', b: 32, r: 1024 }])],
      data: bytesOf((dv) => [1, 2, 3].forEach((v, i) => dv.setFloat32(4 * i, v, true)), 12),
      stext: [['$COM', 'from the supplemental TEXT'], ['$CYT', 'must not override the primary']],
    });
    const f = parseFcs(bytes, 'e.fcs');
    expect(f.text['$CYT']).toBe('left|right||');
    expect(f.text['MY|KEY']).toBe('v');
    expect(f.text['$BYTEORD']).toBe('1,2,3,4');
    expect(f.text['$COM']).toBe('from the supplemental TEXT');
    expect(f.parameters[0]!.name).toBe('FSC|A');
    expect(Array.from(f.data)).toEqual([1, 2, 3]);
  });

  it('reads a file with zero events', () => {
    const f = parseFcs(buildFcs({
      pairs: [['$BYTEORD', '1,2,3,4'], ['$DATATYPE', 'F'], ['$MODE', 'L'], ['$PAR', '1'], ['$TOT', '0'], ...paramPairs([{ n: 'x', b: 32, r: 1 }])],
      data: new Uint8Array(0),
    }));
    expect(f.events).toBe(0);
    expect(f.data.length).toBe(0);
  });
});

describe('parseFcs errors name the file, the byte and what was expected', () => {
  const base = (): [string, string][] => [['$BYTEORD', '1,2,3,4'], ['$DATATYPE', 'F'], ['$MODE', 'L'], ['$PAR', '2'], ['$TOT', '3'],
    ...paramPairs([{ n: 'a', b: 32, r: 1 }, { n: 'b', b: 32, r: 1 }])];
  const with_ = (k: string, v: string | null) => {
    const p = base().filter(([kk]) => kk !== k);
    if (v !== null) p.push([k, v]);
    return p;
  };
  const data24 = new Uint8Array(24);
  it.each([
    ['not FCS', () => new TextEncoder().encode('hello world, this is not an FCS file at all, really not at all'), /x\.fcs: byte 0: not an FCS file/],
    ['FCS 2.0', () => { const b = buildFcs({ pairs: base(), data: data24 }); b.set(new TextEncoder().encode('FCS2.0')); return b; }, /unsupported FCS version 'FCS2\.0'/],
    ['truncated header', () => buildFcs({ pairs: base(), data: data24 }).subarray(0, 40), /byte 40: truncated FCS HEADER/],
    ['bad header field', () => { const b = buildFcs({ pairs: base(), data: data24 }); b[20] = 0x41; return b; }, /byte 18: HEADER offset field 2 must be an ASCII integer/],
    ['truncated data', () => { const b = buildFcs({ pairs: base(), data: data24 }); return b.subarray(0, b.length - 5); }, /DATA segment ends at byte \d+ but the file has only \d+ bytes/],
    ['$TOT too large', () => buildFcs({ pairs: with_('$TOT', '4'), data: data24 }), /\$TOT=4 events × 8 bytes per event need 32 bytes, but the DATA segment holds 24/],
    ['$TOT too small', () => buildFcs({ pairs: with_('$TOT', '1'), data: data24 }), /DATA segment holds 24 bytes, more than the 8 that \$TOT=1/],
    ['$PAR lies', () => buildFcs({ pairs: with_('$PAR', '100000000'), data: data24 }), /\$PAR=100000000 does not match TEXT/],
    ['$PAR names a missing parameter', () => buildFcs({ pairs: [...with_('$PAR', '3'), ['X1', '1'], ['X2', '1'], ['X3', '1']], data: data24 }), /missing required keyword \$P3N/],
    ['missing $TOT', () => buildFcs({ pairs: with_('$TOT', null), data: data24 }), /missing required keyword \$TOT/],
    ['non-integer $TOT', () => buildFcs({ pairs: with_('$TOT', '3.5'), data: data24 }), /keyword \$TOT: expected a non-negative integer, found '3\.5'/],
    ['ASCII data', () => buildFcs({ pairs: with_('$DATATYPE', 'A'), data: data24 }), /unsupported \$DATATYPE 'A'/],
    ['correlated mode', () => buildFcs({ pairs: with_('$MODE', 'C'), data: data24 }), /unsupported \$MODE 'C'/],
    ['mixed byte order', () => buildFcs({ pairs: with_('$BYTEORD', '3,4,1,2'), data: data24 }), /unsupported \$BYTEORD '3,4,1,2'/],
    ['F with 16 bits', () => buildFcs({ pairs: with_('$P1B', '16'), data: data24 }), /\$P1B=16 is not supported with \$DATATYPE F: expected 32/],
    ['keyword without value', () => {
      const text = '/$TOT/3/$PAR/';
      return new TextEncoder().encode('FCS3.1    ' + [58, 57 + text.length, 0, 0, 0, 0].map((v) => String(v).padStart(8)).join('') + text);
    }, /x\.fcs: byte 66: TEXT keyword '\$PAR' has no value/],
  ])('%s', (_n, make, re) => {
    let err: unknown;
    try { parseFcs(make(), 'x.fcs'); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(FormatError);
    expect((err as Error).message.startsWith('x.fcs')).toBe(true);
    expect((err as Error).message).toMatch(re);
  });
});

describe('encodeFcs', () => {
  it('round-trips through parseFcs with every required FCS 3.1 keyword', () => {
    const events = 9, par = 3;
    const data = Float32Array.from({ length: events * par }, (_, i) => Math.sin(i) * 1000);
    const bytes = encodeFcs({ text: { $CYT: 'a/b', $DATE: '06-JAN-2025', custom: 'x' }, parameters: [{ name: 'FSC_t00', longName: 'FSC / t0' }, { name: 'B' }, { name: 'C', range: 4096 }], data, events });
    expect(new TextDecoder().decode(bytes.subarray(0, 6))).toBe('FCS3.1');
    const f = parseFcs(bytes, 'rt.fcs');
    expect(f.version).toBe('FCS3.1');
    expect(f.events).toBe(events);
    expect(Array.from(f.data)).toEqual(Array.from(data));
    expect(f.parameters.map((p) => [p.name, p.longName, p.bits])).toEqual([['FSC_t00', 'FSC / t0', 32], ['B', undefined, 32], ['C', undefined, 32]]);
    expect(f.parameters[2]!.range).toBe(4096);
    for (const k of ['$BEGINANALYSIS', '$ENDANALYSIS', '$BEGINSTEXT', '$ENDSTEXT', '$BEGINDATA', '$ENDDATA', '$BYTEORD', '$DATATYPE', '$MODE', '$NEXTDATA', '$PAR', '$TOT', '$P1E']) {
      expect(f.text[k], k).toBeDefined();
    }
    expect(f.text['$CYT']).toBe('a/b');
    expect(f.text['CUSTOM']).toBe('x');
    // The HEADER and $BEGINDATA agree, and DATA ends at the last byte.
    const hdr = new TextDecoder().decode(bytes.subarray(0, 58));
    expect(Number(hdr.slice(26, 34))).toBe(Number(f.text['$BEGINDATA']));
    expect(Number(hdr.slice(34, 42))).toBe(bytes.length - 1);
  });

  it('refuses keywords it computes itself and data of the wrong length', () => {
    expect(() => encodeFcs({ text: { $TOT: '5' }, parameters: [{ name: 'a' }], data: new Float32Array(1), events: 1 })).toThrow(/\$TOT is computed by the writer/);
    expect(() => encodeFcs({ parameters: [{ name: 'a' }, { name: 'b' }], data: new Float32Array(3), events: 2 })).toThrow(/need 4 values, data has 3/);
  });
});

describe('streamFcsEvents', () => {
  it('delivers the same events as parseFcs, in chunks, with bounded chunk size', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fcs-'));
    const events = 53, par = 5;
    const data = Float32Array.from({ length: events * par }, (_, i) => i * 0.25 - 7);
    const path = join(dir, 's.fcs');
    writeFileSync(path, encodeFcs({ parameters: Array.from({ length: par }, (_, i) => ({ name: `p${i}` })), data, events }));
    const got: number[] = [];
    const sizes: number[] = [];
    const meta = await streamFcsEvents(path, async (chunk, rows) => {
      expect(chunk.length).toBe(rows * par);
      sizes.push(rows);
      got.push(...chunk);
      await new Promise((r) => setTimeout(r, 0));
    }, 7);
    expect(sizes).toEqual([7, 7, 7, 7, 7, 7, 7, 4]);
    expect(got).toEqual(Array.from(data));
    expect(meta.events).toBe(events);
    expect(meta.parameters.map((p) => p.name)).toEqual(['p0', 'p1', 'p2', 'p3', 'p4']);
    expect(Array.from((await readFcsFile(path)).data)).toEqual(Array.from(data));
  });

  it('reads offsets from TEXT and reports errors with the path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fcs-'));
    const path = join(dir, 'z.fcs');
    const data = bytesOf((dv) => [5, 6, 7, 8].forEach((v, i) => dv.setUint16(2 * i, v, true)), 8);
    writeFileSync(path, buildFcs({ dataOffsetsOnlyInText: true, data,
      pairs: [['$BYTEORD', '1,2'], ['$DATATYPE', 'I'], ['$MODE', 'L'], ['$PAR', '2'], ['$TOT', '2'], ...paramPairs([{ n: 'a', b: 16, r: 65536 }, { n: 'b', b: 16, r: 65536 }])] }));
    const got: number[] = [];
    await streamFcsEvents(path, (c) => { got.push(...c); }, 1);
    expect(got).toEqual([5, 6, 7, 8]);
    const bad = join(dir, 'bad.fcs');
    writeFileSync(bad, 'FCS3.1    garbage');
    await expect(streamFcsEvents(bad, () => undefined)).rejects.toThrow(new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: byte 17: truncated FCS HEADER`));
  });
});

describe('issue 24: DATA and ANALYSIS offsets are checked against TEXT, the file and each other', () => {
  const enc = new TextEncoder();
  const ascii = (b: Uint8Array) => new TextDecoder('latin1').decode(b);
  const seed = () => encodeFcs({ parameters: [{ name: 'a' }, { name: 'b' }, { name: 'c' }], data: Float32Array.from({ length: 12 }, (_, i) => i + 0.5), events: 4 });
  /** Rewrites HEADER field k (0-based: TEXT begin/end, DATA begin/end, ANALYSIS begin/end). */
  const setHeader = (b: Uint8Array, k: number, v: number) => { b.set(enc.encode(String(v).padStart(8, ' ')), 10 + 8 * k); return b; };
  const headerField = (b: Uint8Array, k: number) => Number(ascii(b.subarray(10 + 8 * k, 18 + 8 * k)));
  /** Replaces a TEXT keyword's value by one of the same length (left-padded with zeros). */
  const setText = (b: Uint8Array, key: string, v: number | string) => {
    const s = ascii(b);
    const at = s.indexOf(`/${key}/`) + key.length + 2;
    const end = s.indexOf('/', at);
    const val = String(v).padStart(end - at, '0');
    expect(val.length).toBe(end - at);
    b.set(enc.encode(val), at);
    return b;
  };
  const rejects = (b: Uint8Array, re: RegExp) => {
    let err: unknown;
    try { parseFcs(b, 'm.fcs'); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(FormatError);
    expect((err as Error).message).toMatch(/^m\.fcs: byte \d+: /);
    expect((err as Error).message).toMatch(re);
  };

  it('the seed reads', () => expect(parseFcs(seed(), 'm.fcs').events).toBe(4));
  it('HEADER DATA begin moved back 4 bytes while TEXT keeps $BEGINDATA', () => {
    const b = seed();
    setHeader(b, 2, headerField(b, 2) - 4);
    setHeader(b, 3, headerField(b, 3) - 4);
    rejects(b, /DATA offsets disagree: HEADER says \d+–\d+, TEXT \$BEGINDATA\/\$ENDDATA say/);
  });
  it('6 bytes inserted into TEXT', () => {
    const b = seed();
    const at = 58 + 40;
    const m = Uint8Array.from([...b.subarray(0, at), ...enc.encode('$X/y/z'), ...b.subarray(at)]);
    rejects(m, /TEXT segment ends inside a (keyword|value) .*expected the delimiter as its last byte/);
  });
  it('DATA overlapping TEXT (HEADER and TEXT agreeing)', () => {
    const b = seed();
    const tEnd = headerField(b, 1);
    const dLen = headerField(b, 3) - headerField(b, 2);
    setHeader(b, 2, tEnd - 8);
    setHeader(b, 3, tEnd - 8 + dLen);
    setText(b, '$BEGINDATA', tEnd - 8);
    setText(b, '$ENDDATA', tEnd - 8 + dLen);
    rejects(b, /TEXT \(bytes 58–\d+\) and DATA \(bytes \d+–\d+\) overlap/);
  });
  it('junk ANALYSIS offsets', () => {
    rejects(setHeader(seed(), 4, 30), /ANALYSIS offsets disagree: HEADER says 30–0, TEXT \$BEGINANALYSIS\/\$ENDANALYSIS say 0–0/);
    const inside = (b: Uint8Array) => { setHeader(b, 4, 0); return b; };
    const past = setText(setText(inside(seed()), '$BEGINANALYSIS', 9), '$ENDANALYSIS', 9);
    rejects(past, /ANALYSIS segment offsets 9–9 are impossible/);
    const b = seed();
    const d0 = headerField(b, 2);
    rejects(setHeader(setHeader(b, 4, d0 + 4), 5, d0 + 3), /ANALYSIS offsets disagree/);
  });
  it('ANALYSIS overlapping DATA, or past the end of the file', () => {
    // encodeFcs writes the ANALYSIS offsets as '0': build a file with room for real ones.
    const data = new Uint8Array(24);
    const pairs: [string, string][] = [['$BYTEORD', '1,2,3,4'], ['$DATATYPE', 'F'], ['$MODE', 'L'], ['$PAR', '2'], ['$TOT', '3'], ...paramPairs([{ n: 'a', b: 32, r: 1 }, { n: 'b', b: 32, r: 1 }]),
      ['$BEGINANALYSIS', '0000000000'], ['$ENDANALYSIS', '0000000000']];
    const b = buildFcs({ pairs, data, dataOffsetsOnlyInText: true });
    const d0 = Number(/\$BEGINDATA\/(\d+)/.exec(ascii(b))![1]);
    rejects(setText(setText(b.slice(), '$BEGINANALYSIS', d0 + 8), '$ENDANALYSIS', d0 + 30), /ANALYSIS segment ends at byte \d+ but the file has only/);
    rejects(setText(setText(b.slice(), '$BEGINANALYSIS', d0 + 8), '$ENDANALYSIS', d0 + 9), /DATA \(bytes \d+–\d+\) and ANALYSIS \(bytes \d+–\d+\) overlap/);
  });
  it('$BYTEORD 1,2 with 32-bit values', () => {
    rejects(setText(seed(), '$BYTEORD', '1,2'.padStart(7, ' ')), /unsupported \$BYTEORD ' {4}1,2' for \$DATATYPE F with 32-bit values/);
  });
  it('a keyword given twice in one TEXT segment', () => {
    const b = buildFcs({ pairs: [['$BYTEORD', '1,2,3,4'], ['$DATATYPE', 'F'], ['$MODE', 'L'], ['$PAR', '1'], ['$TOT', '1'], ['$TOT', '1'], ...paramPairs([{ n: 'a', b: 32, r: 1 }])], data: new Uint8Array(4) });
    rejects(b, /TEXT keyword '\$TOT' appears twice/);
  });
  it('TEXT keys stay out of the prototype chain', () => {
    const b = buildFcs({ pairs: [['$BYTEORD', '1,2,3,4'], ['$DATATYPE', 'F'], ['$MODE', 'L'], ['$PAR', '1'], ['$TOT', '1'], ['__proto__', 'x'], ...paramPairs([{ n: 'a', b: 32, r: 1 }])], data: new Uint8Array(4) });
    const f = parseFcs(b, 'p.fcs');
    expect(Object.getPrototypeOf(f.text)).toBeNull();
    expect(f.text['__PROTO__']).toBe('x');
  });
});
