// The event gallery of the selected sample: per class, up to PER_CLASS events whose most probable
// class it is, each drawn as a small thumbnail of its own signals, so a reader can see what the
// model puts in a class (and spot a class that collects debris or doublets) without leaving the page.
// - Waveform files: one lane per channel (FSC, SSC, FL, IMP), its time samples as a line.
// - Scalar-parameter files (heights, areas, widths): one bar per parameter, coloured by channel.
// - Anything else (a plain matrix): bars, or a line when there are too many columns for bars.
// Channels are found by the pipeline's own reader of column names (layout.ts), so the gallery reads
// a file the way the model does, including nameless NPY files of 4 equal blocks.
// Hovering a thumbnail (its title) shows the event's number and its four class probabilities.
import { detectLayout } from '../../bindings/pipeline/layout.js';
import { CLASSES, COLORS, LABELS } from './classes.js';
import { $, fmt } from './dom.js';
import type { LoadedSample, Result } from './state.js';

const PER_CLASS = 24;
/** Events read to set each channel's scale: enough for stable percentiles, cheap at 30,000 events. */
const SCALE_EVENTS = 2000;
const MAX_BARS = 64;
const W = 112, H = 64;
/** Below this top probability an event is drawn with a dashed frame: the model hesitates there. */
const UNSURE = 0.6;
const CHANNEL_COLORS = ['#1d2939', '#0e7090', '#2f9e44', '#854a0e'];

interface Lane {
  name: string;
  cols: number[];
}

interface Thumbs {
  kind: 'lines' | 'bars';
  lanes: Lane[];
  /** Per lane (lines) or per bar (bars): the value range mapped onto the thumbnail's height. */
  lo: Float64Array;
  hi: Float64Array;
  what: string;
}

/** The lanes of a sample's columns, by the pipeline's reading of their names (or its 4-block rule). */
export function lanesOf(s: Pick<LoadedSample, 'columns' | 'cols'>): { kind: 'lines' | 'bars'; lanes: Lane[]; what: string } {
  try {
    const L = detectLayout(s.columns, s.cols);
    const index = new Map((s.columns ?? []).map((n, i) => [n, i]));
    // Without names the layout calls column k '#k'.
    const col = (name: string) => index.get(name) ?? Number(name.slice(1));
    if (L.kind !== 'matrix') {
      const lanes = L.groups.map((g) => ({ name: g.name, cols: g.columns.map(col) }));
      return L.kind === 'waveform'
        ? { kind: 'lines', lanes, what: 'its time samples as a line' }
        : { kind: 'bars', lanes, what: 'per-event parameters' };
    }
  } catch {
    // Names the pipeline cannot place (a channel missing, two read as one role): show the columns as they are.
  }
  const all = { name: 'columns', cols: Array.from({ length: s.cols }, (_, j) => j) };
  return s.cols <= MAX_BARS ? { kind: 'bars', lanes: [all], what: 'the columns' } : { kind: 'lines', lanes: [all], what: 'the columns in file order' };
}

/** The q-quantile of v (sorted in place; v is a small subsample). */
function quantile(v: Float64Array, q: number): number {
  v.sort();
  return v[Math.min(v.length - 1, Math.max(0, Math.round(q * (v.length - 1))))]!;
}

/**
 * One scale per lane for lines (a pulse keeps its shape and its height relative to the other events),
 * one per column for bars (heights, areas and widths have different units). The scale is the
 * sample's, not the thumbnail's: a platelet's pulse then looks small beside a red cell's, which is
 * the difference a reader looks for. Percentiles (0.5 %, 99.5 %) so a few outliers do not flatten the rest.
 */
