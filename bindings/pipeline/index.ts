// The two-stage blood-cell pipeline (DESIGN.md; arXiv 2509.19399), shared by the CLI, the server
// and the browser build. No Node-only module is imported statically here (file helpers: node.ts).
//
//   stage 1  autoencoder + IDEC on all events → platelet vs red cell (stage1.ts)
//   stage 2  VaDE with per-sample mixture weights on red-cell events (sample-vade.ts, mixture.ts);
//            its components, carried over to per-event pulse summaries, decide single | clumped_rbc
//            and then rbc | reticulocyte (pulse-features.ts, red-levels.ts)
//
// Supervision: ONLY the sample-level references (plt %, retic %, clump %). `train` takes no
// per-cell labels at all. At inference a new sample's red-cell class proportions are estimated by
// EM over its cells with the mixture components fixed (mixture.ts: estimateProportions; the EM,
// SQUAREM-accelerated, in proportions.ts), and the per-cell posteriors use them as that sample's
// prior.
//
// Debris and coincidence events are no class of their own: every event gets probabilities over
// the 4 classes. Debris (small fragments) falls on the platelet side of stage 1 but outside the
// platelet sub-clusters chosen by the references (stage1.ts) and is reported with "rbc" (neither a
// platelet nor a flagged red cell); coincidences (two cells in one event) mostly land in "rbc".
// Percentages use the analyzer's denominators (sample.ts): plt % over all events, retic % and
// clump % over the events classified as red cells (which therefore include debris).
// The reticulocyte count is the argmax count scaled by a factor fitted at training from the
// training samples' references (retic-count.ts; bench/NOTES-pipeline.md §19).
import type { ComputeBackend, Tensor } from '../backend.js';
import { encoderLayers, type ResolvedAeConfig } from '../models/autoencoder.js';
import { Mlp } from '../models/mlp.js';
import { decodeSafetensors, encodeSafetensors, type NamedTensor } from '../io/safetensors.js';
import { LIBRARY_VERSION } from '../models/version.js';
import { applyPreprocessor, fitPreprocessor, type Preprocessor } from './preprocess.js';
import { trainStage1, subclusterKeepOnBackend, type PlateletSubclusters } from './stage1.js';
import { trainSampleVade, subsample, RHO_SMOOTHING, THETA_FLOOR } from './sample-vade.js';
import { classLogLikOnBackend, selectRows, type ClassMixture } from './mixture.js';
import { proportionsFromRelativeLik, relativeLikelihoods } from './proportions.js';
import { classifyRedFromClassLogLik, fitRedLevels, levelAColumns, levelBColumns, levelInputsFromPulse, type RedLevels } from './red-levels.js';
import { fitPulseScaler, pulseFeatureCount, pulseSummaries, withPulse, type PulseScaler } from './pulse-features.js';
import { fitPca2, project2, type Projection2d } from './pca.js';
import { fitReticScale, scaleReticCount } from './retic-count.js';

export const CLASSES = ['platelet', 'rbc', 'reticulocyte', 'clumped_rbc'] as const;
export type ClassName = (typeof CLASSES)[number];
/** Stage 2's classes, in the order of its proportions θ. */
export const RED_CLASSES = ['rbc', 'reticulocyte', 'clumped_rbc'] as const;
/** /3 adds stage 2's two-level decision over pulse summaries (stage2.pulse.*, stage2.a.*, stage2.b.*);
 *  /2 files are refused. */
export const PIPELINE_FORMAT = 'hemaclust-pipeline/3';
/** Soft and hard EM iterations of each level of stage 2's final decision (red-levels.ts). 30 left
 *  a clump component with rbc on both dog seeds; 80 moved it (macro-F1 +0.01–0.02); 150 changed
 *  nothing more and cost 25 % more training (bench/NOTES-pipeline.md §12). */
const LEVEL_EM_ITERATIONS = 80;

export interface SampleInput {
  id: string;
  rows: number;
  cols: number;
  /** rows × cols raw analyzer signals, row-major. */
  data: Float32Array;
}

/** Sample-level reference values in percent (denominators as in reference.csv). */
export interface Reference {
  plt_pct: number;
  retic_pct: number;
  clump_pct: number;
}

export interface SampleSummary {
  id: string;
  cells: number;
  /** Events per class by each event's most probable class, except that the rbc | reticulocyte
   *  split is scaled by the model's reticulocyte count scale (retic-count.ts): argmax counting
   *  under-calls reticulocytes. */
  counts: Record<ClassName, number>;
  percentages: Reference;
}

