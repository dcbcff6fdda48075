// The built-in demo model's training data: a small simulated cohort (bindings/simulate), each
// sample's analyzer-reported shares serving as the soft supervision the pipeline trains on.
// Small on purpose, so a fresh server has a working model within a minute or two on a laptop CPU.
import { simulateSample, type Species } from '../bindings/simulate/index.js';
import type { SampleInput, Shares } from './engine.js';

export interface DemoOptions {
  species?: Species;
  /** Samples in the cohort (default 6). */
  samples?: number;
  /** Events per sample (default 2000). */
  cells?: number;
  /** Time points per channel (default 32 → 128 features, the simulator's default). */
  points?: number;
  seed?: number;
}

export function simulatedCohort(o: DemoOptions = {}): { samples: SampleInput[]; references: Map<string, Shares> } {
  const n = o.samples ?? 6;
  const samples: SampleInput[] = [];
  const references = new Map<string, Shares>();
  for (let i = 0; i < n; i++) {
    const s = simulateSample({ species: o.species ?? 'dog', cells: o.cells ?? 2000, points: o.points ?? 32, seed: o.seed ?? 1, sampleIndex: i });
    const id = `demo-${String(i + 1).padStart(2, '0')}`;
    samples.push({ id, rows: s.cells, cols: s.features.length, data: s.signals });
    references.set(id, { plt_pct: s.reference.pltPct, retic_pct: s.reference.reticPct, clump_pct: s.reference.clumpPct });
  }
  return { samples, references };
}