function scalesOf(s: LoadedSample, kind: 'lines' | 'bars', lanes: Lane[]): { lo: Float64Array; hi: Float64Array } {
  const units = kind === 'lines' ? lanes.map((l) => l.cols) : lanes.flatMap((l) => l.cols.map((c) => [c]));
  const step = Math.max(1, Math.ceil(s.rows / SCALE_EVENTS));
  const m = Math.ceil(s.rows / step);
  const lo = new Float64Array(units.length), hi = new Float64Array(units.length);
  units.forEach((cols, u) => {
    const mins = new Float64Array(m), maxs = new Float64Array(m);
    for (let i = 0, k = 0; i < s.rows; i += step, k++) {
      let a = Infinity, b = -Infinity;
      for (const c of cols) {
        const v = s.data[i * s.cols + c]!;
        if (v < a) a = v;
        if (v > b) b = v;
      }
      mins[k] = a;
      maxs[k] = b;
    }
    // Bars rise from zero when the values are positive: a bar's height is then its value's share of the top.
    lo[u] = kind === 'bars' ? Math.min(0, quantile(mins, 0.005)) : quantile(mins, 0.005);
    hi[u] = quantile(maxs, 0.995);
    if (!(hi[u]! > lo[u]!)) hi[u] = lo[u]! + 1;
  });
  return { lo, hi };
}

const cache = new WeakMap<LoadedSample, Thumbs>();
function thumbsOf(s: LoadedSample): Thumbs {
  let t = cache.get(s);
  if (!t) {
    const { kind, lanes, what } = lanesOf(s);
    t = { kind, lanes, what, ...scalesOf(s, kind, lanes) };
    cache.set(s, t);
  }
  return t;
}

/**
 * Per class: how many events have it as their most probable class, and up to PER_CLASS of them,
 * evenly spaced through the sample in file order (ranks (j + ½)·count/k). Evenly spaced rather than
 * the most confident: the most confident events are the textbook cells, and a gallery of them would
 * hide what else the model files under a class. One pass over the events, no sort of the sample;
 * the few picks are then ordered by confidence, so the borderline ones gather at the end of a row.
 */
export function pickEvents(p: Float32Array, n: number, k = PER_CLASS): { counts: number[]; picks: number[][] } {
  const C = CLASSES.length;
  const top = new Uint8Array(n);
  const counts = new Array<number>(C).fill(0);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < C; c++) if (p[i * C + c]! > p[i * C + best]!) best = c;
    top[i] = best;
    counts[best]!++;
  }
  const picks = counts.map(() => [] as number[]);
  const seen = new Array<number>(C).fill(0);
  const want = (c: number) => Math.floor(((picks[c]!.length + 0.5) * counts[c]!) / Math.min(k, counts[c]!));
  for (let i = 0; i < n; i++) {
    const c = top[i]!;
    if (picks[c]!.length < k && seen[c] === want(c)) picks[c]!.push(i);
    seen[c]!++;
  }
  for (const [c, list] of picks.entries()) list.sort((a, b) => p[b * C + c]! - p[a * C + c]!);
  return { counts, picks };
}

function drawThumb(g: CanvasRenderingContext2D, s: LoadedSample, i: number, t: Thumbs): void {
  g.fillStyle = '#fbfbfc';
  g.fillRect(0, 0, W, H);
  const row = i * s.cols;
  const y01 = (v: number, u: number) => Math.min(1, Math.max(0, (v - t.lo[u]!) / (t.hi[u]! - t.lo[u]!)));
  if (t.kind === 'lines') {
    const laneH = H / t.lanes.length;
    t.lanes.forEach((lane, u) => {
      const base = (u + 1) * laneH - 1.5, span = laneH - 3;
      g.strokeStyle = t.lanes.length > 1 ? CHANNEL_COLORS[u % CHANNEL_COLORS.length]! : CHANNEL_COLORS[0]!;
      g.lineWidth = 1.2;
      g.beginPath();
      lane.cols.forEach((c, k) => {
        const x = 2 + ((W - 4) * k) / Math.max(1, lane.cols.length - 1);
        const y = base - span * y01(s.data[row + c]!, u);
        if (k === 0) g.moveTo(x, y);
        else g.lineTo(x, y);
      });
      g.stroke();
    });
    return;
  }
  const bars = t.lanes.reduce((a, l) => a + l.cols.length, 0);
  const gap = t.lanes.length > 1 ? 3 : 0; // a gap between channels, so each one's bars read as a group
  const bw = (W - 4 - gap * (t.lanes.length - 1)) / bars;
  let x = 2, u = 0;
  t.lanes.forEach((lane, l) => {
    g.fillStyle = CHANNEL_COLORS[l % CHANNEL_COLORS.length]!;
    for (const c of lane.cols) {
      const h = (H - 4) * y01(s.data[row + c]!, u++);
      g.fillRect(x, H - 2 - h, Math.max(1, bw - 1), Math.max(0.5, h));
      x += bw;
    }
    x += gap;
  });
}

