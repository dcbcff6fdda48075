// End-to-end: training the two-stage pipeline (BloodCellPipeline.train, the defaults `npm start`
// trains with) on the demo's cohort (10 simulated dog samples × 5,000 events, of which training
// draws 4,000 per sample), on each CPU backend config the runner loaded. Headline: training events
// per second over the whole training; the note splits the time by phase (the pipeline's progress
// stages: stage-1 pretraining, k-means, IDEC, the stage-1 splits, stage-2 pretraining, the VaDE map,
// VaDE, the two levels), so a change shows where it moved. --quick: 4 × 600 events, tiny networks.
import type { TrainOptions } from '../../bindings/pipeline/types.js';
import { BloodCellPipeline, type Reference, type SampleInput } from '../../bindings/pipeline/index.js';
import { TRAINING_DEFAULTS } from '../../bindings/pipeline/train-spec.js';
import { simulateSample } from '../../bindings/simulate/index.js';
import { peakRssMiB, type E2EBench, type E2EResult } from '../lib/e2e.js';

const COHORT = { full: { samples: 10, cells: 5000 }, quick: { samples: 4, cells: 600 } };
const QUICK_OPTIONS: Partial<TrainOptions> = {
  dims: [32, 16, 8], epochs: 1, stage2PretrainEpochs: 1, clusterIterations: 30, stage2Epochs: 1, stage2Components: 6, cellsPerSample: 400, batchSize: 128,
};

function cohort(quick: boolean): { inputs: SampleInput[]; refs: Map<string, Reference> } {
  const { samples, cells } = quick ? COHORT.quick : COHORT.full;
  const sims = Array.from({ length: samples }, (_, i) => simulateSample({ species: 'dog', cells, seed: 1, sampleIndex: i }));
  const inputs = sims.map((s, i) => ({ id: `dog_${i}`, rows: s.cells, cols: s.features.length, data: s.signals }));
  const refs = new Map(sims.map((s, i) => [`dog_${i}`, { plt_pct: s.reference.pltPct, retic_pct: s.reference.reticPct, clump_pct: s.reference.clumpPct }]));
  return { inputs, refs };
}

/** Seconds per progress stage, in the order the stages first appeared. */
class PhaseClock {
  private readonly seconds = new Map<string, number>();
  private stage = '';
  private since = performance.now();

  mark(stage: string): void {
    if (stage === this.stage) return;
    this.stop();
    this.stage = stage;
  }

  stop(): void {
    const now = performance.now();
    if (this.stage) this.seconds.set(this.stage, (this.seconds.get(this.stage) ?? 0) + (now - this.since) / 1e3);
    this.since = now;
  }

  summary(): string {
    return [...this.seconds].map(([s, t]) => `${s} ${t.toFixed(1)} s`).join(', ');
  }
}

const bench: E2EBench = {
  name: 'train-pipeline',
  description: "two-stage pipeline training events/s on the demo's cohort at the default options, with seconds per phase",
  async run(ctx) {
    const { inputs, refs } = cohort(ctx.quick);
    const perSample = (ctx.quick ? QUICK_OPTIONS.cellsPerSample : undefined) ?? TRAINING_DEFAULTS.cellsPerSample;
    const events = inputs.reduce((a, s) => a + Math.min(s.rows, perSample), 0);
    const rows: E2EResult[] = [];
    for (const lb of ctx.backends) {
      if (!lb.be || lb.software || lb.config.choice === 'reference') continue;
      const clock = new PhaseClock();
      const t0 = performance.now();
      // force: the bench times training; a quick cohort this small need not pass the quality gate.
      const pipe = await BloodCellPipeline.train(inputs, refs, {
        ...(ctx.quick ? QUICK_OPTIONS : {}), backend: lb.be, force: true, onProgress: (p) => clock.mark(p.stage),
      });
      clock.stop();
      const seconds = (performance.now() - t0) / 1e3;
      pipe.dispose();
      ctx.log(`train-pipeline ${lb.config.label}: ${events} events in ${seconds.toFixed(1)} s (${clock.summary()})`);
      rows.push({
        scenario: 'train-pipeline', backend: lb.config.label, metric: 'events/s', value: events / seconds, seconds, peakRssMiB: peakRssMiB(),
        noPeer: 'no peer trains the whole two-stage pipeline (no tfjs or PyTorch version of it yet; train-idec / train-vade compare its network parts)',
        note: clock.summary(),
      });
    }
    return rows;
  },
};
export default bench;
