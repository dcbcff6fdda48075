// A family of simulated analyzers ("domains"): the same blood, seen by instruments that differ in
// everything a classifier must not depend on — signal units (gains over four orders of magnitude),
// time points per channel, pulse shapes, noise, baseline offsets, channel names and order, and
// whether the file holds pulse waveforms or only per-event scalar parameters (height, area, width).
// Population ranges and species vary too, so a pipeline fitted to one simulator shows it.
//
// A Domain is plain JSON: the cohort manifest records it whole and `domainFromJson` reads it back,
// so any cohort can be regenerated. Two engines draw events:
// - 'builtin' is the original simulator (sample.ts) bit for bit; only species and the (uniform)
//   number of time points may be chosen, everything else is its fixed instrument.
// - 'general' (instrument.ts) draws the same physiology (species.ts, CellFactory) and renders it
//   through the domain's instrument.
import { Rng, hashSeed } from './rng.js';
import { SPECIES, type Species } from './species.js';
import { PULSE_SHAPES, SCALAR_KINDS, type PulseShape, type ScalarKind } from './shapes.js';

export type Role = 'FSC' | 'SSC' | 'FL' | 'IMP';
/** Forward scatter, side scatter, RNA-stain fluorescence, impedance — the physical meaning of a channel. */
export const ROLES: readonly Role[] = ['FSC', 'SSC', 'FL', 'IMP'];

export interface DomainChannel {
  role: Role;
  /** The channel's name in the file ($PnN prefix). */
  name: string;
  /** Output units per unit of the original simulator (applied to signal, baseline and noise alike). */
  gain: number;
  /** Time samples per pulse (waveform layout; the scalar layout measures on this grid too). */
  points: number;
  /** Mean baseline offset, in the original simulator's units (before `gain`). */
  baseline: number;
  shape: PulseShape;
}

/** One exported scalar parameter: a channel's role and which measurement. */
export interface ScalarSpec {
  role: Role;
  kind: ScalarKind;
}

export type Range = [number, number];

export interface Populations {
  /** Per-sample share ranges in percent (denominators as in sample.ts); plt and retic are drawn log-uniformly. */
  pltPct: Range;
  reticPct: Range;
  clumpPct: Range;
  debrisPct: Range;
  coincidencePct: Range;
  /** Share of platelet events that are aggregates; the species' own range when absent. */
  pltClumpPct?: Range;
}

export interface Domain {
  name: string;
  description: string;
  /** What the FCS $CYT keyword says. */
  instrument: string;
  engine: 'builtin' | 'general';
  species: Species;
  layout: 'waveform' | 'scalar';
  /** Channels in file order; each role exactly once. */
  channels: DomainChannel[];
  /** Scalar layout: exported parameters in file order, named `<channel name><suffix[kind]>`. */
  scalars: ScalarSpec[];
  scalarSuffix: Record<ScalarKind, string>;
  /** W = A / (H − baseline) or the full width at half maximum. */
  widthKind: 'area/height' | 'fwhm';
  /** H as the raw peak (baseline included) or above the event's baseline estimate. */
  heightAboveBaseline: boolean;
  /** Electronic-noise sd as a multiple of the original's (1.5–3.5 units per sample). */
  noise: number;
  /** Shot-noise variance per unit of signal (the original: 0.3). */
  shotNoise: number;
  /** Sd of the per-sample baseline around `channel.baseline` (original units; the original: 1). */
  baselineSd: number;
  /** Time window covered by the points (the original: 32 time units). */
  window: number;
  /** Pulse widths as a multiple of the original's (flow speed / laser sheet). */
  pulseWidth: number;
  /** EMG filter time constant in units of the pulse's Gaussian σ. */
  emgTau: number;
  /** Where the trigger puts the event in the window (0.5 = centred). */
  triggerAt: number;
  /** Spacing of particles in aggregates as a multiple of the original's (> 1: clearly multi-peak). */
  clumpSpacing: number;
  populations: Populations;
}

