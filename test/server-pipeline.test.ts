// The app wired to the real BloodCellPipeline on the wasm backend: the demo model is trained at
// startup from a simulated cohort (small training options so this stays a few seconds), then a
// fresh simulated sample is classified over HTTP, and the stored model round-trips through
// GET /v1/models/:name → POST /v1/models on a second app with identical results.
import { afterAll, describe, expect, it } from 'vitest';
import { createApp } from '../server/app.js';
import { asciiJson } from '../server/routes/classify.js';
import { encodeNpy, parseNpy, toFloat32 } from '../bindings/io/npy.js';
import { simulateSample } from '../bindings/simulate/index.js';
import { createBackend } from '../bindings/backends/index.js';

// force: a model this small does not pass the training quality gate (quality.ts), and these tests are about the service.
const TRAIN = { epochs: 3, clusterIterations: 200, stage2Epochs: 3, stage2PretrainEpochs: 1, cellsPerSample: 1000, force: true };
const KEY = 'k';

describe('server + real pipeline (wasm)', async () => {
  const backend = await createBackend('wasm');
  const app = createApp({ backend, apiKey: KEY, demo: { samples: 4, cells: 1500, seed: 5 }, trainOptions: TRAIN, log: () => {} });
  afterAll(() => backend.destroy());

  it('trains the demo model at startup and reports it', async () => {
    const early = await (await app.request('/v1/models')).json();
    expect(['training', 'ready']).toContain(early.demo);
    await app.demoReady;
    const list = await (await app.request('/v1/models')).json();
    expect(list).toMatchObject({ default: 'demo', demo: 'ready' });
    expect(list.models.map((m: { name: string }) => m.name)).toEqual(['demo']);
    const health = await (await app.request('/health')).json();
    expect(health.demo.state).toBe('ready');
    const job = await (await app.request(`/v1/jobs/${health.demo.job}`)).json();
    expect(job.status).toBe('succeeded');
    expect(job.result.meta.features).toBe(128);
  });

  it('classifies a simulated sample; counts add up and probabilities are distributions', async () => {
    await app.demoReady;
    const s = simulateSample({ cells: 1200, seed: 99, sampleIndex: 3 });
    const body = encodeNpy([s.cells, s.features.length], s.signals);
    const r = await app.request('/v1/classify?id=fresh', { method: 'POST', body: body as Uint8Array<ArrayBuffer> });
    expect(r.status).toBe(200);
    const { summary } = await r.json();
    expect(summary.id).toBe('fresh');
    expect(summary.cells).toBe(1200);
    const total = Object.values(summary.counts as Record<string, number>).reduce((a, b) => a + b, 0);
    expect(total).toBe(1200);
    // Platelet share within a generous band of the simulated truth (the model is tiny and quick).
    expect(Math.abs(summary.percentages.plt_pct - s.trueShares.pltPct)).toBeLessThan(10);
    // The summary travels in a header (quality flags may hold non-ASCII text: asciiJson).
    const n = await app.request('/v1/classify?cells=npy&id=fresh', { method: 'POST', body: body as Uint8Array<ArrayBuffer> });
    expect(n.status).toBe(200);
    const header = n.headers.get('x-hemaclust-summary')!;
    expect(/^[\x20-\x7e]*$/.test(header)).toBe(true);
    expect(JSON.parse(header).summary.id).toBe('fresh');
    expect(Array.isArray(JSON.parse(header).summary.quality.flags)).toBe(true);
    const odd = { flags: ['plt_pct 9.1 outside the trained range 1.0–8.0'], id: 'é😀' };
    expect(/^[\x20-\x7e]*$/.test(asciiJson(odd))).toBe(true);
    expect(JSON.parse(asciiJson(odd))).toEqual(odd);
    const p = parseNpy(new Uint8Array(await n.arrayBuffer()));
    expect(p.shape).toEqual([1200, 4]);
    const probs = toFloat32(p);
    for (let i = 0; i < 1200; i++) {
      const sum = probs[4 * i]! + probs[4 * i + 1]! + probs[4 * i + 2]! + probs[4 * i + 3]!;
      expect(Math.abs(sum - 1)).toBeLessThan(1e-4);
    }
    const e = await (await app.request('/v1/classify?embedding=1', { method: 'POST', body: body as Uint8Array<ArrayBuffer> })).json();
    expect(e.embedding2d).toHaveLength(1200);
    expect(e.embedding2d[0]).toHaveLength(2);
  });

  it('a downloaded model uploads to another server and classifies identically', async () => {
    await app.demoReady;
    const bytes = new Uint8Array(await (await app.request('/v1/models/demo')).arrayBuffer());
    const other = createApp({ backend, apiKey: KEY, demo: false, defaultModel: 'copy', log: () => {} });
    const up = await other.request('/v1/models?name=copy', { method: 'POST', body: bytes, headers: { authorization: `Bearer ${KEY}` } });
    expect(up.status).toBe(201);
    expect((await up.json()).meta.classes).toEqual(['platelet', 'rbc', 'reticulocyte', 'clumped_rbc']);
    const s = simulateSample({ cells: 800, seed: 7 });
    const body = encodeNpy([s.cells, s.features.length], s.signals) as Uint8Array<ArrayBuffer>;
    const a = await (await app.request('/v1/classify', { method: 'POST', body })).json();
    const b = await (await other.request('/v1/classify', { method: 'POST', body })).json();
    expect(b.summary).toEqual(a.summary);
    const corrupt = bytes.slice(0, bytes.length >> 1);
    const bad = await other.request('/v1/models?name=half', { method: 'POST', body: corrupt, headers: { authorization: `Bearer ${KEY}` } });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error).toBe('bad_model');
  });
});
