// Turns an uploaded body into a SampleInput. The format is sniffed from magic bytes first
// (NPY '\x93NUMPY', FCS 'FCS3.x'), then the content type or file name (CSV/TSV), then the
// content itself (printable text → CSV). Nothing is written to disk: the bytes live only as long
// as the request that carried them.
import { FormatError, isFcs, isNpy, parseMatrix, type Matrix } from '../bindings/io/index.js';
import { ApiError } from './errors.js';

export interface DecodedSample {
  id: string;
  rows: number;
  cols: number;
  data: Float32Array;
  format: Matrix['format'];
  columns: string[] | null;
}

const ID_PATTERN = /^[\w.-]{1,128}$/;

/** How much of a body the text sniff reads: enough for a CSV header and its first rows. */
const SNIFF_BYTES = 4096;

function looksLikeText(bytes: Uint8Array): boolean {
  const n = Math.min(bytes.length, SNIFF_BYTES);
  for (let i = 0; i < n; i++) {
    const b = bytes[i]!;
    if (b === 9 || b === 10 || b === 13) continue;
    if (b < 32 || b === 127) return false;
  }
  return n > 0;
}

function stem(filename: string): string {
  const base = filename.split(/[/\\]/).pop() ?? filename;
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(0, dot) : base;
}

/** A safe sample id: the given one when it is plain, else derived from the file name, else 'sample'. */
export function sampleId(given: string | null | undefined, filename: string | null | undefined): string {
  if (given) {
    if (!ID_PATTERN.test(given)) throw new ApiError(400, 'bad_sample_id', `sample id ${JSON.stringify(given.slice(0, 80))} must match ${ID_PATTERN.source}`);
    return given;
  }
  const s = filename ? stem(filename).replace(/[^\w.-]/g, '_').slice(0, 128) : '';
  return s && ID_PATTERN.test(s) ? s : 'sample';
}

/**
 * Parses `bytes` into a cells × features matrix. `label` names the sample in error messages.
 * Throws ApiError 415 for an unrecognisable body and 400 (with the reader's byte/line) for a
 * malformed one.
 */
export function decodeSample(bytes: Uint8Array, opts: { id: string; contentType?: string | null; filename?: string | null }): DecodedSample {
  if (bytes.length === 0) throw new ApiError(400, 'empty_body', 'the request body is empty: send an FCS, NPY or CSV file');
  const ct = (opts.contentType ?? '').toLowerCase();
  const fname = (opts.filename ?? '').toLowerCase();
  let label: string;
  if (isNpy(bytes)) label = `${opts.id}.npy`;
  else if (isFcs(bytes)) label = `${opts.id}.fcs`;
  else if (ct.includes('tab-separated') || fname.endsWith('.tsv')) label = `${opts.id}.tsv`;
  else if (ct.includes('csv') || ct.startsWith('text/') || fname.endsWith('.csv') || fname.endsWith('.txt') || looksLikeText(bytes)) label = `${opts.id}.csv`;
  else {
    throw new ApiError(415, 'unsupported_format', `cannot tell the body's format (content-type '${ct || 'none'}'): expected FCS 3.x, NPY (magic \\x93NUMPY) or CSV text`);
  }
  let m: Matrix;
  try {
    m = parseMatrix(bytes, label);
  } catch (e) {
    if (e instanceof FormatError) throw new ApiError(400, 'bad_sample', e.message);
    throw e;
  }
  if (m.rows < 1 || m.cols < 1) throw new ApiError(400, 'bad_sample', `${label}: the matrix is empty (${m.rows} × ${m.cols})`);
  for (let i = 0; i < m.data.length; i++) {
    if (!Number.isFinite(m.data[i]!)) {
      // 1-based, like the readers' own "line L, column C" and "byte B" positions.
      const col = i % m.cols;
      const name = m.columns?.[col] ? ` ('${m.columns[col]}')` : '';
      throw new ApiError(400, 'bad_sample', `${label}: event ${Math.floor(i / m.cols) + 1}, column ${col + 1}${name}: the value ${m.data[i]} is not finite (positions count from 1)`);
    }
  }
  return { id: opts.id, rows: m.rows, cols: m.cols, data: m.data, format: m.format, columns: m.columns };
}
