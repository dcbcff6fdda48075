// `hemaclust evaluate`: classify a cohort with a trained pipeline and score it against per-event
// truth (simulated data) and the sample references.
import { join } from 'node:path';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';
import { parse, intOpt, backendOpt, DEFAULT_THREADS } from '../args.js';
import { createBackend } from '../../backends/index.js';
import { BloodCellPipeline } from '../../pipeline/index.js';
import { evaluateResults, formatEvaluation } from '../../pipeline/evaluate.js';
import { loadCohort } from '../../pipeline/node.js';
import { ProgressRenderer } from '../progress.js';

const usage = 'hemaclust evaluate --model M --data DIR [--truth DIR/truth] [--reference DIR/reference.csv] [--backend B] [--threads T] [--json]';

export const evaluate: Command = {
  name: 'evaluate',
  summary: 'score a trained pipeline on a cohort: per-event macro-F1, confusion, per-sample errors',
  usage: `${usage}

  --model M        pipeline model written by hemaclust train
  --data DIR       cohort directory (data files + reference.csv)
  --truth DIR      per-event labels <id>.labels.npy (default DIR/truth when it exists)
  --reference CSV  default DIR/reference.csv
  --json           print the evaluation as JSON on stdout, no progress output`,
  async run(argv) {
    const { values } = parse(argv, {
      model: { type: 'string' }, data: { type: 'string' }, truth: { type: 'string' }, reference: { type: 'string' },
      backend: { type: 'string' }, threads: { type: 'string' }, json: { type: 'boolean' },
    });
    if (!values.model) throw new UsageError('--model M is required');
    if (!values.data) throw new UsageError('--data DIR is required');
    const kind = backendOpt(values.backend);
    const threads = intOpt('threads', values.threads, DEFAULT_THREADS);
    const progress = new ProgressRenderer({ silent: values.json });
    const cohort = await loadCohort(values.data, {
      referencePath: values.reference ?? join(values.data, 'reference.csv'),
      truthDir: values.truth, // undefined: DIR/truth if present
      onFile: (done, total) => progress.bar('read', done, total),
    });
    progress.finish();
    const be = await createBackend(kind, { log: values.json ? () => undefined : (m) => progress.line(m), threads });
    try {
      const pipe = await BloodCellPipeline.load(values.model, be);
      const items = [];
      for (let i = 0; i < cohort.samples.length; i++) {
        const s = cohort.samples[i];
        progress.bar('classify', i, cohort.samples.length, s.id);
        items.push({ result: await pipe.classify(s), truth: cohort.truth?.get(s.id) ?? null, reference: cohort.references.get(s.id) ?? null });
      }
      progress.bar('classify', cohort.samples.length, cohort.samples.length);
      progress.finish();
      const evaluation = evaluateResults(items);
      if (values.json) console.log(JSON.stringify({ model: values.model, data: values.data, ...evaluation }, null, 2));
      else {
        if (!cohort.truth) console.log('(no truth folder: per-event scores are not available)');
        console.log(formatEvaluation(evaluation));
      }
      pipe.dispose();
      return 0;
    } finally {
      be.destroy();
    }
  },
};
