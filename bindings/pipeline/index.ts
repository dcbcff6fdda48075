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
// the 4 classes. Debris (small fragments) falls on the platelet side of stage 1, where the platelet
// side's mixture calls it other (platelet-side.ts), and is reported with "rbc" (neither a
// platelet nor a flagged red cell); coincidences (two cells in one event) mostly land in "rbc".
// Percentages use the analyzer's denominators (sample.ts): plt % over all events, retic % and
// clump % over the events classified as red cells (which therefore include debris).
// The reticulocyte count is the argmax count scaled by a factor fitted at training from the
// training samples' references (retic-count.ts).
import type { ComputeBackend, Tensor } from '../backend.js';
import { encoderLayers, type ResolvedAeConfig } from '../models/autoencoder.js';
import { Mlp } from '../models/mlp.js';
import { canonicalColumns, toAsinhUnits } from './preprocess.js';
import { columnSources } from './layout.js';
import { sideKeepOnBackend } from './platelet-side.js';
import { subsample } from './sample-vade.js';
import { classLogLikOnBackend, nearestLogDensity, selectRows } from './mixture.js';
import { proportionsFromRelativeLik, relativeLikelihoods } from './proportions.js';
import { classifyRedFromClassLogLik, levelInputsFromPulse, sampleShift } from './red-levels.js';
import { pulseSummaries } from './pulse-features.js';
import { fitPca2, project2 } from './pca.js';
import { fitReticScale, scaleReticCount } from './retic-count.js';
import { TRAINING_DEFAULTS } from './train-spec.js';
import { columnMedians, gateMessage, QualityGateError, referenceFit, sampleFlags, type SampleQuality, type TrainingQuality } from './quality.js';
import { trainState } from './train.js';
import { decodePipeline, encodePipeline } from './model-file.js';
import { validateSample } from './validate.js';
import { CLASSES, type ClassName, type ClassifyResult, type PipelineMeta, type PipelineProgressCallback, type PipelineState, type Reference, type SampleInput, type SampleSummary, type TrainOptions } from './types.js';

export * from './types.js';
export { validateSample } from './validate.js';
export { QualityGateError } from './quality.js';


/** Training events the plot projection (PCA of the joint embedding) is fitted on: a 2-D picture
 *  needs the cloud's shape, not every event. */