const STD_NAMES: Record<Role, string> = { FSC: 'FSC', SSC: 'SSC', FL: 'FL', IMP: 'IMP' };
const BUILTIN_POPULATIONS: Populations = { pltPct: [1, 8], reticPct: [0.2, 15], clumpPct: [0, 5], debrisPct: [0, 1], coincidencePct: [0.2, 1.5] };
const STD_SUFFIX: Record<ScalarKind, string> = { H: '-H', A: '-A', W: '-W' };
const STD_SCALARS: ScalarSpec[] = [
  { role: 'FSC', kind: 'H' }, { role: 'FSC', kind: 'W' }, { role: 'FSC', kind: 'A' }, { role: 'SSC', kind: 'H' },
  { role: 'FL', kind: 'H' }, { role: 'FL', kind: 'A' }, { role: 'IMP', kind: 'H' }, { role: 'IMP', kind: 'W' },
];

function channels(order: Role[], spec: (role: Role) => Partial<DomainChannel>): DomainChannel[] {
  return order.map((role) => ({ role, name: STD_NAMES[role], gain: 1, points: 32, baseline: 4, shape: 'builtin' as PulseShape, ...spec(role) }));
}

/** The original simulator for a species, with `points` time samples per channel. */
export function builtinDomain(species: Species, points = 32): Domain {
  const std = species === 'dog' ? 'builtin' : 'builtin-cat';
  return {
    name: points === 32 ? std : `${std}-${points}`,
    description: `the original simulator (${species}): the instrument the pipeline was first tuned on`,
    instrument: 'hemaclust simulated flow analyzer (RBC-PLT channel)',
    engine: 'builtin', species, layout: 'waveform',
    channels: channels([...ROLES], () => ({ points })),
    scalars: [], scalarSuffix: { ...STD_SUFFIX }, widthKind: 'area/height', heightAboveBaseline: false,
    noise: 1, shotNoise: 0.3, baselineSd: 1, window: 32, pulseWidth: 1, emgTau: 1, triggerAt: 0.5, clumpSpacing: 1,
    populations: structuredClone(BUILTIN_POPULATIONS),
  };
}

/** A general-engine domain: the original instrument's settings overridden by `over`. */
function general(name: string, over: Partial<Domain> & Pick<Domain, 'description' | 'instrument'>): Domain {
  return { ...builtinDomain('dog'), engine: 'general', name, ...over };
}

