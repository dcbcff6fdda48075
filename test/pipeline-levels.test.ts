// Stage 2's pulse summaries and its two-level decision (single | clump, then rbc | retic), on
// synthetic events whose classes are known by construction. The truth is used here only to score.
import { describe, expect, it } from 'vitest';
import { HostRng } from '../bindings/models/rng.js';
import { fitPulseScaler, pulseSummaries, summaryRoles, withPulse } from '../bindings/pipeline/pulse-features.js';
import { detectLayout } from '../bindings/pipeline/layout.js';
import { centreBySample, classifyRed, fitRedLevels, levelAColumns, levelBColumns, levelInputsFromPulse, sampleShift, type RedLevels } from '../bindings/pipeline/red-levels.js';
import type { ClassMixture } from '../bindings/pipeline/mixture.js';
import { createReferenceBackend } from '../bindings/backends/reference/index.js';

describe('per-sample centring of the volume/shape summaries', () => {
  const roles = ['FSC', 'FSC', 'SSC', 'SSC', 'FL', 'FL', 'IMP', 'IMP'] as const;
  const P = roles.length;
  const rng = new HostRng(41, 0);
  const n = 301;
  const f = Float64Array.from({ length: n * P }, () => 3 * rng.normal() + 1);

  it('shifts level A columns by their median over the given rows and leaves the RNA stain alone', () => {
    const rows = Array.from({ length: n }, (_, i) => i).filter((i) => i % 3 !== 0);
    const shift = sampleShift([...roles], f, rows);
    roles.forEach((r, p) => {
      const col = rows.map((i) => f[i * P + p]).sort((a, b) => a - b);
      const h = col.length >> 1;
      const want = col.length % 2 ? col[h] : 0.5 * (col[h - 1] + col[h]);
      // The histogram median splits the values in half to within one bin (1/128).
      if (r === 'FL') expect(shift[p]).toBe(0);
      else {
        const below = col.filter((v) => v < shift[p] - 1 / 128).length;
        const upTo = col.filter((v) => v <= shift[p] + 1 / 128).length;
        expect(below, `column ${p} (${r}) vs sorted median ${want}`).toBeLessThanOrEqual(col.length / 2);
        expect(upTo, `column ${p} (${r}) vs sorted median ${want}`).toBeGreaterThanOrEqual(col.length / 2);
      }
    });
    // Exactly half below it when the values are spread one per bin.
    const ladder = Float64Array.from({ length: 8 * 101 }, (_, i) => (i % 8 === 0 ? 1 + Math.floor(i / 8) / 128 + 1 / 256 : 0));
    const m = sampleShift(['FSC', 'FSC', 'SSC', 'SSC', 'FL', 'FL', 'IMP', 'IMP'], ladder, Array.from({ length: 101 }, (_, i) => i))[0];
    expect(Math.abs(m - (1 + 50.5 / 128)), 'ladder').toBeLessThan(1e-9);
    // Continuous in the values: last-bit differences (another host's f32 arithmetic) stay last-bit.
    const nudged = Float64Array.from(f, (v, i) => v * (1 + ((i * 7919) % 3 - 1) * 1e-7));
    const a = sampleShift([...roles], f, rows);
    const b = sampleShift([...roles], nudged, rows);
    for (let p = 0; p < P; p++) expect(Math.abs(a[p] - b[p]), `column ${p}`).toBeLessThan(1e-5);
    expect(Array.from(sampleShift([...roles], f, []))).toEqual(Array(P).fill(0));
  });

  it('makes level inputs blind to a sample-wide offset of volume and shape (another MCV or gain)', () => {
    const rows = Array.from({ length: n }, (_, i) => i);
    const moved = Float64Array.from(f, (v, i) => (roles[i % P] === 'FL' ? v : v + 0.7 * ((i % P) + 1)));
    const L = { embeddingDim: 0, roles: [...roles], centred: true } as unknown as RedLevels;
    const sc = { mean: new Float32Array(P).fill(0.5), std: new Float32Array(P).fill(2) };
    const a = levelInputsFromPulse(L, f, sc, n, sampleShift([...roles], f, rows));
    const b = levelInputsFromPulse(L, moved, sc, n, sampleShift([...roles], moved, rows));
    // Invariant up to the median's resolution (one histogram bin, 1/128, over the scaler's std 2).
    for (let i = 0; i < a.zA.length; i++) expect(Math.abs(b.zA[i] - a.zA[i])).toBeLessThan(1 / 128 / 2 + 1e-9);
    expect(Array.from(b.zB)).toEqual(Array.from(a.zB));
    // Training's form (rows of several samples) is the same map per sample.
    const sampleOf = Int32Array.from({ length: n }, (_, i) => i % 2);
    const c = centreBySample([...roles], f, n, sampleOf, 2);
    const odd = rows.filter((i) => i % 2 === 1);
    const s1 = sampleShift([...roles], f, odd);
    for (const i of odd) for (let p = 0; p < P; p++) expect(c[i * P + p]).toBe(f[i * P + p] - s1[p]);
  });
});

