// Downloads of the results table as CSV or JSON (one row per classified sample).
import { CLASSES } from './classes.js';
import { classified } from './state.js';

function download(name: string, type: string, text: string): void {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([text], { type }));
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

export function exportCsv(): void {
  const head = ['sample', 'cells', ...CLASSES.map((c) => `${c}_count`), 'plt_pct', 'retic_pct', 'clump_pct', 'backend'];
  const rows = classified().map(({ result: r }) => [r.summary.id, r.summary.cells, ...CLASSES.map((c) => r.summary.counts[c]), r.summary.percentages.plt_pct, r.summary.percentages.retic_pct, r.summary.percentages.clump_pct, r.backend]);
  const q = (v: unknown) => (/[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));
  download('hemaclust-results.csv', 'text/csv', [head, ...rows].map((r) => r.map(q).join(',')).join('\n') + '\n');
}

export function exportJson(): void {
  download('hemaclust-results.json', 'application/json', JSON.stringify(classified().map(({ result: r }) => ({ ...r.summary, backend: r.backend, ms: Math.round(r.ms) })), null, 2));
}
