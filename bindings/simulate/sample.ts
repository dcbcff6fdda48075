// One simulated sample from a flow hematology analyzer's RBC/PLT channel.
//
// Each event (one trigger of the detector) is one or more particles crossing the sensing zone.
// For each event we record 4 channels — forward scatter FSC, side scatter SSC, RNA-stain
// fluorescence FL and impedance IMP (Coulter volume) — each sampled at T time points, giving a
// 4·T feature vector in channel blocks [FSC_t00..FSC_tT-1, SSC_t00.., FL_t00.., IMP_t00..].
//
// Physics, simplified but with the right dependencies:
// - Optical pulses (FSC, SSC, FL) are Gaussians in time whose width combines the laser waist and the
//   particle's transit (∝ diameter): σ = √(1.5² + (0.45·d)²) time units, d in µm. The window spans 32
//   time units whatever T is, so T only changes the sampling density.
// - The impedance pulse is a flat-topped generalized Gaussian exp(−|t/w|³) (the aperture is longer
//   than a cell), w = 3.5 + 0.3·d, height ∝ volume (Coulter principle) — the most faithful volume.
// - FSC height ∝ volume × haemoglobin/refractive factor × orientation (tumbling discs); SSC ∝ V^(2/3);
//   FL = autofluorescence + stained RNA (reticulocytes: a continuum; platelets: some).
// - Aggregates are several particles at small offsets along the flow axis (wide, multi-peak pulses);
//   coincidences are two unrelated cells further apart.
// - Instrument: per-sample channel gain, a linear gain drift across the run, baseline offset,
//   Gaussian electronic noise plus shot noise ∝ √signal.
//
// Shares and their denominators (what an analyzer reports, and what `reference` holds):
//   pltPct    = platelet events / all events                                   (×100)
//   reticPct  = reticulocyte events / red-cell events (rbc + reticulocyte + clumped_rbc events)
//   clumpPct  = clumped_rbc events / red-cell events (same denominator)
//   debrisPct, coincidencePct = their events / all events
// Counting is per event: a clump of three red cells is one clumped_rbc event, a platelet aggregate
// is one platelet event — exactly what a per-event classifier's proportions estimate.
import { Rng } from './rng.js';
import { presetFor, type Species, type SpeciesPreset } from './species.js';
import { checkDomain, builtinDomain, type Domain, type Role } from './domains.js';
import { simulateDomainSample } from './instrument.js';

export const CLASS_NAMES = ['platelet', 'rbc', 'reticulocyte', 'clumped_rbc', 'debris', 'coincidence'] as const;
export type ClassName = (typeof CLASS_NAMES)[number];
export const CLASS = { platelet: 0, rbc: 1, reticulocyte: 2, clumped_rbc: 3, debris: 4, coincidence: 5 } as const;

export const CHANNELS = ['FSC', 'SSC', 'FL', 'IMP'] as const;
const [FSC, SSC, IMP] = [0, 1, 3];

/** Time window in time units (µm of flow at unit speed); T samples cover it evenly. */
const WINDOW = 32;

/** Population shares in percent (see the header for denominators). */
export interface Composition {
  pltPct: number;
  reticPct: number;
  clumpPct: number;
  debrisPct: number;
  coincidencePct: number;
  /** Share of platelet events that are platelet aggregates. */
  pltClumpPct: number;
}

export interface ReportedShares {
  pltPct: number;
  reticPct: number;
  clumpPct: number;
}

export interface TrueShares extends ReportedShares {
  debrisPct: number;
  coincidencePct: number;
}

export interface SimulateOptions {
  /**
   * The simulated analyzer (domains.ts). Absent: the original simulator for `species` and `points`.
   * A domain fixes species and time points itself; passing either as well is an error when they differ.
   */
  domain?: Domain;
  species?: Species;
  /** Events in the sample (default 20,000). */
  cells?: number;
  seed?: number;
  /** Which sample of a cohort: selects an independent random stream (default 0). */
  sampleIndex?: number;
  /** Time samples per channel, T (default 32 → 128 features). */
  points?: number;
  /** Fix some shares instead of drawing them from the species' ranges. */
  composition?: Partial<Composition>;
}

