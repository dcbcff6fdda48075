// Regression tests for what a new user (and a careless client) ran into (issue 18, items 4 and 6):
// multipart uploads, 405 for a wrong method, 1-based positions in errors, aborted clients not logged
// as server errors, a Retry-After that grows under sustained overload, and an OpenAPI document that
// names every route the app serves. Through app.request() with the pipeline double: no sockets.
import { describe, expect, it } from 'vitest';
import { createApp, type AppOptions } from '../server/app.js';
import { encodeNpy } from '../bindings/io/npy.js';
import { encodeFcs } from '../bindings/io/fcs.js';
import { doubleModelBytes, gate, makeDouble, NO_BACKEND } from './server-double.js';

const KEY = 'http-key';
const csv = 'a,b,c,d\n0.1,1,2,3\n0.9,1,2,3\n0.2,1,2,3\n';

async function setup(extra: Partial<AppOptions> = {}) {
  const pipeline = makeDouble();
  const lines: string[] = [];
  const app = createApp({ apiKey: KEY, backend: NO_BACKEND, pipeline, demo: false, defaultModel: 'm1', log: (l) => lines.push(l), ...extra });
  await app.addModel('m1', doubleModelBytes(4));
  return { app, pipeline, lines };
}

describe('multipart uploads', () => {
  it('classify takes a multipart form with one file part, its name as the sample id', async () => {
    const { app } = await setup();
    const d = new Float32Array([0.1, 1, 2, 3, 0.9, 1, 2, 3]);
    const fcs = encodeFcs({ parameters: ['a', 'b', 'c', 'd'].map((name) => ({ name })), data: d, events: 2 });
    for (const [file, bytes] of [['x.fcs', fcs], ['y.csv', new TextEncoder().encode(csv)]] as const) {
      const form = new FormData();
      form.append('file', new File([bytes as Uint8Array<ArrayBuffer>], file));
      const r = await app.request('/v1/classify', { method: 'POST', body: form });
      expect(r.status, file).toBe(200);
      const j = await r.json();
      expect(j.summary.id).toBe(file.replace(/\..*$/, ''));
      expect(j.summary.counts.platelet).toBe(file === 'x.fcs' ? 1 : 2);
    }
  });
  it('a form with no file or two files is a clear 400', async () => {
    const { app } = await setup();
    const none = new FormData();
    none.append('note', 'hello');
    const two = new FormData();
    two.append('a', new File([csv], 'a.csv'));
    two.append('b', new File([csv], 'b.csv'));
    for (const body of [none, two]) {
      const r = await app.request('/v1/classify', { method: 'POST', body });
      expect(r.status).toBe(400);
      const j = await r.json();
      expect(j.error).toBe('bad_multipart');
      expect(j.detail).toMatch(/exactly one file part/);
    }
  });
});

describe('methods', () => {
  it('a known path with a wrong method answers 405 with Allow; an unknown path 404', async () => {
    const { app } = await setup();
    const cases: [string, string, string][] = [
      ['GET', '/v1/classify', 'POST'],
      ['PUT', '/v1/models', 'GET, POST, HEAD'],
      ['DELETE', '/v1/models/m1', 'GET, HEAD'],
      ['POST', '/health', 'GET, HEAD'],
      ['GET', '/v1/train', 'POST'],
      ['POST', '/v1/jobs/abc', 'GET, HEAD'],
    ];
    for (const [method, path, allow] of cases) {
      const r = await app.request(path, { method });
      expect(r.status, `${method} ${path}`).toBe(405);
      expect(r.headers.get('allow')).toBe(allow);
      expect((await r.json()).error).toBe('method_not_allowed');
    }
    expect((await app.request('/v1/nope', { method: 'POST' })).status).toBe(404);
  });
});

describe('error positions', () => {
  it('a non-finite value is reported by event and column counting from 1, like the readers', async () => {
    const { app } = await setup();
    const d = new Float32Array(3 * 4).fill(1);
    d[2 * 4 + 1] = NaN; // third event, second column
    const r = await app.request('/v1/classify', { method: 'POST', body: encodeNpy([3, 4], d) as Uint8Array<ArrayBuffer> });
    expect(r.status).toBe(400);
    expect((await r.json()).detail).toMatch(/event 3, column 2\b.*not finite/);
    const c = await app.request('/v1/classify', { method: 'POST', body: 'a,b,c,d\n1,2,3,4\n1,2,zz,4\n' });
    expect((await c.json()).detail).toMatch(/line 3, column 3/);
  });
});

describe('aborted clients', () => {
  it('a client that goes away is logged as one line without a stack, not as a 500', async () => {
    const { app, pipeline, lines } = await setup();
    const ac = new AbortController();
    let push!: (c: Uint8Array) => void;
    const body = new ReadableStream<Uint8Array>({ start: (ctl) => void (push = (c) => ctl.enqueue(c)) });
    const req = new Request('http://x/v1/classify', { method: 'POST', body, signal: ac.signal, duplex: 'half' } as RequestInit);
    const pending = app.fetch(req);
    push(new TextEncoder().encode('a,b,c,d\n'));
    await new Promise((r) => setTimeout(r, 20));
    ac.abort();
    const r = await pending;
    expect(r.status).not.toBe(500);
    expect(pipeline.hooks.classifyCalls).toBe(0);
    expect(lines.some((l) => /client closed the connection/.test(l))).toBe(true);
    expect(lines.join('\n')).not.toMatch(/\n\s+at /); // no stack trace
    expect((await (await app.request('/health')).json()).inFlight).toBe(0);
  });
});

describe('Retry-After', () => {
  it('grows under sustained overload instead of staying at 1 s', async () => {
    const { app, pipeline } = await setup({ limits: { maxConcurrent: 1 } });
    const g = gate();
    pipeline.hooks.classifyGate = g.wait;
    const held = app.request('/v1/classify', { method: 'POST', body: csv });
    while (pipeline.hooks.classifyCalls === 0) await new Promise((r) => setTimeout(r, 5));
    const first = Number((await app.request('/v1/classify', { method: 'POST', body: csv })).headers.get('retry-after'));
    let last = first;
    for (let i = 0; i < 30; i++) last = Number((await app.request('/v1/classify', { method: 'POST', body: csv })).headers.get('retry-after'));
    g.open();
    expect((await held).status).toBe(200);
    expect(first).toBeGreaterThanOrEqual(1);
    expect(last).toBeGreaterThan(first);
    expect(last).toBeLessThanOrEqual(120);
  });
});

describe('OpenAPI', () => {
  it('documents every route the app serves, and the limit responses of every endpoint that computes', async () => {
    const { app } = await setup();
    const doc = await (await app.request('/openapi.json')).json();
    const served = new Set<string>();
    for (const r of app.routes) {
      if (r.method === 'ALL' || r.path.includes('*')) continue;
      served.add(`${r.method.toLowerCase()} ${r.path.replace(/:(\w+)/g, '{$1}')}`);
    }
    expect(served.size).toBeGreaterThanOrEqual(10);
    for (const op of served) {
      const [method, path] = op.split(' ') as [string, string];
      expect(doc.paths[path]?.[method], op).toBeDefined();
    }
    for (const [path, method] of [['/v1/classify', 'post'], ['/v1/models', 'post'], ['/v1/train', 'post']] as const) {
      for (const code of ['400', '408', '413', '429', '503']) expect(doc.paths[path][method].responses, `${method} ${path} ${code}`).toHaveProperty(code);
    }
    expect(Object.keys(doc.paths[`/v1/classify`].post.requestBody.content)).toContain('multipart/form-data');
  });
});
