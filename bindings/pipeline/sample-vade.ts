// Stage 2: VaDE (Jiang et al., IJCAI 2017) with per-sample mixture weights, trained on red-cell
// events only. The GMM prior of VaDE (eq. 1–3) becomes, for a cell of sample s,
//   p(k | s) = Σ_c θ_{s,c} ρ_{c,k},        z | k ~ N(μ_k, diag σ²_k)
// where θ_s are the sample's reference proportions (rbc, reticulocyte, clumped_rbc; fixed, never
// learned — this is the only supervision) and ρ_c spreads a class over components (mixture.ts). Every
// minibatch holds cells of ONE sample, so the prior of a batch is one vector of logits and the
// backend ops gmmLogResp / vadeKlLoss(+Backward) serve unchanged; the π gradient they compute is
// discarded (π is fixed per sample). The component → class map comes from the references only:
// k-means components of the pretrained embedding start from a least-squares map of their per-sample
// shares onto the references (mapping.ts), then mixture.ts: fitClassMap re-decides it by EM with
// the references as per-sample constraints and makes it hard — before the ELBO training, and once
// more on the trained embedding after it.
import type { ComputeBackend, Tensor } from '../backend.js';
import type { Autoencoder, ResolvedAeConfig } from '../models/autoencoder.js';
import { uploadMatrix } from '../models/data.js';
import { kmeansOnBackend } from '../models/kmeans.js';
import { Adam, LossMeter } from '../models/optim.js';
import { HostRng } from '../models/rng.js';
import { checkLosses, type Matrix } from '../models/types.js';
import { MIN_LOG_VAR, VaDE } from '../models/vade.js';
import { clusterShares, fitProportionMap } from './mapping.js';
import { componentLogWeights, rowsBySample, type ClassMixture } from './mixture.js';
import { fitClassMap, START_KMEANS_RESTARTS } from './em-known.js';

export interface SampleVadeOptions {
  /** Mixture components (default 24), spread over the classes by the reference map. */
  components: number;
  epochs: number;
  batchSize: number;
  lr: number;
  seed: number;
  /** EM iterations before and after the ELBO training. */
  emIterations: number;
  /** At most this many rows for the host-side EM (a seeded subsample). */
  emRows: number;
  onEpoch?: (epoch: number, of: number, losses: Record<string, number>) => void;
  onMessage?: (m: string) => void;
}

const STREAM_BATCH = 21;
const STREAM_REPARAM = 22;
const STREAM_SUBSAMPLE = 23;
export const THETA_FLOOR = 1e-3;

export interface SampleVadeResult {
  /** Trunk + μ̃ head as one encoder state ('encoder.<l>'), for the inference network. */
  encoderState: Record<string, { shape: number[]; data: Float32Array }>;
  mixture: ClassMixture;
  /** Component → class map before EM, and the soft map it came from (for reports/tests). */
  initialClassOf: number[];
  /** The EM subsample: its rows of `x` and their trained embedding μ̃ (the pipeline refits on it). */
  emRows: Int32Array;
  emEmbedding: Float32Array;
}

/**
 * Trains stage 2. `x` holds the normalised red-cell rows, `sampleOf[i]` their training sample,
 * `theta[s]` the reference class proportions of sample s; `ae` a pretrained autoencoder whose
 * weights start the VaDE networks (it is not modified).
 */