export interface ClassifyResult {
  summary: SampleSummary;
  /** cells × 4, CLASSES order. */
  probabilities: Float32Array;
  /** cells × 2: PCA of the two stages' embeddings, for plots. */
  embedding2d?: Float32Array;
}

export interface PipelineProgress {
  stage: string;
  epoch?: number;
  of?: number;
  losses?: Record<string, number>;
  message?: string;
}
export type PipelineProgressCallback = (p: PipelineProgress) => void;

export interface TrainOptions {
  backend: ComputeBackend;
  seed?: number;
  /** Encoder widths (hidden…, embedding), shared by both stages (default 256,64,10). */
  dims?: number[];
  /** Autoencoder pretraining epochs of stage 1 (default 12) and of stage 2's fine-tuning (default 4). */
  epochs?: number;
  stage2PretrainEpochs?: number;
  /** IDEC iterations at most (default 1200), clusters (default 4). */
  clusterIterations?: number;
  stage1Clusters?: number;
  /** Components of the platelet side's sub-clustering that sets debris apart (default 6; 0: off). */
  stage1Subclusters?: number;
  /** Stage-2 VaDE ELBO epochs (default 10) and mixture components (default 24). */
  stage2Epochs?: number;
  stage2Components?: number;
  batchSize?: number;
  /** Training cells drawn per sample (default 4000; all when the sample is smaller). */
  cellsPerSample?: number;
  name?: string;
  species?: string;
  onProgress?: PipelineProgressCallback;
}

export interface PipelineMeta {
  name: string;
  species?: string;
  features: number;
  classes: readonly string[];
  createdAt: string;
  version: string;
  trainedOn?: { samples: number; cells: number };
  options?: Record<string, unknown>;
}

/** Everything the pipeline needs at inference, on the host (what the model file holds). */
interface PipelineState {
  meta: PipelineMeta;
  pre: Preprocessor;
  dims: number[];
  stage1: { encoder: Record<string, NamedTensor>; centers: Float32Array; k: number; alpha: number; pltMembers: boolean[]; sub: PlateletSubclusters | null };
  /** mixture: VaDE's, over the embedding (the decision when the input has no channel blocks);
   *  levels: the decision over [embedding, pulse summaries] (red-levels.ts), with the pulse scaler. */
  stage2: { encoder: Record<string, NamedTensor>; mixture: ClassMixture; thetaPrior: number[]; pulse: PulseScaler | null; levels: RedLevels | null;
    /** Scale of the counted reticulocytes (retic-count.ts); 1 = the per-event argmax counts as they are. */
    reticScale: number };
  pca: Projection2d | null;
}

export class BloodCellPipeline {
  private enc1: Mlp;
  private enc2: Mlp;
  private mu1: Tensor;
  /** The preprocessor's per-feature mean and std, on the backend (asinhStandardize's inputs). */
  private preMean: Tensor;
  private preStd: Tensor;

  private constructor(readonly backend: ComputeBackend, private state: PipelineState) {
    const be = backend;
    // The host mixtures are kept at f32 precision, exactly what the model file stores, so a trained
    // pipeline and its saved-and-loaded copy give bit-identical results.
    const levels = state.stage2.levels;
    const mixtures = [state.stage2.mixture, ...(levels ? [levels.a, levels.b] : []), ...(state.stage1.sub ? [state.stage1.sub.mixture] : [])];
    for (const mix of mixtures) for (const key of ['mu', 'logVar', 'rho'] as const) mix[key] = Float64Array.from(Float32Array.from(mix[key]));
    const layers = encoderLayers(resolvedConfig(state.meta.features, state.dims));
    this.enc1 = new Mlp(be, 'stage1.encoder', layers);
    this.enc1.importState(state.stage1.encoder, 'stage 1');
    this.enc2 = new Mlp(be, 'stage2.encoder', layers);
    this.enc2.importState(state.stage2.encoder, 'stage 2');
    const d = state.dims[state.dims.length - 1];
    this.mu1 = be.create([state.stage1.k, d]);
    be.upload(this.mu1, state.stage1.centers);
    this.preMean = be.create([state.meta.features]);
    be.upload(this.preMean, state.pre.mean);
    this.preStd = be.create([state.meta.features]);
    be.upload(this.preStd, state.pre.std);
  }

  get meta(): PipelineMeta {
    return this.state.meta;
  }

