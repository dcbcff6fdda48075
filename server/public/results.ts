// The results panel: the table (one row per classified sample, click to select), the share charts,
// the analyzer plots, the latent map and the event gallery of the selected sample.
import { CLASSES, COLORS, LABELS } from './classes.js';
import { $, fmt } from './dom.js';
import { renderBars, renderDonut } from './charts.js';
import { renderAnalyzer } from './analyzer.js';
import { renderMap } from './latent-map.js';
import { renderGallery } from './gallery.js';
import { classified, state } from './state.js';

export function render(): void {
  const rows = classified();
  $('results').hidden = rows.length === 0;
  if (!rows.some((r) => r.sample.id === state.selected)) state.selected = rows[0]?.sample.id ?? null;
  const tbody = document.querySelector('#table tbody')!;
  tbody.innerHTML = '';
  for (const { sample, result: r } of rows) {
    const s = r.summary;
    const tr = document.createElement('tr');
    tr.dataset.sample = sample.id;
    tr.dataset.summary = JSON.stringify(s);
    tr.classList.toggle('selected', sample.id === state.selected);
    const cells = [s.id, s.cells.toLocaleString(), ...CLASSES.map((c) => s.counts[c].toLocaleString()),
      fmt(s.percentages.plt_pct), fmt(s.percentages.retic_pct), fmt(s.percentages.clump_pct), r.backend, fmt(r.ms, 0)];
    for (const c of cells) tr.insertCell().textContent = c;
    tr.addEventListener('click', () => {
      state.selected = sample.id;
      render();
    });
    tbody.append(tr);
  }
  const sel = rows.find((r) => r.sample.id === state.selected) ?? null;
  renderBars(rows.map((r) => r.result));
  renderDonut(sel?.result.summary ?? null);
  renderAnalyzer(sel?.sample ?? null, sel?.result ?? null);
  renderMap(sel?.result ?? null);
  renderGallery(sel?.sample ?? null, sel?.result ?? null);
  $('legend').innerHTML = CLASSES.map((c) => `<span><i style="background:${COLORS[c]}"></i>${LABELS[c]}</span>`).join('');
}
