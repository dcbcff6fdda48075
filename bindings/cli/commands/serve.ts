// `hemaclust serve`: the HTTP service and the browser app (server/). Models come from --model (a
// pipeline file, served as its file name without extension and used by default), from
// --model-dir (a directory of <name>.safetensors; uploads and trained models are written there),
// or, with neither, a demo model trained at startup from a simulated cohort.
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';
import { parse, intOpt, backendOpt } from '../args.js';
import { startServer } from '../../../server/node.js';
import { MemoryModelStore } from '../../../server/model-store.js';
import { MODEL_NAME_PATTERN } from '../../../server/names.js';

const usage =
  'hemaclust serve [--model M.safetensors | --model-dir DIR] [--port 8080] [--host 127.0.0.1] [--api-key K (or HEMACLUST_API_KEY)] ' +
  '[--backend auto|wasm|webgpu|reference] [--max-body-mb 64] [--timeout-s 60] [--max-concurrent 64] [--max-per-client N] [--min-upload-kbs 16]';

export const serve: Command = {
  name: 'serve',
  summary: 'run the HTTP API and the browser app (classify, train jobs, models, /docs)',
  usage,
  async run(argv) {
    const { values } = parse(argv, {
      model: { type: 'string' }, 'model-dir': { type: 'string' }, port: { type: 'string' }, host: { type: 'string' },
      'api-key': { type: 'string' }, backend: { type: 'string' }, 'max-body-mb': { type: 'string' }, 'timeout-s': { type: 'string' },
      'max-concurrent': { type: 'string' }, 'max-per-client': { type: 'string' }, 'min-upload-kbs': { type: 'string' },
    });
    const port = intOpt('port', values.port, 8080, 0);
    if (port > 65535) throw new UsageError(`--port must be ≤ 65535 (got ${port})`);
    const apiKey = values['api-key'] ?? process.env.HEMACLUST_API_KEY ?? null;
    const backend = backendOpt(values.backend);
    const limits = {
      maxBodyBytes: intOpt('max-body-mb', values['max-body-mb'], 64) * 1024 * 1024,
      requestTimeoutMs: intOpt('timeout-s', values['timeout-s'], 60) * 1000,
      maxConcurrent: intOpt('max-concurrent', values['max-concurrent'], 64),
      // Unset: a quarter of --max-concurrent (resolveLimits), so a few clients cannot take every slot.
      ...(values['max-per-client'] !== undefined ? { maxPerClient: intOpt('max-per-client', values['max-per-client'], 1) } : {}),
      minUploadBytesPerSec: intOpt('min-upload-kbs', values['min-upload-kbs'], 16) * 1024,
    };
    let defaultModel: string | undefined;
    let models;
    if (values.model) {
      const name = basename(values.model).replace(/\.[^.]*$/, '').replace(/[^A-Za-z0-9._-]/g, '_').replace(/^[^A-Za-z0-9]+/, '').replace(/\.\.+/g, '.').slice(0, 64) || 'model';
      if (!MODEL_NAME_PATTERN.test(name)) throw new UsageError(`cannot derive a model name from ${values.model}`);
      const bytes = new Uint8Array(await readFile(values.model));
      if (!values['model-dir']) models = new MemoryModelStore();
      defaultModel = name;
      const srv = await startServer({ port, host: values.host, apiKey, backend, limits, models, modelDir: values['model-dir'], defaultModel, demo: false });
      try {
        await srv.app.addModel(name, bytes, values.model); // validated by loading, like an upload
      } catch (e) {
        await srv.close();
        throw e;
      }
      announce(srv.url, `model '${name}' from ${values.model}`, apiKey);
      return waitForever();
    }
    const srv = await startServer({ port, host: values.host, apiKey, backend, limits, modelDir: values['model-dir'] });
    announce(srv.url, values['model-dir'] ? `models in ${values['model-dir']}` : "demo model (training at startup; GET /health shows progress)", apiKey);
    return waitForever();
  },
};

function announce(url: string, models: string, apiKey: string | null): void {
  console.error(`hemaclust serve: listening on ${url} — app ${url}/ · API docs ${url}/docs · ${models}${apiKey ? '' : ' · no API key: write endpoints disabled'}`);
}

/** The server runs until a signal; node.ts's handler exits the process after a graceful stop. */
function waitForever(): Promise<number> {
  return new Promise<number>(() => undefined);
}
