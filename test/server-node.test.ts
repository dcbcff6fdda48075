// The Node entry (server/node.ts) over real sockets on 127.0.0.1: static files with COOP/COEP,
// path confinement of the file mounts, SSE delivered live (not buffered to the end), and graceful
// shutdown that lets an in-flight request finish while refusing new connections.
import { describe, expect, it } from 'vitest';
import { startServer } from '../server/node.js';
import { doubleModelBytes, gate, makeDouble, NO_BACKEND } from './server-double.js';

const KEY = 'node-key';

async function start() {
  const pipeline = makeDouble();
  const srv = await startServer({ port: 0, host: '127.0.0.1', handleSignals: false, backend: NO_BACKEND, pipeline, demo: false, defaultModel: 'm', apiKey: KEY, log: () => {} });
  await srv.app.addModel('m', doubleModelBytes(4));
  return { srv, pipeline };
}

const csv = 'a,b,c,d\n0.1,1,2,3\n0.9,1,2,3\n';

describe('node server', () => {
  it('serves the page, its styles and the wasm kernels with isolation headers, and nothing outside the mounts', async () => {
    const { srv } = await start();
    try {
      const page = await fetch(`${srv.url}/`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toContain('text/html');
      expect(page.headers.get('cross-origin-opener-policy')).toBe('same-origin');
      expect(page.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
      expect(await page.text()).toContain('/browser/app.js');
      expect((await fetch(`${srv.url}/style.css`)).headers.get('content-type')).toContain('text/css');
      const wasm = await fetch(`${srv.url}/build/hemaclust-simd.wasm`);
      expect(wasm.status).toBe(200);
      expect(wasm.headers.get('content-type')).toBe('application/wasm');
      expect(WebAssembly.validate(new Uint8Array(await wasm.arrayBuffer()))).toBe(true);
      for (const p of ['/app.ts', '/build/%2e%2e/package.json', '/%2e%2e/package.json', '/browser/..%2f..%2fpackage.json', '/build/..%5cpackage.json']) {
        const r = await fetch(`${srv.url}${p}`);
        expect(r.status, p).toBe(404);
        expect(await r.text()).not.toContain('"devDependencies"');
      }
    } finally {
      await srv.close();
    }
  });

  it('streams job progress live over SSE', async () => {
    const { srv, pipeline } = await start();
    try {
      const steps = [gate(), gate(), gate()];
      let i = 0;
      pipeline.hooks.trainGate = () => steps[i++]!.wait();
      const body = JSON.stringify({ name: 't', references: { a: { plt_pct: 1, retic_pct: 1, clump_pct: 1 } }, samples: [{ id: 'a', data: btoa(csv) }] });
      const { links } = await (await fetch(`${srv.url}/v1/train`, { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-api-key': KEY } })).json();
      const res = await fetch(`${srv.url}${links.events}`);
      expect(res.headers.get('content-type')).toContain('text/event-stream');
      const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
      let text = '';
      const until = async (needle: string) => {
        while (!text.includes(needle)) {
          const { value, done } = await reader.read();
          if (done) throw new Error(`stream ended before '${needle}': ${text}`);
          text += value;
        }
      };
      await until('"status":"running"');
      expect(text).not.toContain('event: progress');
      steps[0]!.open();
      await until('"epoch":1'); // arrives while the job is still running
      expect(text).not.toContain('event: done');
      steps[1]!.open();
      steps[2]!.open();
      await until('event: done');
    } finally {
      await srv.close();
    }
  });

  it('graceful shutdown: the in-flight request completes, new connections are refused', async () => {
    const { srv, pipeline } = await start();
    const g = gate();
    pipeline.hooks.classifyGate = g.wait;
    const inflight = fetch(`${srv.url}/v1/classify`, { method: 'POST', body: csv });
    while (pipeline.hooks.classifyCalls === 0) await new Promise((r) => setTimeout(r, 5));
    const closed = srv.close();
    await new Promise((r) => setTimeout(r, 50));
    await expect(fetch(`${srv.url}/health`, { headers: { connection: 'close' } })).rejects.toThrow();
    g.open();
    const r = await inflight;
    expect(r.status).toBe(200);
    expect((await r.json()).summary.counts.platelet).toBe(1);
    await closed;
  });
});
