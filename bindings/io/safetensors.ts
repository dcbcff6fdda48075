// Model files in the safetensors format (the layout Hugging Face's `safetensors` reads):
//   [8 bytes: header length N, unsigned little-endian]
//   [N bytes: UTF-8 JSON header, padded with spaces to a multiple of 8]
//   [data buffer: the tensors' raw little-endian bytes, back to back]
// The header maps each tensor name to {dtype, shape, data_offsets: [begin, end]} (offsets relative
// to the data buffer) plus an optional "__metadata__" map of string → string.
//
// hemaclust writes only F32 tensors, sorted by name, contiguous with no gaps, and adds to the
// metadata two CRC-32s: "hemaclust.crc32" of the data buffer (read by earlier versions) and
// "hemaclust.crc32.file" of the canonical header (tensor table and metadata, see canonicalHeader)
// followed by the data buffer, so an altered byte in a tensor, a shape or a metadata string (a
// model's architecture) is caught on load. Loading verifies everything the format implies: header
// length within the file and at most MAX_HEADER_BYTES, JSON object, known dtype, integer shape
// within MAX_TENSOR_ELEMENTS, offsets in range, sized exactly by the shape, not overlapping, the
// buffer covered with no holes, and the total length. Keys from the file (tensor names, metadata
// keys, "__proto__" included) land in null-prototype objects. Each error is a FormatError naming the
// file, the byte and what was expected. Decoding allocates at most the data buffer's size for the
// tensors (F64 is narrowed to F32) plus the parsed JSON header.
//
// Tensor names written by the models (see bindings/models/serialize.ts) follow PyTorch's
// nn.Linear: `encoder.0.weight` is [out, in] and `encoder.0.bias` is [out]. Our gemm layer keeps
// W as [in, out] (y = x·W), so the model code transposes on save and load; PyTorch can load the
// file with `safetensors.torch.load_file(path)` and `nn.Linear.load_state_dict` as is.

import { FormatError, type Where } from './errors.js';

export type SafeDType = 'F32' | 'F64' | 'I32';
const DTYPE_BYTES = new Map<string, number>([['F32', 4], ['F64', 8], ['I32', 4]]);

/** Largest JSON header accepted (our models' headers are a few KB; the format's own cap is 100 MB). */
export const MAX_HEADER_BYTES = 16 * 1024 * 1024;
/** Largest tensor rank, and largest element count along the non-empty dimensions of any tensor. */
export const MAX_TENSOR_RANK = 16;
export const MAX_TENSOR_ELEMENTS = 2 ** 31 - 1;

export interface NamedTensor {
  shape: number[];
  data: Float32Array;
}

export interface SafetensorsContent {
  /** Null-prototype object: a tensor may be named "__proto__". */
  tensors: Record<string, NamedTensor>;
  /** Null-prototype object, without the checksum keys. */
  metadata: Record<string, string>;
  /** Which checksums the file carried (each was verified): data only, or header + data. */
  checksums: { data: boolean; file: boolean };
}

/** A malformed safetensors file (a FormatError, so callers and the server treat all readers alike). */
export class SafetensorsError extends FormatError {
  constructor(source: string, message: string, where: Where = null) {
    super(source, where, message);
    this.name = 'SafetensorsError';
  }
}

