// One worker thread of WorkerEngine (engine-worker.ts). It creates its own backend and pipelines and
// handles one message at a time, in arrival order (a backend is not driven by interleaved calls):
//   load     → loads model bytes under a name (the old model of that name stays if loading fails)
//   unload   → drops a model
//   classify → a sample's result, its arrays transferred back
//   train    → progress messages while training, then the model's bytes
// Errors go back as name + message; nothing here writes to the console.
import { parentPort, workerData } from 'node:worker_threads';
import type { ComputeBackend } from '../bindings/backend.js';
import type { PipelineFactory, PipelineLike } from './engine.js';
import type { FromThread, ThreadInit, ToThread } from './engine-worker.js';

const port = parentPort!;
const init = workerData as ThreadInit;
const post = (m: FromThread, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

async function start(): Promise<{ factory: PipelineFactory; backend: ComputeBackend }> {
  const mod = (await import(init.pipelineModule)) as { pipeline?: PipelineFactory; BloodCellPipeline?: PipelineFactory };
  const factory = mod.pipeline ?? mod.BloodCellPipeline;
  if (!factory) throw new Error(`${init.pipelineModule} exports neither 'pipeline' nor 'BloodCellPipeline'`);
  const { createBackend } = await import('../bindings/backends/index.js');
  const backend = await createBackend(init.backend, { log: (line) => post({ type: 'log', line }) });
  return { factory, backend };
}

const models = new Map<string, PipelineLike>();

async function handle(m: ToThread, factory: PipelineFactory, backend: ComputeBackend): Promise<void> {
  try {
    switch (m.type) {
      case 'load': {
        const p = factory.fromBytes(m.bytes, backend, m.source);
        models.get(m.name)?.dispose?.();
        models.set(m.name, p);
        post({ type: 'result', id: m.id, ok: true, value: p.meta });
        return;
      }
      case 'unload':
        models.get(m.name)?.dispose?.();
        models.delete(m.name);
        post({ type: 'result', id: m.id, ok: true, value: null });
        return;
      case 'classify': {
        const p = models.get(m.name);
        if (!p) throw new Error(`model '${m.name}' is not loaded on the classify thread`);
        const r = await p.classify(m.sample);
        const buffers = [r.probabilities.buffer, ...(r.embedding2d ? [r.embedding2d.buffer] : [])] as ArrayBuffer[];
        post({ type: 'result', id: m.id, ok: true, value: r }, [...new Set(buffers)]);
        return;
      }
      case 'train': {
        const model = await factory.train(m.samples, new Map(m.references), {
          ...init.trainOptions,
          backend,
          seed: m.seed,
          onProgress: (p) => post({ type: 'progress', id: m.id, progress: { ...p }, at: Date.now() }),
        });
        const bytes = model.toBytes().slice(); // its own buffer, so it can be transferred whole
        const meta = model.meta;
        model.dispose?.();
        post({ type: 'result', id: m.id, ok: true, value: { bytes, meta } }, [bytes.buffer as ArrayBuffer]);
        return;
      }
    }
  } catch (e) {
    const err = e as Error;
    post({ type: 'result', id: m.id, ok: false, name: err?.name ?? 'Error', message: err?.message ?? String(e) });
  }
}

try {
  const { factory, backend } = await start();
  let tail: Promise<void> = Promise.resolve();
  port.on('message', (m: ToThread) => {
    tail = tail.then(() => handle(m, factory, backend));
  });
  const info = backend.info();
  post({ type: 'ready', info: { name: info.name, device: info.device } });
} catch (e) {
  post({ type: 'fail', message: (e as Error)?.message ?? String(e) });
}
