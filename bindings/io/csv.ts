// CSV/TSV reader for numeric matrices (one row per cell, one column per feature) and a writer for
// results. Reading handles: a UTF-8 BOM, CRLF/LF/CR line ends, RFC 4180 quotes (doubled quotes inside,
// line breaks inside quotes), '#' comment lines, blank lines, an optional header row, ',' ';' or tab
// delimiters, and a decimal comma when the delimiter is not a comma. Every cell must be a decimal
// number (or nan/inf as numpy writes them); anything else is an error naming file, line and column.
// Memory: the values grow a Float32Array by doubling, and every value takes at least two characters
// ("1,"), so the matrix costs at most 4 bytes per input byte (plus the 4 KB first block).
import { readFile } from 'node:fs/promises';
import { FormatError, preview } from './errors.js';
import { writeFileAtomic } from './atomic.js';

export type CsvDelimiter = ',' | ';' | '\t';

export interface CsvOptions {
  /** 'auto' (default): the first row is a header when any of its cells is not a number (quoted or not). */
  header?: 'auto' | boolean;
  /** 'auto' (default): the one of , ; tab that occurs most outside quotes in the first record. */
  delimiter?: CsvDelimiter | 'auto';
}

export interface CsvMatrix {
  columns: string[] | null;
  rows: number;
  cols: number;
  data: Float32Array;
}

interface Record_ {
  cells: string[];
  line: number; // 1-based line where the record starts
}

const NUMBER_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
// A Map, not an object literal: `cell in {…}` would take '__proto__' or 'constructor' for a number.
const SPECIAL = new Map<string, number>([['nan', NaN], ['inf', Infinity], ['+inf', Infinity], ['-inf', -Infinity], ['infinity', Infinity], ['+infinity', Infinity], ['-infinity', -Infinity]]);

/** Parses a numeric cell; returns undefined when it is not a number. */
function toNumber(cell: string, delimiter: CsvDelimiter): number | undefined {
  const s = cell.trim();
  if (NUMBER_RE.test(s)) return Number(s);
  const lower = s.toLowerCase();
  const special = SPECIAL.get(lower);
  if (special !== undefined) return special;
  // Decimal comma (e.g. "1,25" in a ';'-separated export from a European locale).
  if (delimiter !== ',' && /^[+-]?\d+,\d+([eE][+-]?\d+)?$/.test(s)) return Number(s.replace(',', '.'));
  return undefined;
}

/**
 * The delimiter of the first record (skipping blank and '#' lines): the one of tab ; , that occurs
 * most outside quotes (RFC 4180: a quoted field may hold any of them, e.g. a header "semi;colon",x).
 * A first record with none of them is a one-column file: ';' is returned, which splits nothing in
 * such a file and lets its cells use a decimal comma ("1,25"), as a one-column European export does.
 */
function detectDelimiter(text: string): CsvDelimiter {
  const n = Math.min(text.length, 1 << 20);
  let i = 0;
  // Skip blank and comment lines before the first record.
  for (;;) {
    if (i >= n) return ',';
    const c = text[i];
    if (c === '\n' || c === '\r') { i++; continue; }
    if (c === '#') { while (i < n && text[i] !== '\n' && text[i] !== '\r') i++; continue; }
    break;
  }
  let tab = 0, semi = 0, comma = 0;
  let quoted = false;
  for (; i < n; i++) {
    const c = text[i];
    if (c === '"') quoted = !quoted; // a doubled quote toggles twice: still inside
    else if (quoted) continue;
    else if (c === '\n' || c === '\r') break;
    else if (c === '\t') tab++;
    else if (c === ';') semi++;
    else if (c === ',') comma++;
  }
  if (tab === 0 && semi === 0 && comma === 0) return ';';
  return tab >= semi && tab >= comma ? '\t' : semi >= comma ? ';' : ',';
}

function countLineBreaks(s: string): number {
  let k = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\n' || (c === '\r' && s[i + 1] !== '\n')) k++;
  }
  return k;
}

/** Splits text into records, honouring quotes. Blank and '#' comment lines are skipped. */
function* records(text: string, delim: string, source: string): Generator<Record_> {
  const n = text.length;
  let i = 0;
  let line = 1;
  while (i < n) {
    // Skip blank lines and comment lines (outside quotes, at the start of a record).
    const c0 = text[i];
    if (c0 === '\n' || c0 === '\r') {
      i += c0 === '\r' && text[i + 1] === '\n' ? 2 : 1;
      line++;
      continue;
    }
    if (c0 === '#') {
      while (i < n && text[i] !== '\n' && text[i] !== '\r') i++;
      continue;
    }
    const startLine = line;
    const cells: string[] = [];
    for (;;) {
      // One cell per iteration; i is at the start of the cell.
      let j = i;
      while (j < n && text[j] === ' ') j++;
      if (text[j] === '"') {
        // Quoted field: read to the closing quote; "" is a literal quote.
        const openLine = line;
        let cell = '';
        i = j + 1;
        for (;;) {
          const close = text.indexOf('"', i);
          if (close < 0) throw new FormatError(source, { line: openLine }, 'unterminated quoted field: expected a closing \'"\'');
          const chunk = text.slice(i, close);
          line += countLineBreaks(chunk);
          cell += chunk;
          if (text[close + 1] === '"') { cell += '"'; i = close + 2; continue; }
          i = close + 1;
          break;
        }
        // Only spaces may follow the closing quote before the delimiter or line end.
        while (i < n && text[i] === ' ') i++;
        if (i < n && text[i] !== delim && text[i] !== '\n' && text[i] !== '\r') {
          throw new FormatError(source, { line, column: cells.length + 1 }, `unexpected ${preview(text[i]!)} after a closing quote: expected the delimiter or a line end`);
        }
        cells.push(cell);
      } else {
        j = i;
        while (j < n) {
          const c = text[j];
          if (c === delim || c === '\n' || c === '\r') break;
          j++;
        }
        cells.push(text.slice(i, j));
        i = j;
      }
      if (i < n && text[i] === delim) { i++; continue; }
      if (i < n) { i += text[i] === '\r' && text[i + 1] === '\n' ? 2 : 1; line++; }
      break;
    }
    yield { cells, line: startLine };
  }
}

