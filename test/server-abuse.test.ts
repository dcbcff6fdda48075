// The service under abuse, over real sockets on 127.0.0.1 only (issue 18): slow uploads that time
// out or close must give their slots back, a trickling body is cut off, one client address cannot
// take every slot, and a training job on a worker thread leaves /health and SSE live. Every loop
// here is bounded and every server is closed; the whole file runs in a few seconds.
import { afterEach, describe, expect, it } from 'vitest';
import { connect, type Socket } from 'node:net';
import { request } from 'node:http';
import { startServer, type RunningServer } from '../server/node.js';
import { WorkerEngine } from '../server/engine-worker.js';
import type { Limits } from '../server/limits.js';
import { doubleModelBytes, gate, makeDouble, NO_BACKEND } from './server-double.js';
import { BUSY_MS } from './server-thread-double.js';

const KEY = 'abuse-key';
const csv = 'a,b,c,d\n0.1,1,2,3\n0.9,1,2,3\n';
const servers: RunningServer[] = [];
const sockets: Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(limits: Partial<Limits>, extra: Record<string, unknown> = {}) {
  const pipeline = makeDouble();
  const srv = await startServer({ port: 0, host: '127.0.0.1', handleSignals: false, backend: NO_BACKEND, pipeline, demo: false, defaultModel: 'm', apiKey: KEY, limits, log: () => {}, graceMs: 2_000, ...extra });
  servers.push(srv);
  await srv.app.addModel('m', doubleModelBytes(4));
  return { srv, pipeline };
}

/** A client that sends the headers of a classify upload and `first` body bytes, then trickles or stalls. */
function slowUpload(srv: RunningServer, first: number, opts: { localAddress?: string; length?: number } = {}): { socket: Socket; response: Promise<string> } {
  const socket = connect({ host: '127.0.0.1', port: srv.port, localAddress: opts.localAddress });
  sockets.push(socket);
  socket.write(`POST /v1/classify HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: text/csv\r\ncontent-length: ${opts.length ?? 100_000}\r\n\r\n${'1'.repeat(first)}`);
  let text = '';
  const response = new Promise<string>((resolve) => {
    socket.on('data', (d) => (text += d.toString()));
    socket.on('close', () => resolve(text));
    socket.on('error', () => resolve(text));
  });
  return { socket, response };
}

async function health(srv: RunningServer): Promise<{ inFlight: number; ms: number }> {
  const t0 = performance.now();
  const j = (await (await fetch(`${srv.url}/health`)).json()) as { inFlight: number };
  return { inFlight: j.inFlight, ms: performance.now() - t0 };
}

/** Polls /health until inFlight is 0, at most `ms`. */
async function drained(srv: RunningServer, ms = 2_000): Promise<number> {
  const until = Date.now() + ms;
  let n = -1;
  while (Date.now() < until) {
    n = (await health(srv)).inFlight;
    if (n === 0) return 0;
    await new Promise((r) => setTimeout(r, 25));
  }
  return n;
}

