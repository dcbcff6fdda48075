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
import { Autoencoder, encoderLayers, decoderLayers, reconLoss, type ResolvedAeConfig } from '../models/autoencoder.js';
import { uploadMatrix } from '../models/data.js';
import { kmeansOnBackend } from '../models/kmeans.js';
import { Mlp, type Param } from '../models/mlp.js';
import { Adam, LossMeter } from '../models/optim.js';
import { HostRng } from '../models/rng.js';
import { checkLosses, type Matrix } from '../models/types.js';
import { clusterShares, fitProportionMap } from './mapping.js';
import { componentLogWeights, type ClassMixture } from './mixture.js';
import { fitClassMap } from './em-known.js';

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
  const enc = encoderLayers(c);
  const trunk = enc.length > 1 ? new Mlp(be, 'encoder', enc.slice(0, -1)) : null;
  const muHead = new Mlp(be, 'encoder_mu', [enc[enc.length - 1]]);
  const logVarHead = new Mlp(be, 'encoder_logvar', [{ ...enc[enc.length - 1], act: 'identity' }]);
  const decoder = new Mlp(be, 'decoder', decoderLayers(c));
  const d = muHead.outputDim;
  const K = o.components;
  const tensors: Tensor[] = [];
  const T = (shape: number[], dtype: 'f32' | 'i32' = 'f32') => {
    const t = be.create(shape, dtype);
    tensors.push(t);
    return t;
  };
  try {
    const state = await ae.exportState();
    const L = c.dims.length;
    trunk?.importState(state);
    muHead.importState({ 'encoder_mu.0.weight': state[`encoder.${L - 1}.weight`], 'encoder_mu.0.bias': state[`encoder.${L - 1}.bias`] });
    decoder.importState(state);

    // 1. Components from the pretrained embedding, mapped to classes by the references.
    const X = T([x.rows, x.cols]);
    be.upload(X, x.data);
    const z0 = await ae.transform(x);
    const sub = subsample(x.rows, o.emRows, o.seed);
    const zSub = gatherHost(z0, d, sub);
    const sSub = Int32Array.from(sub, (i) => sampleOf[i]);
    const Zs = uploadMatrix(be, { rows: sub.length, cols: d, data: zSub });
    tensors.push(Zs);
    const km = await kmeansOnBackend(be, Zs, { rows: sub.length, cols: d, data: zSub }, { k: K, nInit: 4, seed: o.seed });
    const shares = clusterShares(km.labels, sSub, S, K);
    const { w, classOf } = fitProportionMap(shares, theta);
    const mixture = initMixture(km.labels, zSub, sub.length, d, K, C, w);
    const initialClassOf = [...classOf];
    const fit0 = fitClassMap(mixture, zSub, sub.length, sSub, theta, { softIterations: o.emIterations, hardIterations: o.emIterations, smoothing: 0, floor: THETA_FLOOR });
    o.onMessage?.(`stage 2: ${K} components, least-squares map [${classOf.join(',')}] → by EM [${fit0.classOf.join(',')}] (reference fit ${fit0.fit.toFixed(3)}); EM log-lik ${fit0.ll.toFixed(3)}`);

    // 2. ELBO training, one sample per minibatch with that sample's fixed prior.
    const muC = T([K, d]);
    const logVarC = T([K, d]);
    be.upload(muC, Float32Array.from(mixture.mu));
    be.upload(logVarC, Float32Array.from(mixture.logVar));
    const meanLogVar = mixture.logVar.reduce((a, v) => a + v, 0) / mixture.logVar.length;
    be.fill(logVarHead.w[0], 0);
    be.fill(logVarHead.b[0], meanLogVar - Math.log(10));
    const rows = rowsBySample(sampleOf, S);
    const B = Math.max(1, Math.min(o.batchSize, Math.min(...rows.filter((r) => r.length > 0).map((r) => r.length))));
    const idx = T([B], 'i32');
    const xb = T([B, c.inputDim]);
    const eps = T([B, d]);
    const z = T([B, d]);
    const dz = T([B, d]);
    const dMu = T([B, d]);
    const dLv = T([B, d]);
    const dh = trunk ? T([B, trunk.outputDim]) : null;
    const logResp = T([B, K]);
    const gamma = T([B, K]);
    const piT = T([K]);
    const dPi = T([K]);
    const dMuC = T([K, d]);
    const dLvC = T([K, d]);
    const lossR = T([1]);
    const lossKl = T([1]);
    const gmmParams: Param[] = [
      { name: 'gmm.mu', value: muC, grad: dMuC },
      { name: 'gmm.log_var', value: logVarC, grad: dLvC },
    ];
    const opt = new Adam(be, [...(trunk?.params() ?? []), ...muHead.params(), ...logVarHead.params(), ...decoder.params(), ...gmmParams]);
    const meter = new LossMeter(be);
    const rng = new HostRng(o.seed, STREAM_BATCH);
    const reconScale = c.loss === 'mse' ? c.inputDim / 2 : 1;
    const minLogVar = Math.log(1e-4);
    const host = new Int32Array(B);
    let noise = 0;
    try {
      for (let epoch = 1; epoch <= o.epochs; epoch++) {
        const logW = theta.map((t) => Float32Array.from(componentLogWeights(mixture, t, THETA_FLOOR)));
        for (const s of batchOrder(rows, B, rng)) {
          const r = rows[s];
          for (let b = 0; b < B; b++) host[b] = r[rng.int(r.length)];
          be.upload(idx, host);
          be.gatherRows(X, idx, xb);
          be.upload(piT, logW[s]);
          const h = trunk ? trunk.forward(xb) : xb;
          const mu = muHead.forward(h);
          const logVar = logVarHead.forward(h);
          be.philoxNormal(eps, o.seed, STREAM_REPARAM, noise);
          noise = (noise + eps.size) % 2 ** 32;
          be.reparameterize(mu, logVar, eps, z);
          const out = decoder.forward(z);
          const dOut = decoder.outputGrad(B);
          reconLoss(be, c.loss, out, xb, lossR, dOut, reconScale);
          meter.add('recon', lossR, reconScale);
          be.gmmLogResp(z, piT, muC, logVarC, logResp);
          be.softmax(logResp, gamma);
          be.vadeKlLoss(mu, logVar, gamma, piT, muC, logVarC, lossKl);
          meter.add('kl', lossKl);
          be.vadeKlLossBackward(mu, logVar, gamma, piT, muC, logVarC, dMu, dLv, dPi, dMuC, dLvC);
          decoder.backward(dOut, dz);
          be.reparameterizeBackward(dz, logVar, eps, dMu, dLv, { accumulate: true });
          if (dh && trunk) {
            muHead.backward(dMu, dh);
            logVarHead.backward(dLv, dh, true);
            trunk.backward(dh);
          } else {
            muHead.backward(dMu);
            logVarHead.backward(dLv);
          }
          opt.step(o.lr);
        }
        const losses = await meter.read();
        checkLosses('stage 2 VaDE', epoch, losses);
        const lv = (await be.download(logVarC)) as Float32Array;
        if (lv.some((v) => v < minLogVar)) be.upload(logVarC, Float32Array.from(lv, (v) => Math.max(v, minLogVar)));
        o.onEpoch?.(epoch, o.epochs, losses);
      }
    } finally {
      opt.dispose();
      meter.dispose();
    }

    // 3. The prior as learned, refined by EM with known proportions on the trained embedding μ̃
    //    (inference evaluates at μ̃, so the components are fitted where they will be used).
    mixture.mu = Float64Array.from((await be.download(muC)) as Float32Array);
    mixture.logVar = Float64Array.from((await be.download(logVarC)) as Float32Array);
    const inferEnc = new Mlp(be, 'encoder', enc);
    const encoderState = { ...(trunk ? await trunk.exportState() : {}) };
    const head = await muHead.exportState();
    encoderState[`encoder.${L - 1}.weight`] = head['encoder_mu.0.weight'];
    encoderState[`encoder.${L - 1}.bias`] = head['encoder_mu.0.bias'];
    inferEnc.importState(encoderState);
    const zT = new Float32Array(sub.length * d);
    const chunk = 2048;
    const xs = be.create([Math.min(chunk, sub.length), c.inputDim]);
    tensors.push(xs);
    for (let start = 0; start < sub.length; start += chunk) {
      const n = Math.min(chunk, sub.length - start);
      const part = new Float32Array(n * c.inputDim);
      for (let i = 0; i < n; i++) part.set(x.data.subarray(sub[start + i] * c.inputDim, (sub[start + i] + 1) * c.inputDim), i * c.inputDim);
      let t = xs;
      if (n !== xs.shape[0]) {
        t = be.create([n, c.inputDim]);
        tensors.push(t);
      }
      be.upload(t, part);
      zT.set((await be.download(inferEnc.forward(t))) as Float32Array, start * d);
    }
    inferEnc.dispose();
    const fit1 = fitClassMap(mixture, zT, sub.length, sSub, theta, { softIterations: o.emIterations, hardIterations: o.emIterations, smoothing: RHO_SMOOTHING, floor: THETA_FLOOR, candidates: [fit0.classOf] });
    o.onMessage?.(`stage 2: EM on the trained embedding: map [${fit1.classOf.join(',')}] of ${fit1.tried} (reference fit ${fit1.fit.toFixed(3)}), log-lik ${fit1.ll.toFixed(3)}`);
    return { encoderState, mixture, initialClassOf, emRows: sub, emEmbedding: zT };
  } finally {
    for (const t of tensors) be.dispose(t);
    for (const m of [trunk, muHead, logVarHead, decoder]) m?.dispose();
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

export function rowsBySample(sampleOf: Int32Array, S: number): Int32Array[] {
  const lists: number[][] = Array.from({ length: S }, () => []);
  for (let i = 0; i < sampleOf.length; i++) lists[sampleOf[i]].push(i);
  return lists.map((l) => Int32Array.from(l));
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

function gatherHost(z: Float32Array, d: number, rows: Int32Array): Float32Array {
  const out = new Float32Array(rows.length * d);
  rows.forEach((r, i) => out.set(z.subarray(r * d, r * d + d), i * d));
  return out;
}

export type { ResolvedAeConfig };