  /** Trains both stages from samples and their references (and nothing else). */
  static async train(samples: SampleInput[], references: Map<string, Reference>, opts: TrainOptions): Promise<BloodCellPipeline> {
    const be = opts.backend;
    const seed = opts.seed ?? 1;
    const dims = opts.dims ?? [256, 64, 10];
    const batchSize = opts.batchSize ?? 256;
    const progress = opts.onProgress ?? (() => undefined);
    if (samples.length < 2) throw new Error(`train: need at least 2 samples with references (got ${samples.length}): the references of several samples define the classes`);
    const features = samples[0].cols;
    const refs: Reference[] = [];
    for (const s of samples) {
      validateSample(s, features);
      const r = references.get(s.id);
      if (!r) throw new Error(`train: no reference for sample '${s.id}'`);
      for (const key of ['plt_pct', 'retic_pct', 'clump_pct'] as const) {
        if (!(Number.isFinite(r[key]) && r[key] >= 0 && r[key] <= 100)) throw new Error(`train: reference ${key} of sample '${s.id}' must be a percentage (got ${r[key]})`);
      }
      refs.push(r);
    }

    // Training rows: a seeded subsample of each sample, normalised.
    const perSample = opts.cellsPerSample ?? 4000;
    const picks = samples.map((s, i) => subsample(s.rows, perSample, seed + 7919 * i));
    const n = picks.reduce((a, p) => a + p.length, 0);
    const raw = new Float32Array(n * features);
    const sampleOf = new Int32Array(n);
    let at = 0;
    samples.forEach((s, si) => {
      for (const r of picks[si]) {
        raw.set(s.data.subarray(r * features, (r + 1) * features), at * features);
        sampleOf[at++] = si;
      }
    });
    progress({ stage: 'prepare', message: `${samples.length} samples, ${n} training events × ${features} features` });
    const pre = fitPreprocessor([{ rows: n, cols: features, data: raw }]);
    const x = { rows: n, cols: features, data: applyPreprocessor(pre, raw, n, features) };

    // Stage 1.
    const k1 = opts.stage1Clusters ?? 4;
    const pretrainEpochs = opts.epochs ?? 12;
    const s1 = await trainStage1(be, x, sampleOf, refs.map((r) => r.plt_pct / 100), {
      dims, seed, k: k1, pretrainEpochs, batchSize, maxIterations: opts.clusterIterations ?? 1200, subclusters: opts.stage1Subclusters ?? 6,
      onProgress: (p) => progress(p.stage === 'pretrain'
        ? { stage: 'stage1-pretrain', epoch: p.epoch, of: pretrainEpochs, losses: p.losses }
        : { stage: `stage1-${p.stage === 'cluster' ? 'idec' : p.stage}`, epoch: p.epoch, losses: p.losses }),
    });
    try {
      progress({ stage: 'stage1-map', message: `platelet clusters: [${s1.pltMembers.map((m, j) => (m ? j : -1)).filter((j) => j >= 0).join(',')}] of ${k1} (fit SSE ${s1.sse.toExponential(2)})` +
        (s1.sub ? `; platelet-side sub-clusters kept: [${s1.sub.members.map((m, j) => (m ? j : -1)).filter((j) => j >= 0).join(',')}] of ${s1.sub.mixture.k} (fit SSE ${s1.sub.sse.toExponential(2)})` : '') });

      // Stage 2 on the events stage 1 calls red cells.
      const redRows: number[] = [];
      for (let i = 0; i < n; i++) if (s1.pPlt[i] < 0.5) redRows.push(i);
      if (redRows.length < 50) throw new Error(`train: stage 1 left only ${redRows.length} red-cell events`);
      const x2 = new Float32Array(redRows.length * features);
      const sampleOf2 = new Int32Array(redRows.length);
      redRows.forEach((r, i) => {
        x2.set(x.data.subarray(r * features, (r + 1) * features), i * features);
        sampleOf2[i] = sampleOf[r];
      });
      const present = new Set(sampleOf2);
      if (present.size < samples.length) throw new Error(`train: stage 1 found no red cells in ${samples.length - present.size} sample(s)`);
      const theta = refs.map((r) => {
        const t = [Math.max(0, 100 - r.retic_pct - r.clump_pct), r.retic_pct, r.clump_pct];
        const sum = t[0] + t[1] + t[2] || 1;
        return t.map((v) => v / sum);
      });
      const ae2 = await s1.idec.ae.clone();
      const m2 = { rows: redRows.length, cols: features, data: x2 };
      const e2 = opts.stage2PretrainEpochs ?? 4;
      let vade;
      try {
        await ae2.pretrain(m2, { epochs: e2, batchSize, lr: 1e-3, onProgress: (p) => progress({ stage: 'stage2-pretrain', epoch: p.epoch, of: e2, losses: p.losses }) }, 'stage 2 autoencoder');
        vade = await trainSampleVade(be, ae2, m2, sampleOf2, theta, {
          components: opts.stage2Components ?? 24, epochs: opts.stage2Epochs ?? 10, batchSize, lr: 1e-3, seed,
          emIterations: 30, emRows: 40000,
          onEpoch: (epoch, of, losses) => progress({ stage: 'stage2-vade', epoch, of, losses }),
          onMessage: (message) => progress({ stage: 'stage2-map', message }),
        });
      } finally {
        ae2.dispose();
      }
      // Stage 2's final decision over [embedding, pulse summaries] in two reference-constrained
      // levels (red-levels.ts), started from the trained VaDE's components.
      const d = dims[dims.length - 1];
      const P = pulseFeatureCount(features);
      let pulse: PulseScaler | null = null;
      let levels: RedLevels | null = null;
      if (P > 0) {
        const em = vade.emRows;
        const f = pulseSummaries(raw, features, Int32Array.from(em, (i) => redRows[i]), pre.scale);
        pulse = fitPulseScaler(f, em.length, P);
        const zp = withPulse(vade.emEmbedding, d, f, P, pulse, em.length);
        const sEm = Int32Array.from(em, (i) => sampleOf2[i]);
        levels = fitRedLevels(vade.mixture, vade.emEmbedding, zp, d + P, em.length, sEm, theta,
          { emIterations: LEVEL_EM_ITERATIONS, smoothing: RHO_SMOOTHING, floor: THETA_FLOOR }, (message) => progress({ stage: 'stage2-map', message }));
      }

      const encState = await s1.idec.ae.exportState();
      const stage1Encoder: Record<string, NamedTensor> = {};
      for (const [name, t] of Object.entries(encState)) if (name.startsWith('encoder.')) stage1Encoder[`stage1.${name}`] = t;
      const stage2Encoder: Record<string, NamedTensor> = {};
      for (const [name, t] of Object.entries(vade.encoderState)) stage2Encoder[`stage2.${name}`] = t;
      const thetaPrior = [0, 1, 2].map((c) => theta.reduce((a, t) => a + t[c], 0) / theta.length);
      const state: PipelineState = {
        meta: {
          name: opts.name ?? 'hemaclust blood-cell pipeline', species: opts.species, features, classes: [...CLASSES],
          createdAt: new Date().toISOString(), version: LIBRARY_VERSION, trainedOn: { samples: samples.length, cells: n },
          options: { seed, dims, batchSize, cellsPerSample: perSample, epochs: pretrainEpochs, stage2PretrainEpochs: e2, stage1Clusters: k1, stage1Subclusters: opts.stage1Subclusters ?? 6,
            clusterIterations: opts.clusterIterations ?? 1200, stage2Epochs: opts.stage2Epochs ?? 10, stage2Components: opts.stage2Components ?? 24 },
        },
        pre, dims,
        stage1: { encoder: stage1Encoder, centers: Float32Array.from((await be.download(s1.idec.mu!)) as Float32Array), k: k1, alpha: s1.idec.alpha, pltMembers: s1.pltMembers, sub: s1.sub },
        stage2: { encoder: stage2Encoder, mixture: vade.mixture, thetaPrior, pulse, levels, reticScale: 1 },
        pca: null,
      };
      const pipe = new BloodCellPipeline(be, state);
      // The plot projection, fitted on (a subsample of) the training events.
      const sub = subsample(n, 6000, seed);
      const xs = new Float32Array(sub.length * features);
      sub.forEach((r, i) => xs.set(raw.subarray(r * features, (r + 1) * features), i * features));
      const emb = await pipe.infer({ id: 'pca', rows: sub.length, cols: features, data: xs });
      state.pca = fitPca2(emb.joint, sub.length, emb.jointDim);
      // The reticulocyte count's scale, from the training samples' references (retic-count.ts).
      const counted: number[] = [];
      for (const s of samples) counted.push((await pipe.classify(s)).summary.percentages.retic_pct);
      state.stage2.reticScale = fitReticScale(counted, refs.map((r) => r.retic_pct));
      progress({ stage: 'stage2-map', message: `reticulocyte count scale ${state.stage2.reticScale.toFixed(4)} (training references vs argmax counts)` });
      progress({ stage: 'done', message: 'training finished' });
      return pipe;
    } finally {
      s1.idec.dispose();
    }
  }

