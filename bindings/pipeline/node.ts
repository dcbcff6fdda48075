// Node-only helpers of the pipeline: model files and cohort directories (see
// bindings/simulate/cohort.ts for the layout). Kept apart from index.ts so the browser build never
// pulls in node:fs.
import { readFile, readdir } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { readMatrix } from '../io/index.js';
import { writeFileAtomic } from '../io/atomic.js';
import { readNpyFile, toInt32 } from '../io/npy.js';
import type { Reference, SampleInput } from './types.js';

export async function writeModelFile(path: string, bytes: Uint8Array): Promise<void> {
  try {
    await writeFileAtomic(path, bytes);
  } catch (e) {
    throw new Error(`${path}: could not write model file (${(e as Error).message})`);
  }
}

export async function readModelFile(path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    throw new Error(`${path}: cannot read model file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** One data file as a pipeline sample; the id is the file name without its extension. */
export async function readSample(path: string, id = basename(path, extname(path))): Promise<SampleInput> {
  const m = await readMatrix(path);
  return { id, rows: m.rows, cols: m.cols, data: m.data, columns: m.columns };
}

export interface ReferenceRow extends Reference {
  sample: string;
  file: string | null;
  species: string | null;
}

/** reference.csv: sample,file,species,plt_pct,retic_pct,clump_pct (file and species optional). */
export async function readReferences(path: string): Promise<ReferenceRow[]> {
  // Parsed here: io/csv.ts reads numeric matrices, and this file has text columns.
  const text = await readFile(path, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new Error(`${path}: cannot read references (${e.code ?? e.message})`);
  });
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length < 2) throw new Error(`${path}: no reference rows`);
  const header = lines[0].split(',').map((h) => h.trim().replace(/^"|"$/g, ''));
  const col = (name: string) => header.indexOf(name);
  for (const name of ['sample', 'plt_pct', 'retic_pct', 'clump_pct']) {
    if (col(name) < 0) throw new Error(`${path}: missing column '${name}' (header: ${header.join(',')})`);
  }
  return lines.slice(1).map((line, i) => {
    const f = line.split(',').map((v) => v.trim().replace(/^"|"$/g, ''));
    const num = (name: string) => {
      const v = Number(f[col(name)]);
      if (!Number.isFinite(v)) throw new Error(`${path}: line ${i + 2}: ${name} '${f[col(name)]}' is not a number`);
      return v;
    };
    return {
      sample: f[col('sample')], file: col('file') >= 0 ? f[col('file')] : null, species: col('species') >= 0 ? f[col('species')] : null,
      plt_pct: num('plt_pct'), retic_pct: num('retic_pct'), clump_pct: num('clump_pct'),
    };
  });
}

export interface Cohort {
  samples: SampleInput[];
  references: Map<string, Reference>;
  /** Per-event true class ids (simulate's 6 classes) when a truth/ folder is present. */
  truth: Map<string, Int32Array> | null;
  species: string | null;
}

const DATA_EXT = new Set(['.fcs', '.npy', '.csv', '.tsv']);

/**
 * Reads a cohort directory: data files listed in reference.csv (or every .fcs/.npy file when the
 * reference has no file column), the references, and truth/<id>.labels.npy when present.
 * `referencePath` overrides DIR/reference.csv; `truthDir` overrides DIR/truth.
 */
export async function loadCohort(dir: string, opts: { referencePath?: string; truthDir?: string | null; onFile?: (done: number, total: number) => void } = {}): Promise<Cohort> {
  const refRows = await readReferences(opts.referencePath ?? join(dir, 'reference.csv'));
  const entries = new Set(await readdir(dir));
  const files = refRows.map((r) => {
    if (r.file) return r.file;
    const found = [...entries].find((e) => basename(e, extname(e)) === r.sample && DATA_EXT.has(extname(e).toLowerCase()));
    if (!found) throw new Error(`${dir}: no data file for sample '${r.sample}'`);
    return found;
  });
  const samples: SampleInput[] = [];
  for (let i = 0; i < files.length; i++) {
    samples.push(await readSample(join(dir, files[i]), refRows[i].sample));
    opts.onFile?.(i + 1, files.length);
  }
  const references = new Map(refRows.map((r) => [r.sample, { plt_pct: r.plt_pct, retic_pct: r.retic_pct, clump_pct: r.clump_pct }]));
  let truth: Map<string, Int32Array> | null = null;
  const truthDir = opts.truthDir === undefined ? join(dir, 'truth') : opts.truthDir;
  if (truthDir) truth = await loadTruth(truthDir, samples, opts.truthDir !== undefined);
  const species = refRows.find((r) => r.species)?.species ?? null;
  return { samples, references, truth, species };
}

/** truth/<id>.labels.npy for every sample; null when the folder is missing (unless required). */
export async function loadTruth(truthDir: string, samples: SampleInput[], required: boolean): Promise<Map<string, Int32Array> | null> {
  const present = await readdir(truthDir).catch(() => null);
  if (!present) {
    if (required) throw new Error(`${truthDir}: truth folder not found`);
    return null;
  }
  const truth = new Map<string, Int32Array>();
  for (const s of samples) {
    const p = join(truthDir, `${s.id}.labels.npy`);
    const y = toInt32(await readNpyFile(p), p);
    if (y.length !== s.rows) throw new Error(`${p}: ${y.length} labels for ${s.rows} events`);
    truth.set(s.id, y);
  }
  return truth;
}
