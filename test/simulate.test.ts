// The blood-cell analyzer simulator: RNG, determinism, population shares, species differences,
// reference values vs truth, and the on-disk cohort (FCS/NPY round trip) and CLI.
import { describe, it, expect, vi, afterEach } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng, simulateSample, simulateCohort, CLASS, CLASS_NAMES, reportedNoiseSd, REPORT_NOISE_BOUND_SDS, featureNames, type SimulatedSample } from '../bindings/simulate/index.js';
import { parseFcs, parseNpy, readMatrix, toInt32 } from '../bindings/io/index.js';
import { run } from '../bindings/cli/main.js';

/** Per event and channel: the peak value and the width (samples above half the peak). */
function pulseStats(s: SimulatedSample, channel: number) {
  const T = s.points;
  const F = 4 * T;
  const peak = new Float64Array(s.cells);
  const width = new Float64Array(s.cells);
  for (let i = 0; i < s.cells; i++) {
    const o = i * F + channel * T;
    let m = -Infinity;
    for (let k = 0; k < T; k++) m = Math.max(m, s.signals[o + k]!);
    let w = 0;
    for (let k = 0; k < T; k++) if (s.signals[o + k]! > m / 2) w++;
    peak[i] = m;
    width[i] = w;
  }
  return { peak, width };
}
const FSC = 0, FL = 2, IMP = 3;

function select(v: Float64Array, s: SimulatedSample, cls: number): number[] {
  return Array.from(v).filter((_, i) => s.truth[i] === cls);
}
function quantile(xs: number[], q: number): number {
  const a = [...xs].sort((x, y) => x - y);
  return a[Math.min(a.length - 1, Math.floor(q * a.length))]!;
}

describe('Rng', () => {
  it('xoshiro128** reproduces the reference outputs for state (1, 2, 3, 4)', () => {
    // Outputs of the published algorithm (Blackman & Vigna), computed by an independent Python
    // transcription of the reference C code.
    const r = Rng.fromState(1, 2, 3, 4);
    expect(Array.from({ length: 6 }, () => r.nextU32())).toEqual([11520, 0, 5927040, 70819200, 2031721883, 1637235492]);
  });

  it('is deterministic per (seed, labels) and draws have the right moments', () => {
    const a = new Rng(42, 3);
    const b = new Rng(42, 3);
    const c = new Rng(42, 4);
    const xa = Array.from({ length: 5 }, () => a.nextU32());
    expect(Array.from({ length: 5 }, () => b.nextU32())).toEqual(xa);
    expect(Array.from({ length: 5 }, () => c.nextU32())).not.toEqual(xa);
    const n = 40000;
    const g = new Rng(7);
    const moments = (draw: () => number) => {
      let s = 0, s2 = 0;
      for (let i = 0; i < n; i++) { const x = draw(); s += x; s2 += x * x; }
      return [s / n, s2 / n - (s / n) ** 2] as const;
    };
    const [mn, vn] = moments(() => g.normal());
    expect(Math.abs(mn)).toBeLessThan(5 / Math.sqrt(n));
    expect(Math.abs(vn - 1)).toBeLessThan(0.05);
    for (const k of [0.5, 2.5, 9]) {
      const [mg, vg] = moments(() => g.gamma(k, 2));
      expect(Math.abs(mg - 2 * k)).toBeLessThan(5 * Math.sqrt((4 * k) / n)); // mean kθ, var kθ²
      expect(Math.abs(vg / (4 * k) - 1)).toBeLessThan(0.1);
    }
    const [mu] = moments(() => g.uniform());
    expect(Math.abs(mu - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / n));
  });
});

