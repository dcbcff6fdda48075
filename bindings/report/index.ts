// A self-contained HTML report (inline SVG, no scripts, no external assets): a 2-D projection of
// the latent space coloured by class, and per-sample bars of predicted vs reference vs true
// percentages. Pure string building, so the CLI, the server and the browser can all use it.

export interface ReportShares {
  plt_pct: number;
  retic_pct: number;
  clump_pct: number;
}

export interface ReportSample {
  id: string;
  cells: number;
  predicted: ReportShares;
  reference?: ReportShares | null;
  truth?: ReportShares | null;
  /** Reasons to distrust the sample's result (pipeline quality flags); shown under the table. */
  flags?: string[];
}

export interface ReportScatter {
  /** n × 2 coordinates. */
  xy: Float32Array;
  /** Class index per point (into `classes`). */
  labels: ArrayLike<number>;
  classes: readonly string[];
  title?: string;
}

export interface ReportInput {
  title: string;
  subtitle?: string;
  samples: ReportSample[];
  scatter?: ReportScatter | null;
  /** Key → value lines (metrics, timings, settings). */
  facts?: [string, string][];
  /** Extra tables (e.g. a confusion matrix): caption, header, rows. */
  tables?: { caption: string; header: string[]; rows: (string | number)[][] }[];
}

const PALETTE = ['#d62728', '#1f77b4', '#2ca02c', '#9467bd', '#8c564b', '#7f7f7f'];
const SERIES = [
  { key: 'predicted', label: 'predicted', color: '#1f77b4' },
  { key: 'reference', label: 'reference', color: '#ff7f0e' },
  { key: 'truth', label: 'true', color: '#2ca02c' },
] as const;

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const fmt = (v: number, digits = 2) => (Number.isFinite(v) ? v.toFixed(digits) : '–');

/** Scatter plot of at most `maxPoints` points (evenly strided), minority classes drawn last. */
export function scatterSvg(s: ReportScatter, width = 560, height = 420, maxPoints = 6000): string {
  const n = s.xy.length / 2;
  const step = Math.max(1, Math.ceil(n / maxPoints));
  let minX = Infinity, maxX = -Infinity, minY = Infinity, maxY = -Infinity;
  for (let i = 0; i < n; i += step) {
    const x = s.xy[2 * i], y = s.xy[2 * i + 1];
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    minX = Math.min(minX, x); maxX = Math.max(maxX, x); minY = Math.min(minY, y); maxY = Math.max(maxY, y);
  }
  const pad = 30;
  const sx = (x: number) => pad + ((x - minX) / (maxX - minX || 1)) * (width - 2 * pad);
  const sy = (y: number) => height - pad - ((y - minY) / (maxY - minY || 1)) * (height - 2 * pad);
  const counts = s.classes.map(() => 0);
  for (let i = 0; i < n; i++) counts[s.labels[i]]++;
  // Big classes first so small ones stay visible on top.
  const order = s.classes.map((_, c) => c).sort((a, b) => counts[b] - counts[a]);
  const groups = order.map((c) => {
    const dots: string[] = [];
    for (let i = 0; i < n; i += step) {
      if (s.labels[i] !== c) continue;
      const x = s.xy[2 * i], y = s.xy[2 * i + 1];
      if (Number.isFinite(x) && Number.isFinite(y)) dots.push(`<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="1.6"/>`);
    }
    return `<g fill="${PALETTE[c % PALETTE.length]}" fill-opacity="0.6"><title>${escapeHtml(s.classes[c])}</title>${dots.join('')}</g>`;
  });
  const legend = s.classes.map((name, c) =>
    `<g transform="translate(${pad + c * 130},14)"><rect width="10" height="10" fill="${PALETTE[c % PALETTE.length]}"/><text x="14" y="9">${escapeHtml(name)} (${counts[c]})</text></g>`).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-size="11" font-family="sans-serif">` +
    `<rect x="0.5" y="0.5" width="${width - 1}" height="${height - 1}" fill="#fff" stroke="#ccc"/>${groups.join('')}${legend}` +
    `<text x="${width / 2}" y="${height - 8}" text-anchor="middle" fill="#555">PC 1</text>` +
    `<text x="12" y="${height / 2}" fill="#555" transform="rotate(-90 12 ${height / 2})" text-anchor="middle">PC 2</text></svg>`;
}

/** Grouped bars: per sample, predicted / reference / true for one share. */
export function barsSvg(samples: ReportSample[], key: keyof ReportShares, title: string, width = 560): string {
  const rowH = 8;
  const groupH = rowH * 3 + 10;
  const left = 90;
  const top = 44; // title line, then legend line, then the bars
  const height = top + 10 + samples.length * groupH;
  let max = 0;
  for (const s of samples) for (const ser of SERIES) max = Math.max(max, s[ser.key]?.[key] ?? 0);
  max = max > 0 ? max * 1.1 : 1;
  const scale = (v: number) => ((width - left - 60) * v) / max;
  const bars = samples.map((s, i) => {
    const y0 = top + i * groupH;
    const rows = SERIES.map((ser, j) => {
      const v = s[ser.key]?.[key];
      if (v === undefined || v === null) return '';
      const y = y0 + j * rowH;
      return `<rect x="${left}" y="${y}" width="${scale(v).toFixed(1)}" height="${rowH - 1}" fill="${ser.color}"><title>${ser.label} ${fmt(v)}%</title></rect>` +
        `<text x="${left + scale(v) + 4}" y="${y + rowH - 1}" font-size="8">${fmt(v)}</text>`;
    }).join('');
    return `<text x="${left - 6}" y="${y0 + rowH * 2}" text-anchor="end">${escapeHtml(s.id)}</text>${rows}`;
  }).join('');
  const legend = SERIES.map((ser, j) => `<g transform="translate(${left + j * 100},22)"><rect width="10" height="10" fill="${ser.color}"/><text x="14" y="9">${ser.label}</text></g>`).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-size="11" font-family="sans-serif">` +
    `<text x="4" y="14" font-weight="bold">${escapeHtml(title)}</text>${legend}${bars}</svg>`;
}

