// Independent .npy decoder for differential fuzzing (not the reader's code, written from the
// format description in numpy/lib/format.py): a regex tokenizer over the header, a flat grammar
// (a dict of string keys whose values are strings, booleans, None, integers or tuples/lists of
// those, nested at most 8 deep), then the limits bindings/io/npy.ts documents: exactly the keys
// descr/fortran_order/shape, rank ≤ 32, every dimension and the product of the non-zero ones
// ≤ 2^31 − 1, header ≤ 65,536 bytes, data exactly count × itemsize. Values are read with DataView.
import type { OracleResult } from './fuzz-harness.js';

const SIZES: Record<string, number> = { f2: 2, f4: 4, f8: 8, i1: 1, i2: 2, i4: 4, i8: 8, u1: 1, u2: 2, u4: 4, u8: 8, b1: 1 };
const LIMIT = 2 ** 31 - 1;

type V = string | boolean | null | bigint | V[];

function tokens(h: string): string[] | null {
  const out: string[] = [];
  // Whitespace as Python's tokenizer sees it in a header: space, \t \n \v \f \r (not U+00A0).
  const re = /[ \t\n\v\f\r]*(?:('[^']*'|"[^"]*")|(True|False|None)(?![\w.])|(-?\d{1,30}L?)(?![\w.])|([{}()[\]:,]))/y;
  let i = 0;
  while (i < h.length) {
    if (/^[ \t\n\v\f\r]*$/.test(h.slice(i))) break;
    re.lastIndex = i;
    const m = re.exec(h);
    if (!m) return null;
    out.push(m[1] ?? m[2] ?? m[3] ?? m[4]!);
    i = re.lastIndex;
  }
  return out;
}

function parseValue(t: string[], p: { i: number }, depth: number): V | undefined {
  const x = t[p.i++];
  if (x === undefined) return undefined;
  if (x === '(' || x === '[') {
    if (depth + 1 > 8) return undefined;
    const close = x === '(' ? ')' : ']';
    const items: V[] = [];
    if (t[p.i] === close) { p.i++; return items; }
    for (;;) {
      const v = parseValue(t, p, depth + 1);
      if (v === undefined) return undefined;
      items.push(v);
      const sep = t[p.i++];
      if (sep === close) return items;
      if (sep !== ',') return undefined;
      if (t[p.i] === close) { p.i++; return items; }
    }
  }
  if (x[0] === "'" || x[0] === '"') return x.slice(1, -1);
  if (x === 'True') return true;
  if (x === 'False') return false;
  if (x === 'None') return null;
  if (/^-?\d/.test(x)) return BigInt(x.replace('L', ''));
  return undefined;
}

export interface NpyOracleValue { shape: number[]; dtype: string; values: number[] | string[] }

export function npyOracle(b: Uint8Array): OracleResult {
  const no = (why: string): OracleResult => ({ ok: false, why });
  if (b.length < 10 || b[0] !== 0x93 || String.fromCharCode(...b.subarray(1, 6)) !== 'NUMPY') return no('magic');
  const major = b[6]!;
  let hlen: number, start: number;
  if (major === 1) { hlen = b[8]! + 256 * b[9]!; start = 10; }
  else if (major === 2 || major === 3) {
    if (b.length < 12) return no('short preamble');
    hlen = b[8]! + 256 * b[9]! + 65536 * b[10]! + 16777216 * b[11]!; start = 12;
  } else return no('version');
  if (hlen > 65536 || start + hlen > b.length) return no('header length');
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(b.subarray(start, start + hlen));
  const t = tokens(header);
  if (!t || t[0] !== '{') return no('header syntax');
  const dict = new Map<string, V>();
  const p = { i: 1 };
  while (t[p.i] !== '}') {
    const k = parseValue(t, p, 1);
    if (typeof k !== 'string' || t[p.i++] !== ':') return no('key');
    const v = parseValue(t, p, 1);
    if (v === undefined || dict.has(k)) return no('value or repeated key');
    dict.set(k, v);
    if (t[p.i] === ',') p.i++;
    else if (t[p.i] !== '}') return no('separator');
  }
  if (p.i !== t.length - 1) return no('trailing tokens');
  if (dict.size !== 3 || !dict.has('descr') || !dict.has('fortran_order') || !dict.has('shape')) return no('keys');
  const descr = dict.get('descr');
  const m = typeof descr === 'string' ? /^([<>|=]?)([fiub])(\d+)$/.exec(descr) : null;
  if (!m) return no('descr');
  const dtype = m[2] === 'b' ? (m[3] === '1' ? 'b1' : '') : m[2]! + m[3];
  if (!(dtype in SIZES)) return no('dtype');
  const fortran = dict.get('fortran_order');
  if (typeof fortran !== 'boolean') return no('fortran_order');
  const sv = dict.get('shape');
  if (!Array.isArray(sv) || !sv.every((d) => typeof d === 'bigint' && d >= 0n)) return no('shape');
  if (sv.length > 32) return no('rank');
  let extent = 1n;
  for (const d of sv as bigint[]) {
    if (d > BigInt(LIMIT)) return no('dim limit');
    if (d > 0n) extent *= d;
    if (extent > BigInt(LIMIT)) return no('extent limit');
  }
  const shape = (sv as bigint[]).map(Number);
  if (fortran && shape.filter((d) => d > 1).length > 1) return no('fortran');
  const count = shape.includes(0) ? 0 : Number(extent);
  const size = SIZES[dtype]!;
  const dataStart = start + hlen;
  if (b.length - dataStart !== count * size) return no('data length');
  const le = m[1] !== '>';
  const dv = new DataView(b.buffer, b.byteOffset + dataStart, count * size);
  const values: number[] | string[] = [];
  for (let i = 0; i < count; i++) {
    const o = i * size;
    switch (dtype) {
      case 'f2': (values as number[]).push(half(dv.getUint16(o, le))); break;
      case 'f4': (values as number[]).push(dv.getFloat32(o, le)); break;
      case 'f8': (values as number[]).push(dv.getFloat64(o, le)); break;
      case 'i1': (values as number[]).push(dv.getInt8(o)); break;
      case 'i2': (values as number[]).push(dv.getInt16(o, le)); break;
      case 'i4': (values as number[]).push(dv.getInt32(o, le)); break;
      case 'i8': (values as string[]).push(String(dv.getBigInt64(o, le))); break;
      case 'u1': case 'b1': (values as number[]).push(dv.getUint8(o)); break;
      case 'u2': (values as number[]).push(dv.getUint16(o, le)); break;
      case 'u4': (values as number[]).push(dv.getUint32(o, le)); break;
      case 'u8': (values as string[]).push(String(dv.getBigUint64(o, le))); break;
    }
  }
  return { ok: true, value: { shape, dtype, values } satisfies NpyOracleValue };
}

/** IEEE 754 binary16 → number, by arithmetic on the fields (subnormals, ±∞, NaN). */
function half(h: number): number {
  const s = h >> 15 ? -1 : 1;
  const e = (h >> 10) & 31;
  const f = h & 1023;
  if (e === 31) return f ? NaN : s * Infinity;
  return e === 0 ? s * f * 2 ** -24 : s * 2 ** (e - 15) * (1 + f / 1024);
}
