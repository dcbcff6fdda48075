// The hemaclust HTTP service as a Hono app on web-standard Request/Response only, so the same
// object runs under @hono/node-server (node.ts), Deno, Bun or a worker runtime. Everything that
// touches a disk (model directory, static files) comes in through small interfaces (ModelStore,
// AssetSource); the Node implementations live beside this file.
//
//   GET  /health                      liveness + what the server runs on
//   GET  /openapi.json, /docs         the API description and a page rendering it
//   GET  /v1/models                   stored models
//   GET  /v1/models/:name             one model's bytes (the page loads the demo model this way)
//   POST /v1/models?name=N            upload a model (API key; validated by loading it)
//   POST /v1/classify?model=N         classify one sample (FCS | NPY | CSV body)
//   POST /v1/train                    start a training job (API key)
//   GET  /v1/jobs/:id, /events        a job's state, and its progress as Server-Sent Events
//   GET  /, /browser/*, /build/*.wasm the page, its bundle and the wasm kernels
import { Hono, type Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { ComputeBackend } from '../bindings/backend.js';
import { createBackend } from '../bindings/backends/index.js';
import { encodeNpy } from '../bindings/io/npy.js';
import { ApiError, errorResponse } from './errors.js';
import { requireApiKey } from './auth.js';
import { createGuard, readBody, resolveLimits, type Limits } from './limits.js';
import { checkModelName } from './names.js';
import { MemoryModelStore, type ModelStore } from './model-store.js';
import { JobRegistry, type JobEvent } from './jobs.js';
import { decodeSample, sampleId } from './samples.js';
import { parseTrainRequest } from './train-request.js';
import { openApiDocument, docsPage } from './openapi.js';
import { SerialLock, CLASS_NAMES, type BackendChoice, type PipelineFactory, type PipelineLike, type SampleInput, type Shares } from './engine.js';
import { simulatedCohort, type DemoOptions } from './demo.js';

export const API_VERSION = '1.0.0';

/** Static files (the page, the browser bundle, the wasm builds). */
export interface AssetSource {
  /** `path` is the URL path ('/', '/browser/app.js', '/build/x.wasm'); null when there is none. */
  get(path: string): Promise<{ body: Uint8Array; type: string } | null>;
}

export interface AppOptions {
  /** A directory of `<name>.safetensors` models (Node). Ignored when `models` is given. */
  modelDir?: string | null;
  /** A model store to use instead of `modelDir` (default: in memory). */
  models?: ModelStore;
  /** Model used when a request names none (default: 'demo' when the demo is trained, else the first stored). */
  defaultModel?: string;
  /** Required for write endpoints; without one they answer 403. */
  apiKey?: string | null;
  limits?: Partial<Limits>;
  /** Compute backend kind (created on first use) or a ready backend. Default 'auto'. */
  backend?: BackendChoice;
  /** The pipeline implementation (default: BloodCellPipeline). Tests inject doubles here. */
  pipeline?: PipelineFactory;
  /** Extra training options passed to the pipeline's train (epochs, sizes…; default: the pipeline's). */
  trainOptions?: Record<string, unknown>;
  /** Train a demo model named 'demo' from a simulated cohort at startup (default: when the store has no model). */
  demo?: boolean | DemoOptions;
  assets?: AssetSource;
  /** Where log lines go (default: console.error). */
  log?: (line: string) => void;
}

export interface HemaclustApp extends Hono {
  /** Stops taking new work, waits for in-flight requests and jobs, closes SSE streams, frees the backend. */
  shutdown(opts?: { graceMs?: number }): Promise<void>;
  /** Resolves when the demo model (if any) is trained. Rejects if its training failed. */
  readonly demoReady: Promise<void>;
  readonly limits: Limits;
  /** Validates `bytes` by loading them and stores the model (what POST /v1/models does, without auth: for the host). */
  addModel(name: string, bytes: Uint8Array, source?: string): Promise<PipelineLike>;
}

const COOP_COEP = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'cross-origin-resource-policy': 'same-origin',
};

