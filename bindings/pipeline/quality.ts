// Quality gates: the pipeline refuses to report what it cannot stand behind.
//
// Training. The only truth available is each training sample's references, so after training the
// pipeline classifies its own training samples exactly as it would classify a new one (free
// per-sample proportions, nothing taken from the references) and compares the shares it finds with
// the references. Where the learned classes do not explain the references — wrong units read as
// the wrong populations, references that belong to other samples, a channel that carries no
// class information — the shares do not follow them, and training stops with a clear error
// (the CLI's `--force` keeps the model, marked as failed). A share passes when its RMS error is
// within an absolute tolerance (the accuracy a lab asks of the count) or small against the spread
// of the references (R² ≥ 0.5: the model explains most of the between-sample variation).
//
// Classification. Each sample is compared with what training saw, and flagged — never silently
// reported — when it lies outside: shares outside the trained range, a signal level shifted from
// the training instrument's (another gain or unit), many events unlike any training event (low
// likelihood under the stage-2 mixture), or an event count far from the training samples'.

export const SHARE_KEYS = ['plt_pct', 'retic_pct', 'clump_pct'] as const;
export type ShareKey = (typeof SHARE_KEYS)[number];
/** The three reported shares (pipeline Reference), in percent. */
type Reference = Record<ShareKey, number>;

/** RMS error (pp) that always passes: the accuracy bars for a count. */
export const ABS_TOLERANCE_PP: Record<ShareKey, number> = { plt_pct: 0.5, retic_pct: 0.5, clump_pct: 1.0 };
/** Otherwise the RMS error must stay below this share of the references' sd (R² ≥ 1 − 0.7² ≈ 0.5). */
export const REL_TOLERANCE = 0.7;

export interface ShareFit {
  rms: number;
  maxAbs: number;
  /** Sd of the references over the training samples, and R² of the inferred shares against them
   *  (null when every reference is the same: no spread to explain). */
  sd: number;
  r2: number | null;
  passed: boolean;
}

export interface TrainingQuality {
  samples: number;
  fits: Record<ShareKey, ShareFit>;
  passed: boolean;
}

export class QualityGateError extends Error {
  constructor(message: string, readonly quality: TrainingQuality) {
    super(message);
    this.name = 'QualityGateError';
  }
}

/** How well the shares inferred on the training samples follow their references. */
export function referenceFit(inferred: Reference[], refs: Reference[]): TrainingQuality {
  const S = refs.length;
  const fits = {} as Record<ShareKey, ShareFit>;
  for (const k of SHARE_KEYS) {
    const r = refs.map((x) => x[k]);
    const e = inferred.map((x, s) => x[k] - r[s]);
    const mean = r.reduce((a, b) => a + b, 0) / S;
    const ss = r.reduce((a, b) => a + (b - mean) ** 2, 0);
    const se = e.reduce((a, b) => a + b * b, 0);
    const rms = Math.sqrt(se / S);
    const sd = Math.sqrt(ss / S);
    fits[k] = {
      rms, sd, maxAbs: Math.max(...e.map(Math.abs)), r2: ss > 0 ? 1 - se / ss : null,
      passed: rms <= ABS_TOLERANCE_PP[k] || rms <= REL_TOLERANCE * sd,
    };
  }
  return { samples: S, fits, passed: SHARE_KEYS.every((k) => fits[k].passed) };
}

/** The gate's message: what failed, by how much, and what to check. */
export function gateMessage(q: TrainingQuality): string {
  const bad = SHARE_KEYS.filter((k) => !q.fits[k].passed).map((k) => {
    const f = q.fits[k];
    return `${k}: RMS error ${f.rms.toFixed(2)} pp (max ${f.maxAbs.toFixed(2)} pp, R² ${f.r2?.toFixed(2) ?? 'n/a'}) against references spread ${f.sd.toFixed(2)} pp; ` +
      `needs ≤ ${ABS_TOLERANCE_PP[k]} pp or ≤ ${REL_TOLERANCE} × the spread`;
  });
  return `the trained classes do not explain the training references (${q.samples} samples): ${bad.join('; ')}. ` +
    'Check that each reference row belongs to its file, that the references use the analyzer\'s denominators ' +
    '(plt % of all events, retic % and clump % of red-cell events), and that the channels were found (see the layout line); ' +
    'pass --force to keep the model anyway (it is marked as failed).';
}

