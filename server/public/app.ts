// The page's script (bundled into dist/browser/app.js): load samples by drag and drop, classify
// them in the page (WebGPU or WASM) or on the server, and show a table, bar and pie charts and
// the latent 2-D map. Plain DOM + inline SVG; all state lives in the few variables below.
import {
  BloodCellPipeline, CLASSES, createBrowserBackend, encodeNpy, parseMatrix, simulateSample,
  type BrowserBackendKind, type ClassifyResult, type ComputeBackend, type SampleSummary,
} from '../../bindings/browser.js';

const COLORS: Record<string, string> = { platelet: '#7b3fa0', rbc: '#c0392b', reticulocyte: '#2e86de', clumped_rbc: '#e08a1e' };
const LABELS: Record<string, string> = { platelet: 'platelet', rbc: 'RBC', reticulocyte: 'reticulocyte', clumped_rbc: 'clumped RBC' };
const MAP_POINTS = 3000;

interface LoadedSample {
  id: string;
  file: string;
  bytes: Uint8Array;
  rows: number;
  cols: number;
  data: Float32Array;
}

interface Result {
  summary: SampleSummary;
  backend: string;
  ms: number;
  probabilities: Float32Array;
  embedding2d?: Float32Array;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const samples: LoadedSample[] = [];
let results: Result[] = [];
let selected = 0;
let busy = false;
let backend: { kind: BrowserBackendKind; be: ComputeBackend; label: string } | null = null;
const pipelines = new Map<string, BloodCellPipeline>(); // model key → pipeline on the current backend
let localModel: { name: string; bytes: Uint8Array } | null = null;
let serverModels: { default: string | null; demo: string; models: { name: string }[] } = { default: null, demo: 'off', models: [] };

function status(text: string, error = false): void {
  const s = $('status');
  s.textContent = text;
  s.classList.toggle('error', error);
}

function progress(v: number): void {
  ($('progress') as HTMLProgressElement).value = v;
}

function refreshButtons(): void {
  ($('run') as HTMLButtonElement).disabled = busy || samples.length === 0;
}

// ---------- loading samples ----------

async function addFiles(files: Iterable<File>): Promise<void> {
  for (const f of files) {
    try {
      const bytes = new Uint8Array(await f.arrayBuffer());
      const m = parseMatrix(bytes, f.name);
      addSample({ id: uniqueId(f.name.replace(/\.[^.]*$/, '') || 'sample'), file: f.name, bytes, rows: m.rows, cols: m.cols, data: m.data });
    } catch (e) {
      status(`${f.name}: ${(e as Error).message}`, true);
    }
  }
}

function uniqueId(base: string): string {
  const clean = base.replace(/[^\w.-]/g, '_').slice(0, 100) || 'sample';
  let id = clean;
  for (let i = 2; samples.some((s) => s.id === id); i++) id = `${clean}-${i}`;
  return id;
}

function addSample(s: LoadedSample): void {
  samples.push(s);
  const li = document.createElement('li');
  li.textContent = `${s.id} · ${s.rows.toLocaleString()} × ${s.cols}`;
  $('samples').append(li);
  status(`${samples.length} sample(s) loaded`);
  refreshButtons();
}

function addSimulated(): void {
  const n = samples.length;
  const sim = simulateSample({ cells: 5000, seed: 20261122, sampleIndex: 100 + n });
  addSample({ id: uniqueId(`simulated-${n + 1}`), file: 'simulated.npy', bytes: encodeNpy([sim.cells, sim.features.length], sim.signals), rows: sim.cells, cols: sim.features.length, data: sim.signals });
}

// ---------- models and backends ----------

async function loadServerModels(): Promise<void> {
  const r = await fetch('/v1/models');
  if (!r.ok) throw new Error(`GET /v1/models: HTTP ${r.status}`);
  serverModels = await r.json();
  const sel = $('model') as HTMLSelectElement;
  const keep = sel.value;
  sel.innerHTML = '';
  const names = new Set(serverModels.models.map((m) => m.name));
  if (serverModels.demo !== 'off') names.add('demo');
  for (const n of names) {
    const o = new Option(n === 'demo' ? `built-in demo${serverModels.demo === 'training' ? ' (training…)' : ''}` : n, `server:${n}`);
    sel.add(o);
  }
  sel.add(new Option('upload a model file…', 'file'));
  sel.value = keep && [...sel.options].some((o) => o.value === keep) ? keep : serverModels.default ? `server:${serverModels.default}` : sel.options[0]!.value;
  onModelChange();
}

function onModelChange(): void {
  const fileMode = ($('model') as HTMLSelectElement).value === 'file';
  (document.querySelector('.file-model') as HTMLElement).hidden = !fileMode;
}

async function getBackend(kind: BrowserBackendKind): Promise<{ be: ComputeBackend; label: string }> {
  if (backend && backend.kind === kind) return backend;
  for (const p of pipelines.values()) p.dispose();
  pipelines.clear();
  backend?.be.destroy();
  backend = null;
  let chose = '';
  const be = await createBrowserBackend(kind, { log: (m) => (chose = m) });
  const info = be.info();
  backend = { kind, be, label: `${info.name}${kind === 'auto' ? ' (auto)' : ''}` };
  console.info(chose);
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

async function getPipeline(key: string, be: ComputeBackend): Promise<BloodCellPipeline> {
  const cacheKey = key === 'file' ? `file:${localModel?.name}` : key;
  let p = pipelines.get(cacheKey);
  if (!p) {
    p = BloodCellPipeline.fromBytes(await modelBytes(key), be, key);
    pipelines.set(cacheKey, p);
  }
  return p;
}

// ---------- classification ----------

async function classifyOnServer(s: LoadedSample, modelKey: string): Promise<Result> {
  if (modelKey === 'file') throw new Error('server mode uses the server’s models: choose one of them, or classify in the page');
  const name = modelKey.slice('server:'.length);
  const q = new URLSearchParams({ model: name, cells: 'json', embedding: '1', id: s.id, filename: s.file });
  const t0 = performance.now();
  for (;;) {
    const r = await fetch(`/v1/classify?${q}`, { method: 'POST', body: s.bytes as Uint8Array<ArrayBuffer>, headers: { 'content-type': 'application/octet-stream' } });
    if (r.status === 429 || r.status === 503) {
      await new Promise((res) => setTimeout(res, 1000 * Number(r.headers.get('retry-after') ?? 1)));
      continue;
    }
    const j = await r.json();
    if (!r.ok) throw new Error(`${s.id}: ${j.detail ?? `HTTP ${r.status}`}`);
    return {
      summary: j.summary,
      backend: 'server',
      ms: performance.now() - t0,
      probabilities: Float32Array.from((j.probabilities as number[][]).flat()),
      embedding2d: j.embedding2d ? Float32Array.from((j.embedding2d as number[][]).flat()) : undefined,
    };
  }
}

async function run(): Promise<void> {
  if (busy || samples.length === 0) return;
  busy = true;
  refreshButtons();
  const serverMode = ($('server-mode') as HTMLInputElement).checked;
  const kind = ($('backend') as HTMLSelectElement).value as BrowserBackendKind;
  const modelKey = ($('model') as HTMLSelectElement).value;
  const out: Result[] = [];
  document.body.dataset.state = 'running';
  try {
    progress(0);
    let pipe: BloodCellPipeline | null = null;
    let label = 'server';
    if (!serverMode) {
      status('starting the backend…');
      const b = await getBackend(kind);
      label = b.label;
      status('loading the model…');
      pipe = await getPipeline(modelKey, b.be);
    }
    for (const [i, s] of samples.entries()) {
      status(`classifying ${s.id} (${i + 1}/${samples.length}) on ${label}…`);
      await new Promise((r) => setTimeout(r, 0)); // let the status and bar paint
      let r: Result;
      if (pipe) {
        const t0 = performance.now();
        const c: ClassifyResult = await pipe.classify({ id: s.id, rows: s.rows, cols: s.cols, data: s.data });
        r = { ...c, backend: label, ms: performance.now() - t0 };
      } else {
        r = await classifyOnServer(s, modelKey);
      }
      out.push(r);
      progress((i + 1) / samples.length);
    }
    results = out;
    selected = Math.min(selected, results.length - 1);
    render();
    status(`classified ${results.length} sample(s) on ${label}`);
    document.body.dataset.state = 'done';
    document.body.dataset.backend = label;
  } catch (e) {
    status((e as Error).message, true);
    document.body.dataset.state = 'error';
    console.error(e);
  } finally {
    busy = false;
    refreshButtons();
  }
}

// ---------- rendering ----------

const fmt = (v: number, d = 2) => v.toFixed(d);
const svgNS = 'http://www.w3.org/2000/svg';
function el<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, parent?: Element): SVGElementTagNameMap[K] {
  const e = document.createElementNS(svgNS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  parent?.append(e);
  return e;
}

function shares(s: SampleSummary): number[] {
  return CLASSES.map((c) => (100 * s.counts[c]) / Math.max(1, s.cells));
}

function render(): void {
  $('results').hidden = results.length === 0;
  const tbody = document.querySelector('#table tbody')!;
  tbody.innerHTML = '';
  results.forEach((r, i) => {
    const s = r.summary;
    const tr = document.createElement('tr');
    tr.dataset.sample = s.id;
    tr.dataset.summary = JSON.stringify(s);
    tr.classList.toggle('selected', i === selected);
    const cells = [s.id, s.cells.toLocaleString(), ...CLASSES.map((c) => s.counts[c].toLocaleString()),
      fmt(s.percentages.plt_pct), fmt(s.percentages.retic_pct), fmt(s.percentages.clump_pct), r.backend, fmt(r.ms, 0)];
    for (const c of cells) tr.insertCell().textContent = c;
    tr.addEventListener('click', () => {
      selected = i;
      render();
    });
    tbody.append(tr);
  });
  renderBars();
  renderPie();
  renderMap();
  $('legend').innerHTML = CLASSES.map((c) => `<span><i style="background:${COLORS[c]}"></i>${LABELS[c]}</span>`).join('');
}

function renderBars(): void {
  const W = 520, H = 260, left = 40, bottom = 40, top = 10;
  const svg = el('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'class shares per sample' });
  const n = results.length;
  const groupW = (W - left - 10) / Math.max(1, n);
  const barW = Math.min(22, (groupW - 8) / CLASSES.length);
  const y = (v: number) => H - bottom - ((H - bottom - top) * v) / 100;
  for (const t of [0, 25, 50, 75, 100]) {
    el('line', { x1: left, x2: W - 5, y1: y(t), y2: y(t), stroke: '#e4e7ec' }, svg);
    el('text', { x: left - 6, y: y(t) + 4, 'text-anchor': 'end' }, svg).textContent = `${t}`;
  }
  results.forEach((r, i) => {
    const x0 = left + i * groupW + (groupW - barW * CLASSES.length) / 2;
    shares(r.summary).forEach((v, c) => {
      const rect = el('rect', { x: x0 + c * barW, y: y(v), width: barW - 2, height: Math.max(0.5, y(0) - y(v)), fill: COLORS[CLASSES[c]!]! }, svg);
      el('title', {}, rect).textContent = `${r.summary.id} · ${LABELS[CLASSES[c]!]}: ${fmt(v)} %`;
    });
    const label = r.summary.id.length > 14 ? `${r.summary.id.slice(0, 13)}…` : r.summary.id;
    el('text', { x: x0 + (barW * CLASSES.length) / 2, y: H - bottom + 16, 'text-anchor': 'middle' }, svg).textContent = label;
  });
  $('bars').replaceChildren(svg);
}

function renderPie(): void {
  const r = results[selected];
  $('pie-title').textContent = r ? r.summary.id : '';
  const W = 520, H = 260, cx = 130, cy = 130, R = 110;
  const svg = el('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'class shares of the selected sample' });
  if (r) {
    const v = shares(r.summary);
    let a0 = -Math.PI / 2;
    v.forEach((p, c) => {
      if (p <= 0) return;
      const a1 = a0 + (2 * Math.PI * p) / 100;
      const large = a1 - a0 > Math.PI ? 1 : 0;
      const d = p >= 99.999
        ? `M ${cx - R} ${cy} A ${R} ${R} 0 1 1 ${cx + R} ${cy} A ${R} ${R} 0 1 1 ${cx - R} ${cy} Z`
        : `M ${cx} ${cy} L ${cx + R * Math.cos(a0)} ${cy + R * Math.sin(a0)} A ${R} ${R} 0 ${large} 1 ${cx + R * Math.cos(a1)} ${cy + R * Math.sin(a1)} Z`;
      const path = el('path', { d, fill: COLORS[CLASSES[c]!]!, stroke: '#fff', 'stroke-width': 1 }, svg);
      el('title', {}, path).textContent = `${LABELS[CLASSES[c]!]}: ${fmt(p)} %`;
      a0 = a1;
    });
    v.forEach((p, c) => {
      const yy = 60 + c * 28;
      el('rect', { x: 280, y: yy - 11, width: 14, height: 14, fill: COLORS[CLASSES[c]!]! }, svg);
      el('text', { x: 302, y: yy }, svg).textContent = `${LABELS[CLASSES[c]!]}  ${fmt(p)} %  (${r.summary.counts[CLASSES[c]!].toLocaleString()})`;
    });
  }
  $('pie').replaceChildren(svg);
}

function renderMap(): void {
  const r = results[selected];
  $('map-title').textContent = r ? `${r.summary.id}${r.embedding2d ? '' : ' (the model has no 2-D projection)'}` : '';
  const W = 1000, H = 420, pad = 30;
  const svg = el('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'latent space map coloured by class' });
  el('rect', { x: 0, y: 0, width: W, height: H, fill: '#fbfbfc' }, svg);
  const e = r?.embedding2d;
  if (r && e) {
    const n = r.summary.cells;
    const step = Math.max(1, Math.ceil(n / MAP_POINTS));
    // Axis ranges from the 0.5th–99.5th percentiles, so a few far outliers do not squeeze the
    // bulk of the cells into a corner; the outliers are drawn clamped to the frame.
    const xs: number[] = [];
    const ys: number[] = [];
    for (let i = 0; i < n; i += step) {
      xs.push(e[2 * i]!);
      ys.push(e[2 * i + 1]!);
    }
    const [x0, x1] = robustRange(xs);
    const [y0, y1] = robustRange(ys);
    const sx = (W - 2 * pad) / (x1 - x0 || 1), sy = (H - 2 * pad) / (y1 - y0 || 1);
    const g = el('g', {}, svg);
    for (let i = 0; i < n; i += step) {
      const p = r.probabilities.subarray(4 * i, 4 * i + 4);
      let best = 0;
      for (let c = 1; c < 4; c++) if (p[c]! > p[best]!) best = c;
      const px = clamp(pad + (e[2 * i]! - x0) * sx, 4, W - 4);
      const py = clamp(H - pad - (e[2 * i + 1]! - y0) * sy, 4, H - 4);
      el('circle', { cx: px, cy: py, r: 2.6, fill: COLORS[CLASSES[best]!]!, 'fill-opacity': 0.7, 'data-i': i }, g);
    }
    el('text', { x: W - pad, y: H - 8, 'text-anchor': 'end' }, svg).textContent = `${Math.ceil(n / step).toLocaleString()} of ${n.toLocaleString()} events shown · PCA of the two stages' embeddings`;
    const tip = $('tooltip');
    g.addEventListener('mousemove', (ev) => {
      const t = ev.target as Element;
      const i = Number(t.getAttribute('data-i'));
      if (!Number.isFinite(i) || t.tagName !== 'circle') return;
      const p = r.probabilities.subarray(4 * i, 4 * i + 4);
      tip.textContent = `event ${i}\n${CLASSES.map((c, k) => `${LABELS[c]}: ${fmt(100 * p[k]!, 1)} %`).join('\n')}\nmap (${fmt(e[2 * i]!)}, ${fmt(e[2 * i + 1]!)})`;
      tip.style.left = `${ev.clientX + 12}px`;
      tip.style.top = `${ev.clientY + 12}px`;
      tip.hidden = false;
    });
    g.addEventListener('mouseleave', () => (tip.hidden = true));
  }
  $('map').replaceChildren(svg);
}

function robustRange(v: number[]): [number, number] {
  const s = [...v].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.round(q * (s.length - 1))))]!;
  const lo = at(0.005), hi = at(0.995);
  const margin = 0.04 * (hi - lo || 1);
  return [lo - margin, hi + margin];
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

// ---------- export ----------

function download(name: string, type: string, text: string): void {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([text], { type }));
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

function exportCsv(): void {
  const head = ['sample', 'cells', ...CLASSES.map((c) => `${c}_count`), 'plt_pct', 'retic_pct', 'clump_pct', 'backend'];
  const rows = results.map((r) => [r.summary.id, r.summary.cells, ...CLASSES.map((c) => r.summary.counts[c]), r.summary.percentages.plt_pct, r.summary.percentages.retic_pct, r.summary.percentages.clump_pct, r.backend]);
  const q = (v: unknown) => (/[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));
  download('hemaclust-results.csv', 'text/csv', [head, ...rows].map((r) => r.map(q).join(',')).join('\n') + '\n');
}

function exportJson(): void {
  download('hemaclust-results.json', 'application/json', JSON.stringify(results.map((r) => ({ ...r.summary, backend: r.backend, ms: Math.round(r.ms) })), null, 2));
}

// ---------- wiring ----------

function wire(): void {
  const drop = $('drop');
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    if (e.dataTransfer?.files.length) void addFiles(e.dataTransfer.files);
  });
  drop.addEventListener('click', (e) => {
    if ((e.target as Element).closest('button, label')) return;
    $('files').click();
  });
  $('files').addEventListener('change', (e) => {
    const input = e.target as HTMLInputElement;
    if (input.files) void addFiles(input.files).then(() => (input.value = ''));
  });
  $('simulate').addEventListener('click', addSimulated);
  $('run').addEventListener('click', () => void run());
  $('clear').addEventListener('click', () => {
    samples.length = 0;
    results = [];
    $('samples').innerHTML = '';
    render();
    progress(0);
    status('cleared');
    refreshButtons();
  });
  $('model').addEventListener('change', onModelChange);
  $('model-file').addEventListener('change', async (e) => {
    const f = (e.target as HTMLInputElement).files?.[0];
    if (!f) return;
    localModel = { name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) };
    status(`model file ${f.name} chosen`);
  });
  $('export-csv').addEventListener('click', exportCsv);
  $('export-json').addEventListener('click', exportJson);
}

wire();
loadServerModels()
  .then(() => {
    status(serverModels.demo === 'training' ? 'ready — the server is still training the demo model' : 'ready — drop files or add a simulated sample');
    document.body.dataset.ready = 'true';
  })
  .catch((e) => status(`cannot list the server's models: ${(e as Error).message}`, true));
refreshButtons();
