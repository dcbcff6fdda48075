// What a hematology analyzer shows for a sample, drawn from the sample's own signals and coloured by
// the classification:
// - the impedance volume histogram (the Coulter pulse height per event, log axis) with platelets and
//   red cells stacked, and the volume where the classifier's platelet/red-cell split falls;
// - the FL vs FSC scattergram (fluorescence over forward scatter), one dot per event in its class colour.
// The per-event parameters are the peak of each channel: from named columns (FSC…, FL…, IMP…/VOL…;
// scalar parameters or time samples), else from the simulator's layout of 4 equal channel blocks
// (FSC, SSC, FL, IMP). Plain canvas: thousands of dots stay cheap.
import { CLASSES, COLORS, LABELS, argmax } from './classes.js';
import { $ } from './dom.js';
import type { LoadedSample, Result } from './state.js';

const MAX_DOTS = 6000;
const BINS = 90;

export interface EventParams {
  fsc: Float32Array;
  fl: Float32Array;
  volume: Float32Array;
}

/** Per-event channel peaks, or the reason there are none. */
export function eventParameters(s: LoadedSample): EventParams | string {
  const pick = (re: RegExp) => (s.columns ?? []).flatMap((n, i) => (re.test(n) ? [i] : []));
  let groups = [pick(/^FSC/i), pick(/^FL/i), pick(/^(IMP|VOL)/i)];
  if (groups.some((g) => g.length === 0)) {
    if (s.cols % 4 !== 0 || s.cols < 4) return `the sample's columns do not name FSC, FL and IMP channels (${s.cols} columns)`;
    const T = s.cols / 4; // the simulator's blocks: FSC, SSC, FL, IMP
    const block = (b: number) => Array.from({ length: T }, (_, t) => b * T + t);
    groups = [block(0), block(2), block(3)];
  }
  const peak = (idx: number[]) => {
    const out = new Float32Array(s.rows);
    for (let i = 0; i < s.rows; i++) {
      let m = -Infinity;
      for (const j of idx) m = Math.max(m, s.data[i * s.cols + j]!);
      out[i] = m;
    }
    return out;
  };
  return { fsc: peak(groups[0]!), fl: peak(groups[1]!), volume: peak(groups[2]!) };
}

function quantile(v: ArrayLike<number>, q: number): number {
  const a = Float64Array.from(v).sort();
  return a[Math.min(a.length - 1, Math.max(0, Math.round(q * (a.length - 1))))]!;
}

function canvas(id: string, W: number, H: number): CanvasRenderingContext2D {
  const c = $(id) as HTMLCanvasElement;
  const dpr = window.devicePixelRatio || 1;
  c.width = W * dpr;
  c.height = H * dpr;
  const g = c.getContext('2d')!;
  g.scale(dpr, dpr);
  g.clearRect(0, 0, W, H);
  g.font = '11px system-ui, sans-serif';
  g.fillStyle = '#fbfbfc';
  g.fillRect(0, 0, W, H);
  return g;
}

function drawHistogram(p: EventParams, r: Result): void {
  const W = 520, H = 260, left = 40, bottom = 34, top = 12, right = 10;
  const g = canvas('volume-hist', W, H);
  const positive = Array.from(p.volume).filter((v) => v > 0);
  const c = $('volume-hist') as HTMLCanvasElement;
  if (positive.length < 2) {
    g.fillStyle = '#667085';
    g.fillText('no positive impedance pulses to plot', left, H / 2);
    c.dataset.events = '0';
    return;
  }
  const lo = Math.log10(quantile(positive, 0.002)), hi = Math.log10(quantile(positive, 0.998));
  const span = hi - lo || 1;
  const plt = new Float64Array(BINS), red = new Float64Array(BINS);
  for (let i = 0; i < p.volume.length; i++) {
    if (!(p.volume[i]! > 0)) continue;
    const b = Math.min(BINS - 1, Math.max(0, Math.floor(((Math.log10(p.volume[i]!) - lo) / span) * BINS)));
    if (argmax(r.probabilities, i) === 0) plt[b]++;
    else red[b]++;
  }
  // The split: the first bin past the platelet mode where red cells outnumber platelets.
  let mode = 0;
  for (let b = 1; b < BINS; b++) if (plt[b]! > plt[mode]!) mode = b;
  let split = -1;
  for (let b = mode; b < BINS; b++) if (red[b]! > plt[b]!) { split = b; break; }
  // A square-root count axis keeps the small platelet peak visible beside the red-cell peak.
  const maxC = Math.max(...Array.from(plt, (v, b) => v + red[b]!));
  const x = (b: number) => left + ((W - left - right) * b) / BINS;
  const y = (v: number) => H - bottom - (H - bottom - top) * Math.sqrt(v / maxC);
  const bw = (W - left - right) / BINS;
  for (let b = 0; b < BINS; b++) {
    g.fillStyle = COLORS.platelet!;
    g.fillRect(x(b), y(plt[b]!), bw - 0.5, H - bottom - y(plt[b]!));
    g.fillStyle = COLORS.rbc!;
    g.fillRect(x(b), y(plt[b]! + red[b]!), bw - 0.5, y(plt[b]!) - y(plt[b]! + red[b]!));
  }
  g.strokeStyle = '#98a2b3';
  g.beginPath();
  g.moveTo(left, H - bottom);
  g.lineTo(W - right, H - bottom);
  g.stroke();
  g.fillStyle = '#1d2330';
  for (let e = Math.ceil(lo); e <= Math.floor(hi); e++) {
    const xx = left + ((W - left - right) * (e - lo)) / span;
    g.fillText(`10^${e}`, xx - 10, H - bottom + 14);
  }
  g.fillText('impedance pulse height (volume), log scale · √count', left, H - 6);
  if (split >= 0) {
    const xs = x(split);
    g.setLineDash([4, 3]);
    g.strokeStyle = '#1d2330';
    g.beginPath();
    g.moveTo(xs, top);
    g.lineTo(xs, H - bottom);
    g.stroke();
    g.setLineDash([]);
    g.fillText('PLT', xs - 26, top + 10);
    g.fillText('RBC', xs + 6, top + 10);
    c.dataset.split = String(10 ** (lo + (span * split) / BINS));
  } else delete c.dataset.split;
  c.dataset.events = String(positive.length);
}