export async function trainSampleVade(be: ComputeBackend, ae: Autoencoder, x: Matrix, sampleOf: Int32Array, theta: number[][],
  o: SampleVadeOptions): Promise<SampleVadeResult> {
  const c = ae.config!;
  const S = theta.length;
  const C = theta[0].length;
  const K = o.components;
  const vade = new VaDE(be, { k: K }); // the networks come from `c` (buildFrom); options only steer fit()
  const tensors: Tensor[] = [];
  try {
    vade.buildFrom(c);
    await vade.adoptAutoencoder(ae);
    const d = vade.muHead!.outputDim;

    // 1. Components from the pretrained embedding, mapped to classes by the references.
    const X = uploadMatrix(be, x);
    tensors.push(X);
    const z0 = await ae.transform(x);
    const sub = subsample(x.rows, o.emRows, o.seed);
    const zSub = gatherHost(z0, d, sub);
    const sSub = Int32Array.from(sub, (i) => sampleOf[i]);
    const Zs = uploadMatrix(be, { rows: sub.length, cols: d, data: zSub });
    tensors.push(Zs);
    const km = await kmeansOnBackend(be, Zs, { rows: sub.length, cols: d, data: zSub }, { k: K, nInit: START_KMEANS_RESTARTS, seed: o.seed });
    const shares = clusterShares(km.labels, sSub, S, K);
    const { w, classOf } = fitProportionMap(shares, theta);
    const mixture = initMixture(km.labels, zSub, sub.length, d, K, C, w);
    const initialClassOf = [...classOf];
    const fit0 = await fitClassMap(be, mixture, zSub, sub.length, sSub, theta, { softIterations: o.emIterations, hardIterations: o.emIterations, smoothing: 0, floor: THETA_FLOOR });
    o.onMessage?.(`stage 2: ${K} components, least-squares map [${classOf.join(',')}] → by EM [${fit0.classOf.join(',')}] (reference fit ${fit0.fit.toFixed(3)}); EM log-lik ${fit0.ll.toFixed(3)}`);

    // 2. ELBO training, one sample per minibatch with that sample's fixed prior.
    vade.initPrior(mixture.mu, mixture.logVar);
    await trainElbo(be, vade, X, sampleOf, mixture, theta, o);

    // 3. The prior as learned, refined by EM with known proportions on the trained embedding μ̃
    //    (inference evaluates at μ̃, so the components are fitted where they will be used).
    const learned = await vade.mixture();
    mixture.mu = Float64Array.from(learned.mu);
    mixture.logVar = Float64Array.from(learned.logVar);
    const zT = await vade.transform({ rows: sub.length, cols: c.inputDim, data: gatherHost(x.data, c.inputDim, sub) });
    const fit1 = await fitClassMap(be, mixture, zT, sub.length, sSub, theta, { softIterations: o.emIterations, hardIterations: o.emIterations, smoothing: RHO_SMOOTHING, floor: THETA_FLOOR, candidates: [fit0.classOf] });
    o.onMessage?.(`stage 2: EM on the trained embedding: map [${fit1.classOf.join(',')}] of ${fit1.tried} (reference fit ${fit1.fit.toFixed(3)}), log-lik ${fit1.ll.toFixed(3)}`);
    return { encoderState: await vade.encoderState(), mixture, initialClassOf, emRows: sub, emEmbedding: zT };
  } finally {
    for (const t of tensors) be.dispose(t);
    vade.dispose();
  }
}

/** VaDE's ELBO (models/vade.ts elboStep) with the prior's weights given per minibatch: every batch
 *  holds events of one sample s and its prior is that sample's component weights Σ_c θ_sc ρ_c·, so
 *  π is not learned (its gradient is discarded). */
