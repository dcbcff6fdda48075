// Share charts, in the one convention of classes.ts (the table's numbers):
// - bars: PLT %, RETIC %, CLUMP % per sample on a log scale from 0.1 % to 100 %, so a 1 % class is
//   a tenth of the way up rather than a sliver at the bottom of a 0–100 axis;
// - donut of the selected sample: the inner ring splits all events into platelets and red cells, the
//   outer ring splits the red-cell arc into RBC, reticulocytes and clumps (their own denominator).
import type { SampleSummary } from '../../bindings/browser.js';
import { COLORS, SHARES, shareOf } from './classes.js';
import { $, el, fmt } from './dom.js';
import type { Result } from './state.js';

const LOG_MIN = 0.1;

export function renderBars(results: Result[]): void {
  const W = 520, H = 260, left = 44, bottom = 40, top = 10;
  const svg = el('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'PLT, RETIC and CLUMP shares per sample, log scale' });
  const n = results.length;
  const groupW = (W - left - 10) / Math.max(1, n);
  const barW = Math.min(22, (groupW - 8) / SHARES.length);
  const y = (v: number) => {
    const t = (Math.log10(Math.max(LOG_MIN, v)) - Math.log10(LOG_MIN)) / (2 - Math.log10(LOG_MIN));
    return H - bottom - (H - bottom - top) * t;
  };
  for (const t of [0.1, 0.3, 1, 3, 10, 30, 100]) {
    el('line', { x1: left, x2: W - 5, y1: y(t), y2: y(t), stroke: t === 1 || t === 10 || t === 100 ? '#d0d5dd' : '#eef0f3' }, svg);
    el('text', { x: left - 6, y: y(t) + 4, 'text-anchor': 'end' }, svg).textContent = `${t} %`;
  }
  results.forEach((r, i) => {
    const x0 = left + i * groupW + (groupW - barW * SHARES.length) / 2;
    SHARES.forEach((sh, c) => {
      const v = shareOf(r.summary, sh.key);
      const rect = el('rect', { x: x0 + c * barW, y: y(v), width: barW - 2, height: Math.max(0.5, y(LOG_MIN) - y(v)), fill: COLORS[sh.cls]!, 'data-share': sh.key, 'data-value': v }, svg);
      el('title', {}, rect).textContent = `${r.summary.id} · ${sh.label} ${fmt(v)} % ${sh.of}${v < LOG_MIN ? ' (below the axis)' : ''}`;
    });
    const label = r.summary.id.length > 14 ? `${r.summary.id.slice(0, 13)}…` : r.summary.id;
    el('text', { x: x0 + (barW * SHARES.length) / 2, y: H - bottom + 16, 'text-anchor': 'middle' }, svg).textContent = label;
  });
  $('bars').replaceChildren(svg);
}

function arc(cx: number, cy: number, r0: number, r1: number, a0: number, a1: number): string {
  if (a1 - a0 >= 2 * Math.PI - 1e-6) a1 = a0 + 2 * Math.PI - 1e-4; // a full ring: just short of closing
  const large = a1 - a0 > Math.PI ? 1 : 0;
  const p = (r: number, a: number) => `${cx + r * Math.cos(a)} ${cy + r * Math.sin(a)}`;
  return `M ${p(r1, a0)} A ${r1} ${r1} 0 ${large} 1 ${p(r1, a1)} L ${p(r0, a1)} A ${r0} ${r0} 0 ${large} 0 ${p(r0, a0)} Z`;
}

export function renderDonut(s: SampleSummary | null): void {
  $('pie-title').textContent = s ? s.id : '';
  const W = 520, H = 260, cx = 130, cy = 130;
  const svg = el('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'platelets among all events, and the red-cell classes among red-cell events' });
  if (s) {
    const plt = s.percentages.plt_pct / 100;
    const retic = s.percentages.retic_pct / 100;
    const clump = s.percentages.clump_pct / 100;
    const start = -Math.PI / 2;
    const redStart = start + 2 * Math.PI * plt;
    const redSpan = 2 * Math.PI * (1 - plt);
    const seg = (r0: number, r1: number, a0: number, span: number, fill: string, title: string) => {
      if (span <= 0) return;
      el('title', {}, el('path', { d: arc(cx, cy, r0, r1, a0, a0 + span), fill, stroke: '#fff', 'stroke-width': 1 }, svg)).textContent = title;
    };
    seg(40, 78, start, 2 * Math.PI * plt, COLORS.platelet!, `PLT ${fmt(100 * plt)} % of all events`);
    seg(40, 78, redStart, redSpan, '#e9b3ad', `red cells ${fmt(100 * (1 - plt))} % of all events`);
    const rbc = Math.max(0, 1 - retic - clump);
    seg(82, 118, redStart, redSpan * rbc, COLORS.rbc!, `RBC ${fmt(100 * rbc)} % of red-cell events`);
    seg(82, 118, redStart + redSpan * rbc, redSpan * retic, COLORS.reticulocyte!, `RETIC ${fmt(100 * retic)} % of red-cell events`);
    seg(82, 118, redStart + redSpan * (rbc + retic), redSpan * clump, COLORS.clumped_rbc!, `CLUMP ${fmt(100 * clump)} % of red-cell events`);
    const lines: [string, string][] = [
      [COLORS.platelet!, `PLT ${fmt(100 * plt)} % of all events (inner ring)`],
      [COLORS.rbc!, `RBC ${fmt(100 * rbc)} % of red cells (outer ring)`],
      [COLORS.reticulocyte!, `RETIC ${fmt(100 * retic)} % of red cells`],
      [COLORS.clumped_rbc!, `CLUMP ${fmt(100 * clump)} % of red cells`],
    ];
    lines.forEach(([color, text], i) => {
      const yy = 70 + i * 28;
      el('rect', { x: 270, y: yy - 11, width: 14, height: 14, fill: color }, svg);
      el('text', { x: 292, y: yy }, svg).textContent = text;
    });
  }
  $('pie').replaceChildren(svg);
}
