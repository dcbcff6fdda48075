// Optimisers, in place on the parameter and its state.
import type { F64 } from './tensor.js';

/** Adam (Kingma & Ba 2015, Algorithm 1) with bias correction and decoupled weight decay
 *  (Loshchilov & Hutter 2019, AdamW): with t = step,
 *    m ← β1 m + (1−β1) g;  v ← β2 v + (1−β2) g²;  m̂ = m/(1−β1ᵗ);  v̂ = v/(1−β2ᵗ);
 *    p ← p − lr·(m̂/(√v̂ + ε) + wd·p)   (the decay uses the parameter before this step). */
export function adamUpdate(param: F64, grad: F64, m: F64, v: F64,
  lr: number, beta1: number, beta2: number, eps: number, step: number, weightDecay: number): void {
  const c1 = 1 - Math.pow(beta1, step);
  const c2 = 1 - Math.pow(beta2, step);
  for (let i = 0; i < param.length; i++) {
    const g = grad[i];
    m[i] = beta1 * m[i] + (1 - beta1) * g;
    v[i] = beta2 * v[i] + (1 - beta2) * g * g;
    const mHat = m[i] / c1;
    const vHat = v[i] / c2;
    param[i] -= lr * (mHat / (Math.sqrt(vHat) + eps) + weightDecay * param[i]);
  }
}

/** SGD with (heavy-ball) momentum: vel ← momentum·vel + grad; param ← param − lr·vel. */
export function sgdUpdate(param: F64, grad: F64, vel: F64, lr: number, momentum: number): void {
  for (let i = 0; i < param.length; i++) {
    vel[i] = momentum * vel[i] + grad[i];
    param[i] -= lr * vel[i];
  }
}
