// Reconstruction losses and the label-proportion loss, each forward beside its backward.
import type { F64 } from './tensor.js';

/** loss = (1/(N·D)) Σ (pred − target)². */
export function mseLoss(pred: F64, target: F64): number {
  let s = 0;
  for (let i = 0; i < pred.length; i++) {
    const e = pred[i] - target[i];
    s += e * e;
  }
  return s / pred.length;
}

/** dpred = scale · 2(pred − target)/(N·D). */
export function mseLossBackward(pred: F64, target: F64, dpred: F64, scale: number): void {
  const c = (2 * scale) / pred.length;
  for (let i = 0; i < pred.length; i++) dpred[i] = c * (pred[i] - target[i]);
}

/** softplus(x) = log(1 + eˣ) without overflow: max(x, 0) + log1p(e^−|x|). */
export const softplus = (x: number): number => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
export const sigmoid = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));

/** BCE on logits: loss = (1/N) Σ_i Σ_j [softplus(x_ij) − t_ij·x_ij] (sum over features, mean over rows). */
export function bceLogitsLoss(logits: F64, target: F64, n: number): number {
  let s = 0;
  for (let i = 0; i < logits.length; i++) s += softplus(logits[i]) - target[i] * logits[i];
  return s / n;
}

/** dlogits = scale · (sigmoid(x) − t)/N. */
export function bceLogitsLossBackward(logits: F64, target: F64, dlogits: F64, n: number, scale: number): void {
  for (let i = 0; i < logits.length; i++) dlogits[i] = (scale * (sigmoid(logits[i]) - target[i])) / n;
}

/** Probabilities are clamped here before the log so an empty class cannot give −∞. */
export const PROPORTION_FLOOR = 1e-12;

/** loss = (1/S) Σ_s −Σ_k t_sk log(max(p_sk, 1e-12)); pred, target [S,K]. */
export function proportionXentLoss(pred: F64, target: F64, s: number): number {
  let acc = 0;
  for (let i = 0; i < pred.length; i++) acc -= target[i] * Math.log(Math.max(pred[i], PROPORTION_FLOOR));
  return acc / s;
}

/** dpred_sk = −scale · t_sk / (S · max(p_sk, 1e-12)) (the contract's formula, also below the floor). */
export function proportionXentLossBackward(pred: F64, target: F64, dpred: F64, s: number, scale: number): void {
  for (let i = 0; i < pred.length; i++) dpred[i] = (-scale * target[i]) / (s * Math.max(pred[i], PROPORTION_FLOOR));
}
