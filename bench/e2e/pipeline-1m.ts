// End-to-end: two-stage pipeline inference (BloodCellPipeline.classify) over 1M simulated cells,
// 50k rows per classify call, on each wasm backend config the runner loaded (1t, 2t, relaxed…).
// What is timed: classify only (preprocess, both encoders, softAssign, gmmLogResp, the per-chunk EM
// of the red-cell proportions, per-cell probabilities and counts). What is NOT timed: training.
// The pipeline is trained once on a tiny simulated cohort with few epochs, at the default encoder
// widths (256-64-10, 24 stage-2 components) so inference does the work of a real model; its
// accuracy is irrelevant here. The cells come from a pool of 4 simulated 50k-cell samples cycled
// through (simulating 1M distinct cells costs ~10 s and 512 MB and adds nothing to what is timed).
// Sample-parallel rows ("wasm 2t: 2 workers × 1t (sample-parallel)"): the same calls' samples given
// all at once to ClassifyWorkers, one pipeline per core, each on a 1-thread backend of that
// flavour; what classify on a batch of samples can reach, where in-op threading is capped by
// classify's serial host work. Their label starts "<flavour> <cores>t" so the
// runner scales the ceiling by all the threads they use.
// Also exports the helpers fcs-10m.ts shares (the runner only reads the default export).
import { availableParallelism } from 'node:os';
import type { ComputeBackend } from '../../bindings/backend.js';
import { BloodCellPipeline, type Reference, type SampleInput, type TrainOptions } from '../../bindings/pipeline/index.js';
import { ClassifyWorkers } from '../../bindings/pipeline/classify-workers.js';
import { simulateSample } from '../../bindings/simulate/index.js';
import { peakRssMiB, type E2EBench, type E2EResult } from '../lib/e2e.js';

/** Train settings: default widths (the inference cost of a real model), minimal epochs. */
export function benchTrainOptions(quick: boolean): Omit<TrainOptions, 'backend'> {
  return quick
    ? { seed: 5, dims: [32, 16, 8], epochs: 1, stage2PretrainEpochs: 1, clusterIterations: 30, stage2Epochs: 1, stage2Components: 6, cellsPerSample: 400, batchSize: 128 }
    : { seed: 5, epochs: 2, stage2PretrainEpochs: 1, clusterIterations: 150, stage2Epochs: 2, cellsPerSample: 1500, batchSize: 256 };
}

/** Trains the bench's throw-away pipeline on a tiny simulated cohort (4 samples). */
export async function trainBenchPipeline(be: ComputeBackend, quick: boolean): Promise<BloodCellPipeline> {
  const cells = quick ? 600 : 2000;
  const sims = Array.from({ length: 4 }, (_, i) => simulateSample({ species: 'dog', cells, seed: 77, sampleIndex: i }));
  const samples: SampleInput[] = sims.map((s, i) => ({ id: `train${i}`, rows: s.cells, cols: s.features.length, data: s.signals }));
  const refs = new Map<string, Reference>(sims.map((s, i) => [`train${i}`, { plt_pct: s.reference.pltPct, retic_pct: s.reference.reticPct, clump_pct: s.reference.clumpPct }]));
  // force: the bench times classification; a quick model this small need not pass the quality gate.
  return BloodCellPipeline.train(samples, refs, { ...benchTrainOptions(quick), backend: be, force: true });
}

/** A pool of simulated samples (distinct seeds) whose signals are cycled through as input chunks. */
export function cellPool(count: number, cellsEach: number, seed = 901): Float32Array[] {
  return Array.from({ length: count }, (_, i) => simulateSample({ species: 'dog', cells: cellsEach, seed, sampleIndex: 100 + i }).signals);
}

export const FEATURES = 128;

/** Nominal work of classify per cell: the encoder GEMMs of both stages (2·in·out per layer, input
 *  128 features, the bench pipeline's widths). The host-side EM, the soft assignment, the GMM
 *  densities and the per-cell probability rows are NOT counted, so % ceiling is a lower bound. */
