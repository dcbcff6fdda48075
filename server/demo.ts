// The built-in demo model's training data: a small simulated cohort (bindings/simulate), each
// sample's analyzer-reported shares serving as the soft supervision the pipeline trains on.
// Small on purpose, so a fresh server has a working model within a minute or two on a laptop CPU.
import { simulateSample, type Species } from '../bindings/simulate/index.js';
import type { SampleInput, Shares } from './engine.js';

/** The demo cohort: enough samples and events for the pipeline to learn every class, few enough
 *  to train in the time above; the simulator's own points per channel and seed. */
const DEMO_COHORT = { species: 'dog' as Species, samples: 6, cells: 2000, points: 32, seed: 1 };

/** Unset fields take DEMO_COHORT's values. */
export interface DemoOptions {
  species?: Species;
  /** Samples in the cohort. */
  samples?: number;
  /** Events per sample. */
  cells?: number;
  /** Time points per channel (4 channels each). */
  points?: number;
  seed?: number;
}

export function simulatedCohort(o: DemoOptions = {}): { samples: SampleInput[]; references: Map<string, Shares> } {
  const d = DEMO_COHORT;
  const n = o.samples ?? d.samples;
  const samples: SampleInput[] = [];
  const references = new Map<string, Shares>();
  for (let i = 0; i < n; i++) {
    const s = simulateSample({ species: o.species ?? d.species, cells: o.cells ?? d.cells, points: o.points ?? d.points, seed: o.seed ?? d.seed, sampleIndex: i });
    const id = `demo-${String(i + 1).padStart(2, '0')}`;
    samples.push({ id, rows: s.cells, cols: s.features.length, data: s.signals });
    references.set(id, { plt_pct: s.reference.pltPct, retic_pct: s.reference.reticPct, clump_pct: s.reference.clumpPct });
  }
  return { samples, references };
}
