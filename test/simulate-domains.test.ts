// The simulated-analyzer family (bindings/simulate/domains.ts): every domain produces what it
// declares, units and channel order change nothing but units and order, the builtin domains are the
// original simulator, runs are reproducible from the manifest alone.
import { describe, it, expect, vi, afterEach } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DOMAINS, DOMAIN_NAMES, domainByName, randomDomain, domainFromJson, domainFeatureNames, roleMap, checkDomain, ROLES,
  simulateSample, simulateCohort, CLASS, erfc, emg, pulse, pulseParameters, type Domain,
} from '../bindings/simulate/index.js';
import { parseFcs, parseNpy, toInt32 } from '../bindings/io/index.js';
import { run } from '../bindings/cli/main.js';

const clone = (d: Domain): Domain => structuredClone(d);

describe('domains', () => {
  it('names at least 10 valid domains, builtin and builtin-cat on the original engine', () => {
    expect(DOMAIN_NAMES.length).toBeGreaterThanOrEqual(10);
    for (const n of DOMAIN_NAMES) expect(checkDomain(clone(DOMAINS[n]!)).name).toBe(n);
    expect([DOMAINS.builtin!.engine, DOMAINS.builtin!.species, DOMAINS['builtin-cat']!.species]).toEqual(['builtin', 'dog', 'cat']);
    const gains = DOMAIN_NAMES.flatMap((n) => DOMAINS[n]!.channels.map((c) => c.gain));
    expect(Math.max(...gains) / Math.min(...gains)).toBeGreaterThanOrEqual(1e4); // four orders of magnitude
    const layouts = new Set(DOMAIN_NAMES.map((n) => DOMAINS[n]!.layout));
    expect([...layouts].sort()).toEqual(['scalar', 'waveform']);
    expect(new Set(DOMAIN_NAMES.map((n) => DOMAINS[n]!.species))).toEqual(new Set(['dog', 'cat']));
    expect(new Set(DOMAIN_NAMES.flatMap((n) => DOMAINS[n]!.channels.map((c) => c.shape)))).toEqual(new Set(['builtin', 'gaussian', 'flat-top', 'emg']));
    expect(() => domainByName('nope')).toThrow(/unknown domain 'nope'/);
    const a = domainByName('low-gain');
    a.channels[0]!.gain = 7; // a copy: the table is not changed
    expect(DOMAINS['low-gain']!.channels[0]!.gain).toBe(0.02);
    expect(() => { (DOMAINS['low-gain']!.channels[0] as { gain: number }).gain = 7; }).toThrow(); // the table is frozen
  });

  it('the builtin domains are the original simulator, bit for bit', () => {
    for (const [name, species] of [['builtin', 'dog'], ['builtin-cat', 'cat']] as const) {
      const a = simulateSample({ domain: DOMAINS[name], cells: 800, seed: 4, sampleIndex: 2 });
      const b = simulateSample({ species, cells: 800, seed: 4, sampleIndex: 2 });
      expect(Buffer.from(a.signals.buffer).equals(Buffer.from(b.signals.buffer))).toBe(true);
      expect(a.truth).toEqual(b.truth);
      expect(a.reference).toEqual(b.reference);
      expect(a.domain).toBe(name);
    }
    const bad = clone(DOMAINS.builtin!);
    bad.channels[0]!.gain = 2;
    expect(() => simulateSample({ domain: bad, cells: 10 })).toThrow(/engine 'builtin' reproduces the original simulator/);
    expect(() => simulateSample({ domain: DOMAINS.builtin, species: 'cat', cells: 10 })).toThrow(/contradicts domain/);
  });

  it('rejects malformed domains with clear messages', () => {
    const twoFsc = clone(DOMAINS['low-gain']!);
    twoFsc.channels[1]!.role = 'FSC';
    expect(() => checkDomain(twoFsc)).toThrow(/each role FSC, SSC, FL, IMP once/);
    const comma = clone(DOMAINS['low-gain']!);
    comma.channels[0]!.name = 'A,B';
    expect(() => checkDomain(comma)).toThrow(/channel name 'A,B'/);
    const zero = clone(DOMAINS['low-gain']!);
    zero.populations.reticPct = [0, 5];
    expect(() => checkDomain(zero)).toThrow(/lower bounds must be > 0/);
    const noScalars = clone(DOMAINS['scalar-dog']!);
    noScalars.scalars = [];
    expect(() => checkDomain(noScalars)).toThrow(/at least one parameter/);
  });

  const all = [...DOMAIN_NAMES.map((n) => DOMAINS[n]!), ...[1, 2, 3, 4, 5, 6].map(randomDomain)];
  it.each(all.map((d) => [d.name, d] as const))('%s: finite values with the documented feature names', (_, d) => {
    const s = simulateSample({ domain: d, cells: 600, seed: 3 });
    const names = roleMap(d);
    expect(s.features).toEqual(domainFeatureNames(d));
    expect(s.channels).toEqual(names);
    expect(s.layout).toBe(d.layout);
    expect(s.species).toBe(d.species);
    expect(s.signals.length).toBe(600 * s.features.length);
    expect(s.signals.every(Number.isFinite)).toBe(true);
    if (d.layout === 'waveform') {
      expect(s.features.length).toBe(d.channels.reduce((a, c) => a + c.points, 0));
      // Blocks in file order, `<name>_t<k>` with k counting 0… per channel.
      let j = 0;
      for (const c of d.channels) {
        for (let k = 0; k < c.points; k++, j++) expect(s.features[j]).toMatch(new RegExp(`^${c.name.replace(/[.-]/g, '\\$&')}_t0*${k}$`));
      }
    } else {
      expect(s.features).toEqual(d.scalars.map((p) => names[p.role] + d.scalarSuffix[p.kind]));
    }
  });

  it('units scale: the same events through gains ×100 differ by exactly the gains; widths do not change', () => {
    for (const name of ['low-gain', 'scalar-dog']) {
      const d = DOMAINS[name]!;
      const big = clone(d);
      big.channels.forEach((c, i) => (c.gain *= i === 2 ? 1000 : 100));
      const a = simulateSample({ domain: d, cells: 500, seed: 8 });
      const b = simulateSample({ domain: big, cells: 500, seed: 8 });
      expect(b.truth).toEqual(a.truth);
      const gainOf = (f: string) => {
        const c = d.channels.find((ch) => f.startsWith(ch.name))!;
        const k = d.channels.indexOf(c) === 2 ? 1000 : 100;
        return f.endsWith(d.scalarSuffix.W) && d.layout === 'scalar' ? 1 : k;
      };
      const F = a.features.length;
      let worst = 0;
      for (let j = 0; j < F; j++) {
        const g = gainOf(a.features[j]!);
        // Element by element: only float32 rounding separates b from g·a.
        for (let i = 0; i < 500; i++) {
          const x = a.signals[i * F + j]!, y = b.signals[i * F + j]!;
          worst = Math.max(worst, Math.abs(y - g * x) / (Math.abs(g * x) + 1e-30));
        }
      }
      expect(worst).toBeLessThan(2e-6);
    }
  });

  it('renaming and reordering channels permutes columns and changes no value', () => {
    const d = DOMAINS['renamed-reordered']!;
    const std = clone(d);
    std.channels = ROLES.map((r) => ({ ...d.channels.find((c) => c.role === r)!, name: r }));
    const a = simulateSample({ domain: d, cells: 300, seed: 2 });
    const b = simulateSample({ domain: std, cells: 300, seed: 2 });
    const names = roleMap(d);
    const col = (s: typeof a, f: string) => s.features.indexOf(f);
    for (const r of ROLES) {
      for (let k = 0; k < 40; k++) {
        const ja = col(a, `${names[r]}_t${String(k).padStart(2, '0')}`), jb = col(b, `${r}_t${String(k).padStart(2, '0')}`);
        expect(ja).toBeGreaterThanOrEqual(0);
        for (let i = 0; i < 300; i += 37) expect(a.signals[i * a.features.length + ja]).toBe(b.signals[i * b.features.length + jb]);
      }
    }
  });

  it('scalar parameters measure the pulse: height, area, width (area/height and FWHM)', () => {
    // A sampled Gaussian of height 5 and σ 2 on a baseline of 3: A = 5·σ√(2π), W = A/5 or 2.355σ.
    const T = 64, dt = 0.5;
    const y = Float64Array.from({ length: T }, (_, k) => 3 + 5 * Math.exp(-0.5 * (((k - 31.5) * dt) / 2) ** 2));
    const raw = pulseParameters(y, T, dt, 'area/height', false);
    expect(raw.H).toBeCloseTo(3 + 5 * Math.exp(-0.5 * (0.25 / 2) ** 2), 6);
    expect(raw.A).toBeCloseTo(5 * 2 * Math.sqrt(2 * Math.PI) * 0.98, 0); // the run above 10 % of the peak holds ≈ 98 % of the area
    const above = pulseParameters(y, T, dt, 'fwhm', true);
    expect(above.H).toBeCloseTo(raw.H - 3, 6);
    expect(above.W).toBeCloseTo(2 * Math.sqrt(2 * Math.LN2) * 2, 1);
    // In simulated scalar files: platelets smaller than red cells, clumps wider on impedance.
    const d = DOMAINS['scalar-dog']!;
    const s = simulateSample({ domain: d, cells: 4000, seed: 1, composition: { pltPct: 8, clumpPct: 5 } });
    const F = s.features.length;
    const med = (f: string, cls: number) => {
      const j = s.features.indexOf(f);
      const v = Array.from({ length: s.cells }, (_, i) => i).filter((i) => s.truth[i] === cls).map((i) => s.signals[i * F + j]!).sort((p, q) => p - q);
      return v[v.length >> 1]!;
    };
    expect(med('IMP-H', CLASS.platelet)).toBeLessThan(0.3 * med('IMP-H', CLASS.rbc));
    expect(med('IMP-W', CLASS.clumped_rbc)).toBeGreaterThan(1.1 * med('IMP-W', CLASS.rbc));
    expect(med('FL-H', CLASS.reticulocyte)).toBeGreaterThan(3 * med('FL-H', CLASS.rbc));
  });

  it('pulse shapes: erfc, EMG keeps the area and skews late, flat-top is flatter', () => {
    expect(erfc(0.5)).toBeCloseTo(0.4795001222, 7);
    expect(erfc(-1)).toBeCloseTo(1.8427007929, 7);
    expect(erfc(2)).toBeCloseTo(0.004677734981, 8);
    const dx = 0.01, xs = Array.from({ length: 8000 }, (_, k) => -20 + k * dx);
    const area = xs.reduce((a, x) => a + emg(x, 1.5, 1.2) * dx, 0);
    expect(area).toBeCloseTo(1.5 * Math.sqrt(2 * Math.PI), 3);
    const peakAt = xs.reduce((b, x) => (emg(x, 1.5, 1.2) > emg(b, 1.5, 1.2) ? x : b), -20);
    expect(peakAt).toBeGreaterThan(0.3);
    for (const x of [-40, 40]) for (const tau of [0.01, 0.05, 5]) {
      // Far from the pulse on either side, for sharp and slow filters: tiny, never Inf/NaN.
      const v = emg(x, 1.5, tau);
      expect(Number.isFinite(v) && v >= 0 && v < (x > 0 && tau === 5 ? 1e-3 : 1e-6)).toBe(true); // a slow filter's tail lingers
    }
    expect(pulse('flat-top', false, 1.5, 1, 1)).toBeGreaterThan(pulse('gaussian', false, 1.5, 1, 1));
    expect(pulse('builtin', true, 0, 5, 1)).toBe(1);
  });

  it('is deterministic: same seed, same bytes; random domains by seed', () => {
    const d = DOMAINS['scalar-vendor']!;
    const a = simulateSample({ domain: d, cells: 400, seed: 5, sampleIndex: 1 });
    const b = simulateSample({ domain: clone(d), cells: 400, seed: 5, sampleIndex: 1 });
    expect(Buffer.from(a.signals.buffer).equals(Buffer.from(b.signals.buffer))).toBe(true);
    expect(simulateSample({ domain: d, cells: 400, seed: 6, sampleIndex: 1 }).signals).not.toEqual(a.signals);
    expect(randomDomain(9)).toEqual(randomDomain(9));
    expect(randomDomain(9)).not.toEqual(randomDomain(10));
    expect(domainByName('random', 9)).toEqual(randomDomain(9));
    const rs = Array.from({ length: 60 }, (_, i) => randomDomain(i));
    for (const r of rs) {
      for (const c of r.channels) {
        expect(c.gain).toBeGreaterThanOrEqual(0.01);
        expect(c.gain).toBeLessThanOrEqual(100);
        expect(c.points).toBeGreaterThanOrEqual(16);
        expect(c.points).toBeLessThanOrEqual(64);
      }
    }
    expect(new Set(rs.map((r) => r.layout)).size).toBe(2);
    expect(new Set(rs.map((r) => r.species)).size).toBe(2);
    expect(new Set(rs.map((r) => r.channels[0]!.role)).size).toBe(4);
    expect(new Set(rs.flatMap((r) => r.channels.map((c) => c.shape))).size).toBe(4);
  });

  it('draws population shares inside each domain\'s ranges', () => {
    for (const d of [...DOMAIN_NAMES.map((n) => DOMAINS[n]!), randomDomain(3)]) {
      const p = d.populations;
      for (let i = 0; i < 25; i++) {
        const c = simulateSample({ domain: d, cells: 1, seed: 7, sampleIndex: i }).composition;
        for (const [v, [lo, hi]] of [[c.pltPct, p.pltPct], [c.reticPct, p.reticPct], [c.clumpPct, p.clumpPct], [c.debrisPct, p.debrisPct], [c.coincidencePct, p.coincidencePct]] as const) {
          expect(v).toBeGreaterThanOrEqual(lo);
          expect(v).toBeLessThanOrEqual(hi);
        }
      }
    }
    const w = DOMAINS['wide-ranges']!.populations;
    expect([w.pltPct, w.reticPct, w.clumpPct]).toEqual([[0.5, 10], [0.1, 15], [0, 5]]);
  });
});

