// The particles of one event: cell physiology (sizes, scatter, stain) for a species preset, and
// which particles make up an event of each class (single cells, aggregates, debris, coincidences).
// Shared by the original simulator (sample.ts) and the domain engine (instrument.ts); the draws
// happen in a fixed order, so both engines stay deterministic.
import type { Rng } from './rng.js';
import type { SpeciesPreset } from './species.js';
import { CLASS, type Composition } from './events.js';

const [FSC, SSC] = [0, 1];

/** One particle crossing the sensing zone; an event holds one or more. */
export interface Particle {
  t: number; // centre time (time units)
  d: number; // diameter (µm)
  wOpt: number; // optical Gaussian σ
  wImp: number; // impedance half-width
  amp: [number, number, number, number]; // FSC, SSC, FL, IMP heights before gain
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