const PROJECTION_ROWS = 6000;
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
    const splits = [state.stage1.side, state.stage1.redSide].filter((x) => x !== null);
    const mixtures = [state.stage2.mixture, ...(levels ? [levels.a, levels.b] : []), ...splits.map((x) => x.mixture)];
    const f32 = (a: Float64Array) => Float64Array.from(Float32Array.from(a));
    for (const mix of mixtures) for (const key of ['mu', 'logVar', 'rho'] as const) mix[key] = f32(mix[key]);
    if (levels?.rotationA) levels.rotationA = f32(levels.rotationA);
    for (const x of splits) Object.assign(x, { mean: f32(x.mean), std: f32(x.std), rotation: x.rotation && f32(x.rotation) });
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

  /** Both encoders run in int8 from here on (denseInt8: int8 weights per output channel, each
   *  layer's input quantised per event): inference only, for speed; the mixtures, levels and
   *  counting stay as they are. How far the percentages move is measured, not promised
   *  (bench/NOTES.md §29). */
  async quantiseEncoders(): Promise<void> {
    await this.enc1.quantise();
    await this.enc2.quantise();
  }

  /** Trains both stages from samples and their references (and nothing else); throws
   *  QualityGateError when the result does not explain the references (unless opts.force). */
  static async train(samples: SampleInput[], references: Map<string, Reference>, opts: TrainOptions): Promise<BloodCellPipeline> {
    const progress = opts.onProgress ?? (() => undefined);
    const { state, units, n, refs } = await trainState(samples, references, opts);
    const F = state.meta.features;
    const pipe = new BloodCellPipeline(opts.backend, state);
    // The plot projection, fitted on (a subsample of) the training events.
    const sub = subsample(n, PROJECTION_ROWS, opts.seed ?? TRAINING_DEFAULTS.seed);
    const xs = new Float32Array(sub.length * F);
    sub.forEach((r, i) => xs.set(units.subarray(r * F, (r + 1) * F), i * F));
    const emb = await pipe.inferUnits(xs, sub.length);
    state.pca = fitPca2(emb.joint, sub.length, emb.jointDim);
    // The training samples classified as new ones: the reticulocyte count's scale
    // (retic-count.ts), then the quality gate (quality.ts) on the shares as reported.
    const summaries: SampleSummary[] = [];
    for (const s of samples) summaries.push((await pipe.classify(s)).summary);
    state.stage2.reticScale = fitReticScale(summaries.map((s) => s.percentages.retic_pct), refs.map((r) => r.retic_pct));
    progress({ stage: 'stage2-map', message: `reticulocyte count scale ${state.stage2.reticScale.toFixed(4)} (training references vs argmax counts)` });
    const inferred = summaries.map((s) => {
      const counts = { ...s.counts };
      scaleReticCount(counts, state.stage2.reticScale);
      return percentagesOf(counts, s.cells);
    });
    const quality = referenceFit(inferred, refs);
    state.meta.quality = quality;
    progress({ stage: 'quality', message: `training samples against their references: ${formatFit(quality)}` });
    if (!quality.passed) {
      if (!opts.force) {
        pipe.dispose();
        throw new QualityGateError(`train: ${gateMessage(quality)}`, quality);
      }
      progress({ stage: 'quality', message: `WARNING: ${gateMessage(quality)} Kept because of force.` });
    }
    progress({ stage: 'done', message: 'training finished' });
    return pipe;
  }

  /** Stage outputs for every event of a sample (after validation and normalisation). */
  private async infer(sample: SampleInput) {
    const st = this.state;
    const src = columnSources(st.layout, sample.columns, sample.cols, `sample '${sample.id}'`);
    const u = toAsinhUnits(st.pre, canonicalColumns(sample.data, sample.rows, sample.cols, src), sample.rows, src.length);
    return this.inferUnits(u, sample.rows);
  }

  /** infer on rows already in the pipeline's column order and asinh units (preprocess.ts). */
  private async inferUnits(u: Float32Array, n: number) {
    const st = this.state;
    const be = this.backend;
    const F = st.meta.features;
    const k1 = st.stage1.k;
    const m = st.stage2.mixture;
    const d = st.dims[st.dims.length - 1];
    // Summaries on the backend for equal-length waveform channels; on the host otherwise (scalar
    // parameters, or channels sampled at different rates).
    const hostSummaries = !(st.layout.kind === 'waveform' && st.layout.points > 0);
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
        if (!b) bufs.set(rows, (b = [be.create([rows, F]), be.create([rows, F]), be.create([rows, k1]), ...(P && !hostSummaries ? [be.create([rows, P])] : [])]));
        const [raw, t, qT, pT] = b;
        // Normalisation on the backend (preprocess.ts: applyPreprocessor is the same map on the host).
        const chunkUnits = u.subarray(start * F, (start + rows) * F);
        be.upload(raw, chunkUnits);
        if (pT) be.pulseSummaries(raw, 1, pT);
        be.asinhStandardize(raw, this.preMean, this.preStd, 1, t);
        const z1 = this.enc1.forward(t);
        be.softAssign(z1, this.mu1, qT, st.stage1.alpha);
        const z2 = this.enc2.forward(t);
        q.set((await be.download(qT)) as Float32Array, start * k1);
        if (pT) summaries.set((await be.download(pT)) as Float32Array, start * P);
        else if (P) summaries.set(pulseSummaries(st.layout, chunkUnits, F, Array.from({ length: rows }, (_, i) => i)), start * P);
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
    let redPosterior: (red: number[]) => Promise<{ post: Float64Array; zA: Float64Array | null }>;
    if (pulse && levels) {
      redPosterior = async (red) => {
        const shift = levels.centred ? sampleShift(levels.roles, summaries, red) : undefined;
        const { zA, zB } = levelInputsFromPulse(levels, summaries, pulse, n, shift);
        const LA = await classLogLikOnBackend(be, levels.a, zA, n);
        const LB = await classLogLikOnBackend(be, levels.b, zB, n);
        return { post: classifyRedFromClassLogLik(levels, LA, LB, n)(red), zA };
      };
    } else {
      // Class likelihoods of every event exponentiated once; the EM on the red events picks their rows.
      const C = m.classes;
      const e = relativeLikelihoods(await classLogLikOnBackend(be, m, emb2, n), n, C);
      redPosterior = async (red) => {
        const { theta } = proportionsFromRelativeLik(C, selectRows(e, C, red), red.length, { init: st.stage2.thetaPrior, accelerate: true });
        return { post: proportionsFromRelativeLik(C, e, n, { init: theta, iterations: 1 }).post, zA: null };
      };
    }
    return { q, redPosterior, joint, jointDim: 2 * d, emb1, summaries };
  }

  /** Per-event class probabilities, counts and percentages for one sample. */
  async classify(sample: SampleInput, opts: { onProgress?: PipelineProgressCallback } = {}): Promise<ClassifyResult> {
    const st = this.state;
    validateSample(sample);
    opts.onProgress?.({ stage: 'classify', message: `${sample.id}: ${sample.rows} events` });
    const n = sample.rows;
    const { q, redPosterior, joint, jointDim, emb1, summaries } = await this.infer(sample);
    const { pPlt, keep, redKeep, redIdx } = await this.stage1Split(q, summaries, emb1, n);
    // Stage 2: this sample's red-cell proportions by EM over its red-cell events, then posteriors.
    const { post, zA } = await redPosterior(redIdx);
    const probabilities = new Float32Array(n * 4);
    const counts: Record<ClassName, number> = { platelet: 0, rbc: 0, reticulocyte: 0, clumped_rbc: 0 };
    const perClass = new Float64Array(4); // counts in CLASSES order (no per-event allocation)
    const row = new Float64Array(4);
    for (let i = 0; i < n; i++) {
      const p = pPlt[i];
      // Platelet-side events the side calls other (debris) have no class of their own: they are
      // reported with the rbc (neither platelet nor a flagged red-cell class).
      const r = redKeep ? redKeep[i] : 0;
      row[0] = p * keep[i] + (1 - p) * r;
      row[1] = (1 - p) * (1 - r) * post[i * 3] + p * (1 - keep[i]);
      row[2] = (1 - p) * (1 - r) * post[i * 3 + 1];
      row[3] = (1 - p) * (1 - r) * post[i * 3 + 2];
      let best = 0;
      for (let c = 0; c < 4; c++) {
        probabilities[i * 4 + c] = row[c];
        if (row[c] > row[best]) best = c;
      }
      perClass[best]++;
    }
    CLASSES.forEach((name, c) => (counts[name] = perClass[c]));
    scaleReticCount(counts, st.stage2.reticScale);
    const summary: SampleSummary = { id: sample.id, cells: n, counts, percentages: percentagesOf(counts, n) };
    if (st.domain && st.stage2.levels && zA) summary.quality = this.sampleQuality(summary, redIdx, summaries, zA);
    const embedding2d = st.pca ? project2(st.pca, joint, n, jointDim) : undefined;
    return { summary, probabilities, embedding2d };
  }

  /**
   * Stage 1's decision for one sample: P(platelet side) per event from the platelet clusters;
   * P(platelet | platelet side) and, when the model has one, P(platelet | red side), each under this
   * sample's own proportions (platelet-side.ts, red-side.ts); and the red-cell events stage 2 reads.
   */
  private async stage1Split(q: Float32Array, summaries: Float32Array, emb1: Float32Array, n: number) {
    const st = this.state;
    const k1 = st.stage1.k;
    const pPlt = new Float32Array(n);
    const redSide: number[] = [];
    const sideIdx: number[] = [];
    for (let i = 0; i < n; i++) {
      let p = 0;
      for (let j = 0; j < k1; j++) if (st.stage1.pltMembers[j]) p += q[i * k1 + j];
      pPlt[i] = p;
      (p < 0.5 ? redSide : sideIdx).push(i);
    }
    const { side, redSide: red } = st.stage1;
    const keep = side ? await sideKeepOnBackend(this.backend, side, side.input === 'pulse' ? summaries : emb1, n, sideIdx) : new Float32Array(n).fill(1);
    const redKeep = red ? await sideKeepOnBackend(this.backend, red, summaries, n, redSide) : null;
    const redIdx = redKeep ? redSide.filter((i) => redKeep[i] < 0.5) : redSide;
    return { pPlt, keep, redKeep, redIdx };
  }

  /** The sample against what training saw (quality.ts), over its red-cell events. */
  private sampleQuality(summary: SampleSummary, red: number[], summaries: Float32Array, zA: Float64Array): SampleQuality {
    const dom = this.state.domain!;
    const L = this.state.stage2.levels!;
    const P = L.roles.length;
    const rows = red.length ? red : Array.from({ length: summary.cells }, (_, i) => i);
    const { median } = columnMedians(selectRows(summaries, P, rows), rows.length, P);
    const dens = nearestLogDensity(L.a, selectRows(zA, L.a.d, rows), rows.length);
    let low = 0;
    for (const v of dens) if (v < dom.logDensityCut) low++;
    return sampleFlags(dom, summary.percentages, summary.cells, median, low / rows.length);
  }

  /** The model as safetensors bytes (tensors + JSON metadata). */
  toBytes(): Uint8Array {
    return encodePipeline(this.state);
  }

  static fromBytes(bytes: Uint8Array, backend: ComputeBackend, source = 'model'): BloodCellPipeline {
    return new BloodCellPipeline(backend, decodePipeline(bytes, source));
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

/** The analyzer's shares: plt % over all events, retic % and clump % over the red-cell events. */
function percentagesOf(counts: Record<ClassName, number>, n: number): Reference {
  const red = counts.rbc + counts.reticulocyte + counts.clumped_rbc;
  const pct = (a: number, b: number) => (b > 0 ? (100 * a) / b : 0);
  return { plt_pct: pct(counts.platelet, n), retic_pct: pct(counts.reticulocyte, red), clump_pct: pct(counts.clumped_rbc, red) };
}

function formatFit(q: TrainingQuality): string {
  return (['plt_pct', 'retic_pct', 'clump_pct'] as const).map((k) => `${k} RMS ${q.fits[k].rms.toFixed(2)} pp (max ${q.fits[k].maxAbs.toFixed(2)}, R² ${q.fits[k].r2?.toFixed(2) ?? 'n/a'})${q.fits[k].passed ? '' : ' FAILS'}`).join(', ');
}

function resolvedConfig(inputDim: number, dims: number[]): ResolvedAeConfig {
  return { inputDim, dims, hiddenActivation: 'relu', embeddingActivation: 'identity', loss: 'mse', normalization: { kind: 'none' }, init: 'auto', seed: 0 };
}
