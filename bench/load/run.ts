// Bounded load test against 127.0.0.1 only. The server runs in its own process
// (bench/load/server.ts) so the clients do not share its event loop. At once:
//   - C well-behaved clients (default 200), each from its own loopback address, classify simulated
//     NPY samples back to back until N requests (default 1000) are done AND the training job has
//     ended, or T seconds (default 240) have passed;
//   - S slow clients (default 20, slowloris: half trickle their headers, half their body, one byte
//     every 500 ms, reconnecting whenever the server cuts them off), each from its own address;
//   - one training job (POST /v1/train), its progress followed over SSE;
//   - a /health poll every 100 ms.
// Reports errors of the well-behaved clients, their latency, /health latency, SSE lateness and what
// happened to the slow clients, and writes bench/results/load-<date>.md.
//   npx tsx bench/load/run.ts [--clients 200] [--slow 20] [--requests 1000] [--seconds 240] [--cells 500] [--out FILE]
import { spawn, execFileSync } from 'node:child_process';
import { cpus, loadavg, totalmem, platform, release } from 'node:os';
import { writeFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { encodeNpy } from '../../bindings/io/npy.js';
import { simulateSample } from '../../bindings/simulate/index.js';
import { simulatedCohort } from '../../server/demo.js';
import { httpRequest, slowClient, wellBehavedClient, type SlowStats, type Stop, type WellBehavedStats } from './clients.js';

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({ options: { clients: { type: 'string' }, slow: { type: 'string' }, requests: { type: 'string' }, seconds: { type: 'string' }, cells: { type: 'string' }, out: { type: 'string' } } });
const CLIENTS = Number(values.clients ?? 200);
const SLOW = Number(values.slow ?? 20);
const TOTAL = Number(values.requests ?? 1000);
const SECONDS = Number(values.seconds ?? 240);
const CELLS = Number(values.cells ?? 500);
const KEY = 'bench-load-key';

// 1. Server.
const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'server.ts'), '0', String(CLIENTS + SLOW + 36), KEY], { stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise<string>((resolve, reject) => {
  let buf = '';
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    const m = /READY (\S+)/.exec(buf);
    if (m) resolve(m[1]!);
  });
  child.once('exit', (code) => reject(new Error(`server exited (${code}) before READY`)));
});
if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(url)) throw new Error(`refusing to load anything but 127.0.0.1 (got ${url})`);

// 2. Bodies: a few simulated samples to classify, and a small cohort to train on.
const bodies = Array.from({ length: 8 }, (_, i) => {
  const s = simulateSample({ cells: CELLS, seed: 31337, sampleIndex: i });
  return encodeNpy([s.cells, s.features.length], s.signals);
});
const cohort = simulatedCohort({ samples: 4, cells: 1500, seed: 7 });
const trainBody = new TextEncoder().encode(JSON.stringify({
  name: 'load-trained',
  seed: 3,
  references: Object.fromEntries(cohort.references),
  samples: cohort.samples.map((s) => ({ id: s.id, data: Buffer.from(encodeNpy([s.rows, s.cols], s.data)).toString('base64') })),
}));

// 3. Load.
const loadBefore = loadavg()[0]!;
const t0 = performance.now();
const deadline = t0 + SECONDS * 1000;
const stop: Stop = { stopped: false };
const slow: SlowStats = { endings: new Map(), held: [] };
const good: WellBehavedStats = { latencies: [], errors: new Map(), sent: 0 };
const slowLoops = Array.from({ length: SLOW }, (_, i) => slowClient(url, i, i % 2 === 0 ? 'headers' : 'body', stop, slow));
// /health and the job's SSE stream are watched from a process of their own (observer.ts).
const observer = spawn(process.execPath, ['--import', 'tsx', join(here, 'observer.ts'), url], { stdio: ['pipe', 'pipe', 'inherit'] });
let observed = '';
await new Promise<void>((resolve) => observer.stdout.on('data', (d: Buffer) => {
  observed += d.toString();
  if (observed.includes('OBSERVING')) resolve();
}));
const submitted = await httpRequest(url, { method: 'POST', path: '/v1/train', body: trainBody, headers: { 'content-type': 'application/json', 'x-api-key': KEY } });
if (submitted.status !== 202) throw new Error(`POST /v1/train: HTTP ${submitted.status} ${submitted.text}`);
const job = JSON.parse(submitted.text) as { links: { self: string; events: string } };
observer.stdin.write(`follow ${job.links.events}\n`);
const jobOver = async () => {
  const v = JSON.parse((await httpRequest(url, { method: 'GET', path: job.links.self })).text) as { status: string };
  return v.status === 'succeeded' || v.status === 'failed';
};
let trainingOver = false;
const watchJob = (async () => {
  while (!trainingOver && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 1000));
    trainingOver = await jobOver();
  }
})();
const keepGoing = () => performance.now() < deadline && (good.sent < TOTAL || !trainingOver);
await Promise.all(Array.from({ length: CLIENTS }, (_, i) => wellBehavedClient(url, i, bodies, CELLS, keepGoing, good)));
const wall = (performance.now() - t0) / 1000;
await watchJob;
stop.stopped = true;
observer.stdin.write('stop\n');
await Promise.all([new Promise((r) => observer.once('exit', r)), ...slowLoops]);
const obs = JSON.parse(observed.trim().split('\n').pop()!) as { health: { latencies: number[]; errors: number }; lateness: number[]; end: string; endedAt: number };
const health = obs.health;
const lateness = obs.lateness;
const trainEnd = obs.end;
const trainSeconds = obs.endedAt ?? NaN; // NaN (JSON null) when the stream had not ended
const jobState = JSON.parse((await httpRequest(url, { method: 'GET', path: job.links.self })).text) as { status: string; result?: { seconds: number } };
child.kill('SIGTERM');
await new Promise((r) => child.once('exit', r));

