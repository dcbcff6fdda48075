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
import { presetFor, type SpeciesPreset } from './species.js';
import { checkDomain, builtinDomain } from './domains.js';
import { simulateDomainSample } from './instrument.js';
import { CellFactory, drawEventParticles, type Particle } from './cells.js';
import { CHANNELS, CLASS, featureNames, reportShares, sharesFromCounts, type Composition, type InstrumentState, type SimulatedSample, type SimulateOptions, type ValidOptions } from './events.js';

export * from './events.js';

const IMP = 3;
/** Time window in time units (µm of flow at unit speed); T samples cover it evenly. */
const WINDOW = 32;


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
