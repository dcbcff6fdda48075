// `hemaclust predict`: per-row cluster probabilities of a saved model (DEC/IDEC: Student-t q;
// VaDE: γ at the encoder mean; k-means: Student-t memberships), written as a float32 .npy
// [rows, K]; optionally the hard labels (int32 .npy) too.
import type { Command } from '../command.js';
import { UsageError } from '../command.js';
import { parse, intOpt, backendOpt, DEFAULT_THREADS } from '../args.js';
import { createBackend } from '../../backends/index.js';
import { readMatrix } from '../../io/index.js';
import { writeNpyFile } from '../../io/npy.js';
import { Autoencoder, argmaxRows, loadModel } from '../../models/index.js';

const usage =
  'hemaclust predict --model M.safetensors --data X.(npy|csv) --out P.npy [--labels-out L.npy] [--backend auto|wasm|webgpu|reference] [--threads T] [--json]';

export const predict: Command = {
  name: 'predict',
  summary: 'write per-row cluster probabilities of a saved model (.npy), print cluster counts',
  usage,
  async run(argv) {
    const { values } = parse(argv, {
      model: { type: 'string' }, data: { type: 'string' }, out: { type: 'string' }, 'labels-out': { type: 'string' },
      backend: { type: 'string' }, threads: { type: 'string' }, json: { type: 'boolean' },
    });
    if (!values.model || !values.data || !values.out) throw new UsageError('--model, --data and --out are required');
    const kind = backendOpt(values.backend);
    const threads = intOpt('threads', values.threads, DEFAULT_THREADS);
    const x = await readMatrix(values.data);
    const be = await createBackend(kind, { threads });
    try {
      const { model, kind: modelKind, classes } = await loadModel(be, values.model);
      if (model instanceof Autoencoder) throw new Error(`${values.model}: an autoencoder alone has no clusters (use embed)`);
      const p = await model.predictProba(x);
      const k = model.k;
      await writeNpyFile(values.out, [x.rows, k], p);
      const labels = argmaxRows(p, k);
      if (values['labels-out']) await writeNpyFile(values['labels-out'], [x.rows], labels);
      const counts = new Array<number>(k).fill(0);
      for (const c of labels) counts[c]++;
      const names = classes ?? counts.map((_, i) => `cluster ${i}`);
      const summary = {
        model: modelKind, rows: x.rows, k, out: values.out,
        counts: Object.fromEntries(names.map((n, i) => [n, counts[i]])),
        percent: Object.fromEntries(names.map((n, i) => [n, Number(((100 * counts[i]) / x.rows).toFixed(2))])),
      };
      if (values.json) console.log(JSON.stringify(summary, null, 2));
      else {
        console.log(`${modelKind}: wrote ${x.rows} × ${k} probabilities to ${values.out}`);
        names.forEach((n, i) => console.log(`  ${n}: ${counts[i]} (${summary.percent[n]}%)`));
      }
      return 0;
    } finally {
      be.destroy();
    }
  },
};