function classifyFrom(srv: RunningServer, localAddress: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const r = request({ host: '127.0.0.1', port: srv.port, localAddress, method: 'POST', path: '/v1/classify', headers: { 'content-type': 'text/csv' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    r.on('error', reject);
    r.end(csv);
  });
}

describe('slow and vanishing clients', () => {
  it('two slow uploads past the timeout get 408, close, and leave inFlight at 0; classify answers 200', async () => {
    // The reproduction (serve --timeout-s 2 --max-concurrent 2), with a shorter timeout.
    const { srv } = await start({ requestTimeoutMs: 400, maxConcurrent: 2, maxPerClient: 2, uploadGraceMs: 60_000 });
    const a = slowUpload(srv, 10);
    const b = slowUpload(srv, 10);
    await new Promise((r) => setTimeout(r, 100));
    expect((await health(srv)).inFlight).toBe(2);
    const [ra, rb] = await Promise.all([a.response, b.response]);
    for (const r of [ra, rb]) {
      expect(r).toMatch(/^HTTP\/1\.1 408/);
      expect(r).toContain('request_timeout');
    }
    expect(await drained(srv)).toBe(0);
    const ok = await fetch(`${srv.url}/v1/classify`, { method: 'POST', body: csv });
    expect(ok.status).toBe(200);
  });

  it('clients that vanish mid-upload give their slots back at once', async () => {
    const { srv } = await start({ requestTimeoutMs: 30_000, maxConcurrent: 2, maxPerClient: 2, uploadGraceMs: 60_000 });
    const a = slowUpload(srv, 10);
    const b = slowUpload(srv, 10);
    await new Promise((r) => setTimeout(r, 100));
    expect((await health(srv)).inFlight).toBe(2);
    a.socket.destroy();
    b.socket.destroy();
    expect(await drained(srv, 1_500)).toBe(0);
    expect((await fetch(`${srv.url}/v1/classify`, { method: 'POST', body: csv })).status).toBe(200);
  });

  it('a client that aborts while its request is being computed frees the slot when the computation ends', async () => {
    const { srv, pipeline } = await start({ requestTimeoutMs: 30_000, maxConcurrent: 2 });
    const g = gate();
    pipeline.hooks.classifyGate = g.wait;
    const ac = new AbortController();
    const req = fetch(`${srv.url}/v1/classify`, { method: 'POST', body: csv, signal: ac.signal }).catch((e) => e);
    while (pipeline.hooks.classifyCalls === 0) await new Promise((r) => setTimeout(r, 5));
    ac.abort();
    await req;
    expect((await health(srv)).inFlight).toBe(1); // the computation still runs: its slot is held
    g.open();
    expect(await drained(srv)).toBe(0);
  });

  it('a body that trickles below the minimum rate is cut off with 408 after the grace period', async () => {
    const { srv } = await start({ requestTimeoutMs: 30_000, uploadGraceMs: 300, minUploadBytesPerSec: 2_000 });
    const t0 = Date.now();
    const s = slowUpload(srv, 50);
    const trickle = setInterval(() => s.socket.writable && s.socket.write('1'), 50);
    const r = await s.response;
    clearInterval(trickle);
    expect(r).toMatch(/^HTTP\/1\.1 408/);
    expect(r).toContain('upload_too_slow');
    expect(Date.now() - t0).toBeLessThan(3_000);
    expect(await drained(srv)).toBe(0);
  });

  it('one client address gets at most its share of the slots; another address still gets in', async () => {
    const { srv } = await start({ requestTimeoutMs: 30_000, maxConcurrent: 4, maxPerClient: 2, uploadGraceMs: 60_000 });
    slowUpload(srv, 10);
    slowUpload(srv, 10);
    await new Promise((r) => setTimeout(r, 100));
    const third = await fetch(`${srv.url}/v1/classify`, { method: 'POST', body: csv });
    expect(third.status).toBe(429);
    expect((await third.json()).error).toBe('too_many_requests_from_client');
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await classifyFrom(srv, '127.0.0.2')).toBe(200);
  });
});

describe('work off the event loop (WorkerEngine)', () => {
  it('/health stays fast and SSE progress arrives live while a job trains on its own thread', async () => {
    const engine = new WorkerEngine({ pipelineModule: new URL('./server-thread-double.ts', import.meta.url).href, backend: 'reference' });
    const { srv } = await start({}, { engine, pipeline: undefined, backend: 'reference' });
    // classify goes through the classify thread
    const r = await fetch(`${srv.url}/v1/classify`, { method: 'POST', body: csv });
    expect(r.status).toBe(200);
    expect((await r.json()).summary.counts).toMatchObject({ platelet: 1, rbc: 1 });

    const body = JSON.stringify({ name: 't', references: { a: { plt_pct: 1, retic_pct: 1, clump_pct: 1 } }, samples: [{ id: 'a', data: btoa(csv) }] });
    const started = await fetch(`${srv.url}/v1/train`, { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-api-key': KEY } });
    expect(started.status).toBe(202);
    const { links } = await started.json();
    const res = await fetch(`${srv.url}${links.events}`);
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    const lateness: number[] = [];
    const healthMs: number[] = [];
    let stop = false;
    const poll = (async () => {
      while (!stop) {
        healthMs.push((await health(srv)).ms);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    let text = '';
    const deadline = Date.now() + 10_000;
    while (!text.includes('event: done') && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      const now = Date.now();
      for (const m of value.matchAll(/event: progress\ndata: (.*)\n/g)) lateness.push(now - Date.parse(JSON.parse(m[1]!).at));
      text += value;
    }
    stop = true;
    await poll;
    expect(text).toContain('event: done');
    expect(lateness).toHaveLength(3); // the double reports 3 epochs, each after BUSY_MS of blocking work
    // On the main thread a training step would block /health for BUSY_MS; on its own thread it does not.
    expect(Math.max(...healthMs)).toBeLessThan(BUSY_MS / 2);
    expect(healthMs.length).toBeGreaterThan(5);
    expect(Math.max(...lateness)).toBeLessThan(BUSY_MS / 2);
    const job = await (await fetch(`${srv.url}${links.self}`)).json();
    expect(job.status).toBe('succeeded');
    expect((await fetch(`${srv.url}/v1/classify?model=t`, { method: 'POST', body: csv })).status).toBe(200);
  }, 20_000);
});
