// Where the segments of an FCS file lie, decided from the HEADER and TEXT together and checked
// before a byte of DATA is read. FCS 3.0/3.1 give the DATA and ANALYSIS offsets twice: in the
// HEADER (8-character fields, 0 when the offset does not fit) and in TEXT ($BEGINDATA/$ENDDATA,
// $BEGINANALYSIS/$ENDANALYSIS). A file whose two copies disagree has been edited or damaged, and
// trusting either one reads the wrong bytes as events (values shifted by a column, or TEXT read as
// numbers) without any other sign; so they must agree. Every segment must lie inside the file,
// after the 58-byte HEADER, and no two segments may share a byte.
import { FormatError, preview } from './errors.js';

export const FCS_HEADER_BYTES = 58;

/** Inclusive byte range; `null` when the segment is absent (offsets 0, 0). */
export type Segment = { begin: number; end: number } | null;

export interface HeaderOffsets {
  text: { begin: number; end: number };
  data: [number, number];
  analysis: [number, number];
}

/** Reads an integer keyword (decimal digits, optional surrounding spaces) or throws naming it. */
export function intKeyword(text: Record<string, string>, key: string, source: string, at: number): number {
  const v = text[key];
  if (v === undefined) throw new FormatError(source, { byte: at }, `missing required keyword ${key} in TEXT`);
  if (!/^\s*\d{1,15}\s*$/.test(v)) throw new FormatError(source, { byte: at }, `keyword ${key}: expected a non-negative integer, found ${preview(v)}`);
  return Number(v);
}

/**
 * The offsets of one segment: the HEADER pair unless it is 0, 0 (then TEXT's), and when TEXT also
 * gives them, both must agree. Returns null for an absent (0, 0) segment.
 */
function offsetsOf(name: string, header: [number, number], beginKey: string, endKey: string, text: Record<string, string>, source: string, textAt: number, headerAt: number): Segment {
  const inText = text[beginKey] !== undefined || text[endKey] !== undefined;
  const t: [number, number] | null = inText ? [intKeyword(text, beginKey, source, textAt), intKeyword(text, endKey, source, textAt)] : null;
  const headerZero = header[0] === 0 && header[1] === 0;
  if (t && !headerZero && (t[0] !== header[0] || t[1] !== header[1])) {
    throw new FormatError(source, { byte: headerAt }, `${name} offsets disagree: HEADER says ${header[0]}–${header[1]}, TEXT ${beginKey}/${endKey} say ${t[0]}–${t[1]} (expected the same offsets in both)`);
  }
  const [begin, end] = headerZero ? t ?? [0, 0] : header;
  if (begin === 0 && end === 0) return null;
  return { begin, end };
}

/** Checks a segment against the file and returns it. */
function inFile(name: string, s: Segment, fileLength: number, source: string, at: number): Segment {
  if (s === null) return null;
  if (s.begin < FCS_HEADER_BYTES || s.end < s.begin) {
    throw new FormatError(source, { byte: at }, `${name} segment offsets ${s.begin}–${s.end} are impossible (expected ${FCS_HEADER_BYTES} ≤ begin ≤ end)`);
  }
  if (s.end >= fileLength) {
    throw new FormatError(source, { byte: at }, `${name} segment ends at byte ${s.end} but the file has only ${fileLength} bytes (truncated?)`);
  }
  return s;
}

export interface Segments {
  data: Segment;
  analysis: Segment;
}

/**
 * Resolves DATA and ANALYSIS from HEADER + TEXT and checks all segments (TEXT, supplemental TEXT,
 * DATA, ANALYSIS) for range and overlap. `stext` is the supplemental TEXT already located.
 */
export function resolveSegments(h: HeaderOffsets, text: Record<string, string>, stext: Segment, fileLength: number, source: string): Segments {
  const at = h.text.begin;
  const data = inFile('DATA', offsetsOf('DATA', h.data, '$BEGINDATA', '$ENDDATA', text, source, at, 26), fileLength, source, 26);
  const analysis = inFile('ANALYSIS', offsetsOf('ANALYSIS', h.analysis, '$BEGINANALYSIS', '$ENDANALYSIS', text, source, at, 42), fileLength, source, 42);
  const named: [string, Segment][] = [['TEXT', h.text], ['supplemental TEXT', stext], ['DATA', data], ['ANALYSIS', analysis]];
  for (let i = 0; i < named.length; i++) {
    for (let j = i + 1; j < named.length; j++) {
      const [an, a] = named[i]!;
      const [bn, b] = named[j]!;
      if (a && b && a.begin <= b.end && b.begin <= a.end) {
        throw new FormatError(source, { byte: Math.max(a.begin, b.begin) }, `${an} (bytes ${a.begin}–${a.end}) and ${bn} (bytes ${b.begin}–${b.end}) overlap: expected disjoint segments`);
      }
    }
  }
  return { data, analysis };
}

/**
 * Interprets $BYTEORD: 1,2,…,k is little-endian, k,…,1 big-endian; mixed orders are refused. The
 * order must cover the widest value: 4 bytes (FCS 3.1 allows only 1,2,3,4 and 4,3,2,1), 8 for
 * $DATATYPE D, and 2 only for integer data no wider than 16 bits (as FCS 2.0/3.0 writers used).
 */
export function byteOrder(v: string, widest: number, datatype: string, source: string, at: number): boolean {
  const nums = v.split(',').map((p) => (/^\s*\d+\s*$/.test(p) ? Number(p) : NaN));
  const k = nums.length;
  const asc = nums.every((x, i) => x === i + 1);
  const desc = nums.every((x, i) => x === k - i);
  const okLength = k === 4 || (k === 8 && datatype === 'D') || (k === 2 && datatype === 'I' && widest <= 2);
  if (k >= 2 && (asc || desc) && okLength) return asc;
  throw new FormatError(source, { byte: at }, `unsupported $BYTEORD ${preview(v)} for $DATATYPE ${datatype} with ${widest * 8}-bit values: expected 1,2,3,4 (little-endian) or 4,3,2,1 (big-endian)`);
}
