// Flow Cytometry Standard reader (FCS 3.0 and 3.1, list mode) and writer (FCS 3.1, float32).
// Spec: Spidlen et al., "Data File Standard for Flow Cytometry, version FCS 3.1", Cytometry A 77A
// (2010) 97–100, and the FCS 3.0 standard (Seamer et al., Cytometry 28 (1997) 118–122).
//
// File = HEADER (58 bytes: "FCS3.x", 4 spaces, six 8-char right-justified ASCII byte offsets for
// TEXT, DATA and ANALYSIS begin/end, inclusive) + TEXT (keyword/value pairs separated by a delimiter
// character, which is the segment's first byte; a delimiter inside a key or value is written twice)
// + DATA (events × parameters in $MODE L) + optional ANALYSIS. Offsets above 99,999,999 do not fit
// in the HEADER, which then holds 0 and TEXT's $BEGINDATA/$ENDDATA hold the real values.
//
// Every offset and count is checked against the file size and the other segments before DATA is
// read (fcs-segments.ts), so the events decoded are backed by DATA bytes: the float32 matrix costs
// at most 4 bytes per DATA byte (8-bit integer data), 1 for float32 data.
//
// What this reader returns is the raw value of every parameter as float32: $PnE log amplification
// and $PnG gain are reported in `text` but not applied (the models standardise features anyway).
import { open, readFile } from 'node:fs/promises';
import { FormatError, preview } from './errors.js';
import { byteOrder, FCS_HEADER_BYTES, resolveSegments, type HeaderOffsets, type Segment } from './fcs-segments.js';

export interface FcsParameter {
  /** $PnN, the short name. */
  name: string;
  /** $PnS, the long name, when present. */
  longName?: string;
  /** $PnB, bits per value. */
  bits: number;
  /** $PnR, the range. */
  range: number;
}

export interface FcsMeta {
  version: 'FCS3.0' | 'FCS3.1';
  /** Every keyword of the primary and supplemental TEXT, keys upper-cased. */
  text: Record<string, string>;
  parameters: FcsParameter[];
  events: number;
}

export interface FcsFile extends FcsMeta {
  /** events × parameters, row-major. */
  data: Float32Array;
}

const HEADER_BYTES = FCS_HEADER_BYTES;

interface Header extends HeaderOffsets {
  version: 'FCS3.0' | 'FCS3.1';
  textStart: number;
  textEnd: number;
}

/** Everything needed to decode DATA, derived from HEADER + TEXT and checked against the file size. */
interface Layout extends FcsMeta {
  datatype: 'F' | 'D' | 'I';
  littleEndian: boolean;
  /** Byte offset of the first event. */
  dataStart: number;
  rowBytes: number;
  /** Per parameter: byte width and (for I) the bit mask from $PnR. */
  widths: number[];
  masks: number[];
}

export function isFcs(bytes: Uint8Array): boolean {
  return bytes.length >= 6 && bytes[0] === 0x46 && bytes[1] === 0x43 && bytes[2] === 0x53; // "FCS"
}

// ---------- HEADER ----------

function parseHeader(h: Uint8Array, fileLength: number, source: string): Header {
  if (h.length < HEADER_BYTES) throw new FormatError(source, { byte: h.length }, `truncated FCS HEADER: expected ${HEADER_BYTES} bytes, file has ${fileLength}`);
  const ascii = (a: number, b: number) => String.fromCharCode(...h.subarray(a, b));
  const version = ascii(0, 6);
  if (!version.startsWith('FCS')) throw new FormatError(source, { byte: 0 }, `not an FCS file: expected 'FCS3.0' or 'FCS3.1', found ${preview(version)}`);
  if (version !== 'FCS3.0' && version !== 'FCS3.1') throw new FormatError(source, { byte: 0 }, `unsupported FCS version ${preview(version)}: expected FCS3.0 or FCS3.1`);
  const field = (k: number) => {
    const at = 10 + 8 * k;
    const s = ascii(at, at + 8);
    if (!/^ *\d* *$/.test(s)) throw new FormatError(source, { byte: at }, `HEADER offset field ${k + 1} must be an ASCII integer, found ${preview(s)}`);
    return s.trim() === '' ? 0 : Number(s);
  };
  const f = [0, 1, 2, 3, 4, 5].map(field);
  const [textStart, textEnd] = [f[0]!, f[1]!];
  if (textStart < HEADER_BYTES || textEnd <= textStart || textEnd >= fileLength) {
    throw new FormatError(source, { byte: 10 }, `TEXT segment offsets ${textStart}–${textEnd} are impossible for a file of ${fileLength} bytes (expected ${HEADER_BYTES} ≤ begin < end < file size)`);
  }
  return { version, textStart, textEnd, text: { begin: textStart, end: textEnd }, data: [f[2]!, f[3]!], analysis: [f[4]!, f[5]!] };
}