// ---- classification flags ----

/** What training saw, for the flags (stored in the model). */
export interface DomainStats {
  refMin: Reference;
  refMax: Reference;
  /** Median events per training sample. */
  eventsMedian: number;
  /** Per pulse-summary column: median over the training red-cell events (asinh units). */
  summaryMedian: number[];
  /** Per pulse-summary column: spread (1.4826 · MAD) over the same events. */
  summarySpread: number[];
  /** log-density threshold: LOW_LIK_QUANTILE of the training events' stage-2 mixture log density. */
  logDensityCut: number;
}

/** A summary column shifted by more than this many training spreads reads as another gain or unit. */
export const SHIFT_SPREADS = 1.5;
export const LOW_LIK_QUANTILE = 0.01;
/** Flag when more than this many times LOW_LIK_QUANTILE of a sample's events fall below the cut. */
export const LOW_LIK_FACTOR = 5;
export const EVENTS_FACTOR = 5;

export interface SampleQuality {
  flags: string[];
  /** Share of the sample's red-cell events below the training log-density cut. */
  lowLikelihood: number;
  /** Largest shift of a summary column's median, in training spreads. */
  signalShift: number;
}

export function sampleFlags(d: DomainStats, shares: Reference, events: number, summaryMedian: number[], lowLikelihood: number): SampleQuality {
  const flags: string[] = [];
  for (const k of SHARE_KEYS) {
    const lo = d.refMin[k];
    const hi = d.refMax[k];
    const margin = Math.max(1, 0.25 * (hi - lo));
    if (shares[k] < lo - margin || shares[k] > hi + margin) flags.push(`${k} ${shares[k].toFixed(2)} outside the trained range ${lo.toFixed(1)}–${hi.toFixed(1)}`);
  }
  let shift = 0;
  summaryMedian.forEach((m, c) => (shift = Math.max(shift, Math.abs(m - d.summaryMedian[c]) / Math.max(d.summarySpread[c], 1e-6))));
  if (shift > SHIFT_SPREADS) flags.push(`signal level shifted by ${shift.toFixed(1)} training spreads (another gain, unit or instrument?)`);
  if (lowLikelihood > LOW_LIK_FACTOR * LOW_LIK_QUANTILE) flags.push(`${(100 * lowLikelihood).toFixed(1)} % of red-cell events unlike any training event (expected ${100 * LOW_LIK_QUANTILE} %)`);
  if (events < d.eventsMedian / EVENTS_FACTOR || events > d.eventsMedian * EVENTS_FACTOR) flags.push(`${events} events (training samples had ${Math.round(d.eventsMedian)})`);
  return { flags, lowLikelihood, signalShift: shift };
}

export function medianOf(v: ArrayLike<number>): number {
  const s = Float64Array.from(v).sort();
  if (!s.length) return 0;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : 0.5 * (s[m - 1] + s[m]);
}

/** Per column: median and 1.4826 · MAD of an n × P matrix. */
export function columnMedians(f: ArrayLike<number>, n: number, P: number): { median: number[]; spread: number[] } {
  const median: number[] = [];
  const spread: number[] = [];
  for (let c = 0; c < P; c++) {
    const col = Float64Array.from({ length: n }, (_, i) => f[i * P + c]);
    const m = medianOf(col);
    median.push(m);
    spread.push(1.4826 * medianOf(col.map((v) => Math.abs(v - m))));
  }
  return { median, spread };
}