// ---- CRC-32 (IEEE 802.3 polynomial, reflected 0xEDB88320), table-driven -----------------------
let crcTable: Uint32Array | null = null;
/** CRC-32 of `bytes`; pass a previous result as `crc` to continue over a second buffer. */
export function crc32(bytes: Uint8Array, crc = 0): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = (crc ^ 0xffffffff) >>> 0;
  for (let i = 0; i < bytes.length; i++) c = crcTable[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const CRC_KEY = 'hemaclust.crc32';
const FILE_CRC_KEY = 'hemaclust.crc32.file';
const hex8 = (x: number) => x.toString(16).padStart(8, '0');
const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

interface TableEntry { name: string; dtype: string; shape: number[]; begin: number; end: number }

/**
 * The header's content in one canonical form, independent of key order and whitespace: the tensor
 * table sorted by name, then the metadata sorted by key without the checksum keys. The file
 * checksum covers these bytes followed by the data buffer.
 */
export function canonicalHeader(table: readonly TableEntry[], metadata: ReadonlyMap<string, string> | Record<string, string>): Uint8Array {
  const meta = (metadata instanceof Map ? [...metadata] : Object.entries(metadata)).filter(([k]) => k !== CRC_KEY && k !== FILE_CRC_KEY).sort((a, b) => byName(a[0], b[0]));
  const tab = [...table].sort((a, b) => byName(a.name, b.name)).map((e) => [e.name, e.dtype, e.shape, e.begin, e.end]);
  return new TextEncoder().encode(JSON.stringify(['hemaclust-safetensors-header/1', tab, meta]));
}

/** Serialises tensors (F32) and string metadata to safetensors bytes. */
export function encodeSafetensors(tensors: Record<string, NamedTensor>, metadata: Record<string, string> = {}): Uint8Array {
  const names = Object.keys(tensors).sort(byName);
  const header: Record<string, unknown> = Object.create(null);
  const table: TableEntry[] = [];
  let offset = 0;
  for (const name of names) {
    if (name === '__metadata__') throw new Error('encodeSafetensors: "__metadata__" is reserved');
    const { shape, data } = tensors[name]!;
    const count = shape.reduce((a, b) => a * b, 1);
    if (!shape.every((d) => Number.isInteger(d) && d >= 0) || count !== data.length) {
      throw new Error(`encodeSafetensors: tensor '${name}' has shape [${shape}] but ${data.length} values`);
    }
    header[name] = { dtype: 'F32', shape, data_offsets: [offset, offset + data.length * 4] };
    table.push({ name, dtype: 'F32', shape, begin: offset, end: offset + data.length * 4 });
    offset += data.length * 4;
  }
  const buffer = new Uint8Array(offset);
  const view = new DataView(buffer.buffer);
  let at = 0;
  for (const name of names) {
    for (const v of tensors[name]!.data) {
      view.setFloat32(at, v, true);
      at += 4;
    }
  }
  const meta: Record<string, string> = Object.create(null);
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== 'string') throw new Error(`encodeSafetensors: metadata '${k}' must be a string`);
    if (k === CRC_KEY || k === FILE_CRC_KEY) throw new Error(`encodeSafetensors: metadata key '${k}' is written by the encoder`);
    meta[k] = v;
  }
  meta[CRC_KEY] = hex8(crc32(buffer));
  meta[FILE_CRC_KEY] = hex8(crc32(buffer, crc32(canonicalHeader(table, meta))));
  header.__metadata__ = meta;
  let json = JSON.stringify(header);
  const enc = new TextEncoder();
  let headerBytes = enc.encode(json);
  const pad = (8 - (headerBytes.length % 8)) % 8; // keep the data 8-byte aligned
  if (pad) headerBytes = enc.encode((json += ' '.repeat(pad)));
  const out = new Uint8Array(8 + headerBytes.length + buffer.length);
  const ov = new DataView(out.buffer);
  ov.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  out.set(buffer, 8 + headerBytes.length);
  return out;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Parses and verifies safetensors bytes; `source` (a file name) prefixes every error. */
