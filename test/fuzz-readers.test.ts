// Seeded mutation fuzzing of the NPY, CSV and FCS readers. Every mutated input must either parse
// into a self-consistent result or throw a FormatError (which names file, place and expectation) —
// never a TypeError/RangeError from internals, never a hang, never a huge allocation from a lying
// header (a lying size that were trusted would allocate gigabytes and fail with RangeError).
import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseNpy, encodeNpy, parseCsv, parseFcs, encodeFcs, streamFcsEvents, FormatError } from '../bindings/io/index.js';
import { Rng } from '../bindings/simulate/rng.js';

const enc = new TextEncoder();
const dec = new TextDecoder('latin1');

/** One random mutation of `src` (a fresh copy). */
function mutate(src: Uint8Array, rng: Rng, numericFields: RegExp | null): Uint8Array {
  const b = new Uint8Array(src);
  const pos = () => rng.int(Math.max(1, b.length));
  switch (rng.int(8)) {
    case 0: { // bit flips
      const n = 1 + rng.int(8);
      for (let i = 0; i < n; i++) b[pos()] ^= 1 << rng.int(8);
      return b;
    }
    case 1: // truncation
      return b.subarray(0, pos());
    case 2: { // random bytes over a random range
      const at = pos();
      const len = 1 + rng.int(16);
      for (let i = at; i < Math.min(b.length, at + len); i++) b[i] = rng.int(256);
      return b;
    }
    case 3: { // insertion
      const at = pos();
      const ins = Uint8Array.from({ length: 1 + rng.int(8) }, () => rng.int(256));
      return Uint8Array.from([...b.subarray(0, at), ...ins, ...b.subarray(at)]);
    }
    case 4: { // deletion
      const at = pos();
      return Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + 1 + rng.int(8))]);
    }
    case 5: { // a lying header value: replace one number in the header/TEXT area by an extreme one
      if (!numericFields) return b;
      const text = dec.decode(b.subarray(0, Math.min(b.length, 1200)));
      const hits = [...text.matchAll(numericFields)];
      if (hits.length === 0) return b;
      const h = hits[rng.int(hits.length)]!;
      const lies = ['0', '1', '-1', '99999999', '4294967295', '18446744073709551616', '1e308', '2147483648', String(rng.int(1000)), 'x'];
      const lie = lies[rng.int(lies.length)]!;
      const start = h.index! + h[0].length - h[1]!.length;
      return Uint8Array.from([...b.subarray(0, start), ...enc.encode(lie), ...b.subarray(start + h[1]!.length)]);
    }
    case 6: // random bytes of random length
      return Uint8Array.from({ length: rng.int(200) }, () => rng.int(256));
    default: { // duplicate a slice (repeats lines, keywords, records)
      const at = pos();
      const len = 1 + rng.int(40);
      return Uint8Array.from([...b.subarray(0, at + len), ...b.subarray(at, at + len), ...b.subarray(at + len)]);
    }
  }
}

/** Runs `parse` on `cases` mutants; returns how many parsed and how many were rejected. */
function fuzz(seeds: Uint8Array[], cases: number, seed: number, numericFields: RegExp | null, parse: (b: Uint8Array) => void): { ok: number; rejected: number } {
  const rng = new Rng(seed);
  let ok = 0;
  let rejected = 0;
  for (let i = 0; i < cases; i++) {
    let input = seeds[rng.int(seeds.length)]!;
    const rounds = rng.uniform() < 0.6 ? 1 : 2 + rng.int(2);
    for (let r = 0; r < rounds; r++) input = mutate(input, rng, numericFields);
    try {
      parse(input);
      ok++;
    } catch (e) {
      if (!(e instanceof FormatError) || !e.message) {
        throw new Error(`case ${i} (seed ${seed}): ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}\ninput (base64): ${Buffer.from(input).toString('base64')}`);
      }
      expect(e.message.startsWith('fz')).toBe(true);
      rejected++;
    }
  }
  if (process.env.FUZZ_VERBOSE) console.log(`seed ${seed}: ${ok} parsed, ${rejected} rejected`);
  return { ok, rejected };
}