describe('pulse summaries', () => {
  it('gives per channel the asinh peak and the area-over-peak width', () => {
    const T = 8;
    const row = new Float32Array(4 * T);
    // In asinh units (preprocess.ts). Channel 0: a flat pulse of height 2 over 3 samples; channel 2:
    // one spike of 10 and noise below 0.
    row.set([0, 0, 2, 2, 2, 0, 0, 0], 0);
    row.set([-5 / 16, 0, 0, 10, 0, 0, -3 / 16, 0], 2 * T);
    const layout = detectLayout(null, 4 * T);
    const f = pulseSummaries(layout, row, 4 * T, [0]);
    expect(f.length).toBe(8);
    expect(f[0]).toBeCloseTo(Math.asinh(2), 12);
    expect(f[1]).toBeCloseTo(3, 12);
    expect(f[4]).toBeCloseTo(Math.asinh(10), 12);
    expect(f[5]).toBeCloseTo(1, 12); // negative noise does not count as area
    // A channel with no pulse: width floored by one asinh unit instead of dividing by ~0.
    expect(f[3]).toBe(0);
    expect(summaryRoles(layout)).toEqual(['FSC', 'FSC', 'SSC', 'SSC', 'FL', 'FL', 'IMP', 'IMP']);
    expect(summaryRoles(detectLayout(null, 130))).toEqual([]);
  });

  it('scales to zero mean and unit variance and appends after the embedding', () => {
    const f = Float64Array.from([1, 10, 3, 30]);
    const sc = fitPulseScaler(f, 2, 2);
    expect(Array.from(sc.mean)).toEqual([2, 20]);
    expect(Array.from(sc.std)).toEqual([1, 10]);
    const z = withPulse(Float32Array.from([7, 8]), 1, f, 2, sc, 2);
    expect(Array.from(z)).toEqual([7, -1, -1, 8, 1, 1]);
  });
});

// Pulse columns per channel (height, width): FSC 0–1, SSC 2–3, FL 4–5, IMP 6–7, after d embedding values.
const d = 2;
const ROLES8 = summaryRoles(detectLayout(null, 128));
const P = ROLES8.length;
const D = d + P;

/** One sample of red events: class 0 rbc, 1 retic, 2 clump (a third of the clumps carry RNA). */
function sample(rng: HostRng, n: number, theta: number[]) {
  const y = new Int32Array(n);
  const z = new Float64Array(n * D);
  for (let i = 0; i < n; i++) {
    const u = rng.uniform();
    const c = u < theta[0] ? 0 : u < theta[0] + theta[1] ? 1 : 2;
    y[i] = c;
    const row = Array.from({ length: D }, () => 0.6 * rng.normal());
    // The "embedding" knows the classes only coarsely (centres 1.5 apart, unit noise).
    row[0] += 1.5 * c;
    if (c === 1) row[d + 4] += 5; // RNA stain
    if (c === 2) {
      row[d + 6] += 5; // impedance height (two cells)
      row[d + 7] += 3; // wider pulse
      row[d + 1] += 2;
      if (rng.uniform() < 1 / 3) row[d + 4] += 5; // a clump holding a reticulocyte
    }
    z.set(row, i * D);
  }
  return { y, z };
}

