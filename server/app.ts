// The hemaclust HTTP service as a Hono app on web-standard Request/Response only, so the same
// object runs under @hono/node-server (node.ts), Deno, Bun or a worker runtime. Everything that
// touches a disk (model directory, static files) or a thread comes in through small interfaces
// (ModelStore, AssetSource, Engine); the Node implementations live beside this file.
//
// The routes live in groups under routes/, each a Hono sub-app mounted here with app.route():
//   meta     GET /health, /openapi.json, /docs
//   models   GET /v1/models, GET /v1/models/:name, POST /v1/models?name=N (API key)
//   classify POST /v1/classify?model=N (FCS | NPY | CSV body, or multipart with one file)
//   jobs     POST /v1/train (API key), GET /v1/jobs/:id, GET /v1/jobs/:id/events (SSE)
//   assets   GET /, /browser/*, /build/*.wasm (the page, its bundle, the wasm kernels)
import { Hono, type Context } from 'hono';
import { ApiError, errorResponse } from './errors.js';
import { requireApiKey } from './auth.js';
import { createGuard, resolveLimits, RequestAborted, type GuardOptions, type Limits } from './limits.js';
import { MemoryModelStore, type ModelStore } from './model-store.js';
import { JobRegistry } from './jobs.js';
import { Models } from './models.js';
import { InlineEngine, type BackendChoice, type Engine, type PipelineFactory, type PipelineMeta } from './engine.js';
import type { DemoOptions } from './demo.js';
import type { AssetSource } from './assets.js';
import type { Services } from './services.js';
import { metaRoutes } from './routes/meta.js';
import { modelRoutes } from './routes/models.js';
import { classifyRoutes } from './routes/classify.js';
import { jobRoutes } from './routes/jobs.js';
import { assetRoutes } from './routes/assets.js';

/** How long shutdown waits for in-flight work by default: long enough for a classify request in
 *  flight to finish, short enough that a stop does not hang on a training job. */
export const SHUTDOWN_GRACE_MS = 30_000;

export { API_VERSION } from './routes/meta.js';
export type { AssetSource } from './assets.js';

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
  /** How a client is told apart for its share of the slots (default: its peer address). */
  clientKey?: GuardOptions['clientKey'];
  /** Compute backend kind (created on first use) or a ready backend. Default 'auto'. */
  backend?: BackendChoice;
  /** The pipeline implementation (default: BloodCellPipeline). Tests inject doubles here. */
  pipeline?: PipelineFactory;
  /** Where computations run (default: on this thread, one at a time; node.ts passes a WorkerEngine). */
  engine?: Engine;
  /** Extra training options passed to the pipeline's train (epochs, sizes…; default: the pipeline's). */
  trainOptions?: Record<string, unknown>;
  /** Train a demo model named 'demo' from a simulated cohort at startup (default: when the store has no model). */
  demo?: boolean | DemoOptions;
  assets?: AssetSource;
  /** Where log lines go (default: console.error). */
  log?: (line: string) => void;
}

export interface HemaclustApp extends Hono {
  /** Stops taking new work, waits for in-flight requests and jobs, closes SSE streams, frees the engine. */
  shutdown(opts?: { graceMs?: number }): Promise<void>;
  /** Resolves when the demo model (if any) is trained. Rejects if its training failed. */
  readonly demoReady: Promise<void>;
  readonly limits: Limits;
  /** Validates `bytes` by loading them and stores the model (what POST /v1/models does, without auth: for the host). */
  addModel(name: string, bytes: Uint8Array, source?: string): Promise<{ meta: PipelineMeta }>;
}

const COOP_COEP = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'cross-origin-resource-policy': 'same-origin',
};

