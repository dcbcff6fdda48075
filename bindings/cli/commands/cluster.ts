// `hemaclust cluster`: fit k-means, DEC, IDEC or VaDE on a data matrix, print cluster sizes (and
// ACC/NMI/ARI, macro-F1, balanced accuracy when labels are given), optionally save the model.
import type { Command } from '../command.js';
import { UsageError } from '../command.js';
import { parse, intOpt, backendOpt, DEFAULT_THREADS, THREADS_HELP } from '../args.js';
import { TRAINING_FLAGS, TRAINING_HELP, checkFlagsFor, trainingConfigs } from './cluster-options.js';
import { createBackend } from '../../backends/index.js';
import { readMatrix } from '../../io/index.js';
import { readNpyFile, toInt32 } from '../../io/npy.js';
import { balancedAccuracy, clusteringScores, macroF1, matchClusters } from '../../metrics/index.js';
import { DEC, IDEC, KMeans, VaDE, type Progress } from '../../models/index.js';

export const METHODS = ['kmeans', 'dec', 'idec', 'vade'] as const;
export type Method = (typeof METHODS)[number];

const usage =
  'hemaclust cluster --data X.(npy|csv) --k K [--method kmeans|dec|idec|vade] [--labels y.npy] [--backend auto|wasm|webgpu|reference] [--out model.safetensors] [--threads T] [--quiet] [--json] [training options]';

export const cluster: Command = {
  name: 'cluster',
  summary: 'cluster cells with k-means, DEC, IDEC or VaDE; print sizes and metrics, save the model',
  usage: `${usage}

  --data X           cells × features (.npy float32/float64 C order, .csv, .fcs)
  --k K              number of clusters (required)
  --method M         kmeans | dec | idec (default) | vade
  --labels y.npy     true class per row (integers): prints ACC, NMI, ARI, macro-F1, balanced accuracy
  --backend B        auto (default) | wasm | webgpu | reference
  --out M            write the fitted model (safetensors; its metadata records every training option)
  --threads T        ${THREADS_HELP}
  --quiet            no per-epoch progress on stderr (VaDE's collapse recoveries are still reported)
  --json             print the result as JSON on stdout

training options (unset: the model's default)${TRAINING_HELP}`,
  async run(argv) {
    const { values } = parse(argv, {
      data: { type: 'string' },
      labels: { type: 'string' },
      method: { type: 'string' },
      k: { type: 'string' },
      backend: { type: 'string' },
      out: { type: 'string' },
      threads: { type: 'string' },
      quiet: { type: 'boolean' },
      json: { type: 'boolean' },
      ...TRAINING_FLAGS,
    });
    if (!values.data) throw new UsageError('--data is required');
    if (!values.k) throw new UsageError('--k is required');
    const k = intOpt('k', values.k, 0, 1);
    const method = (values.method ?? 'idec') as Method;
    if (!METHODS.includes(method)) throw new UsageError(`--method must be one of ${METHODS.join('|')} (got '${values.method}')`);
    checkFlagsFor(method, values);
    const backendKind = backendOpt(values.backend);
    const threads = intOpt('threads', values.threads, DEFAULT_THREADS);

    const x = await readMatrix(values.data);
    if (k > x.rows) throw new UsageError(`--k ${k} exceeds the number of rows (${x.rows})`);
    const cfg = trainingConfigs(values, k, x.cols, x.rows);
    const labels = values.labels ? await readLabels(values.labels, x.rows) : undefined;
    const log = values.quiet ? () => undefined : (m: string) => console.error(m);
    const be = await createBackend(backendKind, { log, threads });
    try {
      const t0 = performance.now();
      // A recovery is news even with --quiet: the model changed its own learning rate.
      const onProgress = (p: Progress) => (p.stage === 'recover' ? console.error(`${method}: ${p.message}`) : log(formatProgress(method, p)));
      let model: KMeans | DEC | IDEC | VaDE;
      if (method === 'kmeans') {
        model = await new KMeans(be, cfg.kmeans).fit(x);
      } else if (method === 'vade') {
        model = await new VaDE(be, { k, ...cfg.vade }).fit(x, { labels, onProgress });
      } else {
        const Model = method === 'dec' ? DEC : IDEC;
        model = await new Model(be, { k, ...cfg.dec }).fit(x, { labels, onProgress });
      }
      const pred = await model.predict(x);
      const seconds = (performance.now() - t0) / 1000;
      if (values.out) await model.save(values.out);
      const sizes = new Array<number>(k).fill(0);
      for (const c of pred) sizes[c]++;
      const result: Record<string, unknown> = {
        method, k, rows: x.rows, cols: x.cols, seed: cfg.seed, backend: be.info().name, device: be.info().device,
        sizes, seconds: Number(seconds.toFixed(3)), model: values.out ?? null,
      };
      if (model instanceof VaDE) result.recoveries = model.recoveries;
      if (labels) result.metrics = evaluate(labels, pred);
      if (values.json) console.log(JSON.stringify(result, null, 2));
      else console.log(formatResult(result));
      return 0;
    } finally {
      be.destroy();
    }
  },
};

export async function readLabels(path: string, rows: number): Promise<Int32Array> {
  const a = await readNpyFile(path);
  const y = toInt32(a, path);
  if (y.length !== rows) throw new UsageError(`--labels ${path} has ${y.length} values, the data has ${rows} rows`);
  return y;
}

/** Clustering metrics, then classification metrics after the Hungarian cluster → class map. */
export function evaluate(labels: Int32Array, pred: Int32Array) {
  const scores = clusteringScores(labels, pred);
  const map = matchClusters(labels, pred);
  const mapped = Int32Array.from(pred, (c) => map.get(c) ?? -1);
  const numClasses = Math.max(...labels, ...mapped) + 1;
  // Unmatched clusters (more clusters than classes) count as a wrong class of their own.
  const safe = Int32Array.from(mapped, (c) => (c < 0 ? numClasses : c));
  return { ...scores, macroF1: macroF1(labels, safe, numClasses + 1), balancedAccuracy: balancedAccuracy(labels, safe, numClasses + 1) };
}

function formatProgress(method: string, p: Progress): string {
  const f = (r: Record<string, number>) => Object.entries(r).map(([k, v]) => `${k}=${Number(v.toPrecision(5))}`).join(' ');
  return `${method} ${p.stage} ${p.epoch}: ${f(p.losses)}${p.metrics ? ` | ${f(p.metrics)}` : ''}`;
}

function formatResult(r: Record<string, unknown>): string {
  const lines = [
    `${r.method}: ${r.rows} rows × ${r.cols} features → ${r.k} clusters on ${r.backend} (${r.device}) in ${r.seconds} s`,
    `cluster sizes: ${(r.sizes as number[]).join(' ')}`,
  ];
  if (r.metrics) {
    const m = r.metrics as Record<string, number>;
    lines.push(`ACC ${m.acc.toFixed(4)}  NMI ${m.nmi.toFixed(4)}  ARI ${m.ari.toFixed(4)}  macro-F1 ${m.macroF1.toFixed(4)}  balanced accuracy ${m.balancedAccuracy.toFixed(4)}`);
  }
  const rec = (r.recoveries as string[] | undefined) ?? [];
  if (rec.length) lines.push(`VaDE recovered from ${rec.length} mixture collapse${rec.length > 1 ? 's' : ''} (see above)`);
  if (r.model) lines.push(`model written to ${r.model}`);
  return lines.join('\n');
}