function fcsSeeds(): Uint8Array[] {
  const f32 = encodeFcs({ text: { $CYT: 'fuzz/me', $DATE: '06-JAN-2025' }, parameters: [{ name: 'a', longName: 'A' }, { name: 'b' }, { name: 'c' }], data: Float32Array.from({ length: 15 }, (_, i) => i * 1.5), events: 5 });
  // An integer file with mixed widths, big-endian, offsets only in TEXT.
  const text = '|$BYTEORD|4,3,2,1|$DATATYPE|I|$MODE|L|$PAR|2|$TOT|3|$P1N|x|$P1B|16|$P1R|1024|$P1E|0,0|$P2N|y||z|$P2B|8|$P2R|256|$P2E|0,0|$BEGINDATA|0000000000|$ENDDATA|0000000000|';
  const dataStart = 58 + text.length;
  const full = text.replace('$BEGINDATA|0000000000', `$BEGINDATA|${String(dataStart).padStart(10, '0')}`).replace('$ENDDATA|0000000000', `$ENDDATA|${String(dataStart + 8).padStart(10, '0')}`);
  const hdr = 'FCS3.0    ' + [58, 57 + full.length, 0, 0, 0, 0].map((v) => String(v).padStart(8)).join('');
  const i16 = Uint8Array.from([...enc.encode(hdr + full), 0x01, 0x02, 7, 0xff, 0xff, 9, 0, 0, 255]);
  return [f32, i16];
}

describe('mutation fuzzing of the readers', () => {
  it('NPY: every mutant parses consistently or throws a FormatError', () => {
    const seeds = [
      encodeNpy([3, 4], Float32Array.from({ length: 12 }, (_, i) => i)),
      encodeNpy([5], new Float64Array(5).fill(0.5)),
      encodeNpy([2, 2, 2], new Int32Array(8).fill(-3)),
      encodeNpy([6], new Uint8Array(6).fill(1)),
      encodeNpy([40, 8], Float32Array.from({ length: 320 }, (_, i) => Math.sqrt(i))),
      enc.encode("\x93NUMPY\x02\x00\x3c\x00\x00\x00{'descr': '>u2', 'fortran_order': False, 'shape': (2,), }      \n\x00\x01\x00\x02"),
    ];
    const { ok, rejected } = fuzz(seeds, 2000, 11, /(?:\(|, |'descr': '[<>|]?[a-z])(\d+)/g, (b) => {
      const a = parseNpy(b, 'fz.npy');
      expect(a.data.length).toBe(a.shape.reduce((x, y) => x * y, 1));
    });
    // Most NPY mutants break the strict size check; the parsed ones show the success path is exercised.
    expect(ok).toBeGreaterThan(40);
    expect(rejected).toBeGreaterThan(500);
  });

  it('CSV: every mutant parses consistently or throws a FormatError', () => {
    const seeds = [
      enc.encode('FSC,SSC,FL\n1,2.5,-3e2\n.5,4,1E-3\nnan,inf,7\n'),
      enc.encode('"a ""q""";b\n1,5;2\n3;4\n'),
      enc.encode('# comment\n1\t2\t3\n4\t5\t6\n'),
    ];
    const { ok, rejected } = fuzz(seeds, 2000, 12, /[,;\t\n](\d+)/g, (b) => {
      const m = parseCsv(new TextDecoder('utf-8').decode(b), 'fz.csv');
      expect(m.data.length).toBe(m.rows * m.cols);
      if (m.columns) expect(m.columns.length).toBe(m.cols);
    });
    expect(ok).toBeGreaterThan(100);
    expect(rejected).toBeGreaterThan(300);
  });

  it('FCS: every mutant parses consistently or throws a FormatError', () => {
    const { ok, rejected } = fuzz(fcsSeeds(), 3000, 13, /(?:^FCS3\.\d {4}(?: {0,7})| +|[/|])(\d+)/g, (b) => {
      const f = parseFcs(b, 'fz.fcs');
      expect(f.parameters.length).toBeGreaterThan(0);
      expect(f.data.length).toBe(f.events * f.parameters.length);
    });
    expect(ok).toBeGreaterThan(50);
    expect(rejected).toBeGreaterThan(500);
  });

  it('FCS streaming reader agrees with parseFcs on mutants (same result or both reject)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fuzz-'));
    const rng = new Rng(14);
    const seeds = fcsSeeds();
    let compared = 0;
    for (let i = 0; i < 400; i++) {
      const input = mutate(seeds[rng.int(seeds.length)]!, rng, /[/|](\d+)/g);
      const path = join(dir, 'fz.fcs');
      writeFileSync(path, input);
      let whole: Float32Array | Error;
      try { whole = parseFcs(input, path).data; } catch (e) { whole = e as Error; }
      const got: number[] = [];
      let streamed: number[] | Error;
      try {
        await streamFcsEvents(path, (c) => { got.push(...c); }, 1 + rng.int(4));
        streamed = got;
      } catch (e) { streamed = e as Error; }
      if (whole instanceof Error || streamed instanceof Error) {
        expect(streamed instanceof Error && whole instanceof Error, `case ${i}: ${String(whole)} vs ${String(streamed)}`).toBe(true);
        expect(streamed).toBeInstanceOf(FormatError);
        expect((streamed as Error).message).toBe((whole as Error).message);
      } else {
        expect(streamed).toEqual(Array.from(whole));
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(10);
  });
});
