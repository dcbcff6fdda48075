// Handlers of the Hono app through app.request(): no server, no network. The pipeline is a test
// double (test/server-double.ts) so these tests check the HTTP layer — routing, formats, limits,
// auth, validation, jobs and SSE — quickly; test/server-pipeline.test.ts runs the real pipeline.
import { describe, expect, it } from 'vitest';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp, type AppOptions } from '../server/app.js';
import { constantTimeEqual } from '../server/auth.js';
import { encodeNpy, parseNpy, toFloat32 } from '../bindings/io/npy.js';
import { encodeFcs } from '../bindings/io/fcs.js';
import { doubleModelBytes, gate, makeDouble, NO_BACKEND } from './server-double.js';

const KEY = 'test-key-0123456789';
const F = 4;

/** A cells × F matrix whose first feature alternates 0.1 / 0.9 on a known pattern: `plt` cells below 0.5. */
function fixture(cells: number, plt: number): Float32Array {
  const d = new Float32Array(cells * F);
  for (let i = 0; i < cells; i++) {
    d[i * F] = i < plt ? 0.1 : 0.9;
    for (let j = 1; j < F; j++) d[i * F + j] = i + j / 10;
  }
  return d;
}
const csvOf = (d: Float32Array) => ['a,b,c,d', ...Array.from({ length: d.length / F }, (_, i) => Array.from(d.subarray(i * F, i * F + F)).join(','))].join('\n');

async function setup(extra: Partial<AppOptions> = {}) {
  const pipeline = makeDouble();
  const app = createApp({ apiKey: KEY, backend: NO_BACKEND, pipeline, demo: false, defaultModel: 'm1', log: () => {}, ...extra });
  const up = await app.request('/v1/models?name=m1', { method: 'POST', body: doubleModelBytes(F), headers: { 'x-api-key': KEY } });
  expect(up.status).toBe(201);
  return { app, pipeline };
}

