// The gallery's choice of events (server/public/gallery.ts): per class, the events whose most
// probable class it is, evenly spaced through the sample in one pass, then ordered by confidence;
// and how it reads a file's columns into thumbnail lanes (waveform lines, scalar bars, a plain matrix).
import { describe, expect, it } from 'vitest';
import { lanesOf, pickEvents } from '../server/public/gallery.js';
import { featureNames } from '../bindings/simulate/index.js';

/** n events; event i's top class is cls(i) with probability conf(i), the rest spread evenly. */
function probs(n: number, cls: (i: number) => number, conf: (i: number) => number): Float32Array {
  const p = new Float32Array(4 * n);
  for (let i = 0; i < n; i++) for (let c = 0; c < 4; c++) p[4 * i + c] = c === cls(i) ? conf(i) : (1 - conf(i)) / 3;
  return p;
}

describe('gallery pickEvents', () => {
  it('counts every event once and picks evenly spaced members of each class', () => {
    const n = 30_000;
    const cls = (i: number) => (i % 10 === 0 ? 0 : i % 100 === 1 ? 3 : 1); // no reticulocytes
    const p = probs(n, cls, () => 0.9);
    const { counts, picks } = pickEvents(p, n);
    expect(counts).toEqual([3000, 26_700, 0, 300]);
    expect(picks.map((l) => l.length)).toEqual([24, 24, 0, 24]);
    for (const [c, list] of picks.entries()) for (const i of list) expect(cls(i)).toBe(c);
    // Platelets are every 10th event: picks at ranks (j + ½)·3000/24 = 62, 187, 312, … → events 620, 1870, …
    expect([...picks[0]!].sort((a, b) => a - b).slice(0, 3)).toEqual([620, 1870, 3120]);
  });

  it('keeps every member of a small class and orders picks by confidence', () => {
    const n = 50;
    const p = probs(n, (i) => (i < 5 ? 2 : 1), (i) => 0.4 + i / 100);
    const { counts, picks } = pickEvents(p, n, 24);
    expect(counts).toEqual([0, 45, 5, 0]);
    expect(picks[2]).toEqual([4, 3, 2, 1, 0]);
    const conf = picks[1]!.map((i) => p[4 * i + 1]!);
    expect(conf).toEqual([...conf].sort((a, b) => b - a));
  });
});

describe('gallery lanesOf', () => {
  it('waveform names: one line lane per channel, in FSC, SSC, FL, IMP order and time order', () => {
    const names = featureNames(8).reverse(); // another column order: columns are found by name
    const t = lanesOf({ columns: names, cols: names.length });
    expect(t.kind).toBe('lines');
    expect(t.lanes.map((l) => l.name)).toEqual(['FSC', 'SSC', 'FL', 'IMP']);
    expect(t.lanes[0]!.cols.map((j) => names[j])).toEqual(['FSC_t00', 'FSC_t01', 'FSC_t02', 'FSC_t03', 'FSC_t04', 'FSC_t05', 'FSC_t06', 'FSC_t07']);
  });

  it('scalar parameters: bars grouped by channel; no names: the 4-block rule, else the columns as they are', () => {
    const scalar = ['IMP_PEAK', 'FSC_PEAK', 'FSC_TOF', 'SSC_PEAK', 'FL1_PEAK', 'FL1_INT', 'Time'];
    const s = lanesOf({ columns: scalar, cols: scalar.length });
    expect(s.kind).toBe('bars');
    expect(s.lanes.map((l) => l.cols.map((j) => scalar[j]))).toEqual([['FSC_PEAK', 'FSC_TOF'], ['SSC_PEAK'], ['FL1_PEAK', 'FL1_INT'], ['IMP_PEAK']]);
    const blocks = lanesOf({ columns: null, cols: 128 });
    expect(blocks.kind).toBe('lines');
    expect(blocks.lanes.map((l) => [l.cols[0], l.cols.length])).toEqual([[0, 32], [32, 32], [64, 32], [96, 32]]);
    expect(lanesOf({ columns: null, cols: 10 })).toMatchObject({ kind: 'bars', lanes: [{ name: 'columns' }] });
    const odd = Array.from({ length: 100 }, (_, j) => `p${j}`);
    expect(lanesOf({ columns: odd, cols: 100 })).toMatchObject({ kind: 'lines', lanes: [{ name: 'columns' }] });
    // A file naming FSC and FL but no SSC or IMP: the pipeline's reader refuses it, the gallery shows its columns.
    expect(lanesOf({ columns: ['FSC-H', 'FL1-H'], cols: 2 }).lanes).toEqual([{ name: 'columns', cols: [0, 1] }]);
  });
});
