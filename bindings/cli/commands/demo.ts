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
import { BloodCellPipeline, CLASSES, type SampleInput, type Reference } from '../../pipeline/index.js';
import { argmax4, evaluateResults, formatEvaluation, TRUTH_CLASSES } from '../../pipeline/evaluate.js';
import { renderReport } from '../../report/index.js';
import { simulateSample } from '../../simulate/sample.js';
import { domainByName, type Domain } from '../../simulate/domains.js';
import { SPECIES, type Species } from '../../simulate/species.js';
import { ProgressRenderer } from '../progress.js';
import { summaryCsv } from './classify.js';
import { TRAIN_FLAGS, TRAIN_HELP, trainOptionsFrom } from './train.js';

const usage = 'hemaclust demo [--species dog|cat] [--domain NAME] [--out DIR] [--train N] [--test N] [--cells N] [--seed S] [--backend B] [--json] [training options]';

export const demo: Command = {
  name: 'demo',
  summary: 'simulate a cohort, train on references only, classify held-out samples, write an HTML report',
  usage: `${usage}

  --species S          dog (default) or cat
  --domain NAME        a simulated analyzer from \`hemaclust simulate --list-domains\` (other units,
                       pulse shapes, channel names, scalar exports: docs/simulator.md); sets the species
  --out DIR            where report.html, model.safetensors and summary.csv go (default: a folder in the system temp dir)
  --train N            training samples (default 10)
  --test N             held-out samples (default 4)
  --cells N            events per simulated sample (default 5000)
${TRAIN_HELP}`,
  async run(argv) {
    const { values } = parse(argv, {
      species: { type: 'string' }, domain: { type: 'string' }, out: { type: 'string' }, train: { type: 'string' }, test: { type: 'string' }, cells: { type: 'string' },
      ...TRAIN_FLAGS,
    });
    let domain: Domain | undefined;
    if (values.domain !== undefined) {
      try {
        domain = domainByName(values.domain);
      } catch (e) {
        throw new UsageError(`--domain: ${(e as Error).message}`);
      }
      if (values.species !== undefined && values.species !== domain.species) throw new UsageError(`--species ${values.species} contradicts --domain ${values.domain} (${domain.species})`);
    }
    const species = (domain?.species ?? values.species ?? 'dog') as Species;
    if (!SPECIES.includes(species)) throw new UsageError(`--species must be one of ${SPECIES.join(', ')} (got '${values.species}')`);
    const nTrain = intOpt('train', values.train, 10, 2);
    const nTest = intOpt('test', values.test, 4, 1);
    const cells = intOpt('cells', values.cells, 5000, 100);
    const options = trainOptionsFrom(values);
    const seed = options.seed ?? 1;
    const out = resolve(values.out ?? join(tmpdir(), `hemaclust-demo-${domain ? domain.name : species}`));
    const kind = backendOpt(values.backend);
    const threads = intOpt('threads', values.threads, DEFAULT_THREADS);
    const progress = new ProgressRenderer({ silent: values.json });
    const t0 = performance.now();

    // 1. Simulate (in memory): the first nTrain samples train, the rest are held out.
    const sims = [];
    for (let i = 0; i < nTrain + nTest; i++) {
      progress.bar('simulate', i, nTrain + nTest);
      sims.push(simulateSample(domain ? { domain, cells, seed, sampleIndex: i } : { species, cells, seed, sampleIndex: i }));
    }
    progress.bar('simulate', nTrain + nTest, nTrain + nTest);
    progress.finish();
    const ids = sims.map((_, i) => `${species}_${String(i + 1).padStart(3, '0')}`);
    const inputs: SampleInput[] = sims.map((s, i) => ({ id: ids[i], rows: s.cells, cols: s.features.length, data: s.signals, columns: s.features }));
    const references = new Map<string, Reference>(sims.map((s, i) => [ids[i], { plt_pct: s.reference.pltPct, retic_pct: s.reference.reticPct, clump_pct: s.reference.clumpPct }]));
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
      const first = items[0].result;
      const html = renderReport({
        title: `hemaclust demo — ${species}`,
        subtitle: `Trained on ${nTrain} simulated samples using only their sample-level references; ${nTest} held-out samples below. ` +
          'Stage 1: autoencoder + IDEC (platelets vs red cells); stage 2: VaDE with per-sample mixture weights, then single vs clumped on scatter/impedance pulse summaries and rbc vs reticulocyte on fluorescence.',
        samples: evaluation.samples.map((s) => ({ id: s.id, cells: s.cells, predicted: s.predicted, reference: s.reference, truth: s.truth, flags: s.flags })),
        scatter: first.embedding2d ? { xy: first.embedding2d, labels: argmax4(first.probabilities), classes: CLASSES, title: `Latent space of ${first.summary.id} (PCA of both stages' embeddings), coloured by predicted class` } : null,
        facts: [
          ['backend', `${be.info().name} (${be.info().device})`],
          ['seed', String(seed)],
          ['events per sample', String(cells)],
          ['analyzer', domain ? `${domain.name}: ${domain.description}` : 'built-in simulator'],
          ['training quality gate (training samples vs their references)', pipe.meta.quality ? `${pipe.meta.quality.passed ? 'passed' : 'FAILED'}: RMS error plt ${pipe.meta.quality.fits.plt_pct.rms.toFixed(2)}, retic ${pipe.meta.quality.fits.retic_pct.rms.toFixed(2)}, clump ${pipe.meta.quality.fits.clump_pct.rms.toFixed(2)} pp` : '–'],
          ['per-event macro-F1 (held-out, debris/coincidences excluded)', evaluation.macroF1?.toFixed(4) ?? '–'],
          ['max |error| vs truth (plt / retic / clump, pp)', evaluation.maxAbsErrorVsTruth ? `${evaluation.maxAbsErrorVsTruth.plt_pct.toFixed(2)} / ${evaluation.maxAbsErrorVsTruth.retic_pct.toFixed(2)} / ${evaluation.maxAbsErrorVsTruth.clump_pct.toFixed(2)}` : '–'],
          ['time (simulate / train / classify)', `${tSim.toFixed(1)} s / ${tTrain.toFixed(1)} s / ${tClassify.toFixed(1)} s`],
        ],
        tables: evaluation.confusion ? [{ caption: 'Confusion (rows: true class, columns: predicted)', header: ['true \\ predicted', ...CLASSES], rows: evaluation.confusion.map((r, i) => [TRUTH_CLASSES[i], ...r.map(String)]) }] : [],
      });
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
