// The page's script (bundled into dist/browser/app.js): load samples by drag and drop, classify
// them in the page (WebGPU or WASM) or on the server, and show the results. This file only wires
// the controls to the modules beside it:
//   state.ts      what the page knows (samples, results, selection)
//   samples.ts    loading and removing samples
//   compute.ts    backends, models, classification in the page or on the server
//   results.ts    the table and, per sample, charts.ts, analyzer.ts, latent-map.ts and gallery.ts
//   export.ts     CSV / JSON downloads
//   dom.ts        status line, error list, SVG helpers
import type { BrowserBackendKind } from '../../bindings/browser.js';
import { $, clearErrors, progress, showError, status } from './dom.js';
import { addFiles, addSimulated, clearSamples, onSamplesChange } from './samples.js';
import { classifyInPage, classifyOnServer, getBackend, getPipeline, loadServerModels, onModelChange, serverModels, setLocalModel } from './compute.js';
import { render } from './results.js';
import { exportCsv, exportJson } from './export.js';
import { state } from './state.js';

function refreshButtons(): void {
  ($('run') as HTMLButtonElement).disabled = state.busy || state.samples.length === 0;
}

/** Classifies every loaded sample. A sample that fails is reported and skipped; the others go on. */
async function run(): Promise<void> {
  if (state.busy || state.samples.length === 0) return;
  state.busy = true;
  refreshButtons();
  const serverMode = ($('server-mode') as HTMLInputElement).checked;
  const kind = ($('backend') as HTMLSelectElement).value as BrowserBackendKind;
  const modelKey = ($('model') as HTMLSelectElement).value;
  document.body.dataset.state = 'running';
  let failed = 0;
  try {
    progress(0);
    let label = 'server';
    let pipe = null;
    if (!serverMode) {
      status('starting the backend…');
      const b = await getBackend(kind);
      label = b.label;
      $('backend-why').textContent = b.why;
      document.body.dataset.backendWhy = b.why;
      status('loading the model…');
      pipe = await getPipeline(modelKey, b.be);
    } else $('backend-why').textContent = 'classified on the server';
    const batch = [...state.samples];
    for (const [i, s] of batch.entries()) {
      status(`classifying ${s.id} (${i + 1}/${batch.length}) on ${label}…`);
      await new Promise((r) => setTimeout(r, 0)); // let the status and bar paint
      try {
        state.results.set(s.id, pipe ? await classifyInPage(pipe, s, label) : await classifyOnServer(s, modelKey));
      } catch (e) {
        failed++;
        showError((e as Error).message, s.id);
      }
      progress((i + 1) / batch.length);
    }
    render();
    status(`classified ${batch.length - failed} of ${batch.length} sample(s) on ${label}${failed ? ` — ${failed} failed (see the errors above; remove a bad sample with its ×)` : ''}`);
    document.body.dataset.state = failed ? 'error' : 'done';
    document.body.dataset.backend = label;
  } catch (e) {
    showError((e as Error).message);
    status('stopped by an error');
    document.body.dataset.state = 'error';
    console.error(e);
  } finally {
    state.busy = false;
    refreshButtons();
  }
}

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
    clearSamples();
    clearErrors();
    progress(0);
    status('cleared');
  });
  $('clear-errors').addEventListener('click', clearErrors);
  $('model').addEventListener('change', onModelChange);
  $('model-file').addEventListener('change', async (e) => {
    const f = (e.target as HTMLInputElement).files?.[0];
    if (!f) return;
    setLocalModel({ name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) });
    status(`model file ${f.name} chosen`);
  });
  $('export-csv').addEventListener('click', exportCsv);
  $('export-json').addEventListener('click', exportJson);
  onSamplesChange(() => {
    render();
    refreshButtons();
  });
}

wire();
loadServerModels()
  .then(() => {
    status(serverModels.demo === 'training' ? 'ready — the server is still training the demo model' : 'ready — drop files or add a simulated sample');
    document.body.dataset.ready = 'true';
  })
  .catch((e) => showError(`cannot list the server's models: ${(e as Error).message}`));
refreshButtons();