export function createApp(opts: AppOptions = {}): HemaclustApp {
  const limits = resolveLimits(opts.limits);
  const log = opts.log ?? ((l: string) => console.error(l));
  const jobs = new JobRegistry();
  const engine = opts.engine ?? defaultEngine(opts, log);
  const store = opts.models ?? (opts.modelDir ? openDirectoryStore(opts.modelDir) : new MemoryModelStore());
  const demoWanted = opts.demo ?? (opts.models === undefined && !opts.modelDir && !opts.defaultModel);
  const models = new Models({ store, engine, jobs, defaultModel: opts.defaultModel, demo: demoWanted === false ? false : demoWanted === true ? {} : demoWanted, log });
  let closing = false;
  const s: Services = {
    limits,
    guard: createGuard(limits, { clientKey: opts.clientKey }),
    jobs,
    models,
    engine,
    auth: requireApiKey(opts.apiKey),
    backendKind: typeof opts.backend === 'string' ? opts.backend : typeof opts.backend === 'object' ? 'custom' : 'auto',
    assets: opts.assets,
    log,
    isClosing: () => closing,
    streams: new Set(),
  };

  const app = new Hono() as HemaclustApp;
  app.use('*', async (c, next) => {
    await next();
    for (const [k, v] of Object.entries(COOP_COEP)) c.res.headers.set(k, v);
  });
  app.use('/v1/*', async (c, next) => {
    if (closing && c.req.method !== 'GET') return errorResponse(c, 503, 'shutting_down', 'the server is shutting down', { 'retry-after': '5', connection: 'close' });
    await next();
  });
  app.onError((err, c) => onError(err, c, log));
  app.notFound((c) => errorResponse(c, 404, 'not_found', `no route for ${c.req.method} ${c.req.path}`));
  app.route('/', metaRoutes(s));
  app.route('/', modelRoutes(s));
  app.route('/', classifyRoutes(s));
  app.route('/', jobRoutes(s));
  app.route('/', assetRoutes(s));

  Object.defineProperty(app, 'demoReady', { value: models.demoReady });
  Object.defineProperty(app, 'limits', { value: limits });
  app.addModel = async (name, bytes, source = `model '${name}'`) => ({ meta: await models.add(name, bytes, source) });
  app.shutdown = async ({ graceMs = SHUTDOWN_GRACE_MS } = {}) => {
    closing = true;
    jobs.cancelAll();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<void>((r) => (timer = setTimeout(r, graceMs)));
    await Promise.race([Promise.all([s.guard.idle(), jobs.idle()]), deadline]);
    clearTimeout(timer);
    for (const end of [...s.streams]) end();
    await engine.close();
  };
  return app;
}

/** Errors into structured responses. A client that went away is not a server fault: one line, no
 *  stack, no 500. */
function onError(err: Error, c: Context, log: (line: string) => void): Response {
  if (err instanceof ApiError) return errorResponse(c, err.status, err.code, err.message, err.headers);
  if (err instanceof RequestAborted) {
    if (err.why === 'client_closed') {
      log(`hemaclust: ${c.req.method} ${c.req.path}: the client closed the connection`);
      return errorResponse(c, 400, 'client_closed', err.message, { connection: 'close' });
    }
    return errorResponse(c, 503, 'timeout', err.message, { 'retry-after': '5' });
  }
  log(`hemaclust: ${c.req.method} ${c.req.path}: ${err.stack ?? err}`);
  return errorResponse(c, 500, 'internal', err.message ?? 'internal error');
}

function defaultEngine(opts: AppOptions, log: (line: string) => void): Engine {
  let factory: Promise<PipelineFactory> | null = opts.pipeline ? Promise.resolve(opts.pipeline) : null;
  const getFactory = () => (factory ??= import('../bindings/pipeline/index.js').then((m) => {
    const f: PipelineFactory = m.BloodCellPipeline; // checks at compile time that the pipeline fits
    return f;
  }));
  return new InlineEngine(getFactory, opts.backend ?? 'auto', opts.trainOptions, log);
}

async function openDirectoryStore(dir: string): Promise<ModelStore> {
  // Imported only when a directory is asked for, so runtimes without node:fs can still load app.ts.
  const { DirectoryModelStore } = await import('./model-store-fs.js');
  return new DirectoryModelStore(dir);
}

export type { Context };
