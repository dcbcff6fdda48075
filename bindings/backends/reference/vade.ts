// VaDE (Jiang, Zheng, Tan, Tang & Zhou 2017): reparameterised sampling, GMM responsibilities in log
// space and the closed-form KL part of the negative ELBO (their eq. 12 with L = 1).
import { philoxNormalFill } from '../../philox.js';
import type { F64 } from './tensor.js';

const LOG_2PI = Math.log(2 * Math.PI);

/** out[i] = Philox4x32-10 normal for counter offset+i under key (seed, stream) (see philox.ts). */
export function philoxNormal(out: F64, seed: number, stream: number, offset: number): void {
  philoxNormalFill(out, seed, stream, offset);
}

/** z = μ + exp(logVar/2)·ε (Kingma & Welling 2014 reparameterisation). */
export function reparameterize(mu: F64, logVar: F64, eps: F64, z: F64): void {
  for (let i = 0; i < z.length; i++) z[i] = mu[i] + Math.exp(logVar[i] / 2) * eps[i];
}

/** dmu (+)= dz; dlogVar (+)= dz·ε·exp(logVar/2)/2. */
export function reparameterizeBackward(dz: F64, logVar: F64, eps: F64, dmu: F64, dlogVar: F64, accumulate: boolean): void {
  for (let i = 0; i < dz.length; i++) {
    const g = (dz[i] * eps[i] * Math.exp(logVar[i] / 2)) / 2;
    dmu[i] = accumulate ? dmu[i] + dz[i] : dz[i];
    dlogVar[i] = accumulate ? dlogVar[i] + g : g;
  }
}

/** log softmax of a vector (max-subtracted). */
export function logSoftmax(x: F64): Float64Array {
  let mx = -Infinity;
  for (const v of x) mx = Math.max(mx, v);
  let s = 0;
  for (const v of x) s += Math.exp(v - mx);
  const lse = mx + Math.log(s);
  return Float64Array.from(x, (v) => v - lse);
}

/** log N(z_i | μ_c, diag σ²_c) = −½ Σ_d (log 2π + log σ²_cd + (z_id − μ_cd)²/σ²_cd). */
export function logGaussian(z: F64, i: number, muC: F64, logVarC: F64, c: number, d: number): number {
  let s = 0;
  for (let t = 0; t < d; t++) {
    const e = z[i * d + t] - muC[c * d + t];
    s += LOG_2PI + logVarC[c * d + t] + (e * e) / Math.exp(logVarC[c * d + t]);
  }
  return -0.5 * s;
}

/** VaDE eq. 16 in log space: log γ_ic = log π_c + log N(z_i|μ_c,σ²_c) − logsumexp_c'(same), π = softmax(piLogits). */
export function gmmLogResp(z: F64, piLogits: F64, muC: F64, logVarC: F64, logResp: F64, n: number, k: number, d: number): void {
  const logPi = logSoftmax(piLogits);
  for (let i = 0; i < n; i++) {
    let mx = -Infinity;
    for (let c = 0; c < k; c++) {
      const v = logPi[c] + logGaussian(z, i, muC, logVarC, c, d);
      logResp[i * k + c] = v;
      mx = Math.max(mx, v);
    }
    let s = 0;
    for (let c = 0; c < k; c++) s += Math.exp(logResp[i * k + c] - mx);
    const lse = mx + Math.log(s);
    for (let c = 0; c < k; c++) logResp[i * k + c] -= lse;
  }
}

/** VaDE eq. 12 (L = 1), KL part, mean over rows, γ constant:
 *  (1/N) Σ_i [ ½ Σ_c γ_ic Σ_d (logσ²_cd + σ̃²_id/σ²_cd + (μ̃_id−μ_cd)²/σ²_cd)
 *              − Σ_c γ_ic (log π_c − log γ_ic) − ½ Σ_d (1 + log σ̃²_id) ],
 *  with 0·log 0 = 0 for γ_ic = 0. muEnc, logVarEnc [N,D], gamma [N,K], piLogits [K], muC, logVarC [K,D]. */
export function vadeKlLoss(muEnc: F64, logVarEnc: F64, gamma: F64, piLogits: F64, muC: F64, logVarC: F64,
  n: number, k: number, d: number): number {
  const logPi = logSoftmax(piLogits);
  let total = 0;
  for (let i = 0; i < n; i++) {
    let row = 0;
    for (let c = 0; c < k; c++) {
      const g = gamma[i * k + c];
      if (g === 0) continue;
      let inner = 0;
      for (let t = 0; t < d; t++) {
        const lv = logVarC[c * d + t];
        const e = muEnc[i * d + t] - muC[c * d + t];
        inner += lv + (Math.exp(logVarEnc[i * d + t]) + e * e) / Math.exp(lv);
      }
      row += 0.5 * g * inner - g * (logPi[c] - Math.log(g));
    }
    for (let t = 0; t < d; t++) row -= 0.5 * (1 + logVarEnc[i * d + t]);
    total += row;
  }
  return total / n;
}

/** Gradients of scale·vadeKlLoss (γ constant), with s = scale/N, σ²_cd = exp(logVarC), σ̃²_id = exp(logVarEnc):
 *    dμ̃_id      = s Σ_c γ_ic (μ̃_id − μ_cd)/σ²_cd
 *    dlogσ̃²_id  = s ½ (Σ_c γ_ic σ̃²_id/σ²_cd − 1)
 *    dμ_cd       = s Σ_i γ_ic (μ_cd − μ̃_id)/σ²_cd
 *    dlogσ²_cd   = s ½ Σ_i γ_ic (1 − (σ̃²_id + (μ̃_id − μ_cd)²)/σ²_cd)
 *    dpiLogits_k = s Σ_i (π_k Σ_c γ_ic − γ_ik)      (∂ log π_c/∂a_k = δ_ck − π_k). */
export function vadeKlLossBackward(muEnc: F64, logVarEnc: F64, gamma: F64, piLogits: F64, muC: F64, logVarC: F64,
  dMuEnc: F64, dLogVarEnc: F64, dPiLogits: F64, dMuC: F64, dLogVarC: F64,
  n: number, k: number, d: number, scale: number, accumulate: boolean): void {
  if (!accumulate) {
    dMuEnc.fill(0); dLogVarEnc.fill(0); dPiLogits.fill(0); dMuC.fill(0); dLogVarC.fill(0);
  }
  const s = scale / n;
  const logPi = logSoftmax(piLogits);
  for (let i = 0; i < n; i++) {
    let gammaSum = 0;
    for (let c = 0; c < k; c++) {
      const g = gamma[i * k + c];
      gammaSum += g;
      dPiLogits[c] -= s * g;
      for (let t = 0; t < d; t++) {
        const invVar = Math.exp(-logVarC[c * d + t]);
        const varEnc = Math.exp(logVarEnc[i * d + t]);
        const e = muEnc[i * d + t] - muC[c * d + t];
        dMuEnc[i * d + t] += s * g * e * invVar;
        dLogVarEnc[i * d + t] += 0.5 * s * g * varEnc * invVar;
        dMuC[c * d + t] -= s * g * e * invVar;
        dLogVarC[c * d + t] += 0.5 * s * g * (1 - (varEnc + e * e) * invVar);
      }
    }
    for (let c = 0; c < k; c++) dPiLogits[c] += s * Math.exp(logPi[c]) * gammaSum;
    for (let t = 0; t < d; t++) dLogVarEnc[i * d + t] -= 0.5 * s;
  }
}