  /** Stage outputs for every event of a sample (after validation and normalisation). */
  private async infer(sample: SampleInput) {
    const st = this.state;
    const be = this.backend;
    const F = st.meta.features;
    const k1 = st.stage1.k;
    const m = st.stage2.mixture;
    const d = st.dims[st.dims.length - 1];
    const n = sample.rows;
    const q = new Float32Array(n * k1);
    const emb2 = new Float32Array(n * d);
    const joint = new Float32Array(n * 2 * d);
    const emb1 = new Float32Array(n * d);
    // Pulse summaries of every event (stage 2's levels), computed on the backend from the raw chunk
    // already uploaded for normalisation: the pulseSummaries op is the host pulseSummaries in f32.
    const { pulse, levels } = st.stage2;
    const P = pulse && levels ? pulse.mean.length : 0;
    const summaries = new Float32Array(n * P);
    const chunk = 2048;
    const bufs = new Map<number, Tensor[]>();
    try {
      for (let start = 0; start < n; start += chunk) {
        const rows = Math.min(chunk, n - start);
        let b = bufs.get(rows);
        if (!b) bufs.set(rows, (b = [be.create([rows, F]), be.create([rows, F]), be.create([rows, k1]), ...(P ? [be.create([rows, P])] : [])]));
        const [raw, t, qT, pT] = b;
        // Normalisation on the backend (preprocess.ts: applyPreprocessor is the same map on the host).
        be.upload(raw, sample.data.subarray(start * F, (start + rows) * F));
        if (pT) be.pulseSummaries(raw, st.pre.scale, pT);
        be.asinhStandardize(raw, this.preMean, this.preStd, st.pre.scale, t);
        const z1 = this.enc1.forward(t);
        be.softAssign(z1, this.mu1, qT, st.stage1.alpha);
        const z2 = this.enc2.forward(t);
        q.set((await be.download(qT)) as Float32Array, start * k1);
        if (pT) summaries.set((await be.download(pT)) as Float32Array, start * P);
        const a = (await be.download(z1)) as Float32Array;
        const c = (await be.download(z2)) as Float32Array;
        emb1.set(a.subarray(0, rows * d), start * d);
        emb2.set(c.subarray(0, rows * d), start * d);
        // Plain copies: two subarray views per event were the loop's main cost (allocation, GC).
        for (let i = 0; i < rows; i++) {
          const o = (start + i) * 2 * d;
          for (let t = 0; t < d; t++) {
            joint[o + t] = a[i * d + t];
            joint[o + d + t] = c[i * d + t];
          }
        }
      }
    } finally {
      for (const b of bufs.values()) for (const t of b) be.dispose(t);
    }
    // Stage 2: the per-event class log-likelihoods on the backend (classLogLikOnBackend: n × classes
    // come back), then on the host (float64): given the sample's red-cell events, (rbc, retic,
    // clump) posteriors of every event, with the sample's proportions re-estimated by EM on its
    // red events.
    let redPosterior: (red: number[]) => Float64Array;
    if (pulse && levels) {
      const { zA, zB } = levelInputsFromPulse(levels, summaries, pulse, n);
      const LA = await classLogLikOnBackend(be, levels.a, zA, n);
      const LB = await classLogLikOnBackend(be, levels.b, zB, n);
      redPosterior = classifyRedFromClassLogLik(levels, LA, LB, n);
    } else {
      // Class likelihoods of every event exponentiated once; the EM on the red events picks their rows.
      const C = m.classes;
      const e = relativeLikelihoods(await classLogLikOnBackend(be, m, emb2, n), n, C);
      redPosterior = (red) => {
        const { theta } = proportionsFromRelativeLik(C, selectRows(e, C, red), red.length, { init: st.stage2.thetaPrior, accelerate: true });
        return proportionsFromRelativeLik(C, e, n, { init: theta, iterations: 1 }).post;
      };
    }
    return { q, redPosterior, joint, jointDim: 2 * d, emb1 };
  }

