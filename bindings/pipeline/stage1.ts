// Stage 1: autoencoder + IDEC (Guo et al., IJCAI 2017) on all events separates platelets from red
// cells. IDEC finds k clusters without labels; the set of clusters that are "platelet" is the one
// whose per-sample share tracks the reference platelet share (mapping.ts: bestSubset) — a map from
// the sample-level references alone.
//
// Debris (cell fragments, 0–1 % of events) lands in the platelet clusters: IDEC's few clusters are
// fitted to the bulk of the data and never spend one on a 0.5 % population. So the platelet side is
// clustered once more, finely (a diagonal GMM on its IDEC embedding, `subclusters` components, where
// debris is ~10 % of the rows), and the platelet set is chosen again among those sub-clusters by the
// same reference fit: the debris share of a sample does not follow its platelet share, so a debris
// sub-cluster only adds error to the fit and is left out (the fit allows the platelet side to miss a
// fixed fraction of the platelets, so debris is not taken in to make up for them). Events on the platelet side outside the
// chosen sub-clusters are "other" (no class of their own; the pipeline reports them with the rbc).
import type { ComputeBackend } from '../backend.js';
import { Autoencoder, type AutoencoderConfig } from '../models/autoencoder.js';
import { IDEC } from '../models/dec.js';
import type { Progress } from '../models/types.js';
import type { Matrix } from '../models/types.js';
import { bestScaledSubset, bestSubset, clusterShares } from './mapping.js';
import { kmeansOnBackend } from '../models/kmeans.js';
import { uploadMatrix } from '../models/data.js';
import { componentLogDensities, logGauss, type ClassMixture } from './mixture.js';
import { emKnownProportions } from './em-known.js';

export interface Stage1Options {
  dims: number[];
  seed: number;
  k: number;
  pretrainEpochs: number;
  batchSize: number;
  maxIterations: number;
  /** Components of the platelet side's sub-clustering (0: none). */
  subclusters: number;
  onProgress?: (p: Progress) => void;
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
  /** The platelet side's sub-clusters (a GMM on the stage-1 embedding) and which are platelets. */
  sub: PlateletSubclusters | null;
  /** Per training row: P(platelet | platelet side) (1 without sub-clusters). */
  pKeep: Float32Array;
}

export interface PlateletSubclusters {
  mixture: ClassMixture; // classes = 1
  members: boolean[];
  sse: number;
}

/** P(member sub-cluster) per row of the stage-1 embedding z [n × d]. */
export function subclusterKeep(sub: PlateletSubclusters, z: ArrayLike<number>, n: number): Float32Array {
  const m = sub.mixture;
  const ld = logGauss(m, z, n);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let mx = -Infinity;
    for (let j = 0; j < m.k; j++) mx = Math.max(mx, (ld[i * m.k + j] += Math.log(Math.max(m.rho[j], 1e-300))));
    let s = 0;
    let keep = 0;
    for (let j = 0; j < m.k; j++) {
      const e = Math.exp(ld[i * m.k + j] - mx);
      s += e;
      if (sub.members[j]) keep += e;
    }
    out[i] = keep / s;
  }
  return out;
}

/** subclusterKeep at classify time: the component posteriors come from the backend's gmmLogResp
 *  with mixing logits log ρ (its log γ is exactly the softmax subclusterKeep takes on the host). */
export async function subclusterKeepOnBackend(be: ComputeBackend, sub: PlateletSubclusters, z: ArrayLike<number>, n: number): Promise<Float32Array> {
  const m = sub.mixture;
  const logResp = await componentLogDensities(be, m, z, n, Array.from(m.rho, (r) => Math.log(Math.max(r, 1e-300))));
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let keep = 0;
    for (let j = 0; j < m.k; j++) if (sub.members[j]) keep += Math.exp(logResp[i * m.k + j]);
    out[i] = keep;
  }
  return out;
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
    let sub: PlateletSubclusters | null = null;
    let pKeep: Float32Array = new Float32Array(x.rows).fill(1);
    if (o.subclusters > 1) {
      const z = await idec.transform(x);
      sub = await fitPlateletSubclusters(be, z, o.dims[o.dims.length - 1], pPlt, sampleOf, pltShare, o.subclusters, o.seed);
      if (sub) pKeep = subclusterKeep(sub, z, x.rows);
    }
    return { idec, pltMembers: members, pPlt, shares, sse, sub, pKeep };
  } finally {
    ae.dispose();
  }
}