// ---------- TEXT ----------

/**
 * Parses one TEXT segment (`seg` holds its bytes, `base` its file offset) into `into`, a
 * null-prototype object (keys come from the file). The segment must end with its delimiter (a TEXT
 * whose end offset is off cuts the last value short); a keyword may appear once per segment, and
 * the primary TEXT wins over the supplemental one.
 */
function parseTextSegment(seg: Uint8Array, base: number, source: string, into: Record<string, string>): void {
  const delim = seg[0]!;
  if (delim === 0 || delim > 126) throw new FormatError(source, { byte: base }, `TEXT delimiter must be an ASCII character 1–126, found byte ${delim}`);
  const dec = new TextDecoder('utf-8');
  const tokens: { s: string; at: number }[] = [];
  let i = 1;
  const n = seg.length;
  while (i < n) {
    const at = i;
    const parts: Uint8Array[] = [];
    let runStart = i;
    while (i < n) {
      if (seg[i] === delim) {
        if (i + 1 < n && seg[i + 1] === delim) {
          // Doubled delimiter: a literal delimiter character inside the key or value.
          parts.push(seg.subarray(runStart, i + 1));
          i += 2;
          runStart = i;
          continue;
        }
        break;
      }
      i++;
    }
    parts.push(seg.subarray(runStart, i));
    if (i >= n) throw new FormatError(source, { byte: base + n - 1 }, `TEXT segment ends inside ${tokens.length % 2 ? 'a value' : 'a keyword'} (${preview(parts.map((p) => dec.decode(p)).join(''))}): expected the delimiter as its last byte, so the HEADER's TEXT end offset is wrong`);
    i++; // skip the closing delimiter
    tokens.push({ s: parts.map((p) => dec.decode(p)).join(''), at: base + at });
  }
  if (tokens.length % 2 !== 0) {
    const last = tokens[tokens.length - 1]!;
    throw new FormatError(source, { byte: last.at }, `TEXT keyword ${preview(last.s)} has no value (keys and values must alternate, each followed by the delimiter)`);
  }
  const seen = new Set<string>();
  for (let k = 0; k < tokens.length; k += 2) {
    const key = tokens[k]!.s.trim().toUpperCase();
    if (key === '') throw new FormatError(source, { byte: tokens[k]!.at }, 'empty TEXT keyword (an empty value written as two delimiters shifts every later pair)');
    if (seen.has(key)) throw new FormatError(source, { byte: tokens[k]!.at }, `TEXT keyword ${preview(key)} appears twice: expected each keyword once`);
    seen.add(key);
    if (!Object.hasOwn(into, key)) into[key] = tokens[k + 1]!.s;
  }
}

// ---------- keyword helpers ----------

function keywordReader(text: Record<string, string>, source: string, at: number) {
  const req = (k: string): string => {
    const v = text[k];
    if (v === undefined) throw new FormatError(source, { byte: at }, `missing required keyword ${k} in TEXT`);
    return v;
  };
  const int = (k: string, v = req(k)): number => {
    if (!/^\s*\d{1,15}\s*$/.test(v)) throw new FormatError(source, { byte: at }, `keyword ${k}: expected a non-negative integer, found ${preview(v)}`);
    return Number(v);
  };
  const num = (k: string, v = req(k)): number => {
    const x = Number(v.trim());
    if (v.trim() === '' || !Number.isFinite(x) || x < 0) throw new FormatError(source, { byte: at }, `keyword ${k}: expected a non-negative number, found ${preview(v)}`);
    return x;
  };
  return { req, int, num };
}