  /** Per-event class probabilities, counts and percentages for one sample. */
  async classify(sample: SampleInput, opts: { onProgress?: PipelineProgressCallback } = {}): Promise<ClassifyResult> {
    const st = this.state;
    validateSample(sample, st.meta.features);
    opts.onProgress?.({ stage: 'classify', message: `${sample.id}: ${sample.rows} events` });
    const n = sample.rows;
    const { q, redPosterior, joint, jointDim, emb1 } = await this.infer(sample);
    const k1 = st.stage1.k;
    // P(platelet | platelet side): the chosen platelet-side sub-clusters; the rest is "other".
    const keep = st.stage1.sub ? await subclusterKeepOnBackend(this.backend, st.stage1.sub, emb1, n) : new Float32Array(n).fill(1);
    const pPlt = new Float32Array(n);
    const redIdx: number[] = [];
    for (let i = 0; i < n; i++) {
      let p = 0;
      for (let j = 0; j < k1; j++) if (st.stage1.pltMembers[j]) p += q[i * k1 + j];
      pPlt[i] = p;
      if (p < 0.5) redIdx.push(i);
    }
    // Stage 2: this sample's red-cell proportions by EM over its red-cell events, then posteriors.
    const post = redPosterior(redIdx);
    const probabilities = new Float32Array(n * 4);
    const counts: Record<ClassName, number> = { platelet: 0, rbc: 0, reticulocyte: 0, clumped_rbc: 0 };
    const perClass = new Float64Array(4); // counts in CLASSES order (no per-event allocation)
    const row = new Float64Array(4);
    for (let i = 0; i < n; i++) {
      const p = pPlt[i];
      // Platelet-side events outside the platelet sub-clusters (debris) have no class of their own:
      // they are reported with the rbc (neither platelet nor a flagged red-cell class).
      row[0] = p * keep[i];
      row[1] = (1 - p) * post[i * 3] + p * (1 - keep[i]);
      row[2] = (1 - p) * post[i * 3 + 1];
      row[3] = (1 - p) * post[i * 3 + 2];
      let best = 0;
      for (let c = 0; c < 4; c++) {
        probabilities[i * 4 + c] = row[c];
        if (row[c] > row[best]) best = c;
      }
      perClass[best]++;
    }
    CLASSES.forEach((name, c) => (counts[name] = perClass[c]));
    scaleReticCount(counts, st.stage2.reticScale);
    const red = counts.rbc + counts.reticulocyte + counts.clumped_rbc;
    const pct = (a: number, b: number) => (b > 0 ? (100 * a) / b : 0);
    const summary: SampleSummary = {
      id: sample.id,
      cells: n,
      counts,
      percentages: { plt_pct: pct(counts.platelet, n), retic_pct: pct(counts.reticulocyte, red), clump_pct: pct(counts.clumped_rbc, red) },
    };
    const embedding2d = st.pca ? project2(st.pca, joint, n, jointDim) : undefined;
    return { summary, probabilities, embedding2d };
  }

