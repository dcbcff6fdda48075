// Differential fuzzing harness (issue 24), shared by test/fuzz-differential.test.ts (a few hundred
// mutants per format in CI) and scripts/fuzz.ts (`npm run fuzz`, ≥ 10,000 per format).
//
// Each mutant of a real file goes to the project's reader AND to an independent decoder written
// for the tests (test/helpers/fuzz-oracle-*.ts). Outcomes:
//   agreed     both accept and read exactly the same values, or both reject (the reader with a
//              FormatError that names the file);
//   stricter   the reader rejects with a FormatError what the oracle accepts (allowed, counted);
//   foreign    the reader throws anything but a FormatError naming the file (a failure);
//   misread    the reader accepts what the oracle rejects, or reads different values (a failure);
//   overAlloc  the reader's ArrayBuffer memory grew by more than ALLOC_FACTOR × file size +
//              ALLOC_SLACK during the call (a failure).
// Allocation is probed with process.memoryUsage().arrayBuffers before and after the (synchronous)
// read: every reader keeps its bulk data in typed arrays, so a lying header that were trusted shows
// up there (or as a RangeError from a failed allocation, which counts as foreign).
import { FormatError } from '../../bindings/io/errors.js';
import { Rng } from '../../bindings/simulate/rng.js';

/** Documented bound: a reader may allocate at most this multiple of the file size (+ slack). */
export const ALLOC_FACTOR = 16;
export const ALLOC_SLACK = 1 << 20;

export const SOURCE = 'fz.bin';

/** What an oracle says about a file: the values it reads, or why it refuses it. */
export type OracleResult = { ok: true; value: unknown } | { ok: false; why: string };

export interface Target {
  /** Reads the mutant with the project's code (synchronously, so the allocation probe is exact). */
  read(bytes: Uint8Array): unknown;
  /** The independent decoder. */
  oracle(bytes: Uint8Array): OracleResult;
  /** Compares the reader's result with the oracle's value; returns a description of a difference. */
  compare(got: unknown, want: unknown): string | null;
}

export interface Counts {
  mutants: number;
  agreed: number;
  acceptedAgreed: number;
  stricter: number;
  foreign: number;
  misread: number;
  overAlloc: number;
  maxAllocRatio: number;
}

export interface Failure { kind: 'foreign' | 'misread' | 'overAlloc'; detail: string; input: string }

const enc = new TextEncoder();
const latin1 = new TextDecoder('latin1');

/** One random mutation of `src` (a fresh array). `numeric` finds numbers worth lying about. */
export function mutate(src: Uint8Array, rng: Rng, numeric: RegExp | null): Uint8Array {
  const b = new Uint8Array(src);
  const pos = () => rng.int(Math.max(1, b.length));
  const splice = (at: number, del: number, ins: ArrayLike<number>) => {
    const out = new Uint8Array(b.length - Math.min(del, b.length - at) + ins.length);
    out.set(b.subarray(0, at));
    out.set(ins, at);
    out.set(b.subarray(at + del), at + ins.length);
    return out;
  };
  switch (rng.int(9)) {
    case 0: { // bit flips
      const n = 1 + rng.int(8);
      for (let i = 0; i < n; i++) b[pos()] ^= 1 << rng.int(8);
      return b;
    }
    case 1: return b.subarray(0, pos()); // truncation
    case 2: { // random bytes over a random range
      const at = pos();
      for (let i = at; i < Math.min(b.length, at + 1 + rng.int(16)); i++) b[i] = rng.int(256);
      return b;
    }
    case 3: return splice(pos(), 0, Uint8Array.from({ length: 1 + rng.int(8) }, () => rng.int(256))); // insertion
    case 4: return splice(pos(), 1 + rng.int(8), []); // deletion
    case 5: { // a lying number: replace one by an extreme or nearby value
      if (!numeric) return b;
      const text = latin1.decode(b.subarray(0, Math.min(b.length, 4096)));
      const hits = [...text.matchAll(numeric)];
      if (hits.length === 0) return b;
      const h = hits[rng.int(hits.length)]!;
      const old = Number(h[1]);
      const lies = ['0', '1', '-1', '99999999', '4294967295', '18446744073709551616', '1e308', '2147483648', '9007199254740993', String(old + 1), String(old - 1), String(old + 4), String(old * 2), 'x'];
      const lie = lies[rng.int(lies.length)]!;
      const start = h.index! + h[0].length - h[1]!.length;
      return splice(start, h[1]!.length, enc.encode(lie));
    }
    case 6: return Uint8Array.from({ length: rng.int(200) }, () => rng.int(256)); // noise
    case 7: { // a structural token inserted: quote, delimiter, bracket, newline
      const tokens = ['"', ',', ';', '\t', '\n', '\r', '(', ')', '[', ']', '{', '}', '/', '|', '#', ' ', '__proto__', '"__proto__"'];
      return splice(pos(), rng.int(2), enc.encode(tokens[rng.int(tokens.length)]!));
    }
    default: { // duplicate a slice (repeats lines, keywords, records)
      const at = pos();
      const len = 1 + rng.int(40);
      return splice(at + len, 0, b.slice(at, at + len));
    }
  }
}