/** The platelet side's GMM and the sub-cluster set whose per-sample share (over ALL events) best
 *  follows the reference platelet share. Null when the platelet side is too small to split. */
async function fitPlateletSubclusters(be: ComputeBackend, z: Float32Array, d: number, pPlt: Float32Array, sampleOf: Int32Array,
  pltShare: number[], k: number, seed: number): Promise<PlateletSubclusters | null> {
  const rows: number[] = [];
  for (let i = 0; i < pPlt.length; i++) if (pPlt[i] >= 0.5) rows.push(i);
  if (rows.length < 20 * k) return null;
  const zs = new Float32Array(rows.length * d);
  rows.forEach((r, i) => zs.set(z.subarray(r * d, r * d + d), i * d));
  const host = { rows: rows.length, cols: d, data: zs };
  const Z = uploadMatrix(be, host);
  let labels: Int32Array;
  try {
    labels = (await kmeansOnBackend(be, Z, host, { k, nInit: 4, seed })).labels;
  } finally {
    be.dispose(Z);
  }
  const m: ClassMixture = { k, d, classes: 1, mu: new Float64Array(k * d), logVar: new Float64Array(k * d), rho: new Float64Array(k) };
  const cnt = new Float64Array(k);
  for (let i = 0; i < rows.length; i++) {
    cnt[labels[i]]++;
    for (let t = 0; t < d; t++) m.mu[labels[i] * d + t] += zs[i * d + t];
  }
  for (let j = 0; j < k; j++) {
    m.rho[j] = cnt[j] / rows.length;
    for (let t = 0; t < d; t++) m.mu[j * d + t] /= Math.max(cnt[j], 1);
  }
  for (let i = 0; i < rows.length; i++) {
    for (let t = 0; t < d; t++) m.logVar[labels[i] * d + t] += (zs[i * d + t] - m.mu[labels[i] * d + t]) ** 2;
  }
  for (let j = 0; j < k; j++) for (let t = 0; t < d; t++) m.logVar[j * d + t] = Math.log(m.logVar[j * d + t] / Math.max(cnt[j], 1) + 1e-4);
  // Unsupervised EM (one class, every sample the same proportions).
  emKnownProportions(m, zs, rows.length, new Int32Array(rows.length), [[1]], 30);
  // Soft per-sample shares over all events of the sample.
  const S = pltShare.length;
  const totals = new Float64Array(S);
  for (let i = 0; i < sampleOf.length; i++) totals[sampleOf[i]]++;
  const shares = Array.from({ length: S }, () => new Array<number>(k).fill(0));
  const ld = logGauss(m, zs, rows.length);
  for (let i = 0; i < rows.length; i++) {
    let mx = -Infinity;
    for (let j = 0; j < k; j++) mx = Math.max(mx, (ld[i * k + j] += Math.log(Math.max(m.rho[j], 1e-300))));
    let s = 0;
    for (let j = 0; j < k; j++) s += (ld[i * k + j] = Math.exp(ld[i * k + j] - mx));
    const sIdx = sampleOf[rows[i]];
    for (let j = 0; j < k; j++) shares[sIdx][j] += (pPlt[rows[i]] * ld[i * k + j]) / s / totals[sIdx];
  }
  // The sub-clusters whose summed share, up to a common factor in [0.8, 1.25], best follows the
  // platelet share (mapping.ts: bestScaledSubset).
  const { members, sse } = bestScaledSubset(shares, pltShare, 0.8, 1.25);
  return { mixture: m, members, sse };
}