/** Parses CSV text into a float32 row-major matrix. `source` names the file in error messages. */
export function parseCsv(text: string, source = '<csv>', opts: CsvOptions = {}): CsvMatrix {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const delimiter = !opts.delimiter || opts.delimiter === 'auto' ? detectDelimiter(text) : opts.delimiter;
  const headerOpt = opts.header ?? 'auto';
  let columns: string[] | null = null;
  let cols = -1;
  let rows = 0;
  let data = new Float32Array(1024);
  let first = true;
  for (const rec of records(text, delimiter, source)) {
    if (first) {
      first = false;
      // Quoting does not decide: a writer may quote every field, numbers included (RFC 4180 allows it).
      const numeric = rec.cells.every((c) => toNumber(c, delimiter) !== undefined);
      if (headerOpt === true || (headerOpt === 'auto' && !numeric)) {
        columns = rec.cells.map((c) => c.trim());
        cols = columns.length;
        continue;
      }
    }
    if (cols < 0) cols = rec.cells.length;
    if (rec.cells.length !== cols) {
      throw new FormatError(source, { line: rec.line }, `ragged row: expected ${cols} cells${columns ? ' (as in the header)' : ' (as in the first row)'}, found ${rec.cells.length}`);
    }
    if ((rows + 1) * cols > data.length) {
      const bigger = new Float32Array(Math.max(data.length * 2, (rows + 1) * cols));
      bigger.set(data);
      data = bigger;
    }
    for (let k = 0; k < cols; k++) {
      const cell = rec.cells[k]!;
      const v = toNumber(cell, delimiter);
      if (v === undefined) {
        const what = cell.trim() === '' ? 'an empty cell' : preview(cell);
        const name = columns ? ` ('${columns[k]}')` : '';
        throw new FormatError(source, { line: rec.line, column: k + 1 }, `expected a number in column ${k + 1}${name}, found ${what}`);
      }
      data[rows * cols + k] = v;
    }
    rows++;
  }
  if (cols < 0) cols = 0;
  return { columns, rows, cols, data: data.slice(0, rows * cols) };
}

export async function readCsvFile(path: string, opts: CsvOptions = {}): Promise<CsvMatrix> {
  const bytes = await readFile(path);
  return parseCsv(new TextDecoder('utf-8').decode(bytes), path, opts);
}

// ---------- writing ----------

export type CsvCell = string | number | boolean | null | undefined;

function quoteCell(v: CsvCell, delimiter: string): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf';
  const s = String(v);
  return s.includes(delimiter) || /["\r\n]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Formats a header and records as CSV text (LF line ends, RFC 4180 quoting where needed). */
export function formatCsv(header: readonly string[] | null, records: Iterable<readonly CsvCell[]>, delimiter: CsvDelimiter = ','): string {
  const lines: string[] = [];
  if (header) lines.push(header.map((h) => quoteCell(h, delimiter)).join(delimiter));
  for (const r of records) lines.push(r.map((c) => quoteCell(c, delimiter)).join(delimiter));
  return lines.join('\n') + '\n';
}

/** Writes a results table (any mix of text and numbers per row) atomically. */
export async function writeCsv(path: string, header: readonly string[] | null, records: Iterable<readonly CsvCell[]>, delimiter: CsvDelimiter = ','): Promise<void> {
  await writeFileAtomic(path, formatCsv(header, records, delimiter));
}

/** Writes a row-major numeric matrix atomically, with optional column names. */
export async function writeMatrixCsv(path: string, columns: readonly string[] | null, rows: number, cols: number, data: ArrayLike<number>): Promise<void> {
  if (data.length !== rows * cols) throw new Error(`writeMatrixCsv: ${rows}×${cols} needs ${rows * cols} values, got ${data.length}`);
  if (columns && columns.length !== cols) throw new Error(`writeMatrixCsv: ${columns.length} column names for ${cols} columns`);
  function* rowsOf(): Generator<number[]> {
    for (let r = 0; r < rows; r++) yield Array.from({ length: cols }, (_, c) => data[r * cols + c]!);
  }
  await writeFileAtomic(path, formatCsv(columns, rowsOf()));
}