async function trainElbo(be: ComputeBackend, vade: VaDE, X: Tensor, sampleOf: Int32Array, mixture: ClassMixture, theta: number[][],
  o: SampleVadeOptions): Promise<void> {
  const rows = rowsBySample(sampleOf, theta.length);
  const B = Math.max(1, Math.min(o.batchSize, Math.min(...rows.filter((r) => r.length > 0).map((r) => r.length))));
  const ws = vade.workspace(B);
  const idx = be.create([B], 'i32');
  const opt = new Adam(be, vade.trainableParams(ws, false));
  const meter = new LossMeter(be);
  const rng = new HostRng(o.seed, STREAM_BATCH);
  const host = new Int32Array(B);
  let noise = 0;
  try {
    for (let epoch = 1; epoch <= o.epochs; epoch++) {
      const logW = theta.map((t) => Float32Array.from(componentLogWeights(mixture, t, THETA_FLOOR)));
      for (const s of batchOrder(rows, B, rng)) {
        const r = rows[s];
        for (let b = 0; b < B; b++) host[b] = r[rng.int(r.length)];
        be.upload(idx, host);
        be.gatherRows(X, idx, ws.xb);
        be.upload(vade.piLogits!, logW[s]);
        be.philoxNormal(ws.eps, o.seed, STREAM_REPARAM, noise);
        noise = (noise + ws.eps.size) % 2 ** 32;
        vade.elboStep(ws);
        meter.add('recon', ws.lossR, ws.reconScale);
        meter.add('kl', ws.lossKl);
        opt.step(o.lr);
      }
      const losses = await meter.read();
      checkLosses('stage 2 VaDE', epoch, losses);
      await vade.clampLogVar(MIN_LOG_VAR);
      o.onEpoch?.(epoch, o.epochs, losses);
    }
  } finally {
    be.dispose(idx);
    ws.dispose();
    opt.dispose();
    meter.dispose();
  }
}

/** Soft start of ρ from the least-squares map W [K × C]: class c weighs component k by its size
 *  times W_kc, plus a small share for every component so EM can move a component to another class
 *  (a zero weight would stay zero under EM's multiplicative updates). */
export const RHO_SMOOTHING = 0.05;

function initMixture(labels: Int32Array, z: Float32Array, n: number, d: number, K: number, C: number, w: number[][]): ClassMixture {
  const m: ClassMixture = { k: K, d, classes: C, mu: new Float64Array(K * d), logVar: new Float64Array(K * d), rho: new Float64Array(C * K) };
  const cnt = new Float64Array(K);
  const s1 = new Float64Array(K * d);
  const s2 = new Float64Array(K * d);
  for (let i = 0; i < n; i++) {
    const c = labels[i];
    cnt[c]++;
    for (let t = 0; t < d; t++) {
      s1[c * d + t] += z[i * d + t];
      s2[c * d + t] += z[i * d + t] ** 2;
    }
  }
  for (let cls = 0; cls < C; cls++) {
    let tot = 0;
    for (let c = 0; c < K; c++) tot += (m.rho[cls * K + c] = cnt[c] * (w[c][cls] + RHO_SMOOTHING));
    for (let c = 0; c < K; c++) m.rho[cls * K + c] /= Math.max(tot, 1e-12);
  }
  for (let c = 0; c < K; c++) {
    const nc = Math.max(cnt[c], 1);
    for (let t = 0; t < d; t++) {
      const mu = s1[c * d + t] / nc;
      m.mu[c * d + t] = mu;
      m.logVar[c * d + t] = Math.log(Math.max(s2[c * d + t] / nc - mu * mu, 0) + 1e-4);
    }
  }
  return m;
}

/** One epoch: ⌈n_s/B⌉ batches per sample, in shuffled order. */
function batchOrder(rows: Int32Array[], B: number, rng: HostRng): number[] {
  const order: number[] = [];
  rows.forEach((r, s) => {
    for (let b = 0; b < Math.ceil(r.length / B); b++) order.push(s);
  });
  const p = rng.permutation(order.length);
  return Array.from(p, (i) => order[i]);
}

/** A seeded subsample of at most `max` row indices (sorted), all rows when n ≤ max. */
export function subsample(n: number, max: number, seed: number): Int32Array {
  if (n <= max) return Int32Array.from({ length: n }, (_, i) => i);
  const p = new HostRng(seed, STREAM_SUBSAMPLE).permutation(n).subarray(0, max);
  return Int32Array.from(p).sort();
}

function gatherHost(z: ArrayLike<number>, d: number, rows: Int32Array): Float32Array {
  const out = new Float32Array(rows.length * d);
  rows.forEach((r, i) => {
    for (let t = 0; t < d; t++) out[i * d + t] = z[r * d + t];
  });
  return out;
}

export type { ResolvedAeConfig };
