// Stage 1: autoencoder + IDEC (Guo et al., IJCAI 2017) on all events separates platelets from red
// cells. IDEC finds k clusters without labels; the set of clusters that are "platelet" is the one
// whose per-sample share tracks the reference platelet share (mapping.ts: bestSubset) — a map from
// the sample-level references alone. The events on the platelet side are then split into platelet
// and other (debris) by a reference-constrained mixture (platelet-side.ts). Events on the platelet
// side that it calls other have no class of their own; the pipeline reports them with the rbc.
import type { ComputeBackend } from '../backend.js';
import { Autoencoder, type AutoencoderConfig } from '../models/autoencoder.js';
import { IDEC } from '../models/dec.js';
import type { Progress } from '../models/types.js';
import type { Matrix } from '../models/types.js';
import { bestSubset, clusterShares } from './mapping.js';
import { fitPlateletSplit, perSampleKeep, type PlateletSplit, type SideInput, type SideOptions } from './platelet-side.js';
import { fitRedSide } from './red-side.js';

export interface Stage1Options {
  dims: number[];
  seed: number;
  k: number;
  pretrainEpochs: number;
  batchSize: number;
  maxIterations: number;
  /** Component counts of the platelet side's platelet | other mixture to try (none: no split),
   *  and of the red side's platelet | red mixture (none: no red-side split). */
  sideComponents: readonly number[];
  redSideComponents: readonly number[];
  /** The platelet side's inputs for every row [rows × width] (the pulse summaries), or null: it
   *  reads stage 1's embedding. */
  sideInput: { data: ArrayLike<number>; width: number; input: SideInput } | null;
  side: Omit<SideOptions, 'components' | 'seed'>;
  onProgress?: (p: Progress) => void;
  onMessage?: (message: string) => void;
}

export interface Stage1Result {
  idec: IDEC;
  /** Per cluster: counted as platelet. */
  pltMembers: boolean[];
  /** Per training row: P(platelet) = Σ of q over the platelet clusters. */
  pPlt: Float32Array;
  /** Per-sample cluster shares and the fit error of the chosen subset (for reports). */
  shares: number[][];
  sse: number;
  /** The platelet side's platelet | other mixture (null: not split, all platelet). */
  side: PlateletSplit | null;
  /** The red side's platelet | red mixture (red-side.ts; null: none) and each training row's
   *  P(platelet | red side) under it. */
  redSide: PlateletSplit | null;
  redKeep: Float32Array | null;
}

/** The platelet side's split (platelet | other) and, where the references ask for it, the red
 *  side's (platelet | red): platelet-side.ts, red-side.ts. */
async function splitSides(be: ComputeBackend, x: Matrix, embed: () => Promise<Float32Array>, pPlt: Float32Array, sampleOf: Int32Array, pltShare: number[], o: Stage1Options) {
  let side: PlateletSplit | null = null;
  const S = pltShare.length;
  // Stage 1's embedding only where the layout has no pulse summaries to read.
  const inp = o.sideInput ?? { data: await embed(), width: o.dims[o.dims.length - 1], input: 'embedding' as const };
  if (o.sideComponents.some((k) => k > 1)) {
    const rows: number[] = [];
    for (let i = 0; i < x.rows; i++) if (pPlt[i] >= 0.5) rows.push(i);
    side = await fitPlateletSplit(be, inp.data, inp.width, inp.input, rows, sampleOf, pltShare, { ...o.side, components: o.sideComponents, seed: o.seed },
      (m) => o.onMessage?.(`platelet side, ${m}`));
  }
  if (!o.sideInput || !o.redSideComponents.length) return { side, red: null };
  const keep = side ? await perSampleKeep(be, side, inp.data, x.rows, sampleOf, S, (i) => pPlt[i] >= 0.5) : new Float32Array(x.rows).fill(1);
  const red = await fitRedSide(be, o.sideInput.data, o.sideInput.width, pPlt, keep, sampleOf, pltShare, { ...o.side, components: o.redSideComponents, seed: o.seed }, o.onMessage);
  return { side, red };
}

export function aeConfig(dims: number[], seed: number): AutoencoderConfig {
  // The pipeline normalises its inputs itself (preprocess.ts), so the models see z-scored data
  // as is, reconstructed with MSE.
  return { dims, seed, normalization: 'none', loss: 'mse' };
}

export async function trainStage1(be: ComputeBackend, x: Matrix, sampleOf: Int32Array, pltShare: number[], o: Stage1Options): Promise<Stage1Result> {
  const ae = new Autoencoder(be, aeConfig(o.dims, o.seed));
  ae.build(x);
  try {
    await ae.pretrain(x, { epochs: o.pretrainEpochs, batchSize: o.batchSize, lr: 1e-3, onProgress: o.onProgress }, 'stage 1 autoencoder');
    const idec = new IDEC(be, { ...aeConfig(o.dims, o.seed), k: o.k, batchSize: o.batchSize, maxIterations: o.maxIterations, kmeansInit: 10 });
    await idec.fit(x, { pretrained: ae, onProgress: o.onProgress });
    const q = await idec.predictProba(x);
    const labels = new Int32Array(x.rows);
    for (let i = 0; i < x.rows; i++) {
      let best = 0;
      for (let j = 1; j < o.k; j++) if (q[i * o.k + j] > q[i * o.k + best]) best = j;
      labels[i] = best;
    }
    const shares = clusterShares(labels, sampleOf, pltShare.length, o.k);
    const { members, sse } = bestSubset(shares, pltShare);
    const pPlt = new Float32Array(x.rows);
    for (let i = 0; i < x.rows; i++) {
      let p = 0;
      for (let j = 0; j < o.k; j++) if (members[j]) p += q[i * o.k + j];
      pPlt[i] = p;
    }
    const { side, red } = await splitSides(be, x, () => idec.transform(x), pPlt, sampleOf, pltShare, o);
    return { idec, pltMembers: members, pPlt, shares, sse, side, redSide: red?.split ?? null, redKeep: red?.keep ?? null };
  } finally {
    ae.dispose();
  }
}
