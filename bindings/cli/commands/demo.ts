// `hemaclust demo`: the whole story in a few minutes — simulate a small cohort, train the pipeline
// on some samples (references only), classify held-out samples, print predicted vs reference vs
// true percentages, and write an HTML report (latent-space plot + per-sample bars) and the model.
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';
import { parse, intOpt, backendOpt, DEFAULT_THREADS } from '../args.js';
import { createBackend } from '../../backends/index.js';
import { writeFileAtomic } from '../../io/atomic.js';
import type { ComputeBackend } from '../../backend.js';
import { BloodCellPipeline, CLASSES, type ClassifyResult, type SampleInput, type Reference } from '../../pipeline/index.js';
import { argmax4, evaluateResults, formatEvaluation, TRUTH_CLASSES } from '../../pipeline/evaluate.js';
import { renderReport } from '../../report/index.js';
import { simulateSample } from '../../simulate/sample.js';
import { domainByName, type Domain } from '../../simulate/domains.js';
import { SPECIES, type Species } from '../../simulate/species.js';
import { ProgressRenderer } from '../progress.js';
import { summaryCsv } from './classify.js';
import { TRAIN_FLAGS, TRAIN_HELP, trainOptionsFrom } from './train.js';

/** A cohort that trains and classifies in a few minutes on a laptop CPU and still shows every class. */
export const DEMO = {
  train: 10,
  test: 4,
  cells: 5000,
  /** The smallest cohort the flags accept: training learns from references across samples, so
   *  it needs more than one; a sample of fewer events says too little to be worth simulating. */
  minTrain: 2,
  minCells: 100,
};

const usage = 'hemaclust demo [--species dog|cat] [--domain NAME] [--out DIR] [--train N] [--test N] [--cells N] [--seed S] [--backend B] [--json] [training options]';

export const demo: Command = {
  name: 'demo',
  summary: 'simulate a cohort, train on references only, classify held-out samples, write an HTML report',
  usage: `${usage}

  --species S          dog (default) or cat
  --domain NAME        a simulated analyzer from \`hemaclust simulate --list-domains\` (other units,
                       pulse shapes, channel names, scalar exports: docs/simulator.md); sets the species
  --out DIR            where report.html, model.safetensors and summary.csv go (default: a folder in the system temp dir)
  --train N            training samples (default ${DEMO.train})
  --test N             held-out samples (default ${DEMO.test})
  --cells N            events per simulated sample (default ${DEMO.cells})
${TRAIN_HELP}`,
  async run(argv) {
    const { values } = parse(argv, {
      species: { type: 'string' }, domain: { type: 'string' }, out: { type: 'string' }, train: { type: 'string' }, test: { type: 'string' }, cells: { type: 'string' },
      ...TRAIN_FLAGS,
    });
    const { domain, species } = demoDomain(values.domain, values.species);
    const nTrain = intOpt('train', values.train, DEMO.train, DEMO.minTrain);
    const nTest = intOpt('test', values.test, DEMO.test, 1);
    const cells = intOpt('cells', values.cells, DEMO.cells, DEMO.minCells);
    const options = trainOptionsFrom(values);
    const seed = options.seed ?? 1;
    const out = resolve(values.out ?? join(tmpdir(), `hemaclust-demo-${domain ? domain.name : species}`));
    const kind = backendOpt(values.backend);
    const threads = intOpt('threads', values.threads, DEFAULT_THREADS);
    const progress = new ProgressRenderer({ silent: values.json });
    const t0 = performance.now();

    // 1. Simulate (in memory): the first nTrain samples train, the rest are held out.
    const { sims, ids, inputs, references } = simulateCohort(nTrain + nTest, { domain, species, cells, seed }, progress);
    const tSim = (performance.now() - t0) / 1000;

    const be = await createBackend(kind, { log: values.json ? () => undefined : (m) => progress.line(m), threads });
    try {
      // 2. Train on references only (the truth labels stay with the simulator's output).
      const t1 = performance.now();
      const pipe = await BloodCellPipeline.train(inputs.slice(0, nTrain), new Map(ids.slice(0, nTrain).map((id) => [id, references.get(id)!])), {
        ...options, backend: be, species, name: `demo (${species})`, onProgress: progress.pipeline,
      });
      const tTrain = (performance.now() - t1) / 1000;
      progress.finish();

      // 3. Classify the held-out samples and score them.
      const t2 = performance.now();
      const items = [];
      for (let i = nTrain; i < nTrain + nTest; i++) {
        progress.bar('classify', i - nTrain, nTest, ids[i]);
        items.push({ result: await pipe.classify(inputs[i]), truth: sims[i].truth, reference: references.get(ids[i])! });
      }
      progress.bar('classify', nTest, nTest);
      progress.finish();
      const tClassify = (performance.now() - t2) / 1000;
      const evaluation = evaluateResults(items);

      // 4. Files: model, summary, report.
      await mkdir(out, { recursive: true });
      await pipe.save(join(out, 'model.safetensors'));
      await writeFileAtomic(join(out, 'summary.csv'), summaryCsv(items.map((it) => it.result.summary)));
      const html = demoReport({ species, domain, nTrain, nTest, cells, seed, backend: be, pipe, first: items[0].result, evaluation,
        seconds: { simulate: tSim, train: tTrain, classify: tClassify } });
      await writeFileAtomic(join(out, 'report.html'), html);
      const total = (performance.now() - t0) / 1000;
      if (values.json) {
        console.log(JSON.stringify({ species, out, seconds: { simulate: tSim, train: tTrain, classify: tClassify, total }, ...evaluation }, null, 2));
      } else {
        console.log(formatEvaluation(evaluation));
        console.log(`\nsimulate ${tSim.toFixed(1)} s, train ${tTrain.toFixed(1)} s, classify ${tClassify.toFixed(1)} s (total ${total.toFixed(1)} s) on ${be.info().name}`);
        console.log(`report: ${join(out, 'report.html')}\nmodel:  ${join(out, 'model.safetensors')}`);
      }
      pipe.dispose();
      return 0;
    } finally {
      be.destroy();
    }
  },
};