const named: Domain[] = [
  builtinDomain('dog'),
  builtinDomain('cat'),
  general('low-gain', {
    description: 'units ×0.02, 24 points, EMG (low-pass) pulses, platelets 1–8 %, retic 0.2–12 %, clumps 0–4 % — like the foreign simulator of issue 16',
    instrument: 'LG-24 digital analyzer',
    channels: channels([...ROLES], (r) => ({ gain: 0.02, points: 24, baseline: r === 'FL' ? 1 : 3, shape: 'emg' })),
    emgTau: 0.8, triggerAt: 0.45,
    populations: { pltPct: [1, 8], reticPct: [0.2, 12], clumpPct: [0, 4], debrisPct: [0, 1], coincidencePct: [0.2, 1.5] },
  }),
  general('high-gain', {
    description: 'units ×50–×200 (per channel), 64 points, Gaussian pulses, large positive baselines',
    instrument: 'HG-64 16-bit digitizer',
    channels: channels([...ROLES], (r) => ({ gain: { FSC: 100, SSC: 50, FL: 200, IMP: 100 }[r], points: 64, baseline: { FSC: 40, SSC: 25, FL: 10, IMP: 60 }[r], shape: 'gaussian' })),
    pulseWidth: 0.9,
  }),
  general('flat-top', {
    description: 'units ×3, 16 points, flat-topped pulses on every channel (long aperture, wide laser sheet)',
    instrument: 'FT-16 analyzer',
    channels: channels([...ROLES], () => ({ gain: 3, points: 16, shape: 'flat-top' })),
    pulseWidth: 1.1,
  }),
  general('noisy', {
    description: 'units ×0.5, 32 points, 3× electronic and 2× shot noise, negative and large baselines',
    instrument: 'NZ-32 analyzer (worn)',
    channels: channels([...ROLES], (r) => ({ gain: 0.5, baseline: { FSC: -40, SSC: 150, FL: -8, IMP: 300 }[r] })),
    noise: 3, shotNoise: 0.6, baselineSd: 5,
  }),
  general('scalar-dog', {
    description: 'per-event parameters only (FSC-H/W/A, SSC-H, FL-H/A, IMP-H/W), units ×0.1, width = area/height, raw peak heights',
    instrument: 'SC-8 analyzer (list-mode parameters)',
    layout: 'scalar', scalars: STD_SCALARS.map((s) => ({ ...s })),
    channels: channels([...ROLES], () => ({ gain: 0.1, points: 48, shape: 'gaussian' })),
  }),
  general('scalar-cat', {
    description: 'cat, per-event parameters only (+SSC-A, FL-W), units ×10, width = FWHM, heights above baseline',
    instrument: 'SC-10 analyzer (list-mode parameters)',
    species: 'cat', layout: 'scalar', widthKind: 'fwhm', heightAboveBaseline: true,
    scalars: [...STD_SCALARS, { role: 'SSC', kind: 'A' }, { role: 'FL', kind: 'W' }],
    channels: channels([...ROLES], (r) => ({ gain: 10, points: 40, baseline: r === 'IMP' ? 20 : 4, shape: r === 'IMP' ? 'flat-top' : 'emg' })),
    emgTau: 0.6,
  }),
  general('renamed-reordered', {
    description: 'channels RES, FS, SS, FL1 (impedance first), per-channel units ×0.5 / ×5 / ×2 / ×20, 40 points, mixed shapes',
    instrument: 'RR-40 analyzer',
    channels: channels(['IMP', 'FSC', 'SSC', 'FL'], (r) => ({
      name: { FSC: 'FS', SSC: 'SS', FL: 'FL1', IMP: 'RES' }[r], gain: { FSC: 5, SSC: 2, FL: 20, IMP: 0.5 }[r], points: 40,
      shape: r === 'IMP' ? 'flat-top' : r === 'FL' ? 'emg' : 'gaussian',
    })),
  }),
  general('wide-ranges', {
    description: 'the widest population ranges: platelets 0.5–10 %, retic 0.1–15 %, clumps 0–5 %, debris 0–3 %, coincidences 0.2–3 %; 48 points',
    instrument: 'WR-48 analyzer',
    channels: channels([...ROLES], () => ({ points: 48 })),
    populations: { pltPct: [0.5, 10], reticPct: [0.1, 15], clumpPct: [0, 5], debrisPct: [0, 3], coincidencePct: [0.2, 3] },
  }),
  general('cat-low-gain', {
    description: 'cat, units ×0.02, 24 points, EMG pulses — the foreign simulator\'s instrument with feline blood',
    instrument: 'LG-24 digital analyzer',
    species: 'cat',
    channels: channels([...ROLES], (r) => ({ gain: 0.02, points: 24, baseline: r === 'FL' ? 1 : 3, shape: 'emg' })),
    emgTau: 0.8, triggerAt: 0.45,
    populations: { pltPct: [1, 8], reticPct: [0.2, 12], clumpPct: [0, 4], debrisPct: [0, 1], coincidencePct: [0.2, 1.5] },
  }),
  general('mixed-points', {
    description: 'a different number of time points per channel (FSC 48, SSC 16, FL 24, IMP 64), units ×1–×8',
    instrument: 'MP analyzer (per-detector sampling rates)',
    channels: channels([...ROLES], (r) => ({ points: { FSC: 48, SSC: 16, FL: 24, IMP: 64 }[r], gain: { FSC: 1, SSC: 2, FL: 8, IMP: 1 }[r], shape: r === 'IMP' ? 'builtin' : 'gaussian' })),
  }),
  general('multi-peak', {
    description: 'fast flow: narrow pulses (×0.6) on 64 points, aggregates spread ×2 so clumps show separate peaks; units ×0.3',
    instrument: 'MK-64 fast-flow analyzer',
    channels: channels([...ROLES], () => ({ gain: 0.3, points: 64, shape: 'gaussian' })),
    pulseWidth: 0.6, clumpSpacing: 2,
  }),
  general('scalar-vendor', {
    description: 'parameters only, vendor names (RES_PEAK, RES_TOF, FS_PEAK, FS_INT, SS_PEAK, SS_INT, FL1_PEAK, FL1_INT), IMP first, units ×0.01 / ×100 / ×30 / ×0.03',
    instrument: 'VN-9000 (list-mode export)',
    layout: 'scalar', scalarSuffix: { H: '_PEAK', A: '_INT', W: '_TOF' }, heightAboveBaseline: true,
    scalars: [
      { role: 'IMP', kind: 'H' }, { role: 'IMP', kind: 'W' }, { role: 'FSC', kind: 'H' }, { role: 'FSC', kind: 'A' },
      { role: 'SSC', kind: 'H' }, { role: 'SSC', kind: 'A' }, { role: 'FL', kind: 'H' }, { role: 'FL', kind: 'A' },
    ],
    channels: channels(['IMP', 'FSC', 'SSC', 'FL'], (r) => ({
      name: { FSC: 'FS', SSC: 'SS', FL: 'FL1', IMP: 'RES' }[r], gain: { FSC: 100, SSC: 30, FL: 0.03, IMP: 0.01 }[r], points: 32,
      baseline: { FSC: -20, SSC: 10, FL: 2, IMP: 50 }[r], shape: r === 'IMP' ? 'flat-top' : 'emg',
    })),
    emgTau: 1.2, noise: 1.5,
  }),
];

