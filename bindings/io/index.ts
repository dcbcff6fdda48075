// One entry point for reading a cells × features matrix from FCS, NPY or CSV, picked by the
// file's magic bytes first (a misnamed file still reads) and its extension second.
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { FormatError } from './errors.js';
import { isNpy, parseNpy, toFloat32 } from './npy.js';
import { isFcs, parseFcs } from './fcs.js';
import { parseCsv } from './csv.js';

export * from './errors.js';
export * from './atomic.js';
export * from './npy.js';
export * from './csv.js';
export * from './fcs.js';

export type MatrixFormat = 'fcs' | 'npy' | 'csv';

export interface Matrix {
  rows: number;
  cols: number;
  /** rows × cols, row-major. */
  data: Float32Array;
  columns: string[] | null;
  format: MatrixFormat;
}

const CSV_EXTENSIONS = new Set(['.csv', '.tsv', '.txt']);

/** Detects the format of `bytes` (named `path`), or throws naming the formats it knows. */
export function detectFormat(bytes: Uint8Array, path: string): MatrixFormat {
  if (isNpy(bytes)) return 'npy';
  if (isFcs(bytes)) return 'fcs';
  const ext = extname(path).toLowerCase();
  if (CSV_EXTENSIONS.has(ext)) return 'csv';
  if (ext === '.npy' || ext === '.fcs') {
    throw new FormatError(path, { byte: 0 }, `the extension says ${ext} but the file does not start with the ${ext === '.npy' ? '\\x93NUMPY' : "'FCS'"} magic bytes`);
  }
  throw new FormatError(path, null, `unknown file format (extension '${ext}'): expected an .fcs, .npy or .csv/.tsv file`);
}

/**
 * Parses bytes already in memory into a matrix. NPY arrays of rank > 2 are flattened to
 * shape[0] × (product of the rest), e.g. (cells, 4 channels, 32 samples) → cells × 128.
 */
export function parseMatrix(bytes: Uint8Array, path: string): Matrix {
  const format = detectFormat(bytes, path);
  if (format === 'npy') {
    const a = parseNpy(bytes, path);
    if (a.shape.length === 0) throw new FormatError(path, null, 'a 0-d (scalar) array is not a matrix: expected shape (cells, features)');
    const rows = a.shape[0]!;
    const cols = a.shape.slice(1).reduce((x, y) => x * y, 1); // exact: parseNpy bounds every sub-product
    if (cols === 0 && rows > 0) throw new FormatError(path, null, `shape (${a.shape.join(', ')}) has ${rows} rows but no features: expected shape (cells, features) with features ≥ 1`);
    return { rows, cols, data: toFloat32(a), columns: null, format };
  }
  if (format === 'fcs') {
    const f = parseFcs(bytes, path);
    return { rows: f.events, cols: f.parameters.length, data: f.data, columns: f.parameters.map((p) => p.name), format };
  }
  const m = parseCsv(new TextDecoder('utf-8').decode(bytes), path, { delimiter: extname(path).toLowerCase() === '.tsv' ? '\t' : 'auto' });
  return { rows: m.rows, cols: m.cols, data: m.data, columns: m.columns, format };
}

/** Reads a cells × features matrix from an .fcs, .npy or .csv/.tsv file. */
export async function readMatrix(path: string): Promise<Matrix> {
  return parseMatrix(new Uint8Array(await readFile(path)), path);
}