describe('simulateCohort with a domain', () => {
  it('records the whole domain: the manifest alone regenerates the files', async () => {
    for (const name of ['scalar-cat', 'random']) {
      const dir = mkdtempSync(join(tmpdir(), 'dom-'));
      const summary = await simulateCohort(dir, { domain: name, domainSeed: 12, samples: 2, cellsPerSample: 400, seed: 3 });
      const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
      const d = domainFromJson(m.domain);
      expect(d).toEqual(domainByName(name, 12));
      expect(m.layout).toBe(d.layout);
      expect(m.channels).toEqual(roleMap(d));
      expect(summary.channels).toEqual(roleMap(d));
      expect(m.features).toEqual(domainFeatureNames(d));
      const species = d.species;
      const ref = readFileSync(join(dir, 'reference.csv'), 'utf8').trim().split('\n');
      expect(ref[0]).toBe('sample,file,species,plt_pct,retic_pct,clump_pct');
      for (let i = 0; i < 2; i++) {
        const id = `${species}_00${i + 1}`;
        const f = parseFcs(new Uint8Array(readFileSync(join(dir, `${id}.fcs`))), id);
        expect(f.parameters.map((p) => p.name)).toEqual(m.features);
        expect(f.text['HEMACLUST_DOMAIN']).toBe(d.name);
        expect(f.text['$CYT']).toBe(d.instrument);
        const s = simulateSample({ domain: d, cells: m.cellsPerSample, seed: m.seed, sampleIndex: i });
        expect(f.data).toEqual(s.signals);
        const labels = toInt32(parseNpy(new Uint8Array(readFileSync(join(dir, 'truth', `${id}.labels.npy`)))));
        expect(labels).toEqual(s.truth);
        const [, , sp, plt, retic, clump] = ref[i + 1]!.split(',');
        expect([sp, Number(plt), Number(retic), Number(clump)]).toEqual([species, s.reference.pltPct, s.reference.reticPct, s.reference.clumpPct]);
      }
    }
  });

  it('refuses species or points that contradict the domain', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dom-'));
    await expect(simulateCohort(dir, { domain: 'scalar-cat', species: 'dog', samples: 1, cellsPerSample: 10 })).rejects.toThrow(/contradicts domain/);
    await expect(simulateCohort(dir, { domain: 'low-gain', points: 32, samples: 1, cellsPerSample: 10 })).rejects.toThrow(/fixes the time points/);
  });
});