  /** The model as safetensors bytes (tensors + JSON metadata). */
  toBytes(): Uint8Array {
    const st = this.state;
    const m = st.stage2.mixture;
    const d = st.dims[st.dims.length - 1];
    const tensors: Record<string, NamedTensor> = {
      'pre.mean': { shape: [st.meta.features], data: st.pre.mean },
      'pre.std': { shape: [st.meta.features], data: st.pre.std },
      ...st.stage1.encoder,
      'stage1.cluster_centers': { shape: [st.stage1.k, d], data: st.stage1.centers },
      ...st.stage2.encoder,
      'stage2.gmm.mu': { shape: [m.k, m.d], data: Float32Array.from(m.mu) },
      'stage2.gmm.log_var': { shape: [m.k, m.d], data: Float32Array.from(m.logVar) },
      'stage2.gmm.rho': { shape: [m.classes, m.k], data: Float32Array.from(m.rho) },
    };
    const { pulse, levels } = st.stage2;
    if (pulse && levels) {
      tensors['stage2.pulse.mean'] = { shape: [pulse.mean.length], data: pulse.mean };
      tensors['stage2.pulse.std'] = { shape: [pulse.std.length], data: pulse.std };
      for (const [name, mix] of [['a', levels.a], ['b', levels.b]] as const) {
        tensors[`stage2.${name}.mu`] = { shape: [mix.k, mix.d], data: Float32Array.from(mix.mu) };
        tensors[`stage2.${name}.log_var`] = { shape: [mix.k, mix.d], data: Float32Array.from(mix.logVar) };
        tensors[`stage2.${name}.rho`] = { shape: [mix.classes, mix.k], data: Float32Array.from(mix.rho) };
      }
    }
    const sub = st.stage1.sub;
    if (sub) {
      tensors['stage1.sub.mu'] = { shape: [sub.mixture.k, sub.mixture.d], data: Float32Array.from(sub.mixture.mu) };
      tensors['stage1.sub.log_var'] = { shape: [sub.mixture.k, sub.mixture.d], data: Float32Array.from(sub.mixture.logVar) };
      tensors['stage1.sub.rho'] = { shape: [sub.mixture.k], data: Float32Array.from(sub.mixture.rho) };
    }
    if (st.pca) {
      tensors['pca.mean'] = { shape: [2 * d], data: st.pca.mean };
      tensors['pca.components'] = { shape: [2, 2 * d], data: st.pca.components };
    }
    return encodeSafetensors(tensors, {
      format: PIPELINE_FORMAT,
      version: LIBRARY_VERSION,
      meta: JSON.stringify(st.meta),
      architecture: JSON.stringify({ dims: st.dims, asinhScale: st.pre.scale, stage1: { k: st.stage1.k, alpha: st.stage1.alpha, pltMembers: st.stage1.pltMembers, sub: sub ? { k: sub.mixture.k, members: sub.members, sse: sub.sse } : null },
        stage2: { k: m.k, classes: RED_CLASSES, thetaPrior: st.stage2.thetaPrior, reticScale: st.stage2.reticScale,
          levels: pulse && levels ? { pulseFeatures: pulse.mean.length, ka: levels.a.k, kb: levels.b.k, priorA: levels.priorA, priorB: levels.priorB } : null } }),
    });
  }