describe('two-level red-cell decision', () => {
  const rng = new HostRng(5, 3);
  const S = 8;
  const theta = Array.from({ length: S }, () => {
    const r = 0.01 + 0.12 * rng.uniform();
    const c = 0.005 + 0.05 * rng.uniform();
    return [1 - r - c, r, c];
  });
  const parts = theta.map((t) => sample(rng, 1500, t));
  const n = S * 1500;
  const z = new Float64Array(n * D);
  const sampleOf = new Int32Array(n);
  parts.forEach((p, s) => {
    z.set(p.z, s * 1500 * D);
    sampleOf.fill(s, s * 1500, (s + 1) * 1500);
  });
  const zEmb = Float32Array.from({ length: n * d }, (_, i) => z[Math.floor(i / d) * D + (i % d)]);
  // A coarse "VaDE" mixture over the embedding: 2 components per class, mapped correctly.
  const vade: ClassMixture = {
    k: 6, d, classes: 3,
    mu: Float64Array.from([0, -0.5, 0, 0.5, 1.5, -0.5, 1.5, 0.5, 3, 1.5, 3, 2.5]),
    logVar: new Float64Array(12).fill(Math.log(0.6)),
    rho: Float64Array.from([0.5, 0.5, 0, 0, 0, 0, 0, 0, 0.5, 0.5, 0, 0, 0, 0, 0, 0, 0.5, 0.5]),
  };

  it('recovers the classes from the references alone, clumps holding RNA included', async () => {
    const L = await fitRedLevels(createReferenceBackend(), vade, zEmb, z, ROLES8, n, sampleOf, theta, { emIterations: 20, smoothing: 0.05, floor: 1e-3, centred: false, rotate: true });
    expect(L.a.d).toBe(levelAColumns(d, ROLES8).length);
    expect(levelAColumns(d, ROLES8)).toEqual([2, 3, 4, 5, 8, 9]);
    expect(L.b.d).toBe(levelBColumns(d, ROLES8).length);
    expect(levelBColumns(d, ROLES8)).toEqual([6, 7]);
    const test = sample(rng, 3000, [0.85, 0.1, 0.05]);
    const post = classifyRed(L, test.z, 3000)(Array.from({ length: 3000 }, (_, i) => i));
    const right = [0, 0, 0];
    const total = [0, 0, 0];
    let rnaClumps = 0;
    let rnaClumpsRight = 0;
    for (let i = 0; i < 3000; i++) {
      const p = [post[i * 3], post[i * 3 + 1], post[i * 3 + 2]];
      expect(p[0] + p[1] + p[2]).toBeCloseTo(1, 9);
      const best = p.indexOf(Math.max(...p));
      total[test.y[i]]++;
      if (best === test.y[i]) right[test.y[i]]++;
      if (test.y[i] === 2 && test.z[i * D + d + 4] > 2.5) {
        rnaClumps++;
        if (best === 2) rnaClumpsRight++;
      }
    }
    for (let c = 0; c < 3; c++) expect(right[c] / total[c]).toBeGreaterThan(0.95);
    expect(rnaClumps).toBeGreaterThan(10);
    expect(rnaClumpsRight / rnaClumps).toBeGreaterThan(0.9);
  });

  it('re-decides the map from the references: a reticulocyte component started as rbc moves back', async () => {
    // Component 2 (half of the reticulocytes) handed to rbc: only the per-sample references show
    // that its share follows retic %, not rbc %.
    const wrong: ClassMixture = { ...vade, rho: Float64Array.from([1 / 3, 1 / 3, 1 / 3, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0.5, 0.5]) };
    const L = await fitRedLevels(createReferenceBackend(), wrong, zEmb, z, ROLES8, n, sampleOf, theta, { emIterations: 20, smoothing: 0.05, floor: 1e-3, centred: false, rotate: false });
    const test = sample(rng, 3000, [0.85, 0.1, 0.05]);
    const post = classifyRed(L, test.z, 3000)(Array.from({ length: 3000 }, (_, i) => i));
    let retic = 0;
    let reticRight = 0;
    for (let i = 0; i < 3000; i++) {
      if (test.y[i] !== 1) continue;
      retic++;
      if (post[i * 3 + 1] > 0.5) reticRight++;
    }
    expect(reticRight / retic).toBeGreaterThan(0.9);
  });
});
