// The pipeline's public types and its model-file state (docs/method.md; pipeline/index.ts).
import type { ComputeBackend } from '../backend.js';
import type { NamedTensor } from '../io/safetensors.js';
import type { Preprocessor } from './preprocess.js';
import type { ChannelLayout, ChannelMapping } from './layout.js';
import type { PlateletSplit } from './platelet-side.js';
import type { ClassMixture } from './mixture.js';
import type { RedLevels } from './red-levels.js';
import type { PulseScaler } from './pulse-features.js';
import type { Projection2d } from './pca.js';
import type { DomainStats, SampleQuality, TrainingQuality } from './quality.js';

export const CLASSES = ['platelet', 'rbc', 'reticulocyte', 'clumped_rbc'] as const;
export type ClassName = (typeof CLASSES)[number];
/** Stage 2's classes, in the order of its proportions θ. */
export const RED_CLASSES = ['rbc', 'reticulocyte', 'clumped_rbc'] as const;
/** /3 adds stage 2's two-level decision over pulse summaries (stage2.pulse.*, stage2.a.*, stage2.b.*);
 *  /2 files are refused. */
export const PIPELINE_FORMAT = 'hemaclust-pipeline/4';

export interface SampleInput {
  id: string;
  rows: number;
  cols: number;
  /** rows × cols raw analyzer signals, row-major. */
  data: Float32Array;
  /** Column names (FCS $PnN, a CSV header), when the file has them: channels are found by name. */
  columns?: string[] | null;
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
  /** How this sample compares with what training saw (quality.ts): flags are reasons to distrust it. */
  quality?: SampleQuality;
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

/** Training options. Unset numbers take the defaults declared (with their meaning) in train-spec.ts. */
export interface TrainOptions {
  backend: ComputeBackend;
  seed?: number;
  /** Encoder widths (hidden…, embedding), shared by both stages. */
  dims?: number[];
  /** Autoencoder pretraining epochs of stage 1 and of stage 2's fine-tuning. */
  epochs?: number;
  stage2PretrainEpochs?: number;
  /** IDEC iterations at most, and clusters. */
  clusterIterations?: number;
  stage1Clusters?: number;
  /** Components of the platelet side's platelet | other mixture that sets debris apart (default: 4, 6
   *  or 8, whichever follows the references best; 0: no split). */
  stage1Subclusters?: number;
  /** Look for platelets on stage 1's red side where the references ask for it (red-side.ts;
   *  default true). */
  stage1RedSide?: boolean;
  /** Stage-2 VaDE ELBO epochs and mixture components. */
  stage2Epochs?: number;
  stage2Components?: number;
  batchSize?: number;
  /** Training cells drawn per sample (all when the sample is smaller). */
  cellsPerSample?: number;
  name?: string;
  species?: string;
  /** Which channel is FSC, SSC, FL and IMP, by name, where the names are not the usual ones (layout.ts). */
  channels?: ChannelMapping;
  /** Keep a model that fails the quality gate (quality.ts) instead of throwing QualityGateError. */
  force?: boolean;
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
  /** The training gate's measurements (quality.ts); passed false only for a model kept with force. */
  quality?: TrainingQuality;
}

/** Everything the pipeline needs at inference, on the host (what the model file holds). */
export interface PipelineState {
  meta: PipelineMeta;
  layout: ChannelLayout;
  pre: Preprocessor;
  dims: number[];
  stage1: { encoder: Record<string, NamedTensor>; centers: Float32Array; k: number; alpha: number; pltMembers: boolean[]; side: PlateletSplit | null;
    /** Platelets on the red side (red-side.ts); null when the references did not ask for them. */
    redSide: PlateletSplit | null };
  /** mixture: VaDE's, over the embedding (the decision when the input has no channel blocks);
   *  levels: the decision over [embedding, pulse summaries] (red-levels.ts), with the pulse scaler. */
  stage2: { encoder: Record<string, NamedTensor>; mixture: ClassMixture; thetaPrior: number[]; pulse: PulseScaler | null; levels: RedLevels | null;
    /** Scale of the counted reticulocytes (retic-count.ts); 1 = the per-event argmax counts as they are. */
    reticScale: number };
  pca: Projection2d | null;
  /** What training saw, for the per-sample flags (quality.ts); null in a model without levels. */
  domain: DomainStats | null;
}