/** The named domains, by name. */
export const DOMAINS: Readonly<Record<string, Domain>> = Object.freeze(Object.fromEntries(named.map((d) => [d.name, deepFreeze(d)])));
export const DOMAIN_NAMES: readonly string[] = named.map((d) => d.name);

/** The named domains are shared tables: frozen, so a caller edits a copy (domainByName, structuredClone). */
function deepFreeze<T>(x: T): T {
  if (x && typeof x === 'object') {
    for (const v of Object.values(x)) deepFreeze(v);
    Object.freeze(x);
  }
  return x;
}

/** A fresh copy of a named domain, or `random` / `random:<seed>` for a random one. */
export function domainByName(name: string, seed = 1): Domain {
  if (name === 'random') return randomDomain(seed);
  const m = /^random:(-?\d+)$/.exec(name);
  if (m) return randomDomain(Number(m[1]));
  const d = DOMAINS[name];
  if (!d) throw new Error(`unknown domain '${name}': expected random, random:<seed> or one of ${DOMAIN_NAMES.join(', ')}`);
  return structuredClone(d);
}

const NAMINGS: Record<Role, string>[] = [
  STD_NAMES,
  { FSC: 'FS', SSC: 'SS', FL: 'FL1', IMP: 'RES' },
  { FSC: 'FSC-LIN', SSC: 'SSC-LIN', FL: 'FL3', IMP: 'DC' },
  { FSC: 'Scatter0', SSC: 'Scatter90', FL: 'Fluor', IMP: 'Coulter' },
  { FSC: 'CH1', SSC: 'CH2', FL: 'CH3', IMP: 'CH4' },
];
const SUFFIXES: Record<ScalarKind, string>[] = [STD_SUFFIX, { H: '_PEAK', A: '_INT', W: '_TOF' }, { H: '.Height', A: '.Area', W: '.Width' }];

/**
 * A random domain: every instrument parameter drawn from the ranges the named domains span
 * (units 1e-2…1e2 per channel, 16–64 points, any shape, 0.5–3× noise, baselines −50…+300,
 * population ranges inside the widest ones), deterministic in `seed`.
 */