describe('meta endpoints', () => {
  it('GET /health answers ok with COOP/COEP headers', async () => {
    const { app } = await setup();
    const r = await app.request('/health');
    expect(r.status).toBe(200);
    const b = await r.json();
    expect(b.status).toBe('ok');
    expect(b.models.count).toBe(1);
    expect(r.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(r.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
  });
  it('serves an OpenAPI 3.1 document naming every route, and a docs page', async () => {
    const { app } = await setup();
    const doc = await (await app.request('/openapi.json')).json();
    expect(doc.openapi).toBe('3.1.0');
    for (const p of ['/health', '/v1/models', '/v1/models/{name}', '/v1/classify', '/v1/train', '/v1/jobs/{id}', '/v1/jobs/{id}/events']) expect(doc.paths).toHaveProperty([p]);
    const docs = await app.request('/docs');
    expect(docs.headers.get('content-type')).toContain('text/html');
    expect(await docs.text()).toContain('/openapi.json');
  });
  it('unknown routes answer a structured 404', async () => {
    const { app } = await setup();
    const r = await app.request('/v1/nope');
    expect(r.status).toBe(404);
    expect(await r.json()).toMatchObject({ error: 'not_found' });
  });
});

describe('POST /v1/classify', () => {
  it('classifies CSV, NPY and FCS bodies, sniffing the format', async () => {
    const { app } = await setup();
    const d = fixture(50, 13);
    const bodies: [string, BodyInit, Record<string, string>][] = [
      ['csv', csvOf(d), { 'content-type': 'text/csv' }],
      ['csv-unlabelled', csvOf(d), {}],
      ['npy', encodeNpy([50, F], d) as Uint8Array<ArrayBuffer>, { 'content-type': 'application/octet-stream' }],
      ['fcs', encodeFcs({ parameters: ['a', 'b', 'c', 'd'].map((name) => ({ name })), data: d, events: 50 }) as Uint8Array<ArrayBuffer>, {}],
    ];
    for (const [what, body, headers] of bodies) {
      const r = await app.request('/v1/classify?model=m1&id=s1', { method: 'POST', body, headers });
      expect(r.status, what).toBe(200);
      const j = await r.json();
      expect(j.model).toBe('m1');
      expect(j.summary).toMatchObject({ id: 's1', cells: 50, counts: { platelet: 13, rbc: 37 } });
      expect(j.summary.percentages.plt_pct).toBeCloseTo(26, 10);
      expect(j.probabilities).toBeUndefined();
    }
  });
  it('returns per-cell probabilities as JSON or NPY on request, and the 2-D map', async () => {
    const { app } = await setup();
    const d = fixture(7, 3);
    const j = await (await app.request('/v1/classify?cells=json&embedding=1', { method: 'POST', body: csvOf(d) })).json();
    expect(j.classes).toEqual(['platelet', 'rbc', 'reticulocyte', 'clumped_rbc']);
    expect(j.probabilities).toHaveLength(7);
    expect(j.probabilities[0]).toEqual([1, 0, 0, 0]);
    expect(j.probabilities[6]).toEqual([0, 1, 0, 0]);
    expect(j.embedding2d[4]).toEqual([0.9, 4]);
    const r = await app.request('/v1/classify?cells=npy', { method: 'POST', body: csvOf(d) });
    expect(r.headers.get('content-type')).toBe('application/octet-stream');
    const a = parseNpy(new Uint8Array(await r.arrayBuffer()));
    expect(a.shape).toEqual([7, 4]);
    expect(Array.from(toFloat32(a).subarray(8, 12))).toEqual([1, 0, 0, 0]);
    expect(JSON.parse(r.headers.get('x-hemaclust-summary')!).summary.counts.platelet).toBe(3);
  });
  it('rejects bad bodies with structured errors that say where', async () => {
    const { app } = await setup();
    const npy = encodeNpy([50, F], fixture(50, 1));
    const cases: [BodyInit, number, string, RegExp?][] = [
      ['', 400, 'empty_body'],
      [new Uint8Array([0, 1, 2, 3, 200, 201, 0, 7]), 415, 'unsupported_format'],
      [npy.slice(0, 100) as Uint8Array<ArrayBuffer>, 400, 'bad_sample', /byte/],
      ['a,b,c,d\n1,2,3,4\n1,2,zz,4\n', 400, 'bad_sample', /line 3/],
      ['a,b,c\n1,2,3\n', 422, 'feature_mismatch', /3 features/],
    ];
    for (const [body, status, code, detail] of cases) {
      const r = await app.request('/v1/classify', { method: 'POST', body });
      expect(r.status, code).toBe(status);
      const j = await r.json();
      expect(j.error).toBe(code);
      expect(typeof j.detail).toBe('string');
      if (detail) expect(j.detail).toMatch(detail);
    }
  });
  it('rejects bad queries and unknown models', async () => {
    const { app } = await setup();
    const body = csvOf(fixture(3, 1));
    expect((await app.request('/v1/classify?cells=xml', { method: 'POST', body })).status).toBe(400);
    const r = await app.request('/v1/classify?model=nope', { method: 'POST', body });
    expect(r.status).toBe(404);
    expect((await r.json()).error).toBe('model_not_found');
    expect((await app.request('/v1/classify?id=a%2Fb', { method: 'POST', body })).status).toBe(400);
  });
});

describe('model names cannot escape the model directory', () => {
  const bad = ['..', '../x', '..%2Fx', 'a/b', 'a%2Fb', 'a%5Cb', 'a%00b', '.hidden', '-x', 'x'.repeat(65), '%2E%2E', 'a..b', 'a%20b'];
  it('every endpoint that takes a name answers 400 and writes nothing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hemaclust-names-'));
    try {
      const { app } = await setup({ modelDir: join(dir, 'models') });
      for (const n of bad) {
        const up = await app.request(`/v1/models?name=${n}`, { method: 'POST', body: doubleModelBytes(F), headers: { 'x-api-key': KEY } });
        expect(up.status, `upload ${n}`).toBe(400);
        expect((await up.json()).error).toMatch(/bad_model_name|missing_model/);
        const cl = await app.request(`/v1/classify?model=${n}`, { method: 'POST', body: csvOf(fixture(2, 1)) });
        expect(cl.status, `classify ${n}`).toBe(400);
      }
      for (const n of ['..%2Fpackage.json', '%2E%2E', 'a%5Cb', 'x'.repeat(65)]) {
        const g = await app.request(`/v1/models/${n}`);
        expect([400, 404], `get ${n}`).toContain(g.status);
        expect(g.headers.get('content-type')).toContain('application/json');
      }
      expect((await readdir(dir)).sort()).toEqual(['models']);
      expect(await readdir(join(dir, 'models'))).toEqual(['m1.safetensors']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('auth on write endpoints', () => {
  it('needs a valid key as Bearer or x-api-key', async () => {
    const { app } = await setup();
    const post = (headers: Record<string, string>) => app.request('/v1/models?name=m2', { method: 'POST', body: doubleModelBytes(F), headers });
    const none = await post({});
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toContain('Bearer');
    expect((await none.json()).error).toBe('unauthorized');
    expect((await post({ authorization: `Bearer ${KEY}x` })).status).toBe(401);
    expect((await post({ 'x-api-key': KEY.slice(0, -1) })).status).toBe(401);
    expect((await post({ authorization: `Basic ${KEY}` })).status).toBe(401);
    expect((await post({ authorization: `Bearer ${KEY}` })).status).toBe(201);
    const tr = await app.request('/v1/train', { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(tr.status).toBe(401);
    // classify and reads need no key
    expect((await app.request('/v1/models')).status).toBe(200);
  });
  it('a server without a key refuses writes with 403', async () => {
    const { app } = await setup();
    const noKey = createApp({ backend: NO_BACKEND, pipeline: makeDouble(), demo: false, log: () => {} });
    const r = await noKey.request('/v1/models?name=m2', { method: 'POST', body: doubleModelBytes(F), headers: { 'x-api-key': 'anything' } });
    expect(r.status).toBe(403);
    expect((await r.json()).error).toBe('writes_disabled');
    expect(app).toBeDefined();
  });
  it('constantTimeEqual compares content, any length', async () => {
    expect(await constantTimeEqual('abc', 'abc')).toBe(true);
    expect(await constantTimeEqual('abc', 'abd')).toBe(false);
    expect(await constantTimeEqual('abc', 'abcd')).toBe(false);
    expect(await constantTimeEqual('', '')).toBe(true);
  });
});

describe('model upload', () => {
  it('validates by loading, then serves the model', async () => {
    const { app } = await setup();
    const bad = await app.request('/v1/models?name=junk', { method: 'POST', body: 'not a model', headers: { 'x-api-key': KEY } });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error).toBe('bad_model');
    const list = await (await app.request('/v1/models')).json();
    expect(list.models.map((m: { name: string }) => m.name)).toEqual(['m1']);
    const up = await app.request('/v1/models?name=m3', { method: 'POST', body: doubleModelBytes(F, 0.95), headers: { 'x-api-key': KEY } });
    expect(up.status).toBe(201);
    expect((await up.json()).meta.features).toBe(F);
    const got = await app.request('/v1/models/m3');
    expect(new Uint8Array(await got.arrayBuffer())).toEqual(doubleModelBytes(F, 0.95));
    const j = await (await app.request('/v1/classify?model=m3', { method: 'POST', body: csvOf(fixture(10, 4)) })).json();
    expect(j.summary.counts.platelet).toBe(10); // threshold 0.95 puts every cell below
  });
});

describe('limits', () => {
  it('413 for a body over maxBodyBytes, declared or streamed', async () => {
    const { app } = await setup({ limits: { maxBodyBytes: 1000 } });
    const big = csvOf(fixture(200, 1));
    expect(big.length).toBeGreaterThan(1000);
    const r = await app.request('/v1/classify', { method: 'POST', body: big, headers: { 'content-length': String(big.length) } });
    expect(r.status).toBe(413);
    expect((await r.json()).error).toBe('body_too_large');
    // A stream without content-length is counted while read.
    const enc = new TextEncoder().encode(big);
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (let o = 0; o < enc.length; o += 100) c.enqueue(enc.slice(o, o + 100));
        c.close();
      },
    });
    const s = await app.request('/v1/classify', { method: 'POST', body: stream, duplex: 'half' } as RequestInit);
    expect(s.status).toBe(413);
    const small = await app.request('/v1/classify', { method: 'POST', body: csvOf(fixture(5, 1)) });
    expect(small.status).toBe(200);
  });
  it('429 with Retry-After beyond maxConcurrent, and the slot frees afterwards', async () => {
    const { app, pipeline } = await setup({ limits: { maxConcurrent: 2 } });
    const g = gate();
    pipeline.hooks.classifyGate = g.wait;
    const body = csvOf(fixture(4, 1));
    const held = [app.request('/v1/classify', { method: 'POST', body }), app.request('/v1/classify', { method: 'POST', body })];
    await new Promise((r) => setTimeout(r, 20));
    const third = await app.request('/v1/classify', { method: 'POST', body });
    expect(third.status).toBe(429);
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await third.json()).error).toBe('too_many_requests');
    g.open();
    for (const r of await Promise.all(held)) expect(r.status).toBe(200);
    expect((await app.request('/v1/classify', { method: 'POST', body })).status).toBe(200);
  });
  it('503 with Retry-After past requestTimeoutMs; the work keeps its slot until it ends', async () => {
    const { app, pipeline } = await setup({ limits: { requestTimeoutMs: 50, maxConcurrent: 1 } });
    const g = gate();
    pipeline.hooks.classifyGate = g.wait;
    const body = csvOf(fixture(4, 1));
    const r = await app.request('/v1/classify', { method: 'POST', body });
    expect(r.status).toBe(503);
    expect(r.headers.get('retry-after')).toBeTruthy();
    expect((await r.json()).error).toBe('timeout');
    const busy = await app.request('/v1/classify', { method: 'POST', body });
    expect(busy.status).toBe(429);
    g.open();
    await new Promise((res) => setTimeout(res, 10));
    pipeline.hooks.classifyGate = undefined;
    expect((await app.request('/v1/classify', { method: 'POST', body })).status).toBe(200);
  });
});

/** Reads an SSE response to its end into [event, data] pairs. */
async function readSse(r: Response): Promise<{ event: string; id: string; data: Record<string, unknown> }[]> {
  const text = await r.text();
  return text
    .split('\n\n')
    .filter((b) => b.trim())
    .map((b) => {
      const f = Object.fromEntries(b.split('\n').map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]));
      return { event: f.event ?? 'message', id: f.id ?? '', data: JSON.parse(f.data ?? '{}') };
    });
}

