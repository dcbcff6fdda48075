// The models the server knows: bytes in a ModelStore, loaded into the Engine on first use, and the
// built-in demo model trained at startup as a job when asked for. Shared by the route groups.
import { ApiError } from './errors.js';
import { checkModelName } from './names.js';
import type { ModelStore } from './model-store.js';
import type { JobRegistry, JobView } from './jobs.js';
import type { Engine, PipelineMeta, SampleInput, Shares } from './engine.js';
import { simulatedCohort, type DemoOptions } from './demo.js';

export type DemoState = 'off' | 'training' | 'ready' | 'failed';

export interface ModelsOptions {
  store: ModelStore | Promise<ModelStore>;
  engine: Engine;
  jobs: JobRegistry;
  defaultModel?: string;
  /** Train a demo model named 'demo' at startup (false: never). */
  demo: false | DemoOptions;
  log: (line: string) => void;
}

export class Models {
  private store: ModelStore | Promise<ModelStore>;
  private readonly loaded = new Map<string, Promise<PipelineMeta>>();
  demoState: DemoState = 'off';
  demoJob: string | null = null;
  /** Resolves when the demo model (if any) is trained; rejects if its training failed. */
  readonly demoReady: Promise<void>;

  constructor(private readonly o: ModelsOptions) {
    this.store = o.store;
    this.demoReady = o.demo === false ? Promise.resolve() : this.trainDemo(o.demo);
    this.demoReady.catch(() => undefined);
  }

  async getStore(): Promise<ModelStore> {
    return (this.store = await this.store);
  }

  /** The model's metadata, loading it into the engine first if needed (404 / 503 when there is none yet). */
  ensure(name: string): Promise<PipelineMeta> {
    let p = this.loaded.get(name);
    if (!p) {
      p = (async () => {
        const bytes = await (await this.getStore()).get(name);
        if (!bytes) {
          if (name === 'demo' && this.demoState === 'training') throw new ApiError(503, 'model_not_ready', 'the demo model is still being trained; retry shortly', { 'retry-after': '5' });
          throw new ApiError(404, 'model_not_found', `no model named '${name}' (GET /v1/models lists them)`);
        }
        return this.o.engine.load(name, bytes, `model '${name}'`);
      })();
      this.loaded.set(name, p);
      p.catch(() => this.loaded.delete(name));
    }
    return p;
  }

  async defaultName(): Promise<string> {
    if (this.o.defaultModel) return this.o.defaultModel;
    if (this.o.demo !== false) return 'demo';
    const list = await (await this.getStore()).list();
    if (list.length === 0) throw new ApiError(404, 'no_models', 'the server has no model: upload one with POST /v1/models or name one with ?model=');
    return list[0]!.name;
  }

  /** Validates `bytes` by loading them, then stores them (what POST /v1/models does). */
  async add(name: string, bytes: Uint8Array, source: string): Promise<PipelineMeta> {
    checkModelName(name);
    let meta: PipelineMeta;
    try {
      meta = await this.o.engine.load(name, bytes, source);
    } catch (e) {
      throw new ApiError(400, 'bad_model', `not a loadable hemaclust model: ${(e as Error).message}`);
    }
    await (await this.getStore()).put(name, bytes);
    this.loaded.set(name, Promise.resolve(meta));
    return meta;
  }

  /** Trains a model on the engine, stores it, and drops any stale loaded copy of that name. */
  async train(name: string, samples: SampleInput[], references: Map<string, Shares>, seed: number | undefined, report: (d: Record<string, unknown>, at?: number) => void, signal: AbortSignal) {
    const t0 = Date.now();
    const { bytes, meta } = await this.o.engine.train({ samples, references, seed, onProgress: (p, at) => report(p, at) }, signal);
    await (await this.getStore()).put(name, bytes);
    this.loaded.delete(name);
    this.o.engine.unload(name);
    return { model: name, bytes: bytes.byteLength, seconds: (Date.now() - t0) / 1000, meta: meta as unknown as Record<string, unknown> };
  }

  private async trainDemo(opts: DemoOptions): Promise<void> {
    if (await (await this.getStore()).get('demo')) {
      this.demoState = 'ready';
      return;
    }
    this.demoState = 'training';
    await new Promise<void>((resolve, reject) => {
      const view: JobView | null = this.o.jobs.submit('demo', async (report, signal) => {
        try {
          const cohort = simulatedCohort(opts);
          report({ stage: 'simulate', message: `simulated ${cohort.samples.length} samples × ${cohort.samples[0]!.rows} cells` });
          const result = await this.train('demo', cohort.samples, cohort.references, opts.seed ?? 1, report, signal);
          this.demoState = 'ready';
          this.o.log(`hemaclust: demo model trained (${cohort.samples.length} simulated samples)`);
          resolve();
          return result;
        } catch (e) {
          this.demoState = 'failed';
          this.o.log(`hemaclust: demo model training failed: ${(e as Error).message}`);
          reject(e);
          throw e;
        }
      });
      this.demoJob = view?.id ?? null;
    });
  }
}