describe('simulateSample', () => {
  const composition = { pltPct: 5, reticPct: 10, clumpPct: 3, debrisPct: 1, coincidencePct: 1, pltClumpPct: 20 };
  const dog = simulateSample({ species: 'dog', cells: 20000, seed: 5, composition });
  const cat = simulateSample({ species: 'cat', cells: 20000, seed: 5, composition });

  it('has the documented shape and feature names', () => {
    expect(dog.features).toEqual(featureNames(32));
    expect(dog.features.slice(0, 2)).toEqual(['FSC_t00', 'FSC_t01']);
    expect(dog.features[127]).toBe('IMP_t31');
    expect(dog.signals.length).toBe(20000 * 128);
    expect(dog.signals.every(Number.isFinite)).toBe(true);
    expect(simulateSample({ cells: 3, points: 8 }).features.length).toBe(32);
  });

  it('is deterministic by seed and sample index', () => {
    const a = simulateSample({ cells: 500, seed: 9, sampleIndex: 2 });
    const b = simulateSample({ cells: 500, seed: 9, sampleIndex: 2 });
    const c = simulateSample({ cells: 500, seed: 10, sampleIndex: 2 });
    const d = simulateSample({ cells: 500, seed: 9, sampleIndex: 3 });
    expect(b.signals).toEqual(a.signals);
    expect(b.truth).toEqual(a.truth);
    expect(b.reference).toEqual(a.reference);
    expect(c.signals).not.toEqual(a.signals);
    expect(d.signals).not.toEqual(a.signals);
  });

  it('realises the requested shares within sampling error (denominators as documented)', () => {
    for (const s of [dog, cat]) {
      const N = s.cells;
      const n = s.counts;
      expect(n.reduce((x, y) => x + y, 0)).toBe(N);
      expect(n).toEqual(CLASS_NAMES.map((_, c) => s.truth.filter((t) => t === c).length));
      const within = (k: number, total: number, pPct: number) => {
        const p = pPct / 100;
        expect(Math.abs(k - total * p)).toBeLessThan(4.5 * Math.sqrt(total * p * (1 - p)) + 1);
      };
      within(n[CLASS.platelet]!, N, 5);
      within(n[CLASS.debris]!, N, 1);
      within(n[CLASS.coincidence]!, N, 1);
      const red = n[CLASS.rbc]! + n[CLASS.reticulocyte]! + n[CLASS.clumped_rbc]!;
      within(n[CLASS.reticulocyte]!, red, 10);
      within(n[CLASS.clumped_rbc]!, red, 3);
      expect(s.trueShares.pltPct).toBeCloseTo((100 * n[CLASS.platelet]!) / N, 10);
      expect(s.trueShares.reticPct).toBeCloseTo((100 * n[CLASS.reticulocyte]!) / red, 10);
      expect(s.trueShares.clumpPct).toBeCloseTo((100 * n[CLASS.clumped_rbc]!) / red, 10);
    }
  });

  it('reports reference values like an analyzer: true share ± bounded noise, rounded to 0.1 pp', () => {
    for (let seed = 0; seed < 30; seed++) {
      const s = simulateSample({ cells: 400, seed, species: seed % 2 ? 'cat' : 'dog' });
      for (const k of ['pltPct', 'reticPct', 'clumpPct'] as const) {
        const ref = s.reference[k];
        expect(Math.round(ref * 10) / 10).toBe(ref);
        expect(Math.abs(ref - s.trueShares[k])).toBeLessThanOrEqual(REPORT_NOISE_BOUND_SDS * reportedNoiseSd(s.trueShares[k]) + 0.05 + 1e-9);
      }
    }
  });

  it('draws per-sample shares inside the species ranges when not fixed', () => {
    for (let i = 0; i < 40; i++) {
      const c = simulateSample({ cells: 1, seed: 3, sampleIndex: i, species: i % 2 ? 'cat' : 'dog' }).composition;
      expect(c.reticPct).toBeGreaterThanOrEqual(0.2);
      expect(c.reticPct).toBeLessThan(15);
      expect(c.pltPct).toBeGreaterThanOrEqual(1);
      expect(c.pltPct).toBeLessThan(8);
      expect(c.clumpPct).toBeLessThan(5);
      expect(c.debrisPct).toBeLessThan(1);
    }
  });

  it('red cells: impedance ∝ volume (dog ≈ 70/45 × cat), pulses wider in dogs', () => {
    const d = pulseStats(dog, IMP), c = pulseStats(cat, IMP);
    const ratio = quantile(select(d.peak, dog, CLASS.rbc), 0.5) / quantile(select(c.peak, cat, CLASS.rbc), 0.5);
    expect(ratio).toBeGreaterThan(1.4);
    expect(ratio).toBeLessThan(1.75);
    const fd = pulseStats(dog, FSC), fc = pulseStats(cat, FSC);
    const wd = select(fd.width, dog, CLASS.rbc), wc = select(fc.width, cat, CLASS.rbc);
    expect(wd.reduce((a, b) => a + b, 0) / wd.length).toBeGreaterThan(wc.reduce((a, b) => a + b, 0) / wc.length);
  });

  it('platelets: well separated from red cells in dogs, overlapping through clumps in cats', () => {
    const overlap = (s: SimulatedSample) => {
      const { peak } = pulseStats(s, IMP);
      const rbcLow = quantile(select(peak, s, CLASS.rbc), 0.02);
      const plt = select(peak, s, CLASS.platelet);
      return plt.filter((v) => v > rbcLow).length / plt.length;
    };
    // Same platelet-clump share requested for both: the difference comes from the species.
    const dogNatural = simulateSample({ species: 'dog', cells: 20000, seed: 8, composition: { pltPct: 5 } });
    const catNatural = simulateSample({ species: 'cat', cells: 20000, seed: 8, composition: { pltPct: 5 } });
    expect(overlap(dogNatural)).toBeLessThan(0.03);
    expect(overlap(catNatural)).toBeGreaterThan(0.05);
  });

  it('reticulocytes: larger than mature cells, with a fluorescence continuum from low to high', () => {
    const imp = pulseStats(dog, IMP).peak, fl = pulseStats(dog, FL).peak;
    expect(quantile(select(imp, dog, CLASS.reticulocyte), 0.5)).toBeGreaterThan(quantile(select(imp, dog, CLASS.rbc), 0.5) * 1.03);
    const rfl = select(fl, dog, CLASS.reticulocyte);
    const rbcFl = select(fl, dog, CLASS.rbc);
    expect(quantile(rfl, 0.5)).toBeGreaterThan(quantile(rbcFl, 0.99));
    expect(quantile(rfl, 0.9) / quantile(rfl, 0.1)).toBeGreaterThan(5); // a continuum, not a spot
    expect(quantile(rfl, 0.05)).toBeLessThan(quantile(rbcFl, 0.999)); // the low end overlaps mature cells
  });

  it('clumps are wider and larger than single red cells; debris is tiny', () => {
    const { peak, width } = pulseStats(dog, IMP);
    const wf = pulseStats(dog, FSC).width;
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(select(peak, dog, CLASS.clumped_rbc))).toBeGreaterThan(1.6 * mean(select(peak, dog, CLASS.rbc)));
    expect(mean(select(wf, dog, CLASS.clumped_rbc))).toBeGreaterThan(1.2 * mean(select(wf, dog, CLASS.rbc)));
    expect(mean(select(width, dog, CLASS.clumped_rbc))).toBeGreaterThan(mean(select(width, dog, CLASS.rbc)));
    expect(quantile(select(peak, dog, CLASS.debris), 0.9)).toBeLessThan(quantile(select(peak, dog, CLASS.platelet), 0.5));
  });

  it('rejects bad options with clear messages', () => {
    expect(() => simulateSample({ cells: 0 })).toThrow(/cells must be a positive integer/);
    expect(() => simulateSample({ species: 'horse' as 'dog' })).toThrow(/unknown species 'horse'/);
    expect(() => simulateSample({ points: 2 })).toThrow(/points must be an integer in 4\.\.1024/);
    expect(() => simulateSample({ composition: { reticPct: 101 } })).toThrow(/composition\.reticPct must be a percentage/);
  });
});

