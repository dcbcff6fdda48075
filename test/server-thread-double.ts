// The pipeline double (server-double.ts) as a module a WorkerEngine thread can import: its training
// blocks its thread for BUSY_MS per epoch, like a real training step does, so a test can check that
// the server's event loop stays free while a job trains on another thread.
import { makeDouble } from './server-double.js';

export const BUSY_MS = 400;

export const pipeline = makeDouble({
  classifyCalls: 0,
  trainCalls: 0,
  trainGate: async () => {
    const until = Date.now() + BUSY_MS;
    while (Date.now() < until) {
      // busy on purpose: synchronous compute, no await
    }
  },
});