function arrayBuffers(): number {
  return process.memoryUsage().arrayBuffers;
}

/** Runs `cases` mutants of `seeds` through `t`; counts every outcome, keeps the first failures. */
export function runFuzz(t: Target, seeds: Uint8Array[], cases: number, seed: number, numeric: RegExp | null, extra?: (rng: Rng) => Uint8Array | null): { counts: Counts; failures: Failure[] } {
  const rng = new Rng(seed);
  const c: Counts = { mutants: 0, agreed: 0, acceptedAgreed: 0, stricter: 0, foreign: 0, misread: 0, overAlloc: 0, maxAllocRatio: 0 };
  const failures: Failure[] = [];
  const fail = (kind: Failure['kind'], detail: string, input: Uint8Array) => {
    c[kind]++;
    if (failures.length < 20 || (kind !== "foreign" && failures.filter((f) => f.kind === kind).length < 10)) failures.push({ kind, detail, input: Buffer.from(input.subarray(0, 4096)).toString('base64') });
  };
  for (let i = 0; i < cases; i++) {
    let input: Uint8Array | null = extra && rng.uniform() < 0.5 ? extra(rng) : null;
    if (!input) {
      input = seeds[rng.int(seeds.length)]!;
      const rounds = rng.uniform() < 0.6 ? 1 : 2 + rng.int(2);
      for (let r = 0; r < rounds; r++) input = mutate(input, rng, numeric);
    }
    c.mutants++;
    const before = arrayBuffers();
    let got: unknown;
    let err: unknown = null;
    try {
      got = t.read(input);
    } catch (e) {
      err = e;
    }
    const grew = arrayBuffers() - before;
    c.maxAllocRatio = Math.max(c.maxAllocRatio, grew / Math.max(1, input.length));
    if (grew > ALLOC_FACTOR * input.length + ALLOC_SLACK) fail('overAlloc', `case ${i}: ${grew} bytes for a ${input.length}-byte file`, input);
    const want = t.oracle(input);
    if (err !== null) {
      const named = err instanceof FormatError && err.source === SOURCE && err.message.startsWith(SOURCE);
      if (!named) fail('foreign', `case ${i}: ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`, input);
      else if (want.ok) c.stricter++;
      else c.agreed++;
      continue;
    }
    if (!want.ok) {
      fail('misread', `case ${i}: the reader accepted a file the oracle refuses (${want.why})`, input);
      continue;
    }
    const diff = t.compare(got, want.value);
    if (diff) fail('misread', `case ${i}: ${diff}`, input);
    else { c.agreed++; c.acceptedAgreed++; }
  }
  return { counts: c, failures };
}

/** Element-wise comparison of two numeric sequences (Object.is: NaN = NaN, 0 ≠ −0). */
export function sameValues(got: ArrayLike<number>, want: ArrayLike<number>, what: string): string | null {
  if (got.length !== want.length) return `${what}: ${got.length} values, oracle ${want.length}`;
  for (let i = 0; i < got.length; i++) {
    if (!Object.is(got[i], want[i])) return `${what}[${i}]: ${got[i]}, oracle ${want[i]}`;
  }
  return null;
}

export function sameJson(got: unknown, want: unknown, what: string): string | null {
  const a = JSON.stringify(got);
  const b = JSON.stringify(want);
  return a === b ? null : `${what}: ${a?.slice(0, 120)} vs oracle ${b?.slice(0, 120)}`;
}
