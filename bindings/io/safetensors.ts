// Model files in the safetensors format (the layout Hugging Face's `safetensors` reads):
//   [8 bytes: header length N, unsigned little-endian]
//   [N bytes: UTF-8 JSON header, padded with spaces to a multiple of 8]
//   [data buffer: the tensors' raw little-endian bytes, back to back]
// The header maps each tensor name to {dtype, shape, data_offsets: [begin, end]} (offsets relative
// to the data buffer) plus an optional "__metadata__" map of string → string.
//
// hemaclust writes only F32 tensors, sorted by name, contiguous with no gaps, and adds to the
// metadata a CRC-32 of the data buffer ("hemaclust.crc32") so an altered byte is caught on load.
// Loading verifies everything the format implies: header length within the file, JSON object,
// known dtype, integer shape, offsets in range, sized exactly by the shape, not overlapping, the
// buffer covered with no holes, and the total length. Each error names the file.
//
// Tensor names written by the models (see bindings/models/serialize.ts) follow PyTorch's
// nn.Linear: `encoder.0.weight` is [out, in] and `encoder.0.bias` is [out]. Our gemm layer keeps
// W as [in, out] (y = x·W), so the model code transposes on save and load; PyTorch can load the
// file with `safetensors.torch.load_file(path)` and `nn.Linear.load_state_dict` as is.

export type SafeDType = 'F32' | 'F64' | 'I32';
const DTYPE_BYTES: Record<SafeDType, number> = { F32: 4, F64: 8, I32: 4 };

export interface NamedTensor {
  shape: number[];
  data: Float32Array;
}

export interface SafetensorsContent {
  tensors: Record<string, NamedTensor>;
  metadata: Record<string, string>;
}

export class SafetensorsError extends Error {
  constructor(source: string, message: string) {
    super(`${source}: ${message}`);
    this.name = 'SafetensorsError';
  }
}

// ---- CRC-32 (IEEE 802.3 polynomial, reflected 0xEDB88320), table-driven -----------------------
let crcTable: Uint32Array | null = null;
export function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = crcTable[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

const CRC_KEY = 'hemaclust.crc32';
const hex8 = (x: number) => x.toString(16).padStart(8, '0');

/** Serialises tensors (F32) and string metadata to safetensors bytes. */
export function encodeSafetensors(tensors: Record<string, NamedTensor>, metadata: Record<string, string> = {}): Uint8Array {
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const name of names) {
    if (name === '__metadata__') throw new Error('encodeSafetensors: "__metadata__" is reserved');
    const { shape, data } = tensors[name];
    const count = shape.reduce((a, b) => a * b, 1);
    if (!shape.every((d) => Number.isInteger(d) && d >= 0) || count !== data.length) {
      throw new Error(`encodeSafetensors: tensor '${name}' has shape [${shape}] but ${data.length} values`);
    }
    header[name] = { dtype: 'F32', shape, data_offsets: [offset, offset + data.length * 4] };
    offset += data.length * 4;
  }
  const buffer = new Uint8Array(offset);
  const view = new DataView(buffer.buffer);
  let at = 0;
  for (const name of names) {
    for (const v of tensors[name].data) {
      view.setFloat32(at, v, true);
      at += 4;
    }
  }
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== 'string') throw new Error(`encodeSafetensors: metadata '${k}' must be a string`);
  }
  header.__metadata__ = { ...metadata, [CRC_KEY]: hex8(crc32(buffer)) };
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

