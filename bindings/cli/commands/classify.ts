// `hemaclust classify`: per-sample counts/percentages (summary.csv + summary.json) and per-event
// class probabilities (<id>.probabilities.npy, cells × 4 in CLASSES order) for each data file.
import { mkdir, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';
import { parse, intOpt, backendOpt, DEFAULT_THREADS, THREADS_HELP } from '../args.js';
import { createBackend } from '../../backends/index.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { formatCsv } from '../../io/csv.js';
import { encodeNpy } from '../../io/npy.js';
import { BloodCellPipeline, CLASSES, type ClassifyResult, type SampleInput, type SampleSummary } from '../../pipeline/index.js';
import { ClassifyWorkers } from '../../pipeline/classify-workers.js';
import { readSample } from '../../pipeline/node.js';
import { ProgressRenderer } from '../progress.js';

const usage = 'hemaclust classify --model M FILE... --out DIR [--backend auto|wasm|webgpu|reference] [--threads T] [--workers N] [--json]';

export function summaryCsv(summaries: SampleSummary[]): string {
  return formatCsv(
    ['sample', 'cells', ...CLASSES.map((c) => `n_${c}`), 'plt_pct', 'retic_pct', 'clump_pct', 'flags'],
    summaries.map((s) => [s.id, s.cells, ...CLASSES.map((c) => s.counts[c]), s.percentages.plt_pct.toFixed(3), s.percentages.retic_pct.toFixed(3), s.percentages.clump_pct.toFixed(3),
      (s.quality?.flags ?? []).join('; ')]),
  );
}

/** Throws an Error naming the model or the first FILE that is missing, a directory or unreadable. */
export async function checkInputFiles(paths: string[], model: string): Promise<void> {
  const m = await stat(model).catch((e: NodeJS.ErrnoException) => e);
  if (m instanceof Error) throw new Error(`${model}: cannot read model file (${m.code ?? m.message})`);
  if (!m.isFile()) throw new Error(`${model}: cannot read model file (not a regular file)`);
  for (const p of paths) {
    let st;
    try {
      st = await stat(p);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new Error(code === 'ENOENT' ? `${p}: no such file` : `${p}: cannot read (${code ?? (e as Error).message})`);
    }
    if (st.isDirectory()) throw new Error(`${p} is a directory: give the sample files inside it (e.g. ${p.replace(/\/+$/, '')}/*.fcs)`);
    if (!st.isFile()) throw new Error(`${p}: not a regular file`);
  }
}

export const classify: Command = {
  name: 'classify',
  summary: 'classify the events of sample files with a trained pipeline: counts, percentages, probabilities',
  usage: `${usage}

  --model M      pipeline model written by hemaclust train
  FILE...        sample files (.fcs, .npy, .csv); the sample id is the file name without extension
  --out DIR      writes summary.csv, summary.json and <id>.probabilities.npy (cells × 4:
                 ${CLASSES.join(', ')})
  --backend B    auto (default) | wasm | webgpu | reference
  --threads T    ${THREADS_HELP} for one FILE, 1 for several; per worker with --workers
  --workers N    classify N files at a time, each worker thread with its own pipeline and backend
                 (wasm or reference). Default with wasm: min(#FILEs, cores ÷ T); otherwise 1 (in
                 this thread). Summaries stay in FILE order.
  --json         print the summaries as JSON on stdout, no progress output`,
  async run(argv) {
    const { values, positionals } = parse(argv, {
      model: { type: 'string' }, out: { type: 'string' }, backend: { type: 'string' }, threads: { type: 'string' }, workers: { type: 'string' }, json: { type: 'boolean' },
    }, true);
    if (!values.model) throw new UsageError('--model M is required');
    if (!values.out) throw new UsageError('--out DIR is required');
    if (positionals.length === 0) throw new UsageError('give at least one sample FILE');
    const kind = backendOpt(values.backend);
    // Several files: one thread each and the cores go to worker threads (host work parallelises too).
    const threads = intOpt('threads', values.threads, positionals.length > 1 ? 1 : DEFAULT_THREADS);
    // Every FILE is checked before the backend and the model load (seconds) and before --out is
    // created, so a typo fails at once, names its path, and leaves no empty output folder behind.
    await checkInputFiles(positionals, values.model);
    const progress = new ProgressRenderer({ silent: values.json });
    const be = await createBackend(kind, { log: values.json ? () => undefined : (m) => progress.line(m), threads });
    let pool: ClassifyWorkers | null = null;
    try {
      const pipe = await BloodCellPipeline.load(values.model, be);
      const name = be.info().name;
      const workers = values.workers === undefined
        ? (name === 'wasm' ? Math.max(1, Math.min(positionals.length, Math.floor(availableParallelism() / threads))) : 1)
        : intOpt('workers', values.workers, 1);
      if (workers > 1 && name !== 'wasm' && name !== 'reference') throw new UsageError(`--workers ${workers} needs the wasm or reference backend (this one is ${name})`);
      if (workers > 1) {
        if (!values.json) progress.line(`classify: ${workers} files at a time on worker threads (${name}${name === 'wasm' ? `, ${threads} thread${threads === 1 ? '' : 's'} each` : ''})`);
        pool = await ClassifyWorkers.start(pipe.toBytes(), { workers, backend: name === 'reference' ? 'reference' : 'wasm', threadsPerWorker: threads });
      }
      // The file's events move to the worker (transfer, no copy): nothing here reads them afterwards.
      const run = pool ? (s: SampleInput) => pool!.classify(s, { transfer: true }) : (s: SampleInput) => pipe.classify(s);
      await mkdir(values.out, { recursive: true });
      const summaries: SampleSummary[] = [];
      const ids = new Set<string>();
      // Up to `workers` + 1 files in flight (one read ahead while the workers are busy); each
      // task settles without throwing so no rejection goes unhandled, and the first error is rethrown.
      const inFlight = new Set<Promise<void>>();
      let failure: unknown = null;
      let done = 0;
      progress.bar('classify', 0, positionals.length);
      for (let i = 0; i < positionals.length && !failure; i++) {
        const sample = await readSample(positionals[i]);
        if (ids.has(sample.id)) throw new UsageError(`two files give the sample id '${sample.id}'`);
        ids.add(sample.id);
        const task: Promise<void> = run(sample).then(async (r: ClassifyResult) => {
          await writeFileAtomic(join(values.out!, `${sample.id}.probabilities.npy`), encodeNpy([sample.rows, CLASSES.length], r.probabilities));
          summaries[i] = r.summary;
          progress.bar('classify', ++done, positionals.length, sample.id);
        }).catch((e: unknown) => void (failure ??= e)).finally(() => inFlight.delete(task));
        inFlight.add(task);
        if (inFlight.size > (pool ? workers : 0)) await Promise.race(inFlight);
      }
      await Promise.all(inFlight);
      if (failure) throw failure;
      progress.bar('classify', positionals.length, positionals.length);
      progress.finish();
      await writeFileAtomic(join(values.out, 'summary.csv'), summaryCsv(summaries));
      const json = { model: values.model, classes: CLASSES, samples: summaries };
      await writeFileAtomic(join(values.out, 'summary.json'), JSON.stringify(json, null, 2) + '\n');
      if (values.json) console.log(JSON.stringify(json, null, 2));
      else {
        console.log('sample            cells   plt %  retic %  clump %');
        for (const s of summaries) {
          const p = s.percentages;
          console.log(`${s.id.padEnd(16)} ${String(s.cells).padStart(6)}  ${p.plt_pct.toFixed(2).padStart(6)}  ${p.retic_pct.toFixed(2).padStart(7)}  ${p.clump_pct.toFixed(2).padStart(7)}`);
        }
        console.log(`wrote ${values.out}/summary.csv, summary.json and ${summaries.length} probability files`);
      }
      pipe.dispose();
      return 0;
    } finally {
      await pool?.close();
      be.destroy();
    }
  },
};
