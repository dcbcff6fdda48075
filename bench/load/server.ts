// The server under load: the real app on 127.0.0.1 (a port from argv, 0 = any), wasm backend on
// worker threads (WorkerEngine, the default of startServer), a small demo model trained at startup,
// and an API key so the load test can start a training job. Prints "READY <url>" once the model is trained.
import { startServer } from '../../server/node.js';

const port = Number(process.argv[2] ?? 0);
const maxConcurrent = Number(process.argv[3] ?? 256);
const apiKey = process.argv[4] ?? 'bench-load-key';
const srv = await startServer({
  port,
  host: '127.0.0.1',
  backend: 'wasm',
  apiKey,
  demo: { samples: 4, cells: 1500, seed: 5 },
  trainOptions: { epochs: 3, clusterIterations: 200, stage2Epochs: 3, stage2PretrainEpochs: 1, cellsPerSample: 1000 },
  limits: { maxConcurrent, requestTimeoutMs: 120_000 },
  log: () => {},
});
await srv.app.demoReady;
console.log(`READY ${srv.url}`);
