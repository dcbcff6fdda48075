// The latent 2-D map of the selected sample: each event at its projected embedding, coloured by
// class; hovering a dot shows its class probabilities.
import { CLASSES, COLORS, LABELS, argmax } from './classes.js';
import { $, clamp, el, fmt } from './dom.js';
import type { Result } from './state.js';

const MAP_POINTS = 3000;

/** The 0.5th–99.5th percentile range with a small margin, so a few far outliers do not squeeze the
 *  bulk of the cells into a corner (the outliers are drawn clamped to the frame). */
function robustRange(v: number[]): [number, number] {
  const s = [...v].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.round(q * (s.length - 1))))]!;
  const lo = at(0.005), hi = at(0.995);
  const margin = 0.04 * (hi - lo || 1);
  return [lo - margin, hi + margin];
}

export function renderMap(r: Result | null): void {
  $('map-title').textContent = r ? `${r.summary.id}${r.embedding2d ? '' : ' (the model has no 2-D projection)'}` : '';
  const W = 1000, H = 420, pad = 30;
  const svg = el('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'latent space map coloured by class' });
  el('rect', { x: 0, y: 0, width: W, height: H, fill: '#fbfbfc' }, svg);
  const e = r?.embedding2d;
  if (r && e) {
    const n = r.summary.cells;
    const step = Math.max(1, Math.ceil(n / MAP_POINTS));
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
      const px = clamp(pad + (e[2 * i]! - x0) * sx, 4, W - 4);
      const py = clamp(H - pad - (e[2 * i + 1]! - y0) * sy, 4, H - 4);
      el('circle', { cx: px, cy: py, r: 2.6, fill: COLORS[CLASSES[argmax(r.probabilities, i)]!]!, 'fill-opacity': 0.7, 'data-i': i }, g);
    }
    el('text', { x: W - pad, y: H - 8, 'text-anchor': 'end' }, svg).textContent = `${Math.ceil(n / step).toLocaleString()} of ${n.toLocaleString()} events shown · PCA of the two stages' embeddings`;
    const tip = $('tooltip');
    g.addEventListener('mousemove', (ev) => {
      const t = ev.target as Element;
      const i = Number(t.getAttribute('data-i'));
      if (!Number.isFinite(i) || t.tagName !== 'circle') return;
      const p = r.probabilities.subarray(4 * i, 4 * i + 4);
      tip.textContent = `event ${i + 1}\n${CLASSES.map((c, k) => `${LABELS[c]}: ${fmt(100 * p[k]!, 1)} %`).join('\n')}\nmap (${fmt(e[2 * i]!)}, ${fmt(e[2 * i + 1]!)})`;
      tip.style.left = `${ev.clientX + 12}px`;
      tip.style.top = `${ev.clientY + 12}px`;
      tip.hidden = false;
    });
    g.addEventListener('mouseleave', () => (tip.hidden = true));
  }
  $('map').replaceChildren(svg);
}