/** The hover text: the event's number (1-based, as in the latent map) and its four probabilities. */
function hoverText(p: Float32Array, i: number): string {
  const C = CLASSES.length;
  return `event ${i + 1}\n${CLASSES.map((c, k) => `${LABELS[c]}: ${fmt(100 * p[i * C + k]!, 1)} %`).join('\n')}`;
}

function classSection(cls: string, c: number, count: number, list: number[], n: number, s: LoadedSample, r: Result, t: Thumbs): HTMLElement {
  const sec = document.createElement('section');
  sec.className = 'gallery-class';
  sec.dataset.class = cls;
  sec.dataset.count = String(count);
  sec.setAttribute('aria-label', `${LABELS[cls]}: ${count.toLocaleString()} events, ${list.length} shown`);
  const h = document.createElement('h3');
  h.innerHTML = `<i style="background:${COLORS[cls]}"></i>`;
  h.append(`${LABELS[cls]} `);
  const small = document.createElement('small');
  small.textContent = `${count.toLocaleString()} events (${fmt((100 * count) / Math.max(1, n), 1)} %)${count ? ` · ${list.length} shown` : ''}`;
  h.append(small);
  sec.append(h);
  if (count === 0) {
    const p = document.createElement('p');
    p.className = 'muted';
    p.textContent = `No event has ${LABELS[cls]} as its most probable class.`;
    sec.append(p);
    return sec;
  }
  const row = document.createElement('div');
  row.className = 'thumbs';
  const dpr = window.devicePixelRatio || 1;
  for (const i of list) {
    const cv = document.createElement('canvas');
    cv.width = W * dpr;
    cv.height = H * dpr;
    cv.dataset.i = String(i);
    cv.title = hoverText(r.probabilities, i);
    cv.setAttribute('role', 'img');
    cv.setAttribute('aria-label', cv.title.replace(/\n/g, ', '));
    if (r.probabilities[i * CLASSES.length + c]! < UNSURE) cv.classList.add('unsure');
    const g = cv.getContext('2d')!;
    g.scale(dpr, dpr);
    drawThumb(g, s, i, t);
    row.append(cv);
  }
  sec.append(row);
  return sec;
}

export function renderGallery(s: LoadedSample | null, r: Result | null): void {
  $('gallery-title').textContent = s ? s.id : '';
  const box = $('gallery');
  const note = $('gallery-note');
  if (!s || !r) {
    box.replaceChildren();
    note.textContent = '';
    return;
  }
  const n = r.summary.cells;
  const t = thumbsOf(s);
  const { counts, picks } = pickEvents(r.probabilities, n);
  box.replaceChildren(...CLASSES.map((cls, c) => classSection(cls, c, counts[c]!, picks[c]!, n, s, r, t)));
  note.replaceChildren(`Each thumbnail: ${t.kind === 'lines' ? 'one lane per channel' : 'one bar per parameter'}`);
  // Channel names come from the file: text nodes, never markup.
  if (t.lanes.length > 1) {
    note.append(' (');
    t.lanes.forEach((l, u) => {
      const b = document.createElement('b');
      b.style.color = CHANNEL_COLORS[u % CHANNEL_COLORS.length]!;
      b.textContent = l.name;
      note.append(...(u ? [', ', b] : [b]));
    });
    note.append(')');
  }
  const calibrated = CLASSES.some((cls, c) => r.summary.counts[cls] !== counts[c]);
  note.append(`, ${t.what}, on the sample's own scale (0.5–99.5 % of its events). Events are evenly spaced through the ` +
    `sample, most confident first; a dashed frame marks a top probability under ${UNSURE * 100} %. Counts are of events by ` +
    `their most probable class${calibrated ? ' (the table\'s reticulocyte count is the model\'s calibrated one, so it differs)' : ''}.`);
}
