// End-to-end: training the two-stage pipeline (BloodCellPipeline.train, the defaults `npm start`
// trains with) on the demo's cohort (10 simulated dog samples × 5,000 events, of which training
// draws 4,000 per sample), on each CPU backend config the runner loaded. Headline: training events
// per second over the whole training; the note splits the time by phase (the pipeline's progress
// stages: stage-1 pretraining, k-means, IDEC, the stage-1 splits, stage-2 pretraining, the VaDE map,
// VaDE, the two levels), so a change shows where it moved. --quick: 4 × 600 events, tiny networks.
// Peer (--peers torch): the same training in PyTorch as the same work — our run counts what it asked
// of the backend, phase by phase (bench/lib/workload.ts), and bench/peers/torch_pipeline.py replays
// those steps, passes and EM iterations at the same sizes, at our row's thread count, with its BLAS
// on torch's threads and on one, the faster run being the peer row (peers/torch.ts fasterBlas).
import type { TrainOptions } from '../../bindings/pipeline/types.js';
import { BloodCellPipeline, type Reference, type SampleInput } from '../../bindings/pipeline/index.js';
import { TRAINING_DEFAULTS } from '../../bindings/pipeline/train-spec.js';
import { simulateSample } from '../../bindings/simulate/index.js';
import { peakRssMiB, type E2EBench, type E2EResult } from '../lib/e2e.js';
import { recordWorkload, type Workload } from '../lib/workload.js';
import { fasterBlas, runTorchPipeline, type TorchPipelineRun } from '../peers/torch.js';

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
  stage = '';
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

/** The PyTorch replay of one of our runs' work (bench/peers/torch_pipeline.py), as a peer row: the
 *  faster of its BLAS on torch's threads and on one (fasterBlas). */
function torchRow(log: (m: string) => void, job: Parameters<typeof runTorchPipeline>[0], events: number): E2EResult {
  const base = { scenario: 'train-pipeline', backend: `torch ${job.threads}t`, metric: 'events/s', peakRssMiB: peakRssMiB(), peer: 'torch' as const };
  const phases = (r: TorchPipelineRun) => Object.entries(r.phases).map(([p, t]) => `${p} ${t.toFixed(1)} s`).join(', ');
  try {
    const got = fasterBlas(job.threads, (blasThreads) => {
      const r = runTorchPipeline({ ...job, blasThreads });
      if (!('why' in r)) log(`train-pipeline torch ${job.threads}t, BLAS ${blasThreads}t: ${events} events in ${r.seconds.toFixed(1)} s (${phases(r)})`);
      return r;
    });
    if ('why' in got) return { ...base, value: NaN, seconds: NaN, na: got.why };
    const { best, blasThreads, others } = got;
    return {
      ...base, value: events / best.seconds, seconds: best.seconds,
      note: `PyTorch ${best.torch}, BLAS ${best.blas.split(',')[0]} on ${blasThreads} thread(s)${others ? ` (${others})` : ''}, EM in ${job.emDtype}; replays our run's work (${replayCoverage(job.workload, best.flop)}): ${phases(best)}`,
    };
  } catch (e) {
    return { ...base, value: NaN, seconds: NaN, na: (e as Error).message.split('\n')[0].slice(0, 200) };
  }
}

/** The replayed networks' GEMM FLOP against what our run's GEMMs counted, and the EM and k-means
 *  runs replayed. */
function replayCoverage(w: Workload, flop: number): string {
  const ours = Object.values(w.phases).reduce((a, p) => a + p.gemmFlop, 0);
  return `network GEMM FLOP ${(100 * flop / ours).toFixed(0)} % of ours, ${w.em.length} EM and ${w.kmeans.length} k-means runs`;
}

const bench: E2EBench = {
  name: 'train-pipeline',
  description: "two-stage pipeline training events/s on the demo's cohort at the default options, with seconds per phase",
  async run(ctx) {
    const { inputs, refs } = cohort(ctx.quick);
    const perSample = (ctx.quick ? QUICK_OPTIONS.cellsPerSample : undefined) ?? TRAINING_DEFAULTS.cellsPerSample;
    const events = inputs.reduce((a, s) => a + Math.min(s.rows, perSample), 0);
    const rows: E2EResult[] = [];
    const torchAt = new Set<number>();
    for (const lb of ctx.backends) {
      if (!lb.be || lb.software || lb.config.choice === 'reference') continue;
      const clock = new PhaseClock();
      const options = { ...TRAINING_DEFAULTS, ...(ctx.quick ? QUICK_OPTIONS : {}) };
      const { be, workload } = recordWorkload(lb.be, options.batchSize, () => clock.stage || 'prepare');
      const t0 = performance.now();
      // force: the bench times training; a quick cohort this small need not pass the quality gate.
      const pipe = await BloodCellPipeline.train(inputs, refs, {
        ...(ctx.quick ? QUICK_OPTIONS : {}), backend: be, force: true, onProgress: (p) => clock.mark(p.stage),
      });
      clock.stop();
      const seconds = (performance.now() - t0) / 1e3;
      const features = pipe.meta.features;
      pipe.dispose();
      ctx.log(`train-pipeline ${lb.config.label}: ${events} events in ${seconds.toFixed(1)} s (${clock.summary()})`);
      rows.push({
        scenario: 'train-pipeline', backend: lb.config.label, metric: 'events/s', value: events / seconds, seconds, peakRssMiB: peakRssMiB(),
        note: clock.summary(),
      });
      const threads = lb.config.threads;
      if (ctx.peers.includes('torch') && !torchAt.has(threads)) {
        torchAt.add(threads);
        rows.push(torchRow(ctx.log, { threads, blasThreads: threads, features, dims: options.dims, lr: 1e-3, emDtype: 'float32', workload }, events));
      }
    }
    return rows;
  },
};
export default bench;