export interface InstrumentState {
  /** Per channel: gain at mid-run, relative drift from the first to the last event. */
  gains: number[];
  drifts: number[];
  baselines: number[];
  noiseSd: number[];
}

export interface SimulatedSample {
  species: Species;
  cells: number;
  points: number;
  features: string[];
  /** cells × features, row-major. */
  signals: Float32Array;
  /** Per-event class id (see CLASS_NAMES). */
  truth: Int32Array;
  /** Events per class id. */
  counts: number[];
  /** Exact shares computed from `truth`. */
  trueShares: TrueShares;
  /** What an analyzer would report: the true shares with measurement noise, rounded to 0.1 pp. */
  reference: ReportedShares;
  /** The composition the events were drawn from (expected shares) and the sample's physiology. */
  composition: Composition;
  mcv: number;
  mpv: number;
  instrument: InstrumentState;
  /** The domain's name, its layout and, per role, the channel's name in `features`. */
  domain: string;
  layout: 'waveform' | 'scalar';
  channels: Record<Role, string>;
}

/** One particle crossing the sensing zone; an event holds one or more. */
export interface Particle {
  t: number; // centre time (time units)
  d: number; // diameter (µm)
  wOpt: number; // optical Gaussian σ
  wImp: number; // impedance half-width
  amp: [number, number, number, number]; // FSC, SSC, FL, IMP heights before gain
}

export function featureNames(points: number): string[] {
  const w = Math.max(2, String(points - 1).length);
  return CHANNELS.flatMap((c) => Array.from({ length: points }, (_, k) => `${c}_t${String(k).padStart(w, '0')}`));
}

/** The analyzer's reported value: true share + small measurement noise (bounded at ±2.5 sd), 0.1 pp. */
export function reportedNoiseSd(truePct: number): number {
  return 0.02 * truePct + 0.03;
}
export const REPORT_NOISE_BOUND_SDS = 2.5;

export type ValidOptions = Required<Omit<SimulateOptions, 'composition' | 'domain'>> & { composition: Partial<Composition> };

function validate(o: SimulateOptions): ValidOptions {
  const cells = o.cells ?? 20000;
  const points = o.points ?? 32;
  const seed = o.seed ?? 1;
  const sampleIndex = o.sampleIndex ?? 0;
  if (!Number.isSafeInteger(cells) || cells < 1) throw new Error(`cells must be a positive integer, got ${cells}`);
  if (!Number.isSafeInteger(points) || points < 4 || points > 1024) throw new Error(`points must be an integer in 4..1024, got ${points}`);
  if (!Number.isSafeInteger(seed)) throw new Error(`seed must be an integer, got ${seed}`);
  if (!Number.isSafeInteger(sampleIndex) || sampleIndex < 0) throw new Error(`sampleIndex must be a non-negative integer, got ${sampleIndex}`);
  const composition = o.composition ?? {};
  for (const [k, v] of Object.entries(composition)) {
    if (v !== undefined && !(Number.isFinite(v) && v >= 0 && v <= 100)) throw new Error(`composition.${k} must be a percentage in [0, 100], got ${v}`);
  }
  const { pltPct = 0, debrisPct = 0, coincidencePct = 0, reticPct = 0, clumpPct = 0 } = composition;
  if (pltPct + debrisPct + coincidencePct > 100) throw new Error('composition: pltPct + debrisPct + coincidencePct exceed 100%');
  if (reticPct + clumpPct > 100) throw new Error('composition: reticPct + clumpPct exceed 100% of red-cell events');
  return { species: presetFor(o.species ?? 'dog').species, cells, points, seed, sampleIndex, composition };
}

function drawComposition(p: SpeciesPreset, rng: Rng, fixed: Partial<Composition>): Composition {
  // Shares spanning orders of magnitude (retics, platelets) are drawn log-uniformly; the others
  // uniformly. Every draw happens even when fixed, so fixing one share leaves the others unchanged.
  const draws: Composition = {
    pltPct: rng.logBetween(...p.pltPct),
    reticPct: rng.logBetween(...p.reticPct),
    clumpPct: rng.between(...p.clumpPct),
    debrisPct: rng.between(...p.debrisPct),
    coincidencePct: rng.between(...p.coincidencePct),
    pltClumpPct: rng.between(...p.pltClumpPct),
  };
  return { ...draws, ...Object.fromEntries(Object.entries(fixed).filter(([, v]) => v !== undefined)) };
}