export function randomDomain(seed: number): Domain {
  const g = new Rng(hashSeed(seed, 0xd0a1));
  const pick = <T>(xs: readonly T[]): T => xs[g.int(xs.length)]!;
  const species = pick(SPECIES);
  const order = [...ROLES];
  for (let i = order.length - 1; i > 0; i--) { const j = g.int(i + 1); [order[i], order[j]] = [order[j]!, order[i]!]; }
  const naming = pick(NAMINGS);
  const unit = g.logBetween(0.01, 100); // the instrument's unit; channels spread ×/÷ 3 around it
  const commonPoints = 16 + g.int(49);
  const perChannelPoints = g.uniform() < 0.25;
  const shape = pick(PULSE_SHAPES);
  const chans = order.map((role) => ({
    role,
    name: naming[role],
    gain: Math.min(100, Math.max(0.01, unit * g.logBetween(1 / 3, 3))),
    points: perChannelPoints ? 16 + g.int(49) : commonPoints,
    baseline: g.uniform() < 0.3 ? g.between(-50, 0) : g.between(0, 300),
    shape: g.uniform() < 0.2 ? pick(PULSE_SHAPES) : shape,
  }));
  const layout = g.uniform() < 0.4 ? 'scalar' : 'waveform';
  const scalars: ScalarSpec[] = [];
  for (const role of order) for (const kind of SCALAR_KINDS) if (kind === 'H' || g.uniform() < 0.6) scalars.push({ role, kind });
  const sub = (lo: number, hi: number, log: boolean): Range => {
    // A random sub-range covering at least half of [lo, hi) (on a log scale for shares drawn log-uniformly).
    const f = (x: number) => (log ? Math.log(x) : x);
    const inv = (y: number) => (log ? Math.exp(y) : y);
    const len = (f(hi) - f(lo)) * g.between(0.5, 1);
    const a = f(lo) + (f(hi) - f(lo) - len) * g.uniform();
    const r = (x: number) => Math.round(x * 100) / 100;
    return [r(inv(a)), r(inv(a + len))];
  };
  const d: Domain = {
    name: `random:${seed}`,
    description: `random instrument drawn from seed ${seed}`,
    instrument: `random analyzer #${seed}`,
    engine: 'general', species, layout,
    channels: chans,
    scalars: layout === 'scalar' ? scalars : [],
    scalarSuffix: { ...pick(SUFFIXES) },
    widthKind: g.uniform() < 0.5 ? 'area/height' : 'fwhm',
    heightAboveBaseline: g.uniform() < 0.5,
    noise: g.logBetween(0.5, 3),
    shotNoise: 0.3 * g.logBetween(0.5, 2),
    baselineSd: g.between(0.5, 5),
    window: 32,
    pulseWidth: g.between(0.6, 1.3),
    emgTau: g.between(0.4, 1.5),
    triggerAt: g.between(0.42, 0.55),
    clumpSpacing: g.between(0.8, 2.5),
    populations: {
      pltPct: sub(0.5, 10, true), reticPct: sub(0.1, 15, true), clumpPct: sub(0, 5, false),
      debrisPct: sub(0, 3, false), coincidencePct: sub(0.2, 3, false),
    },
  };
  return checkDomain(d);
}

/** Per role, the channel name in the file. */
export function roleMap(d: Domain): Record<Role, string> {
  return Object.fromEntries(ROLES.map((r) => [r, d.channels.find((c) => c.role === r)!.name])) as Record<Role, string>;
}

/** Feature names in file order: `<name>_t<k>` (waveform, k zero-padded per channel) or `<name><suffix>` (scalar). */
export function domainFeatureNames(d: Domain): string[] {
  if (d.layout === 'scalar') {
    const names = roleMap(d);
    return d.scalars.map((s) => `${names[s.role]}${d.scalarSuffix[s.kind]}`);
  }
  return d.channels.flatMap((c) => {
    const w = Math.max(2, String(c.points - 1).length);
    return Array.from({ length: c.points }, (_, k) => `${c.name}_t${String(k).padStart(w, '0')}`);
  });
}

