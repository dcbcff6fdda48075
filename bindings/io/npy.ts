// NumPy .npy reader/writer (format versions 1.0, 2.0, 3.0).
// Layout (numpy/lib/format.py documents it): magic "\x93NUMPY", major, minor, header length
// (uint16 LE in 1.0, uint32 LE in 2.0/3.0), then a Python dict literal such as
// {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), } padded with spaces and '\n',
// then the raw array bytes. 3.0 only differs from 2.0 by allowing UTF-8 in the header.
import { readFile } from 'node:fs/promises';
import { FormatError, preview } from './errors.js';
import { writeFileAtomic } from './atomic.js';

export type NpyDType = 'f2' | 'f4' | 'f8' | 'i1' | 'i2' | 'i4' | 'i8' | 'u1' | 'u2' | 'u4' | 'u8' | 'b1';
export type NpyData =
  | Float32Array | Float64Array | Int8Array | Int16Array | Int32Array | BigInt64Array
  | Uint8Array | Uint16Array | Uint32Array | BigUint64Array;

export interface NpyArray {
  shape: number[];
  /** Element type without byte order ('f2' is decoded to Float32Array). */
  dtype: NpyDType;
  /** Native-endian copy of the elements in C order; length = product(shape). */
  data: NpyData;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

const ITEM_SIZE: Record<NpyDType, number> = {
  f2: 2, f4: 4, f8: 8, i1: 1, i2: 2, i4: 4, i8: 8, u1: 1, u2: 2, u4: 4, u8: 8, b1: 1,
};

export function isNpy(bytes: Uint8Array): boolean {
  return bytes.length >= 6 && MAGIC.every((b, i) => bytes[i] === b);
}

// ---------- header dict (a tiny parser for the Python literal subset numpy writes) ----------

/**
 * Limits on what a header may declare, checked before anything is allocated from it:
 * - the header itself is at most MAX_NPY_HEADER_BYTES (numpy's own reader refuses more than
 *   10,000 bytes by default; only structured dtypes, which we refuse anyway, need more);
 * - literals nest at most MAX_NPY_NESTING deep (a dict holding a tuple is depth 2); the parser is
 *   iterative, so a deeper header is refused with a FormatError, never a stack overflow;
 * - at most MAX_NPY_RANK dimensions (numpy's own limit is 32 in 1.x, 64 in 2.x);
 * - every dimension, and the product of the non-zero dimensions, at most MAX_NPY_EXTENT (2^31 − 1),
 *   so that rows, columns and element counts derived from any sub-product are exact int32 values
 *   (an empty array may not declare 9e15 rows of nothing).
 * The element count × item size must then equal the data bytes, so decoding allocates at most the
 * file's data size (and toFloat32 at most 4× it, for 1-byte dtypes).
 */
export const MAX_NPY_HEADER_BYTES = 65536;
export const MAX_NPY_NESTING = 8;
export const MAX_NPY_RANK = 32;
export const MAX_NPY_EXTENT = 2 ** 31 - 1;

type PyValue = string | boolean | number | PyValue[] | null;

class HeaderParser {
  private i = 0;
  constructor(private readonly s: string, private readonly src: string, private readonly base: number) {}