/** The simulated analyzer (--domain) and the species, which a domain fixes. */
function demoDomain(name: string | undefined, speciesFlag: string | undefined): { domain: Domain | undefined; species: Species } {
  let domain: Domain | undefined;
  if (name !== undefined) {
    try {
      domain = domainByName(name);
    } catch (e) {
      throw new UsageError(`--domain: ${(e as Error).message}`);
    }
    if (speciesFlag !== undefined && speciesFlag !== domain.species) throw new UsageError(`--species ${speciesFlag} contradicts --domain ${name} (${domain.species})`);
  }
  const species = (domain?.species ?? speciesFlag ?? 'dog') as Species;
  if (!SPECIES.includes(species)) throw new UsageError(`--species must be one of ${SPECIES.join(', ')} (got '${speciesFlag}')`);
  return { domain, species };
}

/** `n` simulated samples in memory, as pipeline inputs with their sample-level references. */
function simulateCohort(n: number, o: { domain: Domain | undefined; species: Species; cells: number; seed: number }, progress: ProgressRenderer) {
  const { domain, species, cells, seed } = o;
  const sims = [];
  for (let i = 0; i < n; i++) {
    progress.bar('simulate', i, n);
    sims.push(simulateSample(domain ? { domain, cells, seed, sampleIndex: i } : { species, cells, seed, sampleIndex: i }));
  }
  progress.bar('simulate', n, n);
  progress.finish();
  const ids = sims.map((_, i) => `${species}_${String(i + 1).padStart(3, '0')}`);
  const inputs: SampleInput[] = sims.map((s, i) => ({ id: ids[i], rows: s.cells, cols: s.features.length, data: s.signals, columns: s.features }));
  const references = new Map<string, Reference>(sims.map((s, i) => [ids[i], { plt_pct: s.reference.pltPct, retic_pct: s.reference.reticPct, clump_pct: s.reference.clumpPct }]));
  return { sims, ids, inputs, references };
}

interface DemoReportInput {
  species: Species;
  domain: Domain | undefined;
  nTrain: number;
  nTest: number;
  cells: number;
  seed: number;
  backend: ComputeBackend;
  pipe: BloodCellPipeline;
  first: ClassifyResult;
  evaluation: ReturnType<typeof evaluateResults>;
  seconds: { simulate: number; train: number; classify: number };
}

/** The demo's HTML report: held-out samples, the latent map of the first, the run's facts. */
function demoReport(r: DemoReportInput): string {
  const { species, domain, nTrain, nTest, first, evaluation, pipe } = r;
  const quality = pipe.meta.quality;
  const maxErr = evaluation.maxAbsErrorVsTruth;
  return renderReport({
    title: `hemaclust demo — ${species}`,
    subtitle: `Trained on ${nTrain} simulated samples using only their sample-level references; ${nTest} held-out samples below. ` +
      'Stage 1: autoencoder + IDEC (platelets vs red cells); stage 2: VaDE with per-sample mixture weights, then single vs clumped on scatter/impedance pulse summaries and rbc vs reticulocyte on fluorescence.',
    samples: evaluation.samples.map((s) => ({ id: s.id, cells: s.cells, predicted: s.predicted, reference: s.reference, truth: s.truth, flags: s.flags })),
    scatter: first.embedding2d ? { xy: first.embedding2d, labels: argmax4(first.probabilities), classes: CLASSES, title: `Latent space of ${first.summary.id} (PCA of both stages' embeddings), coloured by predicted class` } : null,
    facts: [
      ['backend', `${r.backend.info().name} (${r.backend.info().device})`],
      ['seed', String(r.seed)],
      ['events per sample', String(r.cells)],
      ['analyzer', domain ? `${domain.name}: ${domain.description}` : 'built-in simulator'],
      ['training quality gate (training samples vs their references)', quality ? `${quality.passed ? 'passed' : 'FAILED'}: RMS error plt ${quality.fits.plt_pct.rms.toFixed(2)}, retic ${quality.fits.retic_pct.rms.toFixed(2)}, clump ${quality.fits.clump_pct.rms.toFixed(2)} pp` : '–'],
      ['per-event macro-F1 (held-out, debris/coincidences excluded)', evaluation.macroF1?.toFixed(4) ?? '–'],
      ['max |error| vs truth (plt / retic / clump, pp)', maxErr ? `${maxErr.plt_pct.toFixed(2)} / ${maxErr.retic_pct.toFixed(2)} / ${maxErr.clump_pct.toFixed(2)}` : '–'],
      ['time (simulate / train / classify)', `${r.seconds.simulate.toFixed(1)} s / ${r.seconds.train.toFixed(1)} s / ${r.seconds.classify.toFixed(1)} s`],
    ],
    tables: evaluation.confusion ? [{ caption: 'Confusion (rows: true class, columns: predicted)', header: ['true \\ predicted', ...CLASSES], rows: evaluation.confusion.map((row, i) => [TRUTH_CLASSES[i], ...row.map(String)]) }] : [],
  });
}