/** Parses and verifies safetensors bytes; `source` (a file name) prefixes every error. */
export function decodeSafetensors(bytes: Uint8Array, source = 'safetensors'): SafetensorsContent {
  const fail = (m: string): never => {
    throw new SafetensorsError(source, m);
  };
  if (bytes.length < 8) fail(`file is ${bytes.length} bytes, too short for the 8-byte header length (truncated?)`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen64 = dv.getBigUint64(0, true);
  if (headerLen64 > BigInt(bytes.length - 8)) fail(`header length ${headerLen64} exceeds the file size ${bytes.length} (truncated or not a safetensors file)`);
  const headerLen = Number(headerLen64);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen)));
  } catch (e) {
    fail(`header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (!header || typeof header !== 'object' || Array.isArray(header)) fail('header is not a JSON object');
  const h = header as Record<string, unknown>;
  const dataStart = 8 + headerLen;
  const dataLen = bytes.length - dataStart;

  const metadata: Record<string, string> = {};
  if (h.__metadata__ !== undefined) {
    const m = h.__metadata__;
    if (!m || typeof m !== 'object' || Array.isArray(m)) fail('__metadata__ must be an object of strings');
    for (const [k, v] of Object.entries(m as Record<string, unknown>)) {
      if (typeof v !== 'string') fail(`__metadata__ value '${k}' is not a string`);
      metadata[k] = v as string;
    }
  }

  const entries: { name: string; dtype: SafeDType; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, raw] of Object.entries(h)) {
    if (name === '__metadata__') continue;
    const t = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (!t || typeof t !== 'object') fail(`tensor '${name}' has no description`);
    if (typeof t.dtype !== 'string' || !(t.dtype in DTYPE_BYTES)) fail(`tensor '${name}' has unsupported dtype ${JSON.stringify(t.dtype)} (expected F32, F64 or I32)`);
    const dtype = t.dtype as SafeDType;
    if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) fail(`tensor '${name}' has an invalid shape ${JSON.stringify(t.shape)}`);
    const shape = t.shape as number[];
    const off = t.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      fail(`tensor '${name}' has invalid data_offsets ${JSON.stringify(off)}`);
    }
    const [begin, end] = off as number[];
    if (end < begin) fail(`tensor '${name}' has data_offsets [${begin}, ${end}] with end before begin`);
    if (end > dataLen) fail(`tensor '${name}' data_offsets [${begin}, ${end}] run past the data buffer of ${dataLen} bytes (truncated file?)`);
    const want = shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[dtype];
    if (end - begin !== want) fail(`tensor '${name}' occupies ${end - begin} bytes but ${dtype}[${shape}] needs ${want}`);
    entries.push({ name, dtype, shape, begin, end });
  }
  // The format requires the tensors to tile the buffer exactly: sorted by offset, no overlap, no hole.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const e of entries) {
    if (e.begin < cursor) fail(`tensor '${e.name}' overlaps the previous tensor (offset ${e.begin} < ${cursor})`);
    if (e.begin > cursor) fail(`gap in the data buffer before tensor '${e.name}' (bytes ${cursor}..${e.begin})`);
    cursor = e.end;
  }
  if (cursor !== dataLen) fail(`file length ${bytes.length} does not match the header (expected ${dataStart + cursor} bytes)`);

  const buffer = bytes.subarray(dataStart);
  if (metadata[CRC_KEY] !== undefined && metadata[CRC_KEY] !== hex8(crc32(buffer))) {
    fail(`data checksum mismatch (stored crc32 ${metadata[CRC_KEY]}, computed ${hex8(crc32(buffer))}): the file was altered or damaged`);
  }
  const bv = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const tensors: Record<string, NamedTensor> = {};
  for (const e of entries) {
    const count = (e.end - e.begin) / DTYPE_BYTES[e.dtype];
    const data = new Float32Array(count);
    for (let i = 0; i < count; i++) {
      const p = e.begin + i * DTYPE_BYTES[e.dtype];
      data[i] = e.dtype === 'F32' ? bv.getFloat32(p, true) : e.dtype === 'F64' ? bv.getFloat64(p, true) : bv.getInt32(p, true);
    }
    tensors[e.name] = { shape: e.shape, data };
  }
  delete metadata[CRC_KEY];
  return { tensors, metadata };
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