  private fail(what: string): never {
    throw new FormatError(this.src, { byte: this.base + this.i }, `malformed .npy header: expected ${what}, found ${preview(this.s.slice(this.i, this.i + 20))}`);
  }
  private ws(): void {
    for (;;) {
      const c = this.s.charCodeAt(this.i);
      if (c === 0x20 || (c >= 0x09 && c <= 0x0d)) this.i++;
      else return;
    }
  }
  dict(): Map<string, PyValue> {
    const out = new Map<string, PyValue>();
    this.ws();
    if (this.s[this.i] !== '{') this.fail("'{'");
    this.i++;
    for (;;) {
      this.ws();
      if (this.s[this.i] === '}') { this.i++; break; }
      const keyAt = this.i;
      const key = this.value(1);
      if (typeof key !== 'string') { this.i = keyAt; this.fail('a quoted key'); }
      if (out.has(key)) { this.i = keyAt; this.fail(`no repeated key (${preview(key)} appears twice)`); }
      this.ws();
      if (this.s[this.i] !== ':') this.fail("':'");
      this.i++;
      out.set(key, this.value(1));
      this.ws();
      if (this.s[this.i] === ',') { this.i++; continue; }
      if (this.s[this.i] === '}') { this.i++; break; }
      this.fail("',' or '}'");
    }
    this.ws();
    if (this.i !== this.s.length) this.fail('end of header after the dict');
    return out;
  }
  /** One literal inside a container `depth` deep; tuples and lists use an explicit stack. */
  private value(depth: number): PyValue {
    const stack: { items: PyValue[]; close: string }[] = [];
    for (;;) {
      this.ws();
      let v: PyValue;
      const c = this.s[this.i];
      if (c === '(' || c === '[') {
        if (depth + stack.length + 1 > MAX_NPY_NESTING) this.fail(`at most ${MAX_NPY_NESTING} levels of nested tuples`);
        stack.push({ items: [], close: c === '(' ? ')' : ']' });
        this.i++;
        this.ws();
        const top = stack[stack.length - 1]!;
        if (this.s[this.i] !== top.close) continue; // parse the first item
        this.i++;
        stack.pop();
        v = top.items;
      } else {
        v = this.scalar();
      }
      // Close as many containers as this value completes.
      for (;;) {
        const top = stack[stack.length - 1];
        if (!top) return v;
        top.items.push(v);
        this.ws();
        if (this.s[this.i] === ',') {
          this.i++;
          this.ws();
          if (this.s[this.i] !== top.close) break; // another item follows
        } else if (this.s[this.i] !== top.close) {
          this.fail(`',' or '${top.close}'`);
        }
        this.i++;
        stack.pop();
        v = top.items;
      }
    }
  }
  private scalar(): PyValue {
    const c = this.s[this.i];
    if (c === "'" || c === '"') {
      const end = this.s.indexOf(c, this.i + 1);
      if (end < 0) this.fail('a closing quote');
      const v = this.s.slice(this.i + 1, end);
      this.i = end + 1;
      return v;
    }
    const m = /^(True|False|None|-?\d{1,30}L?)(?![\w.])/.exec(this.s.slice(this.i, this.i + 40));
    if (!m) this.fail('a string, tuple, integer, True, False or None');
    this.i += m[0].length;
    if (m[0] === 'True') return true;
    if (m[0] === 'False') return false;
    if (m[0] === 'None') return null;
    return Number(m[0].replace('L', '')); // > 2^53 is inexact, but anything > MAX_NPY_EXTENT is refused
  }
}

// ---------- reading ----------

/** Parses the bytes of a .npy file. `source` names the file in error messages. */
export function parseNpy(bytes: Uint8Array, source = '<npy>'): NpyArray {
  if (bytes.length < 10) throw new FormatError(source, { byte: bytes.length }, `truncated .npy file: ${bytes.length} bytes, expected at least 10`);
  if (!isNpy(bytes)) throw new FormatError(source, { byte: 0 }, 'not a .npy file: expected the magic string \\x93NUMPY');
  const major = bytes[6]!;
  const minor = bytes[7]!;
  let headerLen: number;
  let headerStart: number;
  if (major === 1) {
    headerLen = bytes[8]! | (bytes[9]! << 8);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new FormatError(source, { byte: bytes.length }, `truncated .npy ${major}.${minor} preamble: expected 12 bytes`);
    headerLen = (bytes[8]! | (bytes[9]! << 8) | (bytes[10]! << 16)) + bytes[11]! * 2 ** 24;
    headerStart = 12;
  } else {
    throw new FormatError(source, { byte: 6 }, `unsupported .npy format version ${major}.${minor} (expected 1.0, 2.0 or 3.0)`);
  }
  if (headerLen > MAX_NPY_HEADER_BYTES) {
    throw new FormatError(source, { byte: 8 }, `header length ${headerLen} exceeds the ${MAX_NPY_HEADER_BYTES}-byte limit for a plain numeric array`);
  }
  const dataStart = headerStart + headerLen;
  if (dataStart > bytes.length) {
    throw new FormatError(source, { byte: 8 }, `header length ${headerLen} runs past the end of the file (${bytes.length} bytes)`);
  }
  const headerBytes = bytes.subarray(headerStart, dataStart);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(headerBytes);
  const dict = new HeaderParser(header, source, headerStart).dict();

  const descr = dict.get('descr');
  if (Array.isArray(descr)) throw new FormatError(source, { byte: headerStart }, 'structured (record) dtypes are not supported; expected a plain numeric descr such as \'<f4\'');
  if (typeof descr !== 'string') throw new FormatError(source, { byte: headerStart }, "header has no 'descr' string");
  const m = /^([<>|=]?)([fiub])(\d+)$/.exec(descr);
  const dtype = m ? ((m[2] === 'b' ? 'b1' : m[2]! + m[3]) as NpyDType) : null;
  if (!m || !dtype || !(dtype in ITEM_SIZE) || (m[2] === 'b' && m[3] !== '1')) {
    throw new FormatError(source, { byte: headerStart }, `unsupported dtype ${preview(descr)} (expected one of f2 f4 f8 i1 i2 i4 i8 u1 u2 u4 u8 b1 with byte order < > | =)`);
  }
  const bigEndian = m[1] === '>';

  const fortran = dict.get('fortran_order');
  if (typeof fortran !== 'boolean') throw new FormatError(source, { byte: headerStart }, "header has no boolean 'fortran_order'");
  const shapeV = dict.get('shape');
  if (!Array.isArray(shapeV) || !shapeV.every((d) => typeof d === 'number' && Number.isInteger(d) && d >= 0)) {
    throw new FormatError(source, { byte: headerStart }, "header 'shape' must be a tuple of non-negative integers");
  }
  for (const k of dict.keys()) {
    if (k !== 'descr' && k !== 'fortran_order' && k !== 'shape') throw new FormatError(source, { byte: headerStart }, `unexpected header key ${preview(k)}: a .npy header holds exactly 'descr', 'fortran_order' and 'shape'`);
  }
  const shape = shapeV as number[];
  // A Fortran-ordered array of rank ≤ 1 (or with at most one dim > 1) has the same bytes as C order.
  if (fortran && shape.filter((d) => d > 1).length > 1) {
    throw new FormatError(source, { byte: headerStart }, 'Fortran-ordered (column-major) arrays are not supported; save with np.ascontiguousarray(a) first');
  }

  if (shape.length > MAX_NPY_RANK) throw new FormatError(source, { byte: headerStart }, `shape has ${shape.length} dimensions, more than the ${MAX_NPY_RANK} supported`);
  // Exact: every partial product of non-zero dims stays ≤ MAX_NPY_EXTENT < 2^53.
  let extent = 1;
  for (const d of shape) {
    if (d > MAX_NPY_EXTENT || (d > 0 && extent * d > MAX_NPY_EXTENT)) {
      throw new FormatError(source, { byte: headerStart }, `shape (${shape.join(', ')}) declares more than ${MAX_NPY_EXTENT} elements along its non-empty dimensions (expected every dimension and their product ≤ 2^31 − 1)`);
    }
    if (d > 0) extent *= d;
  }
  const item = ITEM_SIZE[dtype];
  const count = shape.includes(0) ? 0 : extent;
  const have = bytes.length - dataStart;
  if (count * item !== have) {
    throw new FormatError(source, { byte: dataStart }, `shape (${shape.join(', ')}) of ${descr} needs ${count * item} data bytes, file holds ${have}`);
  }
  return { shape, dtype, data: decode(bytes, dataStart, count, dtype, bigEndian) };
}

function decode(bytes: Uint8Array, off: number, n: number, dtype: NpyDType, bigEndian: boolean): NpyData {
  const item = ITEM_SIZE[dtype];
  // Copy into a fresh, aligned buffer; swap bytes when the file's order is not the host's.
  const buf = bytes.slice(off, off + n * item);
  if (bigEndian !== HOST_BIG_ENDIAN && item > 1) {
    for (let i = 0; i < buf.length; i += item) buf.subarray(i, i + item).reverse();
  }
  const ab = buf.buffer;
  switch (dtype) {
    case 'f2': return halfToFloat32(new Uint16Array(ab));
    case 'f4': return new Float32Array(ab);
    case 'f8': return new Float64Array(ab);
    case 'i1': return new Int8Array(ab);
    case 'i2': return new Int16Array(ab);
    case 'i4': return new Int32Array(ab);
    case 'i8': return new BigInt64Array(ab);
    case 'u1': case 'b1': return new Uint8Array(ab);
    case 'u2': return new Uint16Array(ab);
    case 'u4': return new Uint32Array(ab);
    case 'u8': return new BigUint64Array(ab);
  }
}

const HOST_BIG_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 0;

function halfToFloat32(h: Uint16Array): Float32Array {
  const out = new Float32Array(h.length);
  for (let i = 0; i < h.length; i++) {
    const v = h[i]!;
    const sign = v & 0x8000 ? -1 : 1;
    const exp = (v >> 10) & 0x1f;
    const frac = v & 0x3ff;
    out[i] = exp === 0 ? sign * frac * 2 ** -24 : exp === 31 ? (frac ? NaN : sign * Infinity) : sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return out;
}

/** The elements as float32 (int64 values beyond 2^24 lose precision, as any float32 would). */
export function toFloat32(a: NpyArray): Float32Array {
  if (a.data instanceof Float32Array) return a.data;
  const out = new Float32Array(a.data.length);
  const d = a.data;
  if (d instanceof BigInt64Array || d instanceof BigUint64Array) for (let i = 0; i < d.length; i++) out[i] = Number(d[i]!);
  else for (let i = 0; i < d.length; i++) out[i] = d[i]!;
  return out;
}

/** The elements as int32, for label arrays; any value that is not an int32 is an error. */
export function toInt32(a: NpyArray, source = '<npy>'): Int32Array {
  if (a.data instanceof Int32Array) return a.data;
  const out = new Int32Array(a.data.length);
  const d = a.data;
  for (let i = 0; i < d.length; i++) {
    const v = Number(d[i]!);
    if (!Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31) {
      throw new FormatError(source, null, `element ${i} (${v}) of a ${a.dtype} array is not an int32 label`);
    }
    out[i] = v;
  }
  return out;
}

export async function readNpyFile(path: string): Promise<NpyArray> {
  return parseNpy(new Uint8Array(await readFile(path)), path);
}

// ---------- writing ----------

export type NpyWritable = Float32Array | Float64Array | Int32Array | Uint8Array | Int8Array | Int16Array | Uint16Array | Uint32Array;

function descrOf(data: NpyWritable): string {
  if (data instanceof Float32Array) return '<f4';
  if (data instanceof Float64Array) return '<f8';
  if (data instanceof Int32Array) return '<i4';
  if (data instanceof Uint8Array) return '|u1';
  if (data instanceof Int8Array) return '|i1';
  if (data instanceof Int16Array) return '<i2';
  if (data instanceof Uint16Array) return '<u2';
  return '<u4';
}

/** Encodes a C-ordered little-endian .npy 1.0 file (header padded to a multiple of 64 bytes). */
export function encodeNpy(shape: number[], data: NpyWritable): Uint8Array {
  if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new Error(`encodeNpy: shape must hold non-negative integers, got [${shape.join(', ')}]`);
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new Error(`encodeNpy: shape [${shape.join(', ')}] holds ${count} elements but data has ${data.length}`);
  if (HOST_BIG_ENDIAN) throw new Error('encodeNpy: big-endian hosts are not supported');
  const shapeStr = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descrOf(data)}', 'fortran_order': False, 'shape': ${shapeStr}, }`;
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  if (header.length > 0xffff) throw new Error('encodeNpy: header too long for format 1.0');
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  out[8] = header.length & 0xff;
  out[9] = header.length >> 8;
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}

/** Writes a .npy file atomically (temp file + rename). */
export async function writeNpyFile(path: string, shape: number[], data: NpyWritable): Promise<void> {
  await writeFileAtomic(path, encodeNpy(shape, data));
}
