// Training of the two stages from samples and their references only (docs/method.md). The
// pipeline object (index.ts) adds what needs inference on the trained model: the plot projection,
// the reticulocyte count scale and the quality gate.
import type { ComputeBackend } from '../backend.js';
import type { NamedTensor } from '../io/safetensors.js';
import { LIBRARY_VERSION } from '../models/version.js';
import { applyPreprocessor, fitPreprocessor, toAsinhUnits } from './preprocess.js';
import { columnSources, describeLayout, detectLayout, layoutWidth, type ChannelLayout } from './layout.js';
import { trainStage1 } from './stage1.js';
import { SIDE_COMPONENTS, type PlateletSplit } from './platelet-side.js';
import { RED_SIDE_COMPONENTS } from './red-side.js';
import { trainSampleVade, subsample, RHO_SMOOTHING, THETA_FLOOR, type SampleVadeResult } from './sample-vade.js';
import { nearestLogDensity } from './mixture.js';
import { centreBySample, fitRedLevels, levelInputs, type RedLevels } from './red-levels.js';
import { fitPulseScaler, pulseSummaries, summaryRoles, withPulse, type PulseScaler } from './pulse-features.js';
import { columnMedians, medianOf, LOW_LIK_QUANTILE, type DomainStats } from './quality.js';
import { validateSample } from './validate.js';
import { TRAINING_DEFAULTS as D } from './train-spec.js';
import { CLASSES, type PipelineProgressCallback, type PipelineState, type Reference, type SampleInput, type TrainOptions } from './types.js';

/** Soft and hard EM iterations of each level of stage 2's final decision (red-levels.ts): enough
 *  for a small clump component to settle in its class; beyond that they only cost time. */
const LEVEL_EM_ITERATIONS = 80;
/** Adam's step for stage 2's autoencoder fine-tuning and VaDE: the stage-1 autoencoder's, as
 *  stage 2 starts from its weights. */
const STAGE2_LR = 1e-3;
/** EM of the VaDE mixture's class map (sample-vade.ts): soft and hard iterations, and the training
 *  rows it reads at most (an evenly seeded subsample: the map needs shares, not every event). */
const VADE_MAP_EM = { iterations: 30, rows: 40000 };

export interface TrainedState {
  state: PipelineState;
  /** The training events in the pipeline's column order and asinh units, n × features. */
  units: Float32Array;
  n: number;
  refs: Reference[];
}