function drawScatter(p: EventParams, r: Result): void {
  const W = 520, H = 260, left = 40, bottom = 34, top = 10, right = 10;
  const g = canvas('fl-fsc', W, H);
  const n = p.fsc.length;
  // asinh keeps zero and slightly negative (baseline-subtracted) values on the axis while spreading
  // the decades above the scale like a log axis would.
  const scale = (v: Float32Array) => Math.max(1e-6, quantile(Array.from(v, Math.abs), 0.5) / 5);
  const sx = scale(p.fsc), sy = scale(p.fl);
  const tx = Array.from(p.fsc, (v) => Math.asinh(v / sx)), ty = Array.from(p.fl, (v) => Math.asinh(v / sy));
  const [x0, x1] = [quantile(tx, 0.002), quantile(tx, 0.998)];
  const [y0, y1] = [quantile(ty, 0.002), quantile(ty, 0.998)];
  const px = (v: number) => left + ((W - left - right) * (v - x0)) / (x1 - x0 || 1);
  const py = (v: number) => H - bottom - ((H - bottom - top) * (v - y0)) / (y1 - y0 || 1);
  const step = Math.max(1, Math.ceil(n / MAX_DOTS));
  let drawn = 0;
  g.globalAlpha = 0.6;
  for (let i = 0; i < n; i += step) {
    const c = argmax(r.probabilities, i);
    g.fillStyle = COLORS[CLASSES[c]!]!;
    g.fillRect(Math.min(W - right, Math.max(left, px(tx[i]!))) - 1, Math.min(H - bottom, Math.max(top, py(ty[i]!))) - 1, 2.2, 2.2);
    drawn++;
  }
  g.globalAlpha = 1;
  g.strokeStyle = '#98a2b3';
  g.strokeRect(left, top, W - left - right, H - bottom - top);
  g.fillStyle = '#1d2330';
  g.fillText('FSC (forward scatter peak, asinh)', left, H - 8);
  g.save();
  g.translate(12, H - bottom);
  g.rotate(-Math.PI / 2);
  g.fillText('FL (fluorescence peak, asinh)', 0, 0);
  g.restore();
  ($('fl-fsc') as HTMLCanvasElement).dataset.events = String(drawn);
}

/** Draws both plots for the selected sample, or says why they cannot be drawn. */
export function renderAnalyzer(sample: LoadedSample | null, result: Result | null): void {
  $('analyzer-title').textContent = sample ? sample.id : '';
  const note = $('analyzer-note');
  if (!sample || !result) {
    note.textContent = '';
    return;
  }
  const p = eventParameters(sample);
  if (typeof p === 'string') {
    note.textContent = `No analyzer plots: ${p}.`;
    for (const id of ['volume-hist', 'fl-fsc']) ($(id) as HTMLCanvasElement).dataset.events = '0';
    return;
  }
  note.textContent = `Colours: ${CLASSES.map((c) => LABELS[c]).join(', ')} as in the legend; every event is one dot or one count.`;
  drawHistogram(p, result);
  drawScatter(p, result);
}
