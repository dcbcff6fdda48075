// One worker of ClassifyWorkers (classify-workers.ts): loads the pipeline from the model bytes on its
// own backend, then classifies one sample per message. The parent sends a sample only to an idle
// worker, so samples never overlap here. Results go back with their arrays transferred (this
// worker keeps no reference to them); a sample's error goes back as its class name and message so
// the caller sees what in-process classify would have thrown.
import { parentPort, workerData } from 'node:worker_threads';
import type { ComputeBackend } from '../backend.js';
import { BloodCellPipeline } from './index.js';
import type { ClassifyWorkerInit, FromWorker, ToWorker } from './classify-workers.js';

const port = parentPort!;
const init = workerData as ClassifyWorkerInit;
const post = (m: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

async function load(): Promise<BloodCellPipeline> {
  let be: ComputeBackend;
  if (init.backend === 'reference') {
    const { createReferenceBackend } = await import('../backends/reference/index.js');
    be = createReferenceBackend();
  } else {
    const { createWasmBackend } = await import('../backends/wasm/index.js');
    be = await createWasmBackend({ threads: init.threads, relaxed: init.relaxed });
  }
  try {
    return BloodCellPipeline.fromBytes(init.model, be, 'classify worker model');
  } catch (e) {
    be.destroy();
    throw e;
  }
}

try {
  const pipe = await load();
  port.on('message', async (m: ToWorker) => {
    if (m.type !== 'classify') return;
    try {
      const r = await pipe.classify(m.sample);
      const buffers = [r.probabilities.buffer, ...(r.embedding2d ? [r.embedding2d.buffer] : [])] as ArrayBuffer[];
      post({ type: 'done', result: r }, [...new Set(buffers)]);
    } catch (e) {
      const err = e as Error;
      post({ type: 'error', name: err?.name ?? 'Error', message: err?.message ?? String(e) });
    }
  });
  post({ type: 'ready', device: pipe.backend.info().device });
} catch (e) {
  post({ type: 'fail', message: (e as Error).message });
}