/** Simulates one sample. Deterministic in (species, cells, seed, sampleIndex, points, composition). */
export function simulateSample(opts: SimulateOptions = {}): SimulatedSample {
  if (opts.domain !== undefined) {
    const d = checkDomain(opts.domain);
    if (opts.species !== undefined && opts.species !== d.species) throw new Error(`species '${opts.species}' contradicts domain '${d.name}' (${d.species})`);
    const pts = d.channels[0]!.points;
    if (opts.points !== undefined && (d.engine === 'general' || opts.points !== pts)) throw new Error(`points: domain '${d.name}' fixes the time points per channel`);
    const o = validate({ ...opts, domain: undefined, species: d.species, points: pts });
    if (d.engine === 'general') return simulateDomainSample(d, o);
    return { ...simulateBuiltin(o), domain: d.name };
  }
  return simulateBuiltin(validate(opts));
}

/** The original simulator (domain engine 'builtin'). */
function simulateBuiltin(o: ValidOptions): SimulatedSample {
  const preset = presetFor(o.species);
  const rng = new Rng(o.seed, o.sampleIndex, o.species === 'dog' ? 1 : 2);
  const comp = drawComposition(preset, rng, o.composition);
  const mcv = preset.mcv * Math.exp(preset.mcvSampleSigma * rng.normal());
  const mpv = preset.mpv * Math.exp(0.1 * rng.normal());
  const instrument: InstrumentState = {
    gains: CHANNELS.map(() => Math.exp(0.04 * rng.normal())),
    drifts: CHANNELS.map(() => 0.03 * rng.normal()),
    baselines: CHANNELS.map(() => 4 + rng.normal()),
    noiseSd: CHANNELS.map(() => rng.between(1.5, 3.5)),
  };

  const T = o.points;
  const F = 4 * T;
  const N = o.cells;
  const signals = new Float32Array(N * F);
  const truth = new Int32Array(N);
  const counts = [0, 0, 0, 0, 0, 0];
  const xs = Float64Array.from({ length: T }, (_, k) => (k + 0.5 - T / 2) * (WINDOW / T));

  const fPlt = comp.pltPct / 100;
  const fDeb = comp.debrisPct / 100;
  const fCoi = comp.coincidencePct / 100;
  const red = Math.max(0, 1 - fPlt - fDeb - fCoi);
  const r = comp.reticPct / 100;
  const c = comp.clumpPct / 100;
  const classWeights = [fPlt, red * (1 - r - c), red * r, red * c, fDeb, fCoi];
  const cells = new CellFactory(preset, rng, mcv, mpv);

  const parts: Particle[] = [];
  for (let i = 0; i < N; i++) {
    const cls = rng.categorical(classWeights);
    truth[i] = cls;
    counts[cls]!++;
    parts.length = 0;
    drawEventParticles(cls, parts, cells, rng, preset, comp);
    // Trigger jitter: the whole event shifts a little inside the window.
    const jitter = 0.7 * rng.normal();
    for (const p of parts) p.t += jitter;
    render(parts, signals, i * F, T, xs, instrument, (i + 0.5) / N - 0.5, cls === CLASS.debris ? 1.6 : 1, rng);
  }

  const trueShares = sharesFromCounts(counts, N);
  const reference = reportShares(trueShares, rng);
  return {
    species: o.species, cells: N, points: T, features: featureNames(T), signals, truth, counts,
    trueShares, reference, composition: comp, mcv, mpv, instrument,
    domain: builtinDomain(o.species, T).name, layout: 'waveform', channels: { FSC: 'FSC', SSC: 'SSC', FL: 'FL', IMP: 'IMP' },
  };
}