describe('simulateCohort', () => {
  it('writes FCS 3.1 files, reference.csv and truth that agree with each other', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cohort-'));
    const summary = await simulateCohort(dir, { species: 'cat', samples: 3, cellsPerSample: 1500, seed: 21, format: 'fcs' });
    expect(summary.samples.map((s) => s.file)).toEqual(['cat_001.fcs', 'cat_002.fcs', 'cat_003.fcs']);
    expect(JSON.parse(readFileSync(join(dir, 'truth', 'classes.json'), 'utf8'))).toEqual({ 0: 'platelet', 1: 'rbc', 2: 'reticulocyte', 3: 'clumped_rbc', 4: 'debris', 5: 'coincidence' });
    const refText = readFileSync(join(dir, 'reference.csv'), 'utf8').trim().split('\n');
    expect(refText[0]).toBe('sample,file,species,plt_pct,retic_pct,clump_pct');
    expect(refText.length).toBe(4);
    for (let i = 0; i < 3; i++) {
      const [id, file, species, plt, retic, clump] = refText[i + 1]!.split(',');
      expect([id, file, species]).toEqual([`cat_00${i + 1}`, `cat_00${i + 1}.fcs`, 'cat']);
      const f = parseFcs(new Uint8Array(readFileSync(join(dir, file!))), file);
      expect(f.version).toBe('FCS3.1');
      expect(f.events).toBe(1500);
      expect(f.parameters.map((p) => p.name)).toEqual(featureNames(32));
      expect(f.text['$CYT']).toMatch(/simulated/);
      expect(f.text['$DATE']).toMatch(/^\d\d-[A-Z]{3}-\d{4}$/);
      expect(f.text['$SMNO']).toBe(id);
      // The file holds exactly what simulateSample produces for this seed and index.
      const s = simulateSample({ species: 'cat', cells: 1500, seed: 21, sampleIndex: i });
      expect(f.data).toEqual(s.signals);
      const labels = toInt32(parseNpy(new Uint8Array(readFileSync(join(dir, 'truth', `${id}.labels.npy`)))));
      expect(labels).toEqual(s.truth);
      // reference.csv vs the labels on disk, counted here independently.
      const count = (c: number) => labels.filter((l) => l === c).length;
      const red = count(CLASS.rbc) + count(CLASS.reticulocyte) + count(CLASS.clumped_rbc);
      const truePlt = (100 * count(CLASS.platelet)) / labels.length;
      const trueRetic = (100 * count(CLASS.reticulocyte)) / red;
      const trueClump = (100 * count(CLASS.clumped_rbc)) / red;
      for (const [reported, t] of [[plt, truePlt], [retic, trueRetic], [clump, trueClump]] as const) {
        expect(reported).toMatch(/^\d+\.\d$/);
        expect(Math.abs(Number(reported) - t)).toBeLessThanOrEqual(REPORT_NOISE_BOUND_SDS * reportedNoiseSd(t) + 0.05 + 1e-9);
      }
    }
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    expect(manifest.features).toEqual(featureNames(32));
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('NPY format writes the same signals; the same seed gives byte-identical files', async () => {
    const a = mkdtempSync(join(tmpdir(), 'cohort-'));
    const b = mkdtempSync(join(tmpdir(), 'cohort-'));
    await simulateCohort(a, { samples: 2, cellsPerSample: 300, seed: 4, format: 'npy' });
    await simulateCohort(b, { samples: 2, cellsPerSample: 300, seed: 4, format: 'npy' });
    const m = await readMatrix(join(a, 'dog_002.npy'));
    expect([m.rows, m.cols, m.format]).toEqual([300, 128, 'npy']);
    expect(m.data).toEqual(simulateSample({ cells: 300, seed: 4, sampleIndex: 1 }).signals);
    for (const f of ['dog_001.npy', 'reference.csv', 'truth/dog_001.labels.npy', 'manifest.json']) {
      expect(readFileSync(join(a, f)).equals(readFileSync(join(b, f))), f).toBe(true);
    }
    const c = mkdtempSync(join(tmpdir(), 'cohort-'));
    await simulateCohort(c, { samples: 1, cellsPerSample: 300, seed: 4, format: 'fcs' });
    const d = mkdtempSync(join(tmpdir(), 'cohort-'));
    await simulateCohort(d, { samples: 1, cellsPerSample: 300, seed: 4, format: 'fcs' });
    expect(readFileSync(join(c, 'dog_001.fcs')).equals(readFileSync(join(d, 'dog_001.fcs')))).toBe(true);
  });
});

describe('hemaclust simulate (CLI)', () => {
  afterEach(() => vi.restoreAllMocks());
  const capture = () => {
    const out: string[] = [];
    const err: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((...a) => { out.push(a.join(' ')); });
    vi.spyOn(console, 'error').mockImplementation((...a) => { err.push(a.join(' ')); });
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => { err.push(String(s)); return true; });
    return { out, err };
  };

  it('writes a cohort and prints a JSON summary', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'cli-')), 'out');
    const { out, err } = capture();
    const code = await run(['simulate', '--out', dir, '--species', 'cat', '--samples', '2', '--cells', '200', '--seed', '3', '--format', 'npy', '--json']);
    expect(code).toBe(0);
    const summary = JSON.parse(out.join('\n'));
    expect(summary.samples.map((s: { file: string }) => s.file)).toEqual(['cat_001.npy', 'cat_002.npy']);
    expect(err.join('')).toMatch(/simulate: 2\/2 samples/);
    expect(readdirSync(dir).sort()).toEqual(['cat_001.npy', 'cat_002.npy', 'manifest.json', 'reference.csv', 'truth']);
    // A non-empty directory needs --force.
    expect(await run(['simulate', '--out', dir])).toBe(2);
    expect(err.join('\n')).toMatch(/is not empty .* pass --force/);
  });

  it.each([
    [[], /--out DIR is required/],
    [['--out', 'x', '--species', 'horse'], /--species must be one of dog, cat \(got 'horse'\)/],
    [['--out', 'x', '--samples', '0'], /--samples must be an integer ≥ 1 \(got '0'\)/],
    [['--out', 'x', '--cells', '1.5'], /--cells must be an integer ≥ 1/],
    [['--out', 'x', '--format', 'csv'], /--format must be fcs or npy/],
    [['--out', 'x', '--seed', 'abc'], /--seed must be an integer/],
    [['--out', 'x', '--bogus'], /Unknown option '--bogus'/],
  ])('rejects %j', async (args, re) => {
    const { err } = capture();
    expect(await run(['simulate', ...args])).toBe(2);
    expect(err.join('\n')).toMatch(re);
  });
});