  static fromBytes(bytes: Uint8Array, backend: ComputeBackend, source = 'model'): BloodCellPipeline {
    const { tensors, metadata } = decodeSafetensors(bytes, source);
    const bad = (msg: string): never => {
      throw new Error(`${source}: ${msg}`);
    };
    if (metadata.format !== PIPELINE_FORMAT) bad(`not a hemaclust pipeline model (format ${JSON.stringify(metadata.format ?? null)}, expected ${PIPELINE_FORMAT})`);
    let meta: PipelineMeta;
    let arch: { dims: number[]; asinhScale: number; stage1: { k: number; alpha: number; pltMembers: boolean[]; sub?: { k: number; members: boolean[]; sse: number } | null }; stage2: { k: number; thetaPrior: number[]; reticScale?: number;
      levels?: { pulseFeatures: number; ka: number; kb: number; priorA: number[]; priorB: number[] } | null } };
    try {
      meta = JSON.parse(metadata.meta ?? 'null');
      arch = JSON.parse(metadata.architecture ?? 'null');
    } catch {
      return bad('metadata is not valid JSON');
    }
    if (!meta || !arch || !Array.isArray(arch.dims)) bad('metadata lacks meta or architecture');
    const need = (name: string, shape: number[]): Float32Array => {
      const t = tensors[name];
      if (!t) bad(`missing tensor '${name}'`);
      if (t.shape.join() !== shape.join()) bad(`tensor '${name}' has shape [${t.shape}], expected [${shape}]`);
      return t.data;
    };
    const F = meta.features;
    const d = arch.dims[arch.dims.length - 1];
    const layerTensors = (prefix: string) => Object.fromEntries(Object.entries(tensors).filter(([k]) => k.startsWith(`${prefix}.encoder.`)));
    const K = arch.stage2.k;
    const lv = arch.stage2.levels ?? null;
    if (lv && !(Number.isInteger(lv.pulseFeatures) && lv.pulseFeatures > 0 && lv.pulseFeatures === pulseFeatureCount(F))) {
      bad(`stage 2 expects ${pulseFeatureCount(F)} pulse summaries for ${F} features (model says ${lv?.pulseFeatures})`);
    }
    const levelMixture = (name: string, k: number, width: number): ClassMixture => ({
      k, d: width, classes: 2, mu: Float64Array.from(need(`stage2.${name}.mu`, [k, width])),
      logVar: Float64Array.from(need(`stage2.${name}.log_var`, [k, width])), rho: Float64Array.from(need(`stage2.${name}.rho`, [2, k])),
    });
    const state: PipelineState = {
      meta,
      pre: { scale: arch.asinhScale, mean: need('pre.mean', [F]), std: need('pre.std', [F]) },
      dims: arch.dims,
      stage1: {
        encoder: layerTensors('stage1'), centers: need('stage1.cluster_centers', [arch.stage1.k, d]), k: arch.stage1.k, alpha: arch.stage1.alpha, pltMembers: arch.stage1.pltMembers,
        sub: arch.stage1.sub ? {
          members: arch.stage1.sub.members, sse: arch.stage1.sub.sse,
          mixture: { k: arch.stage1.sub.k, d, classes: 1, mu: Float64Array.from(need('stage1.sub.mu', [arch.stage1.sub.k, d])),
            logVar: Float64Array.from(need('stage1.sub.log_var', [arch.stage1.sub.k, d])), rho: Float64Array.from(need('stage1.sub.rho', [arch.stage1.sub.k])) },
        } : null,
      },
      stage2: {
        encoder: layerTensors('stage2'),
        mixture: {
          k: K, d, classes: RED_CLASSES.length,
          mu: Float64Array.from(need('stage2.gmm.mu', [K, d])), logVar: Float64Array.from(need('stage2.gmm.log_var', [K, d])),
          rho: Float64Array.from(need('stage2.gmm.rho', [RED_CLASSES.length, K])),
        },
        thetaPrior: arch.stage2.thetaPrior,
        reticScale: reticScaleOf(arch.stage2.reticScale, bad),
        pulse: lv ? { mean: need('stage2.pulse.mean', [lv.pulseFeatures]), std: need('stage2.pulse.std', [lv.pulseFeatures]) } : null,
        levels: lv ? {
          embeddingDim: d, pulseFeatures: lv.pulseFeatures, a: levelMixture('a', lv.ka, levelAColumns(d).length), b: levelMixture('b', lv.kb, levelBColumns(d).length),
          priorA: lv.priorA, priorB: lv.priorB,
        } : null,
      },
      pca: tensors['pca.mean'] ? { mean: need('pca.mean', [2 * d]), components: need('pca.components', [2, 2 * d]) } : null,
    };
    return new BloodCellPipeline(backend, state);
  }

