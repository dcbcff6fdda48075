// The general engine: one sample of a Domain (domains.ts). The blood is the original simulator's
// (species.ts physiology, CellFactory particles, the same event classes and denominators); what
// differs is the instrument that turns particles into numbers:
//   y_ch[k] = gain_ch · ( s_ch(run) · Σ_particles amp_ch · pulse_ch(x_k − t) + baseline_ch + noise )
// with the noise sd √(sd0² + shot·signal) as in sample.ts. `gain_ch` is the unit (applied to
// signal, baseline and noise alike), so two domains that differ only in gains give outputs that
// differ exactly by the gains. Random draws happen in role order (FSC, SSC, FL, IMP) whatever the
// file order, so reordering or renaming channels permutes columns and changes no value.
import { Rng } from './rng.js';
import { presetFor, type SpeciesPreset } from './species.js';
import { CLASS, reportShares, sharesFromCounts, type Composition, type InstrumentState, type SimulatedSample, type SimulateOptions } from './events.js';
import { CellFactory, drawEventParticles, type Particle } from './cells.js';
import { checkDomain, domainFeatureNames, roleMap, ROLES, type Domain } from './domains.js';
import { pulse, pulseParameters } from './shapes.js';

/** The species' physiology with the domain's population ranges. */
function domainPreset(d: Domain): SpeciesPreset {
  const p = presetFor(d.species);
  const q = d.populations;
  return {
    ...p,
    pltPct: q.pltPct, reticPct: q.reticPct, clumpPct: q.clumpPct, debrisPct: q.debrisPct, coincidencePct: q.coincidencePct,
    pltClumpPct: q.pltClumpPct ?? p.pltClumpPct,
  };
}

function drawComposition(p: SpeciesPreset, rng: Rng, fixed: Partial<Composition>): Composition {
  // As in sample.ts: wide shares log-uniform, the others uniform; every draw happens even when fixed.
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

/** Simulates one sample through a general-engine domain (options already validated by sample.ts). */
export function simulateDomainSample(domain: Domain, o: Required<Omit<SimulateOptions, 'composition' | 'domain' | 'species' | 'points'>> & { composition: Partial<Composition> }): SimulatedSample {
  const d = checkDomain(domain);
  if (d.engine !== 'general') throw new Error(`simulateDomainSample: domain '${d.name}' uses the builtin engine`);
  const { preset, rng, comp, mcv, mpv, byRole, instrument } = drawSampleState(d, o.seed, o.sampleIndex, o.composition);
  const lay = eventLayout(d, byRole);
  const N = o.cells;
  const signals = new Float32Array(N * lay.F);
  const truth = new Int32Array(N);
  const counts = [0, 0, 0, 0, 0, 0];
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
    drawEventParticles(cls, parts, cells, rng, preset, comp, d.clumpSpacing);
    const jitter = 0.7 * rng.normal() + lay.centre;
    for (const p of parts) {
      p.t += jitter;
      p.wOpt *= d.pulseWidth;
      p.wImp *= d.pulseWidth;
    }
    writeEvent(d, lay, byRole, instrument, parts, rng, signals, i * lay.F, (i + 0.5) / N - 0.5, cls === CLASS.debris ? 1.6 : 1);
  }

  const trueShares = sharesFromCounts(counts, N);
  const reference = reportShares(trueShares, rng);
  const pts = d.channels.map((ch) => ch.points);
  return {
    species: d.species, cells: N, points: Math.max(...pts), features: lay.features, signals, truth, counts,
    trueShares, reference, composition: comp, mcv, mpv, instrument,
    domain: d.name, layout: d.layout, channels: roleMap(d),
  };
}

/** What is fixed for one sample: its composition, MCV and MPV, and the instrument's state that day. */
function drawSampleState(d: Domain, seed: number, sampleIndex: number, fixed: Partial<Composition>) {
  const preset = domainPreset(d);
  // Its own stream (label 0x5d): a general domain never replays the builtin engine's draws.
  const rng = new Rng(seed, sampleIndex, d.species === 'dog' ? 1 : 2, 0x5d);
  const comp = drawComposition(preset, rng, fixed);
  const mcv = preset.mcv * Math.exp(preset.mcvSampleSigma * rng.normal());
  const mpv = preset.mpv * Math.exp(0.1 * rng.normal());
  const byRole = ROLES.map((r) => d.channels.find((c) => c.role === r)!);
  const instrument: InstrumentState = {
    gains: ROLES.map(() => Math.exp(0.04 * rng.normal())),
    drifts: ROLES.map(() => 0.03 * rng.normal()),
    baselines: byRole.map((c) => c.baseline + d.baselineSd * rng.normal()),
    noiseSd: ROLES.map(() => d.noise * rng.between(1.5, 3.5)),
  };
  return { preset, rng, comp, mcv, mpv, byRole, instrument };
}

type Channel = Domain['channels'][number];

/** Where each role's values go in a row: its time grid, and its samples' (waveform) or
 *  parameters' (scalar) columns. */
function eventLayout(d: Domain, byRole: Channel[]) {
  const features = domainFeatureNames(d);
  const grids = byRole.map((c) => Float64Array.from({ length: c.points }, (_, k) => (k + 0.5 - c.points / 2) * (d.window / c.points)));
  const offsets = byRole.map((c) => {
    let o = 0;
    for (const x of d.channels) { if (x === c) break; o += x.points; }
    return o;
  });
  const scalarSlots = ROLES.map((r) => d.scalars.map((s, j) => (s.role === r ? [s.kind, j] as const : null)).filter((x) => x !== null));
  return {
    features, F: features.length, grids, offsets, scalarSlots,
    scratch: new Float64Array(Math.max(...byRole.map((c) => c.points))), centre: (d.triggerAt - 0.5) * d.window,
  };
}

/** One event's values from its particles: every channel's pulse, gain and noise, written at `row`
 *  (`runPos`: the event's place in the run, for the gain drift). */
function writeEvent(d: Domain, lay: ReturnType<typeof eventLayout>, byRole: Channel[], instrument: InstrumentState, parts: Particle[], rng: Rng,
  signals: Float32Array, row: number, runPos: number, noiseScale: number): void {
  const { grids, offsets, scalarSlots, scratch } = lay;
  for (let ch = 0; ch < 4; ch++) {
    const spec = byRole[ch]!;
    const T = spec.points;
    const xs = grids[ch]!;
    const gain = instrument.gains[ch]! * (1 + instrument.drifts[ch]! * runPos);
    const bl = instrument.baselines[ch]!;
    const sd0 = instrument.noiseSd[ch]! * noiseScale;
    const imp = ch === 3;
    for (let k = 0; k < T; k++) {
      let v = 0;
      for (const p of parts) v += p.amp[ch]! * pulse(spec.shape, imp, xs[k]! - p.t, imp ? p.wImp : p.wOpt, d.emgTau);
      v *= gain;
      const sd = Math.sqrt(sd0 * sd0 + d.shotNoise * Math.max(0, v));
      scratch[k] = spec.gain * (v + bl + sd * rng.normal());
    }
    if (d.layout === 'waveform') {
      for (let k = 0; k < T; k++) signals[row + offsets[ch]! + k] = scratch[k]!;
    } else if (scalarSlots[ch]!.length > 0) {
      const m = pulseParameters(scratch, T, d.window / T, d.widthKind, d.heightAboveBaseline);
      for (const [kind, j] of scalarSlots[ch]!) signals[row + j] = m[kind];
    }
  }
}