function layoutOf(h: Header, text: Record<string, string>, stext: Segment, fileLength: number, source: string): Layout {
  const at = h.textStart;
  const { req, int, num } = keywordReader(text, source, at);
  const datatype = req('$DATATYPE').trim().toUpperCase();
  if (datatype !== 'F' && datatype !== 'D' && datatype !== 'I') {
    throw new FormatError(source, { byte: at }, `unsupported $DATATYPE ${preview(datatype)}: expected F (float32), D (float64) or I (integer)`);
  }
  const mode = (text['$MODE'] ?? 'L').trim().toUpperCase();
  if (mode !== 'L') throw new FormatError(source, { byte: at }, `unsupported $MODE ${preview(mode)}: only list mode (L) is supported`);
  const events = int('$TOT');
  const par = int('$PAR');
  // Each parameter needs at least $PnN/$PnB/$PnR, so a $PAR larger than that is a lie: refuse it
  // before looping over it.
  if (par < 1 || par * 3 > Object.keys(text).length) {
    throw new FormatError(source, { byte: at }, `$PAR=${par} does not match TEXT, which holds ${Object.keys(text).length} keywords (expected 1 ≤ $PAR and $PnN, $PnB, $PnR for each)`);
  }
  const parameters: FcsParameter[] = [];
  const widths: number[] = [];
  const masks: number[] = [];
  for (let p = 1; p <= par; p++) {
    const name = req(`$P${p}N`).trim();
    const longName = text[`$P${p}S`]?.trim();
    const bits = int(`$P${p}B`);
    const range = num(`$P${p}R`);
    const okBits = datatype === 'F' ? bits === 32 : datatype === 'D' ? bits === 64 : bits === 8 || bits === 16 || bits === 32;
    if (!okBits) {
      const want = datatype === 'F' ? '32' : datatype === 'D' ? '64' : '8, 16 or 32';
      throw new FormatError(source, { byte: at }, `$P${p}B=${bits} is not supported with $DATATYPE ${datatype}: expected ${want}`);
    }
    // For integer data only the bits needed for $PnR count (FCS 3.1 §3.2.20): mask to the next
    // power of two at or above the range.
    let mask = bits === 32 ? 0xffffffff : 2 ** bits - 1;
    if (datatype === 'I' && range >= 2) {
      const need = Math.ceil(Math.log2(range));
      if (need < bits) mask = 2 ** need - 1;
    }
    parameters.push(longName ? { name, longName, bits, range } : { name, bits, range });
    widths.push(bits / 8);
    masks.push(mask);
  }
  const rowBytes = widths.reduce((a, b) => a + b, 0);
  const littleEndian = byteOrder(req('$BYTEORD'), Math.max(...widths), datatype, source, at);
  const { data: seg } = resolveSegments(h, text, stext, fileLength, source);
  const dataStart = seg ? seg.begin : 0;
  const need = events * rowBytes;
  const have = seg ? seg.end - seg.begin + 1 : 0;
  if (have < need) {
    throw new FormatError(source, { byte: dataStart }, `$TOT=${events} events × ${rowBytes} bytes per event need ${need} bytes, but the DATA segment holds ${have}`);
  }
  // One spare byte is tolerated: some writers give $ENDDATA as an exclusive end.
  if (have - need > 1) {
    throw new FormatError(source, { byte: dataStart }, `DATA segment holds ${have} bytes, more than the ${need} that $TOT=${events} events × ${rowBytes} bytes need (or one more): $TOT or the offsets are wrong`);
  }
  return { version: h.version, text, parameters, events, datatype, littleEndian, dataStart, rowBytes, widths, masks };
}

// ---------- DATA ----------

/** Decodes `rows` events from `bytes` (which starts at an event boundary) into a new Float32Array. */
function decodeRows(bytes: Uint8Array, rows: number, L: Layout): Float32Array {
  const par = L.parameters.length;
  const n = rows * par;
  if (L.datatype === 'F' && L.littleEndian === HOST_LITTLE_ENDIAN) {
    return new Float32Array(bytes.slice(0, n * 4).buffer);
  }
  const out = new Float32Array(n);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = L.littleEndian;
  if (L.datatype === 'F') {
    for (let i = 0; i < n; i++) out[i] = dv.getFloat32(i * 4, le);
  } else if (L.datatype === 'D') {
    for (let i = 0; i < n; i++) out[i] = dv.getFloat64(i * 8, le);
  } else {
    let off = 0;
    for (let r = 0; r < rows; r++) {
      for (let p = 0; p < par; p++) {
        const w = L.widths[p]!;
        const raw = w === 1 ? dv.getUint8(off) : w === 2 ? dv.getUint16(off, le) : dv.getUint32(off, le);
        out[r * par + p] = (raw & L.masks[p]!) >>> 0;
        off += w;
      }
    }
  }
  return out;
}

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function readSupplementalText(text: Record<string, string>, fileLength: number, source: string, h: Header): [number, number] | null {
  // (Overlap with the other segments is checked by resolveSegments once TEXT is complete.)
  const b = text['$BEGINSTEXT'];
  const e = text['$ENDSTEXT'];
  if (b === undefined || e === undefined) return null;
  const { int } = keywordReader(text, source, h.textStart);
  const s = int('$BEGINSTEXT');
  const t = int('$ENDSTEXT');
  if (s === 0 && t === 0) return null;
  if (s < HEADER_BYTES || t <= s || t >= fileLength) {
    throw new FormatError(source, { byte: h.textStart }, `supplemental TEXT offsets ${s}–${t} are impossible for a file of ${fileLength} bytes`);
  }
  return [s, t];
}