/** Trains both stages; the returned state has no plot projection yet and reticScale 1. */
export async function trainState(samples: SampleInput[], references: Map<string, Reference>, opts: TrainOptions): Promise<TrainedState> {
  const be = opts.backend;
  const seed = opts.seed ?? D.seed;
  const dims = opts.dims ?? [...D.dims];
  const batchSize = opts.batchSize ?? D.batchSize;
  const progress = opts.onProgress ?? (() => undefined);
  const { layout, features, sources, refs } = checkedInputs(samples, references, opts);

  // Training rows: a seeded subsample of each sample, normalised.
  const perSample = opts.cellsPerSample ?? D.cellsPerSample;
  const { raw, sampleOf, n } = trainingRows(samples, sources, features, perSample, seed);
  progress({ stage: 'prepare', message: `${samples.length} samples, ${n} training events × ${features} features (${describeLayout(layout)})` });
  const pre = fitPreprocessor(layout, raw, n, features);
  const units = toAsinhUnits(pre, raw, n, features); // in place: raw is in asinh units from here on
  const x = { rows: n, cols: features, data: applyPreprocessor(pre, units, n, features) };

  // Stage 1: clusters, autoencoder epochs.
  const [k1, pretrainEpochs] = [opts.stage1Clusters ?? D.stage1Clusters, opts.epochs ?? D.epochs];
  const s1 = await trainStage1(be, x, sampleOf, refs.map((r) => r.plt_pct / 100), {
    dims, seed, k: k1, pretrainEpochs, batchSize, maxIterations: opts.clusterIterations ?? D.clusterIterations,
    ...plateletSideOptions(layout, units, n, features, opts), onMessage: (message) => progress({ stage: 'stage1-map', message }),
    onProgress: (p) => progress(p.stage === 'pretrain'
      ? { stage: 'stage1-pretrain', epoch: p.epoch, of: pretrainEpochs, losses: p.losses }
      : { stage: `stage1-${p.stage === 'cluster' ? 'idec' : p.stage}`, epoch: p.epoch, losses: p.losses }),
  });
  try {
    progress({ stage: 'stage1-map', message: stage1Message(s1.pltMembers, k1, s1.sse, s1.side, s1.redSide) });

    // Stage 2 on the events stage 1 calls red cells.
    const redRows: number[] = [];
    for (let i = 0; i < n; i++) if (s1.pPlt[i] < 0.5 && !(s1.redKeep && s1.redKeep[i] >= 0.5)) redRows.push(i);
    if (redRows.length < 50) throw new Error(`train: stage 1 left only ${redRows.length} red-cell events`);
    const x2 = new Float32Array(redRows.length * features);
    const sampleOf2 = new Int32Array(redRows.length);
    redRows.forEach((r, i) => {
      x2.set(x.data.subarray(r * features, (r + 1) * features), i * features);
      sampleOf2[i] = sampleOf[r];
    });
    const present = new Set(sampleOf2);
    if (present.size < samples.length) throw new Error(`train: stage 1 found no red cells in ${samples.length - present.size} sample(s)`);
    const theta = refs.map(redProportions);
    const ae2 = await s1.idec.ae.clone();
    const m2 = { rows: redRows.length, cols: features, data: x2 };
    const [e2, k2, vadeEpochs] = [opts.stage2PretrainEpochs ?? D.stage2PretrainEpochs, opts.stage2Components ?? D.stage2Components, opts.stage2Epochs ?? D.stage2Epochs];
    let vade;
    try {
      await ae2.pretrain(m2, { epochs: e2, batchSize, lr: STAGE2_LR, onProgress: (p) => progress({ stage: 'stage2-pretrain', epoch: p.epoch, of: e2, losses: p.losses }) }, 'stage 2 autoencoder');
      vade = await trainSampleVade(be, ae2, m2, sampleOf2, theta, {
        components: k2, epochs: vadeEpochs, batchSize, lr: STAGE2_LR, seed,
        emIterations: VADE_MAP_EM.iterations, emRows: VADE_MAP_EM.rows,
        onEpoch: (epoch, of, losses) => progress({ stage: 'stage2-vade', epoch, of, losses }),
        onMessage: (message) => progress({ stage: 'stage2-map', message }),
      });
    } finally {
      ae2.dispose();
    }
    // Stage 2's final decision over [embedding, pulse summaries] in two reference-constrained
    // levels (red-levels.ts), started from the trained VaDE's components.
    const d = dims[dims.length - 1];
    const { pulse, levels, domain } = await stage2Levels(be, layout, units, features, redRows, sampleOf2, theta, vade, d, refs, samples, progress);

    const stage1Encoder = encoderTensors(await s1.idec.ae.exportState(), 'stage1');
    const stage2Encoder = encoderTensors(vade.encoderState, 'stage2');
    const state: PipelineState = {
      meta: {
        name: opts.name ?? 'hemaclust blood-cell pipeline', species: opts.species, features, classes: [...CLASSES],
        createdAt: new Date().toISOString(), version: LIBRARY_VERSION, trainedOn: { samples: samples.length, cells: n },
        options: { seed, dims, batchSize, cellsPerSample: perSample, epochs: pretrainEpochs, stage2PretrainEpochs: e2, stage1Clusters: k1, stage1Subclusters: s1.side?.mixture.k ?? 0, stage1RedSide: s1.redSide !== null,
          clusterIterations: opts.clusterIterations ?? D.clusterIterations, stage2Epochs: vadeEpochs, stage2Components: k2 },
      },
      layout, pre, dims,
      stage1: { encoder: stage1Encoder, centers: Float32Array.from((await be.download(s1.idec.mu!)) as Float32Array), k: k1, alpha: s1.idec.alpha, pltMembers: s1.pltMembers, side: s1.side, redSide: s1.redSide },
      stage2: { encoder: stage2Encoder, mixture: vade.mixture, thetaPrior: [0, 1, 2].map((c) => theta.reduce((a, t) => a + t[c], 0) / theta.length), pulse, levels, reticScale: 1 },
      pca: null, domain,
    };
    return { state, units, n, refs };
  } finally {
    s1.idec.dispose();
  }
}

const minMax = (refs: Reference[], f: (...v: number[]) => number): Reference =>
  ({ plt_pct: f(...refs.map((r) => r.plt_pct)), retic_pct: f(...refs.map((r) => r.retic_pct)), clump_pct: f(...refs.map((r) => r.clump_pct)) });

/** The samples' layout and column sources, and their references, checked. */
function checkedInputs(samples: SampleInput[], references: Map<string, Reference>, opts: TrainOptions) {
  if (samples.length < 2) throw new Error(`train: need at least 2 samples with references (got ${samples.length}): the references of several samples define the classes`);
  const layout = detectLayout(samples[0].columns ?? null, samples[0].cols, opts.channels ?? {});
  const features = layoutWidth(layout, samples[0].cols);
  const sources = samples.map((s) => {
    validateSample(s);
    return columnSources(layout, s.columns, s.cols, `sample '${s.id}'`);
  });
  const refs: Reference[] = [];
  for (const s of samples) {
    const r = references.get(s.id);
    if (!r) throw new Error(`train: no reference for sample '${s.id}'`);
    for (const key of ['plt_pct', 'retic_pct', 'clump_pct'] as const) {
      if (!(Number.isFinite(r[key]) && r[key] >= 0 && r[key] <= 100)) throw new Error(`train: reference ${key} of sample '${s.id}' must be a percentage (got ${r[key]})`);
    }
    refs.push(r);
  }

  return { layout, features, sources, refs };
}

/** Stage 1's splits: the platelet side reads every channel's pulse summaries where the layout has
 *  them (else stage 1's embedding), its component count the option's or chosen by the references;
 *  the red side's split needs the summaries and can be turned off (stage1RedSide). */