export function createApp(opts: AppOptions = {}): HemaclustApp {
  const limits = resolveLimits(opts.limits);
  const log = opts.log ?? ((l: string) => console.error(l));
  const guard = createGuard(limits);
  const jobs = new JobRegistry();
  const lock = new SerialLock();
  const auth = requireApiKey(opts.apiKey);
  const app = new Hono() as HemaclustApp;
  let store: ModelStore | Promise<ModelStore> = opts.models ?? (opts.modelDir ? openDirectoryStore(opts.modelDir) : new MemoryModelStore());
  const getStore = async () => (store = await store);
  let closing = false;
  const closeStreams = new Set<() => void>();

  // ---- pipeline + backend, created on first use ----
  let pipelineFactory: Promise<PipelineFactory> | null = opts.pipeline ? Promise.resolve(opts.pipeline) : null;
  const getPipelineFactory = () => (pipelineFactory ??= import('../bindings/pipeline/index.js').then((m) => {
    const f: PipelineFactory = m.BloodCellPipeline; // checks at compile time that the pipeline fits
    return f;
  }));
  let backend: Promise<ComputeBackend> | null = null;
  const ownBackend = typeof opts.backend !== 'object';
  const getBackend = () =>
    (backend ??= typeof opts.backend === 'object' ? Promise.resolve(opts.backend) : createBackend(opts.backend ?? 'auto', { log }));
  const loaded = new Map<string, Promise<PipelineLike>>();

  async function loadPipeline(name: string): Promise<PipelineLike> {
    let p = loaded.get(name);
    if (!p) {
      p = (async () => {
        const bytes = await (await getStore()).get(name);
        if (!bytes) {
          if (name === 'demo' && demoState === 'training') throw new ApiError(503, 'model_not_ready', "the demo model is still being trained; retry shortly", { 'retry-after': '5' });
          throw new ApiError(404, 'model_not_found', `no model named '${name}' (GET /v1/models lists them)`);
        }
        const [factory, be] = await Promise.all([getPipelineFactory(), getBackend()]);
        return factory.fromBytes(bytes, be, `model '${name}'`);
      })();
      loaded.set(name, p);
      p.catch(() => loaded.delete(name));
    }
    return p;
  }

  /** Drops a cached pipeline (its tensors are freed once no request uses it any more). */
  function forget(name: string): void {
    const old = loaded.get(name);
    loaded.delete(name);
    old?.then((m) => lock.run(async () => m.dispose?.())).catch(() => undefined);
  }

  async function defaultModelName(): Promise<string> {
    if (opts.defaultModel) return opts.defaultModel;
    if (demoEnabled) return 'demo';
    const list = await (await getStore()).list();
    if (list.length === 0) throw new ApiError(404, 'no_models', 'the server has no model: upload one with POST /v1/models or name one with ?model=');
    return list[0]!.name;
  }

  async function addModel(name: string, bytes: Uint8Array, source: string): Promise<PipelineLike> {
    checkModelName(name);
    const [factory, be] = await Promise.all([getPipelineFactory(), getBackend()]);
    let model: PipelineLike;
    try {
      model = factory.fromBytes(bytes, be, source);
    } catch (e) {
      throw new ApiError(400, 'bad_model', `not a loadable hemaclust model: ${(e as Error).message}`);
    }
    await (await getStore()).put(name, bytes);
    forget(name);
    loaded.set(name, Promise.resolve(model));
    return model;
  }

  // ---- demo model ----
  const demoWanted = opts.demo ?? (opts.models === undefined && !opts.modelDir && !opts.defaultModel);
  const demoEnabled = demoWanted !== false;
  let demoState: 'off' | 'training' | 'ready' | 'failed' = 'off';
  let demoJobId: string | null = null;
  const demoReady = (async () => {
    if (!demoEnabled) return;
    const st = await getStore();
    if (await st.get('demo')) {
      demoState = 'ready';
      return;
    }
    demoState = 'training';
    const demoOpts: DemoOptions = typeof demoWanted === 'object' ? demoWanted : {};
    await new Promise<void>((resolve, reject) => {
      const view = jobs.submit('demo', async (report) => {
        try {
          const cohort = simulatedCohort(demoOpts);
          report({ stage: 'simulate', message: `simulated ${cohort.samples.length} samples × ${cohort.samples[0]!.rows} cells` });
          const result = await trainAndStore('demo', cohort.samples, cohort.references, demoOpts.seed ?? 1, report);
          demoState = 'ready';
          log(`hemaclust: demo model trained (${cohort.samples.length} simulated samples)`);
          resolve();
          return result;
        } catch (e) {
          demoState = 'failed';
          log(`hemaclust: demo model training failed: ${(e as Error).message}`);
          reject(e);
          throw e;
        }
      });
      demoJobId = view?.id ?? null;
    });
  })();
  demoReady.catch(() => undefined);

  async function trainAndStore(name: string, samples: SampleInput[], references: Map<string, Shares>, seed: number | undefined, report: (d: Record<string, unknown>) => void) {
    const [factory, be] = await Promise.all([getPipelineFactory(), getBackend()]);
    const t0 = Date.now();
    const model = await lock.run(() => factory.train(samples, references, { ...opts.trainOptions, backend: be, seed, onProgress: (p) => report({ ...p }) }));
    const bytes = model.toBytes();
    await (await getStore()).put(name, bytes);
    forget(name);
    model.dispose?.();
    return { model: name, bytes: bytes.byteLength, seconds: (Date.now() - t0) / 1000, meta: model.meta as unknown as Record<string, unknown> };
  }

  // ---- cross-cutting ----
  app.use('*', async (c, next) => {
    await next();
    for (const [k, v] of Object.entries(COOP_COEP)) c.res.headers.set(k, v);
  });
  app.use('/v1/*', async (c, next) => {
    if (closing && c.req.method !== 'GET') return errorResponse(c, 503, 'shutting_down', 'the server is shutting down', { 'retry-after': '5', connection: 'close' });
    await next();
  });
  app.onError((err, c) => {
    if (err instanceof ApiError) return errorResponse(c, err.status, err.code, err.message, err.headers);
    log(`hemaclust: ${c.req.method} ${c.req.path}: ${(err as Error).stack ?? err}`);
    return errorResponse(c, 500, 'internal', (err as Error).message ?? 'internal error');
  });
  app.notFound((c) => errorResponse(c, 404, 'not_found', `no route for ${c.req.method} ${c.req.path}`));

  // ---- meta ----
  app.get('/health', async (c) => {
    const st = await getStore();
    const be = backend ? await backend.catch(() => null) : null;
    return c.json({
      status: closing ? 'shutting_down' : 'ok',
      version: API_VERSION,
      backend: be ? be.info() : { kind: typeof opts.backend === 'string' ? opts.backend : 'auto', device: 'not yet created' },
      models: { store: st.where, count: (await st.list()).length },
      demo: { state: demoState, job: demoJobId },
      inFlight: guard.inFlight(),
      limits,
    });
  });
  app.get('/openapi.json', (c) => c.json(openApiDocument(limits)));
  app.get('/docs', (c) => c.html(docsPage()));

  // ---- models ----
  app.get('/v1/models', async (c) => {
    const list = await (await getStore()).list();
    let def: string | null = null;
    try {
      def = await defaultModelName();
    } catch {
      def = null;
    }
    return c.json({ default: def, demo: demoState, models: list });
  });
  app.get('/v1/models/:name', async (c) => {
    const name = checkModelName(c.req.param('name'));
    const bytes = await (await getStore()).get(name);
    if (!bytes) throw new ApiError(404, 'model_not_found', `no model named '${name}'`);
    return c.body(bytes as Uint8Array<ArrayBuffer>, 200, { 'content-type': 'application/octet-stream', 'content-disposition': `attachment; filename="${name}.safetensors"` });
  });
  app.post('/v1/models', auth, guard.middleware, async (c) => {
    const name = checkModelName(c.req.query('name'));
    const bytes = await readBody(c.req.raw, limits.maxBodyBytes);
    if (bytes.length === 0) throw new ApiError(400, 'empty_body', 'the request body is empty: send the model file');
    const model = await addModel(name, bytes, `uploaded model '${name}'`);
    return c.json({ name, bytes: bytes.byteLength, meta: model.meta }, 201);
  });

  // ---- classify ----
  app.post('/v1/classify', guard.middleware, async (c) => {
    const cells = c.req.query('cells');
    if (cells !== undefined && cells !== 'npy' && cells !== 'json') throw new ApiError(400, 'bad_query', `cells must be 'npy' or 'json' (got '${cells}')`);
    const embedding = ['1', 'true'].includes(c.req.query('embedding') ?? '');
    const name = checkModelName(c.req.query('model') ?? (await defaultModelName()));
    const filename = c.req.query('filename') ?? null;
    const id = sampleId(c.req.query('id'), filename);
    let sample: SampleInput | null = decodeSample(await readBody(c.req.raw, limits.maxBodyBytes), { id, contentType: c.req.header('content-type'), filename });
    const model = await loadPipeline(name);
    if (sample.cols !== model.meta.features) {
      throw new ApiError(422, 'feature_mismatch', `the sample has ${sample.cols} features per cell but model '${name}' expects ${model.meta.features}`);
    }
    const s = sample;
    const result = await lock.run(() => model.classify(s));
    sample = null; // the upload is not kept beyond this point
    const body = { model: name, summary: result.summary };
    if (cells === 'npy') {
      return c.body(encodeNpy([result.summary.cells, CLASS_NAMES.length], result.probabilities) as Uint8Array<ArrayBuffer>, 200, {
        'content-type': 'application/octet-stream',
        'x-hemaclust-summary': JSON.stringify(body),
        'x-hemaclust-classes': CLASS_NAMES.join(','),
      });
    }
    if (cells === 'json' || embedding) {
      const k = CLASS_NAMES.length;
      const rows = result.summary.cells;
      return c.json({
        ...body,
        classes: CLASS_NAMES,
        ...(cells === 'json' ? { probabilities: Array.from({ length: rows }, (_, i) => Array.from(result.probabilities.subarray(i * k, i * k + k), round6)) } : {}),
        ...(embedding && result.embedding2d ? { embedding2d: Array.from({ length: rows }, (_, i) => [round6(result.embedding2d![2 * i]!), round6(result.embedding2d![2 * i + 1]!)]) } : {}),
      });
    }
    return c.json(body);
  });

  // ---- training jobs ----
  app.post('/v1/train', auth, guard.middleware, async (c) => {
    const bytes = await readBody(c.req.raw, limits.maxBodyBytes);
    const req = await parseTrainRequest(bytes, c.req.header('content-type') ?? '');
    const view = jobs.submit(req.name, async (report) => {
      const r = await trainAndStore(req.name, req.samples, req.references, req.seed, report);
      req.samples.length = 0; // uploaded samples are dropped as soon as training is done
      return r;
    });
    if (!view) throw new ApiError(429, 'too_many_jobs', 'the training queue is full; retry later', { 'retry-after': '30' });
    c.header('location', `/v1/jobs/${view.id}`);
    return c.json({ job: view, links: { self: `/v1/jobs/${view.id}`, events: `/v1/jobs/${view.id}/events` } }, 202);
  });
  app.get('/v1/jobs/:id', (c) => {
    const view = jobs.get(c.req.param('id'));
    if (!view) throw new ApiError(404, 'job_not_found', `no job '${c.req.param('id')}'`);
    return c.json(view);
  });
  app.get('/v1/jobs/:id/events', (c) => {
    const id = c.req.param('id');
    if (!jobs.get(id)) throw new ApiError(404, 'job_not_found', `no job '${id}'`);
    const after = Number(c.req.header('last-event-id') ?? '0') || 0;
    return streamSSE(c, async (stream) => {
      const pending: JobEvent[] = [];
      let wake: (() => void) | null = null;
      let ended = false;
      const end = () => {
        ended = true;
        wake?.();
      };
      const sub = jobs.follow(id, after, (e) => {
        pending.push(e);
        wake?.();
      });
      if (!sub) return;
      closeStreams.add(end);
      stream.onAbort(end);
      pending.unshift(...sub.past);
      try {
        for (;;) {
          while (pending.length > 0) {
            const e = pending.shift()!;
            await stream.writeSSE({ id: String(e.seq), event: e.type, data: JSON.stringify({ ...e.data, at: e.at }) });
            if (e.type === 'done' || e.type === 'error') return;
          }
          if (ended) return;
          await new Promise<void>((r) => (wake = r));
          wake = null;
        }
      } finally {
        sub.unsubscribe();
        closeStreams.delete(end);
      }
    });
  });

  // ---- the page and its assets ----
  app.get('*', async (c) => {
    if (!opts.assets) throw new ApiError(404, 'not_found', `no route for GET ${c.req.path} (this server serves no page)`);
    const a = await opts.assets.get(c.req.path === '/' ? '/index.html' : c.req.path);
    if (!a) throw new ApiError(404, 'not_found', `no file ${c.req.path}`);
    return c.body(a.body as Uint8Array<ArrayBuffer>, 200, { 'content-type': a.type, 'cache-control': 'no-cache' });
  });

  Object.defineProperty(app, 'demoReady', { value: demoReady });
  Object.defineProperty(app, 'limits', { value: limits });
  app.addModel = (name, bytes, source = `model '${name}'`) => addModel(name, bytes, source);
  app.shutdown = async ({ graceMs = 30_000 } = {}) => {
    closing = true;
    jobs.cancelAll();
    const deadline = new Promise<void>((r) => setTimeout(r, graceMs).unref?.());
    await Promise.race([Promise.all([guard.idle(), jobs.idle()]), deadline]);
    for (const end of [...closeStreams]) end();
    if (backend && ownBackend) (await backend.catch(() => null))?.destroy();
  };
  return app;
}

const round6 = (v: number) => Math.round(v * 1e6) / 1e6;

async function openDirectoryStore(dir: string): Promise<ModelStore> {
  // Imported only when a directory is asked for, so runtimes without node:fs can still load app.ts.
  const { DirectoryModelStore } = await import('./model-store-fs.js');
  return new DirectoryModelStore(dir);
}

export type { Context };