export function classifyFlop(quick: boolean): { perCell: number; counted: string } {
  const widths = [FEATURES, ...(benchTrainOptions(quick).dims ?? [256, 64, 10])];
  const perStage = widths.slice(1).reduce((s, out, l) => s + 2 * widths[l] * out, 0);
  return { perCell: 2 * perStage, counted: `${(2 * perStage / 1e3).toFixed(0)} kFLOP/cell = both stages' encoder GEMMs (${widths.join('-')}); EM, densities and host work not counted` };
}

/** Why these rows have no peer ratio. */
export const NO_PIPELINE_PEER = 'no peer runs the two-stage pipeline (encoder-1m compares the encoder part)';

/** The timed calls: `cells` cells as samples of `chunk` rows cycled from the pool. */
function callSamples(pool: Float32Array[], cells: number, chunk: number): SampleInput[] {
  const poolRows = pool[0].length / FEATURES;
  const out: SampleInput[] = [];
  for (let done = 0, k = 0; done < cells; k++) {
    const rows = Math.min(chunk, poolRows, cells - done);
    out.push({ id: `c${k}`, rows, cols: FEATURES, data: pool[k % pool.length].subarray(0, rows * FEATURES) });
    done += rows;
  }
  return out;
}

/** A small first sample per thread: JIT tiers, first-touch pages. */
const warmUp = (calls: SampleInput[]) => ({ ...calls[0], rows: Math.min(calls[0].rows, 4096), data: calls[0].data.subarray(0, Math.min(calls[0].rows, 4096) * FEATURES) });

async function timeClassify(pipe: BloodCellPipeline, calls: SampleInput[]): Promise<number> {
  await pipe.classify(warmUp(calls));
  let sink = 0;
  const t0 = performance.now();
  for (const c of calls) sink += (await pipe.classify(c)).summary.counts.platelet;
  const s = (performance.now() - t0) / 1e3;
  if (!(sink >= 0)) throw new Error('classify returned no counts');
  return s;
}

/** Full-size samples each worker classifies untimed first: a worker's isolate starts with a cold
 *  JIT, while the in-process rows run in the isolate that trained the pipeline: without the warm-up
 *  the sample-parallel rows would time the JIT as well. */
const WORKER_WARM_UP_SAMPLES = 4;

/** The same calls, all given at once to the workers (in shared memory: read in place, not copied). */
async function timeSampleParallel(workers: ClassifyWorkers, calls: SampleInput[]): Promise<number> {
  for (let r = 0; r < WORKER_WARM_UP_SAMPLES; r++) {
    await Promise.all(Array.from({ length: workers.size }, (_, i) => workers.classify(calls[(r * workers.size + i) % calls.length])));
  }
  const t0 = performance.now();
  const rs = await Promise.all(calls.map((c) => workers.classify(c)));
  const s = (performance.now() - t0) / 1e3;
  if (!rs.every((r, i) => r.summary.id === calls[i].id && r.summary.cells === calls[i].rows)) throw new Error('sample-parallel classify returned wrong samples');
  return s;
}