/** Exact shares from per-class event counts (denominators: see the header). */
export function sharesFromCounts(counts: readonly number[], N: number): TrueShares {
  const nRed = counts[CLASS.rbc]! + counts[CLASS.reticulocyte]! + counts[CLASS.clumped_rbc]!;
  const pct = (num: number, den: number) => (den > 0 ? (100 * num) / den : 0);
  return {
    pltPct: pct(counts[CLASS.platelet]!, N),
    reticPct: pct(counts[CLASS.reticulocyte]!, nRed),
    clumpPct: pct(counts[CLASS.clumped_rbc]!, nRed),
    debrisPct: pct(counts[CLASS.debris]!, N),
    coincidencePct: pct(counts[CLASS.coincidence]!, N),
  };
}

/** The analyzer's report of the true shares (draws three normals from `rng`, in plt, retic, clump order). */
export function reportShares(t: TrueShares, rng: Rng): ReportedShares {
  const report = (v: number) => {
    const sd = reportedNoiseSd(v);
    const e = Math.max(-REPORT_NOISE_BOUND_SDS, Math.min(REPORT_NOISE_BOUND_SDS, rng.normal())) * sd;
    return Math.max(0, Math.round((v + e) * 10) / 10);
  };
  return { pltPct: report(t.pltPct), reticPct: report(t.reticPct), clumpPct: report(t.clumpPct) };
}

/**
 * The particles of one event of class `cls`. `spacing` scales the distance between aggregate
 * members (1: the original simulator).
 */
export function drawEventParticles(cls: number, parts: Particle[], cells: CellFactory, rng: Rng, preset: SpeciesPreset, comp: Composition, spacing = 1): void {
  const fPlt = comp.pltPct / 100;
  const red = Math.max(0, 1 - fPlt - comp.debrisPct / 100 - comp.coincidencePct / 100);
  const r = comp.reticPct / 100;
  switch (cls) {
    case CLASS.platelet:
      if (rng.uniform() * 100 < comp.pltClumpPct) {
        const [lo, hi] = preset.pltClumpSize;
        cells.aggregate(parts, lo + rng.int(hi - lo + 1), () => cells.platelet(), 0.3 * spacing, 0.9 * spacing);
      } else parts.push(cells.platelet());
      break;
    case CLASS.rbc:
      parts.push(cells.red(false));
      break;
    case CLASS.reticulocyte:
      parts.push(cells.red(true));
      break;
    case CLASS.clumped_rbc: {
      const k = 2 + rng.categorical([0.62, 0.26, 0.12]);
      cells.aggregate(parts, k, () => cells.red(rng.uniform() < r), 0.15 * spacing, 1.0 * spacing, 0.9);
      break;
    }
    case CLASS.debris:
      cells.debris(parts);
      break;
    case CLASS.coincidence: {
      const pPlt = fPlt / Math.max(1e-9, fPlt + red);
      const pick = () => (rng.uniform() < pPlt ? cells.platelet() : cells.red(rng.uniform() < r));
      const a = pick();
      const b = pick();
      b.t = (rng.uniform() < 0.5 ? -1 : 1) * rng.between(3, 11);
      parts.push(a, b);
      break;
    }
  }
}

/** Draws particles for one sample's physiology. */
export class CellFactory {
  constructor(
    private readonly p: SpeciesPreset,
    private readonly rng: Rng,
    private readonly mcv: number,
    private readonly mpv: number,
  ) {}

  private particle(d: number, fsc: number, ssc: number, fl: number, imp: number, wOpt?: number): Particle {
    return {
      t: 0,
      d,
      wOpt: wOpt ?? Math.sqrt(1.5 * 1.5 + 0.45 * d * (0.45 * d)),
      wImp: 3.5 + 0.3 * d,
      amp: [fsc, ssc, fl, imp],
    };
  }