describe('hemaclust simulate --domain (CLI)', () => {
  afterEach(() => vi.restoreAllMocks());
  const capture = () => {
    const out: string[] = [];
    const err: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((...a) => { out.push(a.join(' ')); });
    vi.spyOn(console, 'error').mockImplementation((...a) => { err.push(a.join(' ')); });
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => { err.push(String(s)); return true; });
    return { out, err };
  };

  it('lists the domains and writes a random-domain cohort', async () => {
    const { out } = capture();
    expect(await run(['simulate', '--list-domains'])).toBe(0);
    for (const n of DOMAIN_NAMES) expect(out.join('\n')).toContain(n);
    out.length = 0;
    const dir = join(mkdtempSync(join(tmpdir(), 'cli-')), 'out');
    expect(await run(['simulate', '--out', dir, '--domain', 'random', '--domain-seed', '4', '--samples', '1', '--cells', '50', '--json'])).toBe(0);
    const summary = JSON.parse(out.join('\n'));
    expect(summary.domain).toBe('random:4');
    expect(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')).domain).toEqual(randomDomain(4));
    out.length = 0;
    expect(await run(['simulate', '--out', dir, '--force', '--domain', 'random:4', '--samples', '1', '--cells', '50', '--json'])).toBe(0);
    expect(JSON.parse(out.join('\n')).domain).toBe('random:4');
  });

  it.each([
    [['--out', 'x', '--domain', 'nope'], /--domain must be random, random:<seed> or one of builtin, builtin-cat/],
    [['--out', 'x', '--domain', 'low-gain', '--points', '16'], /--points cannot be combined with --domain/],
    [['--out', 'x', '--domain', 'scalar-cat', '--species', 'dog'], /contradicts --domain scalar-cat/],
    [['--out', 'x', '--domain', 'random', '--domain-seed', 'x'], /--domain-seed must be an integer/],
    [['--out', 'x', '--domain-seed', '3'], /--domain-seed goes with --domain random/],
  ])('rejects %j', async (args, re) => {
    const { err } = capture();
    expect(await run(['simulate', ...args])).toBe(2);
    expect(err.join('\n')).toMatch(re);
  });
});