describe('training jobs', () => {
  const refs = { s1: { plt_pct: 10, retic_pct: 1, clump_pct: 2 }, s2: { plt_pct: 20, retic_pct: 2, clump_pct: 1 } };
  const b64 = (s: string) => btoa(s);

  it('JSON cohort: 202, the job runs, SSE streams progress to the end, the model appears', async () => {
    const { app, pipeline } = await setup();
    const g = gate();
    pipeline.hooks.trainGate = g.wait;
    const body = JSON.stringify({ name: 'trained', seed: 3, references: refs, samples: [{ id: 's1', data: b64(csvOf(fixture(6, 2))) }, { id: 's2', data: b64(csvOf(fixture(6, 3))), filename: 's2.csv' }] });
    const r = await app.request('/v1/train', { method: 'POST', body, headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` } });
    expect(r.status).toBe(202);
    const { job, links } = await r.json();
    expect(r.headers.get('location')).toBe(`/v1/jobs/${job.id}`);
    expect(['queued', 'running']).toContain(job.status);
    const events = app.request(links.events);
    g.open();
    const ev = await readSse(await events);
    expect(ev.map((e) => e.event)).toEqual(['status', 'status', 'progress', 'progress', 'progress', 'done']);
    expect(ev.map((e) => Number(e.id))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(ev[4]!.data).toMatchObject({ stage: 'double', epoch: 3, of: 3 });
    const view = await (await app.request(links.self)).json();
    expect(view).toMatchObject({ status: 'succeeded', model: 'trained', error: null });
    expect(view.result.model).toBe('trained');
    // Replay after Last-Event-ID only sends what came later.
    const replay = await readSse(await app.request(links.events, { headers: { 'last-event-id': '4' } }));
    expect(replay.map((e) => e.id)).toEqual(['5', '6']);
    const list = await (await app.request('/v1/models')).json();
    expect(list.models.map((m: { name: string }) => m.name)).toContain('trained');
    expect((await app.request('/v1/classify?model=trained', { method: 'POST', body: csvOf(fixture(4, 1)) })).status).toBe(200);
  });
  it('multipart cohort: ids from file names', async () => {
    const { app } = await setup();
    const form = new FormData();
    form.set('name', 'mp');
    form.set('references', JSON.stringify(refs));
    form.append('samples', new File([csvOf(fixture(5, 1))], 's1.csv', { type: 'text/csv' }));
    form.append('samples', new File([encodeNpy([5, F], fixture(5, 2)) as Uint8Array<ArrayBuffer>], 's2.npy'));
    const r = await app.request('/v1/train', { method: 'POST', body: form, headers: { 'x-api-key': KEY } });
    expect(r.status).toBe(202);
    const { links } = await r.json();
    const ev = await readSse(await app.request(links.events));
    expect(ev.at(-1)!.event).toBe('done');
  });
  it('a failing job reports error through status and SSE', async () => {
    const { app, pipeline } = await setup();
    pipeline.hooks.trainGate = async () => {
      throw new Error('boom in training');
    };
    const body = JSON.stringify({ name: 'x', references: refs, samples: [{ id: 's1', data: b64(csvOf(fixture(3, 1))) }, { id: 's2', data: b64(csvOf(fixture(3, 1))) }] });
    const { links } = await (await app.request('/v1/train', { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-api-key': KEY } })).json();
    const ev = await readSse(await app.request(links.events));
    expect(ev.at(-1)).toMatchObject({ event: 'error', data: { status: 'failed', error: 'boom in training' } });
    expect((await (await app.request(links.self)).json()).status).toBe('failed');
  });
  it('rejects bad cohorts', async () => {
    const { app } = await setup();
    const post = (body: BodyInit, ct = 'application/json') => app.request('/v1/train', { method: 'POST', body, headers: { 'content-type': ct, 'x-api-key': KEY } });
    const s1 = { id: 's1', data: b64(csvOf(fixture(3, 1))) };
    const cases: [BodyInit, number, string, string?][] = [
      ['{not json', 400, 'bad_train_request'],
      [JSON.stringify({ name: 'a', references: refs, samples: [] }), 400, 'bad_train_request'],
      [JSON.stringify({ name: 'a', samples: [s1] }), 400, 'bad_train_request'],
      [JSON.stringify({ name: 'a', references: {}, samples: [s1] }), 400, 'bad_train_request'],
      [JSON.stringify({ name: 'a', references: { s1: { plt_pct: 120, retic_pct: 1, clump_pct: 1 } }, samples: [s1] }), 400, 'bad_train_request'],
      [JSON.stringify({ name: '../evil', references: refs, samples: [s1] }), 400, 'bad_model_name'],
      [JSON.stringify({ name: 'a', references: refs, samples: [{ id: 's1', data: '!!!' }] }), 400, 'bad_train_request'],
      [JSON.stringify({ name: 'a', references: refs, samples: [s1, s1] }), 400, 'bad_train_request'],
      ['name=a', 415, 'unsupported_media_type', 'application/x-www-form-urlencoded'],
    ];
    for (const [body, status, code, ct] of cases) {
      const r = await post(body, ct);
      expect(r.status, String(body).slice(0, 60)).toBe(status);
      expect((await r.json()).error).toBe(code);
    }
  });
  it('unknown jobs answer 404', async () => {
    const { app } = await setup();
    expect((await app.request('/v1/jobs/nope')).status).toBe(404);
    expect((await app.request('/v1/jobs/nope/events')).status).toBe(404);
  });
});

describe('demo model', () => {
  it('is trained at startup as a job; classify answers 503 + Retry-After until it is ready', async () => {
    const pipeline = makeDouble();
    const g = gate();
    pipeline.hooks.trainGate = g.wait;
    const app = createApp({ backend: NO_BACKEND, pipeline, demo: { samples: 2, cells: 50, points: 4 }, log: () => {} });
    const body = csvOf(fixture(4, 1)).replace('a,b,c,d', 'a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p').replace(/\n([^\n]+)/g, '\n$1,$1,$1,$1');
    const early = await app.request('/v1/classify', { method: 'POST', body });
    expect(early.status).toBe(503);
    expect(early.headers.get('retry-after')).toBeTruthy();
    expect((await early.json()).error).toBe('model_not_ready');
    expect((await (await app.request('/v1/models')).json()).demo).toBe('training');
    g.open();
    await app.demoReady;
    const r = await app.request('/v1/classify', { method: 'POST', body });
    expect(r.status).toBe(200);
    expect((await r.json()).model).toBe('demo');
    expect(pipeline.hooks.trainCalls).toBe(1);
  });
});

describe('graceful shutdown', () => {
  it('finishes in-flight requests and refuses new writes', async () => {
    const { app, pipeline } = await setup();
    const g = gate();
    pipeline.hooks.classifyGate = g.wait;
    const inflight = app.request('/v1/classify', { method: 'POST', body: csvOf(fixture(4, 1)) });
    await new Promise((r) => setTimeout(r, 20));
    const down = app.shutdown({ graceMs: 5000 });
    const refused = await app.request('/v1/classify', { method: 'POST', body: csvOf(fixture(4, 1)) });
    expect(refused.status).toBe(503);
    expect((await refused.json()).error).toBe('shutting_down');
    let done = false;
    down.then(() => (done = true));
    await new Promise((r) => setTimeout(r, 30));
    expect(done).toBe(false);
    g.open();
    expect((await inflight).status).toBe(200);
    await down;
    expect((await (await app.request('/health')).json()).status).toBe('shutting_down');
  });
});
