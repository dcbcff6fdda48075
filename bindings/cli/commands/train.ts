// `hemaclust train`: fit the two-stage pipeline on a cohort directory and its reference.csv.
// Only the sample-level references supervise training; a truth/ folder, if present, is not read.
import { join } from 'node:path';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';
import { parse, intOpt, backendOpt, DEFAULT_THREADS, THREADS_HELP } from '../args.js';
import { createBackend } from '../../backends/index.js';
import { BloodCellPipeline, type TrainOptions } from '../../pipeline/index.js';
import { loadCohort } from '../../pipeline/node.js';
import { parseChannelMapping, type ChannelMapping } from '../../pipeline/layout.js';
import { ProgressRenderer } from '../progress.js';
import { PIPELINE_TRAINING as H, TRAINING_DEFAULTS as D } from '../../pipeline/train-spec.js';

const usage =
  `hemaclust train --data DIR [--reference DIR/reference.csv] --out model.safetensors [--backend auto|wasm|webgpu|reference] [--seed S] [--epochs N] [--stage2-epochs N] [--dims ${D.dims.join(',')}] [--clusters K] [--components K] [--cells-per-sample N] [--batch B] [--threads T] [--channels FSC=…,SSC=…,FL=…,IMP=…] [--force] [--json]`;

export const TRAIN_FLAGS = {
  backend: { type: 'string' },
  seed: { type: 'string' },
  epochs: { type: 'string' },
  'stage2-epochs': { type: 'string' },
  dims: { type: 'string' },
  clusters: { type: 'string' },
  components: { type: 'string' },
  'cells-per-sample': { type: 'string' },
  batch: { type: 'string' },
  threads: { type: 'string' },
  channels: { type: 'string' },
  force: { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

const line = (flag: string, h: { default: unknown; help: string }) =>
  `\n  ${flag.padEnd(20)} ${h.help} (default ${Array.isArray(h.default) ? h.default.join(',') : String(h.default)})`;

export const TRAIN_HELP = `  --backend B          auto (default) | wasm | webgpu | reference`
  + line('--seed S', H.seed) + line('--epochs N', H.epochs) + line('--stage2-epochs N', H.stage2Epochs) + line('--dims LIST', H.dims)
  + line('--clusters K', H.stage1Clusters) + line('--components K', H.stage2Components) + line('--cells-per-sample N', H.cellsPerSample)
  + line('--batch B', H.batchSize) + `
  --threads T          ${THREADS_HELP}
  --channels MAP       which column names are FSC, SSC, FL and IMP, where the files use other
                       names: FSC=FS,SSC=SS,FL=FL1,IMP=RES (default: found by name; docs/method.md)
  --force              keep a model that fails the quality gate (it is marked as failed)
  --json               machine-readable result on stdout, no progress output`;

/** Training options from parsed CLI values. */
export function trainOptionsFrom(values: Record<string, string | boolean | undefined>): Omit<TrainOptions, 'backend'> {
  const s = (k: string) => values[k] as string | undefined;
  const seed = intOpt('seed', s('seed'), D.seed, 0);
  if (seed > 0xffffffff) throw new UsageError(`--seed must be below 2^32 (got ${seed})`);
  let dims: number[] | undefined;
  if (s('dims') !== undefined) {
    dims = s('dims')!.split(',').map((v) => Number(v.trim()));
    if (!dims.length || !dims.every((d) => Number.isInteger(d) && d >= 1)) throw new UsageError(`--dims must be a comma-separated list of positive integers (got '${s('dims')}')`);
  }
  const opt = (name: string, def: number, min = 1) => intOpt(name, s(name), def, min);
  let channels: ChannelMapping | undefined;
  try {
    channels = s('channels') !== undefined ? parseChannelMapping(s('channels')!) : undefined;
  } catch (e) {
    throw new UsageError(`--channels: ${(e as Error).message}`);
  }
  return {
    seed, dims, channels, force: values.force === true,
    epochs: opt('epochs', D.epochs),
    stage2Epochs: opt('stage2-epochs', D.stage2Epochs),
    stage1Clusters: opt('clusters', D.stage1Clusters, 2),
    stage2Components: opt('components', D.stage2Components, 3),
    cellsPerSample: opt('cells-per-sample', D.cellsPerSample),
    batchSize: opt('batch', D.batchSize),
  };
}

export const train: Command = {
  name: 'train',
  summary: 'train the two-stage pipeline (IDEC: PLT vs RBC; VaDE: RBC/retic/clumps) from sample references',
  usage: `${usage}

  --data DIR           cohort directory: one .fcs/.npy/.csv file per sample (as hemaclust simulate writes)
  --reference CSV      sample,file,species,plt_pct,retic_pct,clump_pct (default DIR/reference.csv)
  --out M              model file to write (safetensors)
${TRAIN_HELP}`,
  async run(argv) {
    const { values } = parse(argv, { data: { type: 'string' }, reference: { type: 'string' }, out: { type: 'string' }, ...TRAIN_FLAGS });
    if (!values.data) throw new UsageError('--data DIR is required');
    if (!values.out) throw new UsageError('--out model.safetensors is required');
    const options = trainOptionsFrom(values);
    const kind = backendOpt(values.backend);
    const threads = intOpt('threads', values.threads, DEFAULT_THREADS);
    const progress = new ProgressRenderer({ silent: values.json });
    const cohort = await loadCohort(values.data, {
      referencePath: values.reference ?? join(values.data, 'reference.csv'),
      truthDir: null, // training never reads truth
      onFile: (done, total) => progress.bar('read', done, total),
    });
    progress.finish();
    const be = await createBackend(kind, { log: values.json ? () => undefined : (m) => progress.line(m), threads });
    try {
      const t0 = performance.now();
      const pipe = await BloodCellPipeline.train(cohort.samples, cohort.references, {
        ...options, backend: be, species: cohort.species ?? undefined, onProgress: progress.pipeline,
      });
      const seconds = (performance.now() - t0) / 1000;
      await pipe.save(values.out);
      progress.finish();
      const result = {
        model: values.out, samples: cohort.samples.length, events: cohort.samples.reduce((a, s) => a + s.rows, 0),
        features: pipe.meta.features, backend: be.info().name, device: be.info().device, seconds: Number(seconds.toFixed(2)),
        options: pipe.meta.options, quality: pipe.meta.quality,
      };
      if (values.json) console.log(JSON.stringify(result, null, 2));
      else console.log(`trained on ${result.samples} samples (${result.features} features) on ${result.backend} in ${seconds.toFixed(1)} s → ${values.out}`);
      pipe.dispose();
      return 0;
    } finally {
      be.destroy();
    }
  },
};
