// The simulator's events and samples: class ids, shares and their denominators, the options and
// the result of simulating one sample (sample.ts for the built-in generator, instrument.ts for the
// domain family). Kept apart so the generators can share them without importing each other.
import { Rng } from './rng.js';
import type { Species } from './species.js';
import type { Domain, Role } from './domains.js';

export const CLASS_NAMES = ['platelet', 'rbc', 'reticulocyte', 'clumped_rbc', 'debris', 'coincidence'] as const;
export type ClassName = (typeof CLASS_NAMES)[number];
export const CLASS = { platelet: 0, rbc: 1, reticulocyte: 2, clumped_rbc: 3, debris: 4, coincidence: 5 } as const;

export const CHANNELS = ['FSC', 'SSC', 'FL', 'IMP'] as const;


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