function plateletSideOptions(layout: ChannelLayout, units: Float32Array, n: number, features: number, opts: TrainOptions) {
  const components = opts.stage1Subclusters;
  const P = summaryRoles(layout).length;
  return {
    sideInput: P > 0 ? { data: pulseSummaries(layout, units, features, Int32Array.from({ length: n }, (_, i) => i)), width: P, input: 'pulse' as const } : null,
    sideComponents: components !== undefined ? [components] : SIDE_COMPONENTS,
    redSideComponents: P > 0 && opts.stage1RedSide !== false ? RED_SIDE_COMPONENTS : [],
    side: { emIterations: LEVEL_EM_ITERATIONS, smoothing: RHO_SMOOTHING, floor: THETA_FLOOR },
  };
}

/** A seeded subsample of each sample's events, in the pipeline's column order: rows and their sample. */
function trainingRows(samples: SampleInput[], sources: ArrayLike<number>[], features: number, perSample: number, seed: number) {
  const picks = samples.map((s, i) => subsample(s.rows, perSample, seed + 7919 * i));
  const n = picks.reduce((a, p) => a + p.length, 0);
  const raw = new Float32Array(n * features);
  const sampleOf = new Int32Array(n);
  let at = 0;
  samples.forEach((s, si) => {
    const src = sources[si];
    for (const r of picks[si]) {
      for (let j = 0; j < features; j++) raw[at * features + j] = s.data[r * s.cols + src[j]];
      sampleOf[at++] = si;
    }
  });
  return { raw, sampleOf, n };
}

/** A sample's (rbc, retic, clump) shares of its red cells from its references. */
function redProportions(r: Reference): number[] {
  const t = [Math.max(0, 100 - r.retic_pct - r.clump_pct), r.retic_pct, r.clump_pct];
  const sum = t[0] + t[1] + t[2] || 1;
  return t.map((v) => v / sum);
}

/** Stage 2's final decision over [embedding, pulse summaries] in two reference-constrained levels
 *  (red-levels.ts), started from the trained VaDE's components, and the training domain the
 *  quality flags compare new samples with. All null for a layout without pulse summaries. */
async function stage2Levels(be: ComputeBackend, layout: ChannelLayout, units: Float32Array, features: number, redRows: number[], sampleOf2: Int32Array, theta: number[][],
  vade: SampleVadeResult, d: number, refs: Reference[], samples: SampleInput[], progress: PipelineProgressCallback) {
  const roles = summaryRoles(layout);
  const P = roles.length;
  let pulse: PulseScaler | null = null;
  let levels: RedLevels | null = null;
  let domain: DomainStats | null = null;
  if (P > 0) {
    const em = vade.emRows;
    const f = pulseSummaries(layout, units, features, Int32Array.from(em, (i) => redRows[i]));
    const sEm = Int32Array.from(em, (i) => sampleOf2[i]);
    const fc = centreBySample(roles, f, em.length, sEm, theta.length);
    pulse = fitPulseScaler(fc, em.length, P);
    const zp = withPulse(vade.emEmbedding, d, fc, P, pulse, em.length);
    levels = await fitRedLevels(be, vade.mixture, vade.emEmbedding, zp, roles, em.length, sEm, theta,
      { emIterations: LEVEL_EM_ITERATIONS, smoothing: RHO_SMOOTHING, floor: THETA_FLOOR, centred: true, rotate: true }, (message) => progress({ stage: 'stage2-map', message }));
    const { median, spread } = columnMedians(f, em.length, P);
    const dens = nearestLogDensity(levels.a, levelInputs(levels, zp, em.length).zA, em.length).sort();
    domain = {
      refMin: minMax(refs, Math.min), refMax: minMax(refs, Math.max), eventsMedian: medianOf(samples.map((s) => s.rows)),
      summaryMedian: median, summarySpread: spread, logDensityCut: dens[Math.floor(LOW_LIK_QUANTILE * dens.length)],
    };
  }

  return { pulse, levels, domain };
}

/** An autoencoder state's encoder layers under the stage's prefix ('stage1.encoder.0.weight', …). */
function encoderTensors(state: Record<string, NamedTensor>, stage: string): Record<string, NamedTensor> {
  const out: Record<string, NamedTensor> = {};
  for (const [name, t] of Object.entries(state)) if (name.startsWith('encoder.')) out[`${stage}.${name}`] = t;
  return out;
}

function stage1Message(pltMembers: boolean[], k1: number, sse: number, side: PlateletSplit | null, red: PlateletSplit | null): string {
  const which = (m: boolean[]) => m.map((v, j) => (v ? j : -1)).filter((j) => j >= 0).join(',');
  const plt = side ? Array.from({ length: side.mixture.k }, (_, j) => side.mixture.rho[j] > 0) : [];
  return `platelet clusters: [${which(pltMembers)}] of ${k1} (fit SSE ${sse.toExponential(2)})` +
    (side ? `; platelet side (${side.input}): platelet components [${which(plt)}] of ${side.mixture.k} (reference fit ${side.fit.toFixed(3)})` : '') +
    (red ? `; red side: a platelet | red split of ${red.mixture.k} components` : '');
}
