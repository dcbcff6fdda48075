// Channels found by name (layout.ts) and the unit-free input scale (preprocess.ts), on the
// simulator family's domains (docs/simulator.md): every domain's columns map to the four roles,
// a file with the same channels in another order is read by name, and multiplying the signals by
// a constant leaves the asinh units as they were.
import { describe, expect, it } from 'vitest';
import { columnSources, detectLayout, LayoutError, parseChannelMapping, summaryOf } from './helpers/layout.js';
import { canonicalColumns, fitPreprocessor, KAPPA, toAsinhUnits } from '../bindings/pipeline/preprocess.js';
import { pulseSummaries, summaryRoles } from '../bindings/pipeline/pulse-features.js';
import { DOMAIN_NAMES, DOMAINS, roleMap, simulateSample } from '../bindings/simulate/index.js';

describe('channel layout by name', () => {
  it('maps every simulated domain\'s columns to FSC, SSC, FL, IMP in the domain\'s own names', () => {
    for (const name of DOMAIN_NAMES) {
      const d = DOMAINS[name];
      const s = simulateSample({ domain: d, cells: 50, seed: 3 });
      const L = detectLayout(s.features, s.features.length);
      expect(L.kind, name).toBe(d.layout);
      const roles = roleMap(d);
      for (const g of L.groups) {
        expect(g.name, `${name} ${g.role}`).toBe(roles[g.role]);
        for (const c of g.columns) expect(s.features.includes(c)).toBe(true);
      }
      if (d.layout === 'waveform') for (const g of L.groups) expect(g.columns.length, `${name} ${g.role}`).toBe(d.channels.find((c) => c.role === g.role)!.points);
    }
  });

  it('reads a file with the same channels in another order by name', () => {
    const s = simulateSample({ cells: 40, seed: 5, points: 8 });
    const L = detectLayout(s.features, s.features.length);
    // The same events with the channel blocks reversed and a Time column in front.
    const order = [24, 16, 8, 0].flatMap((b) => Array.from({ length: 8 }, (_, t) => b + t));
    const names = ['Time', ...order.map((j) => s.features[j])];
    const data = new Float32Array(40 * 33);
    for (let r = 0; r < 40; r++) {
      data[r * 33] = r;
      order.forEach((j, c) => (data[r * 33 + 1 + c] = s.signals[r * 32 + j]));
    }
    const src = columnSources(L, names, 33);
    expect(Array.from(canonicalColumns(data, 40, 33, src))).toEqual(Array.from(s.signals));
    expect(() => columnSources(L, names.filter((n) => n !== 'FL_t03'), 32)).toThrow(/no column 'FL_t03'/);
  });

  it('takes an explicit mapping, and says what is missing or ambiguous', () => {
    const names = ['A_t0', 'A_t1', 'A_t2', 'A_t3', 'B_t0', 'B_t1', 'B_t2', 'B_t3', 'C_t0', 'C_t1', 'C_t2', 'C_t3', 'D_t0', 'D_t1', 'D_t2', 'D_t3'];
    expect(detectLayout(names, 16).kind).toBe('matrix');
    const L = detectLayout(names, 16, parseChannelMapping('fsc=D, SSC=C,FL=B,IMP=A'));
    expect(L.groups.map((g) => g.name)).toEqual(['D', 'C', 'B', 'A']);
    expect(() => detectLayout(names, 16, parseChannelMapping('FSC=D,SSC=C'))).toThrow(/not for FL, IMP/);
    expect(() => detectLayout(names, 16, parseChannelMapping('FSC=X'))).toThrow(/no column of channel 'X'/);
    expect(() => parseChannelMapping('FOO=A')).toThrow(LayoutError);
    expect(() => parseChannelMapping('FSC=A,FSC=B')).toThrow(/twice/);
    expect(() => detectLayout(['FSC-H', 'FS-H', 'SSC-H', 'FL-H', 'IMP-H'], 5)).toThrow(/two channels read as FSC/);
    expect(() => detectLayout(null, 16, { FSC: 'A' })).toThrow(/column names/);
    const scalar = detectLayout(['IMP-W', 'FSC-A', 'FSC-H', 'SSC-H', 'FL-H', 'IMP-H', 'Time'], 7);
    expect(summaryOf(scalar)).toEqual(['FSC:FSC-H,FSC-A', 'SSC:SSC-H', 'FL:FL-H', 'IMP:IMP-H,IMP-W']);
    expect(() => detectLayout(['FSC-W', 'SSC-H', 'FL-H', 'IMP-H'], 4)).toThrow(/no height parameter/);
  });
});

describe('unit-free input scale', () => {
  it('measures each channel\'s noise: scale ≈ KAPPA × the simulated noise sd', () => {
    for (const species of ['dog', 'cat'] as const) {
      const s = simulateSample({ species, cells: 4000, seed: 11 });
      const L = detectLayout(s.features, s.features.length);
      const pre = fitPreprocessor(L, s.signals, s.cells, s.features.length);
      L.groups.forEach((g, gi) => {
        const got = pre.scale[gi * s.points] / KAPPA;
        expect(Math.abs(got / s.instrument.noiseSd[gi] - 1), `${species} ${g.name}`).toBeLessThan(0.15);
        expect(Math.abs(pre.offset[gi * s.points] - s.instrument.baselines[gi]), `${species} ${g.name} baseline`).toBeLessThan(0.3);
      });
    }
  });

  it('gives the same asinh units when every signal is multiplied by 0.01 or 100', () => {
    for (const name of ['builtin', 'scalar-dog', 'mixed-points']) {
      const s = simulateSample({ domain: DOMAINS[name], cells: 3000, seed: 2 });
      const F = s.features.length;
      const L = detectLayout(s.features, F);
      const base = toAsinhUnits(fitPreprocessor(L, s.signals, s.cells, F), Float32Array.from(s.signals), s.cells, F);
      for (const c of [0.01, 100]) {
        const x = Float32Array.from(s.signals, (v) => v * c);
        const u = toAsinhUnits(fitPreprocessor(L, x, s.cells, F), x, s.cells, F);
        let worst = 0;
        for (let i = 0; i < u.length; i++) worst = Math.max(worst, Math.abs(Math.asinh(u[i]) - Math.asinh(base[i])));
        expect(worst, `${name} ×${c}`).toBeLessThan(1e-4);
      }
    }
  });
});

describe('pulse summaries of scalar exports', () => {
  it('keep heights and widths, and turn an area into its shape: asinh(A) − asinh(H)', () => {
    const names = ['RES_TOF', 'RES_PEAK', 'FS_PEAK', 'FS_INT', 'SS_PEAK', 'FL1_INT', 'FL1_PEAK'];
    const L = detectLayout(names, names.length);
    // Pipeline order: FSC (H, A), SSC (H), FL (H, A), IMP (H, W).
    expect(summaryOf(L)).toEqual(['FSC:FS_PEAK,FS_INT', 'SSC:SS_PEAK', 'FL:FL1_PEAK,FL1_INT', 'IMP:RES_PEAK,RES_TOF']);
    expect(summaryRoles(L)).toEqual(['FSC', 'FSC', 'SSC', 'FL', 'FL', 'IMP', 'IMP']);
    const u = Float32Array.from([40, 400, 9, 3, 12, 60, 2.5]);
    const f = pulseSummaries(L, u, 7, [0]);
    const a = Math.asinh;
    const want = [a(40), a(400) - a(40), a(9), a(3), a(12) - a(3), a(60), a(2.5)];
    want.forEach((w, c) => expect(f[c], `column ${c}`).toBeCloseTo(w, 5));
  });
});