  /** Writes the model file atomically. */
  async save(path: string): Promise<void> {
    const { writeModelFile } = await import('./node.js');
    await writeModelFile(path, this.toBytes());
  }

  static async load(path: string, backend: ComputeBackend): Promise<BloodCellPipeline> {
    const { readModelFile } = await import('./node.js');
    return BloodCellPipeline.fromBytes(await readModelFile(path), backend, path);
  }

  dispose(): void {
    this.enc1.dispose();
    this.enc2.dispose();
    this.backend.dispose(this.mu1);
    this.backend.dispose(this.preMean);
    this.backend.dispose(this.preStd);
  }
}

/** The stored reticulocyte count scale; files written before it existed count as unscaled (1). */
function reticScaleOf(v: unknown, bad: (msg: string) => never): number {
  if (v === undefined) return 1;
  if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) bad(`stage 2 reticulocyte scale must be a positive number (got ${JSON.stringify(v)})`);
  return v as number;
}

function resolvedConfig(inputDim: number, dims: number[]): ResolvedAeConfig {
  return { inputDim, dims, hiddenActivation: 'relu', embeddingActivation: 'identity', loss: 'mse', normalization: { kind: 'none' }, init: 'auto', seed: 0 };
}

/** Throws a message naming the sample for a wrong feature count, an empty sample or a non-finite value. */
export function validateSample(s: SampleInput, features: number): void {
  const id = s?.id ?? '<sample>';
  if (!s || !(s.data instanceof Float32Array)) throw new TypeError(`sample '${id}': data must be a Float32Array`);
  if (!Number.isInteger(s.rows) || s.rows < 1) throw new RangeError(`sample '${id}' is empty (${s.rows} events)`);
  if (s.cols !== features) throw new RangeError(`sample '${id}' has ${s.cols} features per event, the model expects ${features}`);
  if (s.data.length !== s.rows * s.cols) throw new RangeError(`sample '${id}': ${s.data.length} values do not form ${s.rows} × ${s.cols}`);
  if (allFinite(s.data)) return;
  for (let i = 0; i < s.data.length; i++) {
    if (!Number.isFinite(s.data[i])) {
      throw new RangeError(`sample '${id}': value at event ${Math.floor(i / s.cols)}, feature ${i % s.cols} is ${s.data[i]} (not finite)`);
    }
  }
}

/**
 * Whether every value is finite, by integer ops on the f32 bit patterns (no float compare and
 * branch per value: validateSample's scan of every sample). An f32 is NaN or ±∞ iff its 8 exponent
 * bits are all ones; adding 1 to the isolated exponent field then carries into bit 31, and only then.
 */
function allFinite(data: Float32Array): boolean {
  const bits = new Int32Array(data.buffer, data.byteOffset, data.length);
  let carry = 0;
  for (let i = 0; i < bits.length; i++) carry |= ((bits[i] & 0x7f800000) + 0x00800000) | 0;
  return carry >= 0;
}
