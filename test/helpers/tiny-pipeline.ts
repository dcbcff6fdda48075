// A pipeline trained in seconds on a few small simulated samples (one epoch per stage, small
// networks): for tests that compare two ways of running the same model (exported module against
// classify, workers against one thread), where any trained model will do and training time is the cost.
import type { ComputeBackend } from '../../bindings/backend.js';
import { BloodCellPipeline, type Reference, type SampleInput } from '../../bindings/pipeline/index.js';
import type { TrainOptions } from '../../bindings/pipeline/types.js';
import { simulateSample } from '../../bindings/simulate/index.js';

/** The reduced training every such test uses; `extra` overrides any of it. */
export const TINY_TRAINING = {
  force: true, dims: [32, 16, 8], epochs: 1, stage2PretrainEpochs: 1, clusterIterations: 30, stage2Epochs: 1,
  stage2Components: 6, cellsPerSample: 400, batchSize: 128,
} satisfies Partial<TrainOptions>;

export type Simulated = ReturnType<typeof simulateSample>;

/** Samples as pipeline inputs (ids t0, t1, … unless given) and their references. */
export function asTrainingSet(sims: Simulated[], ids = sims.map((_, i) => `t${i}`), withColumns = false): { inputs: SampleInput[]; refs: Map<string, Reference> } {
  const inputs = sims.map((s, i) => ({ id: ids[i], rows: s.cells, cols: s.features.length, data: s.signals, ...(withColumns ? { columns: s.features } : {}) }));
  const refs = new Map<string, Reference>(sims.map((s, i) => [ids[i], { plt_pct: s.reference.pltPct, retic_pct: s.reference.reticPct, clump_pct: s.reference.clumpPct }]));
  return { inputs, refs };
}

/** The model bytes of a tiny pipeline trained on `sims` with `seed`. */
export async function trainTiny(be: ComputeBackend, sims: Simulated[], seed: number, extra: Partial<TrainOptions> = {}): Promise<Uint8Array> {
  const { inputs, refs } = asTrainingSet(sims);
  const p = await BloodCellPipeline.train(inputs, refs, { backend: be, seed, ...TINY_TRAINING, ...extra });
  try {
    return p.toBytes();
  } finally {
    p.dispose();
  }
}

/** The tiny model of four 600-event dog samples (simulation seed `simSeed`, indices from `first`) trained with `seed`. */
export function trainTinyDog(be: ComputeBackend, simSeed: number, first: number, seed: number): Promise<Uint8Array> {
  return trainTiny(be, [0, 1, 2, 3].map((i) => simulateSample({ species: 'dog', cells: 600, seed: simSeed, sampleIndex: first + i })), seed);
}
