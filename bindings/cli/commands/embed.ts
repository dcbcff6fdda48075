// `hemaclust embed`: latent features of a saved model (DEC/IDEC embedding, VaDE encoder mean μ̃,
// autoencoder embedding) for every row of a data matrix, written as a float32 .npy.
import type { Command } from '../command.js';
import { UsageError } from '../command.js';
import { parse, intOpt, backendOpt, DEFAULT_THREADS } from '../args.js';
import { createBackend } from '../../backends/index.js';
import { readMatrix } from '../../io/index.js';
import { writeNpyFile } from '../../io/npy.js';
import { KMeans, loadModel } from '../../models/index.js';

const usage = 'hemaclust embed --model M.safetensors --data X.(npy|csv) --out Z.npy [--backend auto|wasm|webgpu|reference] [--threads T] [--json]';

export const embed: Command = {
  name: 'embed',
  summary: 'write the latent features of a saved model for a data matrix (.npy)',
  usage,
  async run(argv) {
    const { values } = parse(argv, {
      model: { type: 'string' }, data: { type: 'string' }, out: { type: 'string' },
      backend: { type: 'string' }, threads: { type: 'string' }, json: { type: 'boolean' },
    });
    if (!values.model || !values.data || !values.out) throw new UsageError('--model, --data and --out are required');
    const kind = backendOpt(values.backend);
    const threads = intOpt('threads', values.threads, DEFAULT_THREADS);
    const x = await readMatrix(values.data);
    const be = await createBackend(kind, { threads });
    try {
      const { model, kind: modelKind } = await loadModel(be, values.model);
      if (model instanceof KMeans) throw new Error(`${values.model}: a k-means model has no latent features to embed`);
      const z = await model.transform(x);
      const dim = z.length / x.rows;
      await writeNpyFile(values.out, [x.rows, dim], z);
      const summary = { model: modelKind, rows: x.rows, dim, out: values.out };
      console.log(values.json ? JSON.stringify(summary) : `${modelKind}: wrote ${x.rows} × ${dim} embedding to ${values.out}`);
      return 0;
    } finally {
      be.destroy();
    }
  },
};