// 4. Report.
const sorted = (a: number[]) => [...a].sort((x, y) => x - y);
const q = (a: number[], p: number) => (a.length ? a[Math.min(a.length - 1, Math.floor(p * a.length))]! : NaN);
const lat = sorted(good.latencies);
const hl = sorted(health.latencies);
const sl = sorted(lateness);
const held = sorted(slow.held);
const errCount = [...good.errors.values()].reduce((a, b) => a + b, 0);
let cpuModel = cpus()[0]?.model ?? 'unknown CPU';
try {
  cpuModel = /Model name:\s*(.*)/.exec(execFileSync('lscpu', { encoding: 'utf8' }))?.[1]?.trim() ?? cpuModel;
} catch {
  // no lscpu: keep Node's name for the CPU
}
const machine = `${cpuModel}, ${cpus().length} logical cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ${platform()} ${release()}, Node ${process.versions.node}`;
const ms = (v: number) => `${v.toFixed(0)} ms`;
const row = (k: string, v: string) => `| ${k} | ${v} |`;
const md = [
  `# Load test — classify + slow clients + a training job (${new Date().toISOString().slice(0, 10)})`,
  '',
  `Machine: ${machine}. Server and clients on the same machine, over 127.0.0.1 (each client from its`,
  'own loopback address); the server in its own process, wasm backend, classification on one worker',
  'thread and the training job on another (WorkerEngine), demo model trained at startup with small',
  'training options. Command: `npx tsx bench/load/run.ts' + ` --clients ${CLIENTS} --slow ${SLOW} --requests ${TOTAL} --seconds ${SECONDS} --cells ${CELLS}\`.`,
  '',
  '| metric | value |',
  '| --- | --- |',
  row('machine load average (1 min) before / after', `${loadBefore.toFixed(1)} / ${loadavg()[0]!.toFixed(1)} (other work on the machine shares its ${cpus().length} cores)`),
  row('well-behaved clients', String(CLIENTS)),
  row('requests (bound / sent / ok)', `${TOTAL} / ${good.sent} / ${lat.length}`),
  row('errors (well-behaved clients)', errCount === 0 ? '0' : [...good.errors].map(([k, v]) => `${v}× ${k}`).join(', ')),
  row('cells per request (NPY body)', `${CELLS} × 128 float32 (${(bodies[0]!.byteLength / 1024).toFixed(0)} KiB)`),
  row('wall time (well-behaved load)', `${wall.toFixed(1)} s`),
  row('throughput', `${(lat.length / wall).toFixed(1)} req/s, ${((lat.length * CELLS) / wall / 1000).toFixed(1)} k cells/s`),
  row('classify latency p50 / p90 / p99 / max', `${ms(q(lat, 0.5))} / ${ms(q(lat, 0.9))} / ${ms(q(lat, 0.99))} / ${ms(lat.at(-1) ?? NaN)}`),
  row('/health polls (ok / failed)', `${hl.length} / ${health.errors}`),
  row('/health latency p50 / p99 / max', `${ms(q(hl, 0.5))} / ${ms(q(hl, 0.99))} / ${ms(hl.at(-1) ?? NaN)}`),
  row('training job', `${jobState.status} (${trainEnd}); ${jobState.result?.seconds?.toFixed(1) ?? '?'} s of training, ended ${trainSeconds.toFixed(1)} s into the run`),
  row('SSE progress events received', String(sl.length)),
  row('SSE lateness p50 / max', `${ms(q(sl, 0.5))} / ${ms(sl.at(-1) ?? NaN)}`),
  row('slow clients', `${SLOW} (${Math.ceil(SLOW / 2)} trickling headers, ${Math.floor(SLOW / 2)} trickling a body)`),
  row('slow connections cut off', [...slow.endings].map(([k, v]) => `${v}× ${k}`).join(', ') || 'none'),
  row('slow connection held p50 / max', `${ms(q(held, 0.5))} / ${ms(held.at(-1) ?? NaN)}`),
  '',
  'Classify latency is queueing-dominated (one classify thread, ~C requests ahead of each), so',
  'throughput is the number to compare between runs. /health and SSE lateness show whether the event',
  'loop stays free while the classify and training threads are busy; the slow-client rows show how long',
  'a slowloris connection keeps a socket (headers: the 10 s header deadline; body: the upload-rate floor',
  'after its grace period).',
  '',
].join('\n');
const out = values.out ?? join(here, '..', 'results', `load-${new Date().toISOString().slice(0, 10)}.md`);
await mkdir(dirname(out), { recursive: true });
await writeFile(out, md);
console.log(md);
console.log(`wrote ${out}`);
process.exit(errCount === 0 && jobState.status === 'succeeded' ? 0 : 1);
