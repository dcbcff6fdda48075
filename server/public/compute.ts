// Where a classification runs: in the page (WebGPU or WASM, via createBrowserBackend) or on the
// server (POST /v1/classify); which model (a server model fetched once, or a local file).
import { BloodCellPipeline, createBrowserBackend, type BrowserBackendKind, type ComputeBackend } from '../../bindings/browser.js';
import { $, status } from './dom.js';
import type { LoadedSample, Result } from './state.js';

let backend: { kind: BrowserBackendKind; be: ComputeBackend; label: string; why: string } | null = null;
const pipelines = new Map<string, BloodCellPipeline>(); // model key → pipeline on the current backend
let localModel: { name: string; bytes: Uint8Array } | null = null;
export let serverModels: { default: string | null; demo: string; models: { name: string }[] } = { default: null, demo: 'off', models: [] };

export function setLocalModel(m: { name: string; bytes: Uint8Array }): void {
  localModel = m;
}

export async function loadServerModels(): Promise<void> {
  const r = await fetch('/v1/models');
  if (!r.ok) throw new Error(`GET /v1/models: HTTP ${r.status}`);
  serverModels = await r.json();
  const sel = $('model') as HTMLSelectElement;
  const keep = sel.value;
  sel.innerHTML = '';
  const names = new Set(serverModels.models.map((m) => m.name));
  if (serverModels.demo !== 'off') names.add('demo');
  for (const n of names) sel.add(new Option(n === 'demo' ? `built-in demo${serverModels.demo === 'training' ? ' (training…)' : ''}` : n, `server:${n}`));
  sel.add(new Option('upload a model file…', 'file'));
  sel.value = keep && [...sel.options].some((o) => o.value === keep) ? keep : serverModels.default ? `server:${serverModels.default}` : sel.options[0]!.value;
  onModelChange();
}

export function onModelChange(): void {
  (document.querySelector('.file-model') as HTMLElement).hidden = ($('model') as HTMLSelectElement).value !== 'file';
}

/** The backend of `kind`, created once; `why` is what auto said about its choice. */
export async function getBackend(kind: BrowserBackendKind): Promise<{ be: ComputeBackend; label: string; why: string }> {
  if (backend && backend.kind === kind) return backend;
  for (const p of pipelines.values()) p.dispose();
  pipelines.clear();
  backend?.be.destroy();
  backend = null;
  const said: string[] = []; // auto's reason first, then the backend it created
  const be = await createBrowserBackend(kind, { log: (m) => said.push(m) });
  const why = said.join(' · ');
  const info = be.info();
  backend = { kind, be, label: `${info.name}${kind === 'auto' ? ' (auto)' : ''}`, why };
  console.info(why);
  return backend;
}

async function modelBytes(key: string): Promise<Uint8Array> {
  if (key === 'file') {
    if (!localModel) throw new Error('choose a model file first');
    return localModel.bytes;
  }
  const name = key.slice('server:'.length);
  for (;;) {
    const r = await fetch(`/v1/models/${encodeURIComponent(name)}`);
    if (r.ok) return new Uint8Array(await r.arrayBuffer());
    if (r.status === 503 || (r.status === 404 && name === 'demo' && serverModels.demo === 'training')) {
      status('the server is still training the demo model…');
      await new Promise((res) => setTimeout(res, 2000));
      await loadServerModels();
      continue;
    }
    throw new Error(`model '${name}': ${(await r.json().catch(() => ({ detail: `HTTP ${r.status}` }))).detail}`);
  }
}

export async function getPipeline(key: string, be: ComputeBackend): Promise<BloodCellPipeline> {
  const cacheKey = key === 'file' ? `file:${localModel?.name}` : key;
  let p = pipelines.get(cacheKey);
  if (!p) {
    p = BloodCellPipeline.fromBytes(await modelBytes(key), be, key);
    pipelines.set(cacheKey, p);
  }
  return p;
}

export async function classifyInPage(pipe: BloodCellPipeline, s: LoadedSample, label: string): Promise<Result> {
  const t0 = performance.now();
  const c = await pipe.classify({ id: s.id, rows: s.rows, cols: s.cols, data: s.data });
  return { ...c, backend: label, ms: performance.now() - t0 };
}

/** Retries on 429/503 after the server's Retry-After, at most `tries` times. */
export async function classifyOnServer(s: LoadedSample, modelKey: string, tries = 20): Promise<Result> {
  if (modelKey === 'file') throw new Error('server mode uses the server’s models: choose one of them, or classify in the page');
  const name = modelKey.slice('server:'.length);
  const q = new URLSearchParams({ model: name, cells: 'json', embedding: '1', id: s.id, filename: s.file });
  const t0 = performance.now();
  for (let i = 0; ; i++) {
    const r = await fetch(`/v1/classify?${q}`, { method: 'POST', body: s.bytes as Uint8Array<ArrayBuffer>, headers: { 'content-type': 'application/octet-stream' } });
    if ((r.status === 429 || r.status === 503) && i < tries) {
      await new Promise((res) => setTimeout(res, 1000 * Number(r.headers.get('retry-after') ?? 1)));
      continue;
    }
    const j = await r.json();
    if (!r.ok) throw new Error(j.detail ?? `HTTP ${r.status}`);
    return {
      summary: j.summary,
      backend: 'server',
      ms: performance.now() - t0,
      probabilities: Float32Array.from((j.probabilities as number[][]).flat()),
      embedding2d: j.embedding2d ? Float32Array.from((j.embedding2d as number[][]).flat()) : undefined,
    };
  }
}