const bench: E2EBench = {
  name: 'pipeline-1m',
  description: 'two-stage pipeline classify over 1M simulated cells, 50k rows per call (training not timed)',
  async run(ctx) {
    const cells = ctx.quick ? 20_000 : 1_000_000;
    const chunk = ctx.quick ? 10_000 : 50_000;
    const label = `pipeline classify ${ctx.quick ? `${cells / 1000}k` : '1M'} cells (${chunk / 1000}k/call)`;
    const out: E2EResult[] = [];
    const targets = ctx.backends.filter((lb) => lb.be && (lb.config.choice === 'wasm' || lb.config.choice === 'wasm-relaxed'));
    for (const lb of ctx.backends) {
      if (lb.be && !targets.includes(lb)) {
        out.push({ scenario: label, backend: lb.config.label, metric: 'cells/s', value: NaN, seconds: NaN, peakRssMiB: peakRssMiB(),
          na: lb.config.choice === 'reference' ? 'float64 reference: far too slow at this size' : 'only the wasm configs are timed in this row' });
      }
    }
    if (!targets.length) return out;
    ctx.log(`e2e ${label}: training the throw-away pipeline on ${targets[0].config.label}`);
    const t0 = performance.now();
    const trained = await trainBenchPipeline(targets[0].be!, ctx.quick);
    const trainS = (performance.now() - t0) / 1e3;
    const bytes = trained.toBytes();
    trained.dispose();
    const pool = cellPool(ctx.quick ? 2 : 4, chunk);
    const calls = callSamples(pool, cells, chunk);
    // The sample-parallel rows read the same cells from shared memory: a worker reads them in place,
    // as the in-process rows read theirs (no copy in either; a copy per sample would be timed).
    const sharedCalls = callSamples(pool.map((a) => {
      const s = new Float32Array(new SharedArrayBuffer(a.byteLength));
      s.set(a);
      return s;
    }), cells, chunk);
    const fl = classifyFlop(ctx.quick);
    const note = `classify only; training (${trainS.toFixed(0)} s, tiny cohort, few epochs, dims ${(benchTrainOptions(ctx.quick).dims ?? [256, 64, 10]).join('-')}) not timed; cells cycle a pool of simulated samples`;
    const row = (backend: string, s: number, extra = ''): E2EResult => ({ scenario: label, backend, metric: 'cells/s', value: cells / s, seconds: s, peakRssMiB: peakRssMiB(),
      gflops: (cells * fl.perCell) / s / 1e9, counted: fl.counted, noPeer: NO_PIPELINE_PEER, note: note + extra });
    for (const lb of targets) {
      ctx.log(`e2e ${label} on ${lb.config.label}`);
      const pipe = BloodCellPipeline.fromBytes(bytes, lb.be!, 'bench pipeline');
      try {
        out.push(row(lb.config.label, await timeClassify(pipe, calls)));
      } finally {
        pipe.dispose();
      }
    }
    // Sample-parallel: one row per wasm flavour measured above, workers = cores, 1 thread each.
    const cores = availableParallelism();
    for (const flavour of ['wasm', 'wasm-relaxed'] as const) {
      if (!targets.some((lb) => lb.config.choice === flavour)) continue;
      const backend = `${flavour} ${cores}t: ${cores} workers × 1t (sample-parallel)`;
      ctx.log(`e2e ${label} on ${backend}`);
      let workers: ClassifyWorkers | null = null;
      try {
        workers = await ClassifyWorkers.start(bytes, { workers: cores, threadsPerWorker: 1, relaxed: flavour === 'wasm-relaxed' });
        const s = await timeSampleParallel(workers, sharedCalls);
        const one = out.find((r) => r.backend === `${flavour} 1t` && !r.na);
        const scaling = one ? `; ${((cells / s) / one.value).toFixed(2)}× ${flavour} 1t of this run` : '';
        out.push(row(backend, s, `; the ${calls.length} samples given at once to ClassifyWorkers: ${cores} worker threads, each its own pipeline on a 1-thread ${flavour} backend ` +
          `(${workers.devices[0]}), a sample per idle worker, read in place from shared memory, each worker warmed by ${WORKER_WARM_UP_SAMPLES} untimed samples${scaling}` +
          (flavour === 'wasm-relaxed' ? '; its % ceiling is against the baseline mul+add peak (the runner loaded no config of this label)' : '')));
      } catch (e) {
        out.push({ scenario: label, backend, metric: 'cells/s', value: NaN, seconds: NaN, peakRssMiB: peakRssMiB(), na: (e as Error).message.slice(0, 200) });
      } finally {
        await workers?.close();
      }
    }
    return out;
  },
};
export default bench;