  /** A mature red cell or a reticulocyte (larger, with an RNA-stain continuum). */
  red(retic: boolean): Particle {
    const g = this.rng;
    let v = this.mcv * Math.exp(this.p.rdw * g.normal());
    let rna = 0;
    if (retic) {
      rna = g.lognormal(this.p.reticRnaMedian, 1.1);
      // Younger reticulocytes are larger and hold more RNA: 5–20 % above a mature cell.
      v = this.mcv * Math.exp(1.1 * this.p.rdw * g.normal()) * (1.05 + 0.15 * Math.min(1, rna / (3 * this.p.reticRnaMedian)));
    }
    const d = this.p.rbcDiameterK * Math.cbrt(v);
    const hb = g.lognormal(1, 0.05);
    const orient = g.lognormal(1, 0.08);
    const auto = g.lognormal(1, 0.35);
    return this.particle(d, 10 * v * hb * orient, 25 * Math.pow(v, 2 / 3) * hb * g.lognormal(1, 0.1), 12 * (auto + rna), 10 * v * g.lognormal(1, 0.02));
  }

  /** A single platelet: small, lower refractive index, granular (more SSC per volume), some RNA. */
  platelet(): Particle {
    const g = this.rng;
    const v = Math.min(60, Math.max(1.5, g.lognormal(this.mpv, this.p.mpvSigma)));
    const d = 1.3 * Math.cbrt(v);
    const fl = g.lognormal(4, 0.5) * Math.pow(v / this.mpv, 0.7);
    return this.particle(d, 5.5 * v * g.lognormal(1, 0.15), 40 * Math.pow(v, 2 / 3) * g.lognormal(1, 0.2), 12 * fl, 10 * v * g.lognormal(1, 0.03));
  }

  /** 1–3 tiny fragments with narrow, spiky pulses and erratic scatter/fluorescence. */
  debris(out: Particle[]): void {
    const g = this.rng;
    const n = 1 + g.int(3);
    for (let k = 0; k < n; k++) {
      const v = Math.min(6, Math.max(0.1, g.lognormal(1, 0.7)));
      const q = this.particle(Math.cbrt(v), 10 * v * g.between(0.3, 1.5), 25 * Math.pow(v, 2 / 3) * g.between(0.5, 3), 12 * g.lognormal(2, 1), 10 * v, g.between(0.6, 1.4));
      q.t = g.between(-5, 5);
      out.push(q);
    }
  }

  /**
   * `k` particles touching along the flow axis: neighbours sit at spacing × mean diameter, spacing
   * uniform in [sMin, sMax) (orientation of the contact), centred on the event. `shadow` dims the
   * scatter of each member (members shade each other).
   */
  aggregate(out: Particle[], k: number, make: () => Particle, sMin: number, sMax: number, shadow = 1): void {
    let t = 0;
    let prevD = 0;
    const start = out.length;
    for (let j = 0; j < k; j++) {
      const q = make();
      const d = q.d;
      if (j > 0) t += 0.5 * (prevD + d) * this.rng.between(sMin, sMax);
      q.t = t;
      q.amp[FSC] *= shadow;
      q.amp[SSC] *= shadow;
      prevD = d;
      out.push(q);
    }
    const mid = t / 2;
    for (let j = start; j < out.length; j++) out[j]!.t -= mid;
  }
}

/** Writes one event's 4·T samples at signals[base…], adding the instrument's gain, baseline, noise. */
function render(parts: Particle[], signals: Float32Array, base: number, T: number, xs: Float64Array, ins: InstrumentState, runPos: number, noiseScale: number, rng: Rng): void {
  for (let ch = 0; ch < 4; ch++) {
    const gain = ins.gains[ch]! * (1 + ins.drifts[ch]! * runPos);
    const bl = ins.baselines[ch]!;
    const sd0 = ins.noiseSd[ch]! * noiseScale;
    const o = base + ch * T;
    for (let k = 0; k < T; k++) {
      const x = xs[k]!;
      let v = 0;
      for (const p of parts) {
        const a = p.amp[ch]!;
        if (ch === IMP) {
          const z = Math.abs(x - p.t) / p.wImp;
          v += a * Math.exp(-z * z * z);
        } else {
          const z = (x - p.t) / p.wOpt;
          v += a * Math.exp(-0.5 * z * z);
        }
      }
      v *= gain;
      // Electronic noise + shot noise (variance ∝ signal).
      const sd = Math.sqrt(sd0 * sd0 + 0.3 * v);
      signals[o + k] = v + bl + sd * rng.normal();
    }
  }
}