/** Parses a whole FCS 3.0/3.1 file held in memory. `source` names the file in error messages. */
export function parseFcs(bytes: Uint8Array, source = '<fcs>'): FcsFile {
  const h = parseHeader(bytes.subarray(0, HEADER_BYTES), bytes.length, source);
  const text: Record<string, string> = Object.create(null);
  parseTextSegment(bytes.subarray(h.textStart, h.textEnd + 1), h.textStart, source, text);
  const st = readSupplementalText(text, bytes.length, source, h);
  if (st) parseTextSegment(bytes.subarray(st[0], st[1] + 1), st[0], source, text);
  const L = layoutOf(h, text, st && { begin: st[0], end: st[1] }, bytes.length, source);
  const data = decodeRows(bytes.subarray(L.dataStart, L.dataStart + L.events * L.rowBytes), L.events, L);
  return { version: L.version, text: L.text, parameters: L.parameters, events: L.events, data };
}

export async function readFcsFile(path: string): Promise<FcsFile> {
  return parseFcs(new Uint8Array(await readFile(path)), path);
}

/** TEXT larger than this is refused by the streaming reader, which promises bounded memory. */
const MAX_STREAM_TEXT_BYTES = 64 * 1024 * 1024;

/**
 * Reads a (possibly huge) FCS file in chunks of `chunkRows` events, never holding the whole file:
 * memory is the TEXT segment plus one chunk. Each chunk is a fresh events × parameters Float32Array.
 * Resolves to the file's metadata after the last chunk.
 */
export async function streamFcsEvents(
  path: string,
  onChunk: (chunk: Float32Array, rows: number) => void | Promise<void>,
  chunkRows = 65536,
): Promise<FcsMeta> {
  if (!Number.isSafeInteger(chunkRows) || chunkRows < 1) throw new Error(`streamFcsEvents: chunkRows must be a positive integer, got ${chunkRows}`);
  const fh = await open(path, 'r');
  try {
    const fileLength = (await fh.stat()).size;
    const readAt = async (pos: number, len: number): Promise<Uint8Array> => {
      const buf = new Uint8Array(len);
      let got = 0;
      while (got < len) {
        const { bytesRead } = await fh.read(buf, got, len - got, pos + got);
        if (bytesRead === 0) throw new FormatError(path, { byte: pos + got }, `unexpected end of file: expected ${len - got} more bytes`);
        got += bytesRead;
      }
      return buf;
    };
    const h = parseHeader(await readAt(0, Math.min(HEADER_BYTES, fileLength)), fileLength, path);
    const readText = async (s: number, e: number, into: Record<string, string>) => {
      if (e - s + 1 > MAX_STREAM_TEXT_BYTES) throw new FormatError(path, { byte: s }, `TEXT segment of ${e - s + 1} bytes exceeds the streaming limit of ${MAX_STREAM_TEXT_BYTES}`);
      parseTextSegment(await readAt(s, e - s + 1), s, path, into);
    };
    const text: Record<string, string> = Object.create(null);
    await readText(h.textStart, h.textEnd, text);
    const st = readSupplementalText(text, fileLength, path, h);
    if (st) await readText(st[0], st[1], text);
    const L = layoutOf(h, text, st && { begin: st[0], end: st[1] }, fileLength, path);
    for (let r0 = 0; r0 < L.events; r0 += chunkRows) {
      const rows = Math.min(chunkRows, L.events - r0);
      const raw = await readAt(L.dataStart + r0 * L.rowBytes, rows * L.rowBytes);
      await onChunk(decodeRows(raw, rows, L), rows);
    }
    return { version: L.version, text: L.text, parameters: L.parameters, events: L.events };
  } finally {
    await fh.close();
  }
}

// ---------- writing ----------

export interface FcsWriteInput {
  /** Extra keywords ($CYT, $DATE, custom ones…). Keywords the writer owns are refused. */
  text?: Record<string, string>;
  parameters: { name: string; longName?: string; range?: number }[];
  /** events × parameters, row-major. */
  data: Float32Array;
  events: number;
}

