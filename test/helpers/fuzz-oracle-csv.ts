// Independent CSV decoder for differential fuzzing, written from RFC 4180 plus the dialect rules
// bindings/io/csv.ts documents (not from its code): a character-at-a-time state machine.
//   - a UTF-8 BOM is dropped; records end at CRLF, LF or CR outside quotes;
//   - at the start of a record, an empty line is skipped and a line starting with '#' is a comment;
//   - a field is quoted when its first non-space character is '"'; inside, "" is a quote; after
//     the closing quote only spaces may come before the delimiter or the record's end;
//   - the delimiter is the one of tab ; , most frequent outside quotes in the first record (ties
//     in that order), or ';' when the first record has none (a one-column file);
//   - the first record is a header when any of its cells is not a number, quoted or not;
//   - a number is a decimal literal (optional sign, digits with an optional point, optional
//     exponent), nan/inf/infinity with an optional sign (any case), or a decimal comma number
//     when the delimiter is not a comma; surrounding whitespace ignored; all rows equally long.
import type { OracleResult } from './fuzz-harness.js';

export interface CsvOracleValue { columns: string[] | null; rows: number; cols: number; values: number[] }

function number(cell: string, delim: string): number | undefined {
  const s = cell.trim();
  if (/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(s)) return Math.fround(Number(s));
  const m = /^([+-]?)(nan|inf|infinity)$/i.exec(s);
  if (m) return m[2]!.toLowerCase() === 'nan' ? (m[1] ? undefined : NaN) : m[1] === '-' ? -Infinity : Infinity;
  if (delim !== ',' && /^[+-]?\d+,\d+([eE][+-]?\d+)?$/.test(s)) return Math.fround(Number(s.replace(',', '.')));
  return undefined;
}

function records(text: string, delim: string): string[][] | string {
  const out: string[][] = [];
  let i = 0;
  const n = text.length;
  const eol = (c: string | undefined) => c === '\n' || c === '\r';
  while (i < n) {
    if (eol(text[i])) { i += text[i] === '\r' && text[i + 1] === '\n' ? 2 : 1; continue; }
    if (text[i] === '#') { while (i < n && !eol(text[i])) i++; continue; }
    const rec: string[] = [];
    for (;;) {
      let j = i;
      while (text[j] === ' ') j++;
      if (text[j] === '"') {
        let cell = '';
        j++;
        for (;;) {
          if (j >= n) return 'unterminated quote';
          if (text[j] === '"') {
            if (text[j + 1] === '"') { cell += '"'; j += 2; continue; }
            j++;
            break;
          }
          cell += text[j++];
        }
        while (text[j] === ' ') j++;
        if (j < n && text[j] !== delim && !eol(text[j])) return 'junk after a closing quote';
        rec.push(cell);
        i = j;
      } else {
        let cell = '';
        while (i < n && text[i] !== delim && !eol(text[i])) cell += text[i++];
        rec.push(cell);
      }
      if (text[i] === delim) { i++; continue; }
      if (i < n) i += text[i] === '\r' && text[i + 1] === '\n' ? 2 : 1;
      break;
    }
    out.push(rec);
  }
  return out;
}

function delimiterOf(text: string): string {
  let i = 0;
  const n = Math.min(text.length, 1 << 20);
  while (i < n && (text[i] === '\n' || text[i] === '\r' || text[i] === '#')) {
    if (text[i] === '#') while (i < n && text[i] !== '\n' && text[i] !== '\r') i++;
    else i++;
  }
  if (i >= n) return ',';
  const count: Record<string, number> = { '\t': 0, ';': 0, ',': 0 };
  let q = false;
  for (; i < n; i++) {
    const c = text[i]!;
    if (c === '"') q = !q;
    else if (!q && (c === '\n' || c === '\r')) break;
    else if (!q && c in count) count[c]!++;
  }
  const best = ['\t', ';', ','].reduce((a, b) => (count[b]! > count[a]! ? b : a));
  return count[best]! === 0 ? ';' : best;
}

export function csvOracle(text: string): OracleResult {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const delim = delimiterOf(text);
  const recs = records(text, delim);
  if (typeof recs === 'string') return { ok: false, why: recs };
  if (recs.length === 0) return { ok: true, value: { columns: null, rows: 0, cols: 0, values: [] } };
  const header = recs[0]!.some((c) => number(c, delim) === undefined);
  const columns = header ? recs[0]!.map((c) => c.trim()) : null;
  const body = header ? recs.slice(1) : recs;
  const cols = recs[0]!.length;
  const values: number[] = [];
  for (const r of body) {
    if (r.length !== cols) return { ok: false, why: 'ragged' };
    for (const c of r) {
      const v = number(c, delim);
      if (v === undefined) return { ok: false, why: `not a number: ${JSON.stringify(c).slice(0, 30)}` };
      values.push(v);
    }
  }
  return { ok: true, value: { columns, rows: body.length, cols, values } satisfies CsvOracleValue };
}