function table(caption: string, header: string[], rows: (string | number)[][]): string {
  const cell = (v: string | number) => `<td>${escapeHtml(typeof v === 'number' ? fmt(v) : v)}</td>`;
  return `<table><caption>${escapeHtml(caption)}</caption><thead><tr>${header.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead>` +
    `<tbody>${rows.map((r) => `<tr>${r.map(cell).join('')}</tr>`).join('')}</tbody></table>`;
}

/** The flagged samples and why (nothing when none is flagged). */
function flagList(samples: ReportSample[]): string {
  const flagged = samples.filter((s) => s.flags?.length);
  if (!flagged.length) return '<p>No sample flagged: every one lies within what the model was trained on.</p>';
  return `<h2>Flagged samples (${flagged.length} of ${samples.length}): do not report without review</h2><ul>` +
    flagged.map((s) => `<li><b>${escapeHtml(s.id)}</b>: ${escapeHtml(s.flags!.join('; '))}</li>`).join('') + '</ul>';
}

export function renderReport(r: ReportInput): string {
  const sampleRows = r.samples.map((s) => [
    s.id, String(s.cells),
    s.predicted.plt_pct, s.reference?.plt_pct ?? '–', s.truth?.plt_pct ?? '–',
    s.predicted.retic_pct, s.reference?.retic_pct ?? '–', s.truth?.retic_pct ?? '–',
    s.predicted.clump_pct, s.reference?.clump_pct ?? '–', s.truth?.clump_pct ?? '–',
  ]);
  const parts = [
    '<!doctype html><html lang="en"><head><meta charset="utf-8">',
    `<title>${escapeHtml(r.title)}</title>`,
    '<style>body{font-family:sans-serif;margin:24px;color:#222;max-width:1200px}h1{font-size:20px}h2{font-size:16px;margin-top:28px}' +
      'table{border-collapse:collapse;margin:12px 0;font-size:12px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}' +
      'th{background:#f3f3f3}caption{text-align:left;font-weight:bold;padding:4px 0}.grid{display:flex;flex-wrap:wrap;gap:16px}dl{display:grid;grid-template-columns:max-content auto;gap:2px 12px;font-size:13px}dt{color:#555}</style>',
    '</head><body>',
    `<h1>${escapeHtml(r.title)}</h1>`,
    r.subtitle ? `<p>${escapeHtml(r.subtitle)}</p>` : '',
    r.facts?.length ? `<dl>${r.facts.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join('')}</dl>` : '',
    r.scatter ? `<h2>${escapeHtml(r.scatter.title ?? 'Latent space (PCA of the embedding)')}</h2>${scatterSvg(r.scatter)}` : '',
    '<h2>Per-sample percentages</h2>',
    `<div class="grid">${barsSvg(r.samples, 'plt_pct', 'Platelets, % of all events')}${barsSvg(r.samples, 'retic_pct', 'Reticulocytes, % of red-cell events')}${barsSvg(r.samples, 'clump_pct', 'Clumped RBC, % of red-cell events')}</div>`,
    table('Percentages per sample (pred / ref / true)', ['sample', 'events', 'plt pred', 'plt ref', 'plt true', 'retic pred', 'retic ref', 'retic true', 'clump pred', 'clump ref', 'clump true'], sampleRows),
    flagList(r.samples),
    ...(r.tables ?? []).map((t) => table(t.caption, t.header, t.rows)),
    '</body></html>',
  ];
  return parts.join('\n');
}
