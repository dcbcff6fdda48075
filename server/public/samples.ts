// Loading samples (files dropped or chosen, or simulated) and the list of loaded samples, each with
// a button that removes it (and its result) so one bad file does not spoil a batch.
import { encodeNpy, parseMatrix, simulateSample } from '../../bindings/browser.js';
import { $, showError, status } from './dom.js';
import { state, type LoadedSample } from './state.js';

let onChange: () => void = () => undefined;

/** Called after samples are added or removed (the page re-renders and refreshes its buttons). */
export function onSamplesChange(f: () => void): void {
  onChange = f;
}

export async function addFiles(files: Iterable<File>): Promise<void> {
  for (const f of files) {
    try {
      const bytes = new Uint8Array(await f.arrayBuffer());
      const m = parseMatrix(bytes, f.name);
      addSample({ id: uniqueId(f.name.replace(/\.[^.]*$/, '') || 'sample'), file: f.name, bytes, rows: m.rows, cols: m.cols, data: m.data, columns: m.columns });
    } catch (e) {
      showError((e as Error).message, f.name); // the reader's message names the file already
    }
  }
}

function uniqueId(base: string): string {
  const clean = base.replace(/[^\w.-]/g, '_').slice(0, 100) || 'sample';
  let id = clean;
  for (let i = 2; state.samples.some((s) => s.id === id); i++) id = `${clean}-${i}`;
  return id;
}

function addSample(s: LoadedSample): void {
  state.samples.push(s);
  renderSampleList();
  status(`${state.samples.length} sample(s) loaded`);
  onChange();
}

export function removeSample(id: string): void {
  state.samples = state.samples.filter((s) => s.id !== id);
  state.results.delete(id);
  if (state.selected === id) state.selected = null;
  renderSampleList();
  status(`${id} removed; ${state.samples.length} sample(s) loaded`);
  onChange();
}

export function clearSamples(): void {
  state.samples = [];
  state.results.clear();
  state.selected = null;
  renderSampleList();
  onChange();
}

export function addSimulated(): void {
  const n = state.samples.length;
  const sim = simulateSample({ cells: 5000, seed: 20261122, sampleIndex: 100 + n });
  addSample({
    id: uniqueId(`simulated-${n + 1}`), file: 'simulated.npy', bytes: encodeNpy([sim.cells, sim.features.length], sim.signals),
    rows: sim.cells, cols: sim.features.length, data: sim.signals, columns: sim.features,
  });
}

function renderSampleList(): void {
  const ul = $('samples');
  ul.replaceChildren();
  for (const s of state.samples) {
    const li = document.createElement('li');
    li.dataset.sample = s.id;
    const label = document.createElement('span');
    label.textContent = `${s.id} · ${s.rows.toLocaleString()} × ${s.cols}`;
    const x = document.createElement('button');
    x.type = 'button';
    x.className = 'remove';
    x.title = `remove ${s.id}`;
    x.setAttribute('aria-label', `remove ${s.id}`);
    x.textContent = '×';
    x.addEventListener('click', (e) => {
      e.stopPropagation();
      removeSample(s.id);
    });
    li.append(label, x);
    ul.append(li);
  }
}