/** Keywords computed by the writer; a caller may not set them. */
const OWNED = /^\$(BEGINANALYSIS|ENDANALYSIS|BEGINSTEXT|ENDSTEXT|BEGINDATA|ENDDATA|BYTEORD|DATATYPE|MODE|NEXTDATA|PAR|TOT|P\d+[NSBER])$/;

/** Encodes an FCS 3.1 file: list mode, $DATATYPE F, little-endian, '/' as the TEXT delimiter. */
export function encodeFcs(input: FcsWriteInput): Uint8Array {
  const { parameters, data, events } = input;
  const par = parameters.length;
  if (par < 1) throw new Error('encodeFcs: at least one parameter is required');
  if (!Number.isSafeInteger(events) || events < 0 || data.length !== events * par) {
    throw new Error(`encodeFcs: ${events} events × ${par} parameters need ${events * par} values, data has ${data.length}`);
  }
  const pairs: [string, string][] = [];
  for (const [k, v] of Object.entries(input.text ?? {})) {
    const key = k.toUpperCase();
    if (OWNED.test(key)) throw new Error(`encodeFcs: keyword ${key} is computed by the writer`);
    if (key.trim() === '') throw new Error('encodeFcs: empty keyword');
    pairs.push([key, v]);
  }
  pairs.push(['$BYTEORD', '1,2,3,4'], ['$DATATYPE', 'F'], ['$MODE', 'L'], ['$NEXTDATA', '0'], ['$PAR', String(par)], ['$TOT', String(events)]);
  pairs.push(['$BEGINANALYSIS', '0'], ['$ENDANALYSIS', '0'], ['$BEGINSTEXT', '0'], ['$ENDSTEXT', '0']);
  parameters.forEach((p, i) => {
    let range = p.range;
    if (range === undefined) {
      // $PnR for float data: an upper bound of the values, as acquisition software writes it.
      let max = 0;
      for (let r = 0; r < events; r++) max = Math.max(max, data[r * par + i]!);
      range = Math.max(1, Math.ceil(max));
    }
    pairs.push([`$P${i + 1}N`, p.name], [`$P${i + 1}B`, '32'], [`$P${i + 1}E`, '0,0'], [`$P${i + 1}R`, String(range)]);
    if (p.longName) pairs.push([`$P${i + 1}S`, p.longName]);
  });
  // FCS 3.1 forbids empty values (two delimiters in a row would read as an escaped delimiter).
  const esc = (s: string) => (s === '' ? ' ' : s).replace(/\//g, '//');
  const body = pairs.map(([k, v]) => `${esc(k)}/${esc(v)}/`).join('');
  const enc = new TextEncoder();
  const dataBytes = events * par * 4;
  // $BEGINDATA/$ENDDATA depend on TEXT's own length: iterate until the digits stop changing.
  const textFor = (start: number) => {
    const end = dataBytes === 0 ? 0 : start + dataBytes - 1;
    return enc.encode(`/${body}$BEGINDATA/${dataBytes === 0 ? 0 : start}/$ENDDATA/${end}/`);
  };
  let textBytes = textFor(0);
  for (let guess = HEADER_BYTES + textBytes.length; ; ) {
    textBytes = textFor(guess);
    if (HEADER_BYTES + textBytes.length === guess) break;
    guess = HEADER_BYTES + textBytes.length; // one more digit somewhere: settles within a few steps
  }
  const dataStart = HEADER_BYTES + textBytes.length;
  const dataEnd = dataBytes === 0 ? 0 : dataStart + dataBytes - 1;
  // Offsets above 99,999,999 do not fit the 8-char HEADER fields: both become 0, TEXT holds them.
  const inHeader = dataEnd <= 99_999_999;
  const out = new Uint8Array(dataStart + dataBytes);
  const header = 'FCS3.1    ' + [HEADER_BYTES, dataStart - 1, inHeader && dataBytes > 0 ? dataStart : 0, inHeader ? dataEnd : 0, 0, 0]
    .map((v) => String(v).padStart(8, ' ')).join('');
  for (let i = 0; i < HEADER_BYTES; i++) out[i] = header.charCodeAt(i);
  out.set(textBytes, HEADER_BYTES);
  if (!HOST_LITTLE_ENDIAN) throw new Error('encodeFcs: big-endian hosts are not supported');
  out.set(new Uint8Array(data.buffer, data.byteOffset, dataBytes), dataStart);
  return out;
}
