// `hemaclust export`: one self-contained classifier .wasm with the model inside (docs/embedding.md).
import type { Command } from '../command.js';
import { UsageError } from '../command.js';
import { parse } from '../args.js';
import { readModelFile, writeModelFile } from '../../pipeline/node.js';
import { exportClassifier, readGenericModule } from '../../export/module.js';
import { EmbeddedClassifier } from '../../export/host.js';

const usage = 'hemaclust export --model M.safetensors --out classifier.wasm [--no-simd] [--int8] [--json]';

export const exportCmd: Command = {
  name: 'export',
  summary: 'write a pipeline model as one self-contained classifier .wasm (no imports; C-style ABI; --int8: int8 encoder)',
  usage,
  async run(argv) {
    const { values } = parse(argv, {
      model: { type: 'string' }, out: { type: 'string' }, 'no-simd': { type: 'boolean' }, int8: { type: 'boolean' }, json: { type: 'boolean' },
    });
    if (!values.model || !values.out) throw new UsageError('--model and --out are required');
    const flavour = values['no-simd'] ? 'scalar' : 'simd';
    const int8 = !!values.int8;
    const wasm = await exportClassifier(await readModelFile(values.model), await readGenericModule(flavour), flavour, values.model, { int8 });
    // The written module must load with an empty import object and answer its metadata.
    const meta = (await EmbeddedClassifier.load(wasm)).meta();
    await writeModelFile(values.out, wasm);
    const summary = { out: values.out, bytes: wasm.length, flavour, precision: meta.precision, features: meta.features, format: meta.format };
    console.log(values.json ? JSON.stringify(summary) : `wrote ${values.out}: ${wasm.length} bytes, ${flavour}, ${String(meta.precision)}, ${String(meta.features)} features per event (${String(meta.format)})`);
    return 0;
  },
};