/** Throws a clear error when `d` is not a usable domain; returns it otherwise. */
export function checkDomain(d: Domain): Domain {
  const fail = (m: string): never => { throw new Error(`domain '${d?.name}': ${m}`); };
  if (typeof d !== 'object' || d === null) throw new Error('domain must be an object');
  if (typeof d.name !== 'string' || d.name === '') fail('name must be a non-empty string');
  if (!SPECIES.includes(d.species)) fail(`species must be one of ${SPECIES.join(', ')}`);
  if (d.engine !== 'builtin' && d.engine !== 'general') fail("engine must be 'builtin' or 'general'");
  if (d.layout !== 'waveform' && d.layout !== 'scalar') fail("layout must be 'waveform' or 'scalar'");
  if (!Array.isArray(d.channels) || d.channels.length !== 4) fail('needs exactly 4 channels');
  const roles = d.channels.map((c) => c.role);
  if (ROLES.some((r) => roles.filter((x) => x === r).length !== 1)) fail(`channels must hold each role ${ROLES.join(', ')} once`);
  const names = new Set<string>();
  for (const c of d.channels) {
    if (typeof c.name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(c.name)) fail(`channel name '${c.name}' must be letters, digits, '.', '_' or '-'`);
    if (names.has(c.name)) fail(`channel name '${c.name}' repeated`);
    names.add(c.name);
    if (!(Number.isFinite(c.gain) && c.gain > 0)) fail(`${c.name}: gain must be positive`);
    if (!(Number.isSafeInteger(c.points) && c.points >= 4 && c.points <= 1024)) fail(`${c.name}: points must be an integer in 4..1024`);
    if (!Number.isFinite(c.baseline)) fail(`${c.name}: baseline must be finite`);
    if (!PULSE_SHAPES.includes(c.shape)) fail(`${c.name}: shape must be one of ${PULSE_SHAPES.join(', ')}`);
  }
  for (const [k, lo, hi] of [['noise', 0, 100], ['shotNoise', 0, 100], ['baselineSd', 0, 1e6], ['window', 1, 1e4], ['pulseWidth', 0.05, 20], ['emgTau', 0.01, 20], ['triggerAt', 0.05, 0.95], ['clumpSpacing', 0.1, 20]] as const) {
    const v = d[k];
    if (!(Number.isFinite(v) && v >= lo && v <= hi)) fail(`${k} must be in [${lo}, ${hi}], got ${v}`);
  }
  if (d.widthKind !== 'area/height' && d.widthKind !== 'fwhm') fail("widthKind must be 'area/height' or 'fwhm'");
  if (d.layout === 'scalar') {
    if (!Array.isArray(d.scalars) || d.scalars.length === 0) fail('the scalar layout needs at least one parameter in scalars');
    for (const s of d.scalars) if (!ROLES.includes(s.role) || !SCALAR_KINDS.includes(s.kind)) fail(`bad scalar parameter ${JSON.stringify(s)}`);
    const f = domainFeatureNames(d);
    if (new Set(f).size !== f.length) fail('scalar parameter names repeat');
  }
  const p = d.populations ?? fail('populations missing');
  for (const k of ['pltPct', 'reticPct', 'clumpPct', 'debrisPct', 'coincidencePct', 'pltClumpPct'] as const) {
    const r = p[k];
    if (r === undefined && k === 'pltClumpPct') continue;
    if (!(Array.isArray(r) && r.length === 2 && r[0] >= 0 && r[1] >= r[0] && r[1] <= 100)) fail(`populations.${k} must be [lo, hi] with 0 ≤ lo ≤ hi ≤ 100`);
  }
  if (!(p.pltPct[0] > 0 && p.reticPct[0] > 0)) fail('populations.pltPct and reticPct are drawn log-uniformly: their lower bounds must be > 0');
  if (p.pltPct[1] + p.debrisPct[1] + p.coincidencePct[1] > 100) fail('platelet + debris + coincidence ranges can exceed 100 %');
  if (p.reticPct[1] + p.clumpPct[1] > 100) fail('reticulocyte + clump ranges can exceed 100 % of red-cell events');
  if (d.engine === 'builtin') {
    // The original simulator has one fixed instrument: only species and a uniform point count vary.
    const ref = builtinDomain(d.species, d.channels[0]!.points);
    const strip = (x: Domain) => canonicalJson({ ...x, name: '', description: '' });
    if (strip(d) !== strip(ref)) fail("engine 'builtin' reproduces the original simulator and takes only species and points; use engine 'general' to change the instrument");
  }
  return d;
}

/** JSON with object keys sorted, so that equal domains compare equal whatever their key order. */
function canonicalJson(x: unknown): string {
  return JSON.stringify(x, (_, v) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v));
}

/** A domain read back from JSON (e.g. a cohort manifest's `domain`), checked. */
export function domainFromJson(x: unknown): Domain {
  return checkDomain(structuredClone(x) as Domain);
}