export function decodeSafetensors(bytes: Uint8Array, source = 'safetensors'): SafetensorsContent {
  const fail = (m: string, byte: number | null = 8): never => {
    throw new SafetensorsError(source, m, byte === null ? null : { byte });
  };
  if (bytes.length < 8) fail(`file is ${bytes.length} bytes, too short for the 8-byte header length (truncated?)`, 0);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen64 = dv.getBigUint64(0, true);
  if (headerLen64 > BigInt(bytes.length - 8)) fail(`header length ${headerLen64} exceeds the file size ${bytes.length} (truncated or not a safetensors file)`, 0);
  if (headerLen64 > BigInt(MAX_HEADER_BYTES)) fail(`header length ${headerLen64} exceeds the ${MAX_HEADER_BYTES}-byte limit`, 0);
  const headerLen = Number(headerLen64);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen)));
  } catch (e) {
    fail(`header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (!isObject(header)) return fail('header is not a JSON object');
  const dataStart = 8 + headerLen;
  const dataLen = bytes.length - dataStart;

  // JSON.parse keeps a "__proto__" key as an own property; copying it into a plain object by
  // assignment would set that object's prototype instead, so every copy goes to a Map first.
  const metaMap = new Map<string, string>();
  if (Object.hasOwn(header, '__metadata__')) {
    const m = header.__metadata__;
    if (!isObject(m)) fail('__metadata__ must be an object of strings');
    for (const [k, v] of Object.entries(m as Record<string, unknown>)) {
      if (typeof v !== 'string') fail(`__metadata__ value '${k}' is not a string`);
      metaMap.set(k, v as string);
    }
  }

  const entries: TableEntry[] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name !== '__metadata__') entries.push(tableEntry(name, raw, { dataStart, dataLen, fileLen: bytes.length }, fail));
  }
  checkTiling(entries, { dataStart, dataLen, fileLen: bytes.length }, fail);

  const buffer = bytes.subarray(dataStart);
  const dataCrc = metaMap.get(CRC_KEY);
  if (dataCrc !== undefined && dataCrc !== hex8(crc32(buffer))) {
    fail(`data checksum mismatch (stored crc32 ${dataCrc}, computed ${hex8(crc32(buffer))}): the file was altered or damaged`, dataStart);
  }
  const fileCrc = metaMap.get(FILE_CRC_KEY);
  if (fileCrc !== undefined) {
    const got = hex8(crc32(buffer, crc32(canonicalHeader(entries, metaMap))));
    if (fileCrc !== got) fail(`header checksum mismatch (stored ${FILE_CRC_KEY} ${fileCrc}, computed ${got}): a shape, offset or metadata value was altered`);
  }
  const tensors = readTensors(buffer, entries);
  const metadata: Record<string, string> = Object.create(null);
  for (const [k, v] of metaMap) if (k !== CRC_KEY && k !== FILE_CRC_KEY) metadata[k] = v;
  return { tensors, metadata, checksums: { data: dataCrc !== undefined, file: fileCrc !== undefined } };
}

type Fail = (m: string, byte?: number | null) => never;
/** Where the data buffer lies in the file. */
interface Extent {
  dataStart: number;
  dataLen: number;
  fileLen: number;
}

/** One tensor's header entry, validated: dtype, shape within limits, offsets inside the buffer and
 *  exactly as long as dtype × shape needs. */
function tableEntry(name: string, raw: unknown, x: Extent, fail: Fail): TableEntry {
  if (!isObject(raw)) return fail(`tensor '${name}' has no description object`);
  const t = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
  const item = typeof t.dtype === 'string' ? DTYPE_BYTES.get(t.dtype) : undefined;
  if (item === undefined) fail(`tensor '${name}' has unsupported dtype ${JSON.stringify(t.dtype)} (expected F32, F64 or I32)`);
  if (!Array.isArray(t.shape) || t.shape.length > MAX_TENSOR_RANK || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    fail(`tensor '${name}' has an invalid shape ${JSON.stringify(t.shape)?.slice(0, 80)} (expected at most ${MAX_TENSOR_RANK} non-negative integers)`);
  }
  const shape = t.shape as number[];
  let extent = 1;
  for (const d of shape) {
    if (d > MAX_TENSOR_ELEMENTS || (d > 0 && extent * d > MAX_TENSOR_ELEMENTS)) fail(`tensor '${name}' shape [${shape}] declares more than ${MAX_TENSOR_ELEMENTS} elements`);
    if (d > 0) extent *= d;
  }
  const count = shape.includes(0) ? 0 : extent;
  const off = t.data_offsets;
  if (!Array.isArray(off) || off.length !== 2 || !off.every((o) => Number.isSafeInteger(o) && o >= 0)) {
    fail(`tensor '${name}' has invalid data_offsets ${JSON.stringify(off)?.slice(0, 80)} (expected [begin, end], non-negative integers)`);
  }
  const [begin, end] = off as number[];
  if (end! < begin!) fail(`tensor '${name}' has data_offsets [${begin}, ${end}] with end before begin`);
  if (end! > x.dataLen) fail(`tensor '${name}' data_offsets [${begin}, ${end}] run past the data buffer of ${x.dataLen} bytes (truncated file?)`, x.fileLen);
  const want = count * item!;
  if (end! - begin! !== want) fail(`tensor '${name}' occupies ${end! - begin!} bytes but ${t.dtype}[${shape}] needs ${want}`, x.dataStart + begin!);
  return { name, dtype: t.dtype as string, shape, begin: begin!, end: end! };
}

/** The format requires the tensors to tile the buffer exactly: sorted by offset, no overlap, no hole
 *  (sorts `entries` by offset). */
function checkTiling(entries: TableEntry[], x: Extent, fail: Fail): void {
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const e of entries) {
    if (e.begin < cursor) fail(`tensor '${e.name}' overlaps the previous tensor (offset ${e.begin} < ${cursor})`, x.dataStart + e.begin);
    if (e.begin > cursor) fail(`gap in the data buffer before tensor '${e.name}' (bytes ${cursor}..${e.begin})`, x.dataStart + cursor);
    cursor = e.end;
  }
  if (cursor !== x.dataLen) fail(`file length ${x.fileLen} does not match the header (expected ${x.dataStart + cursor} bytes)`, x.dataStart + cursor);
}

/** Every tensor of the (validated) table as float32, whatever its stored dtype. */
function readTensors(buffer: Uint8Array, entries: TableEntry[]): Record<string, NamedTensor> {
  const bv = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const tensors: Record<string, NamedTensor> = Object.create(null);
  for (const e of entries) {
    const item = DTYPE_BYTES.get(e.dtype)!;
    const count = (e.end - e.begin) / item;
    const data = new Float32Array(count);
    for (let i = 0; i < count; i++) {
      const p = e.begin + i * item;
      data[i] = e.dtype === 'F32' ? bv.getFloat32(p, true) : e.dtype === 'F64' ? bv.getFloat64(p, true) : bv.getInt32(p, true);
    }
    tensors[e.name] = { shape: e.shape, data };
  }
  return tensors;
}

/** Writes atomically (bindings/io/atomic.ts: a temporary file beside the target, then rename). */
export async function writeSafetensorsFile(path: string, tensors: Record<string, NamedTensor>, metadata: Record<string, string> = {}): Promise<void> {
  const bytes = encodeSafetensors(tensors, metadata);
  const { writeFileAtomic } = await import('./atomic.js');
  try {
    await writeFileAtomic(path, bytes);
  } catch (e) {
    throw new Error(`${path}: could not write model file (${(e as Error).message})`);
  }
}

export async function readSafetensorsFile(path: string): Promise<SafetensorsContent> {
  const fs = await import('node:fs/promises');
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(path);
  } catch (e) {
    throw new SafetensorsError(path, `cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return decodeSafetensors(bytes, path);
}
