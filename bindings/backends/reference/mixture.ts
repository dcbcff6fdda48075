// Class mixtures with per-sample proportions: the E-step and the M-step's sums of the
// reference-constrained EM (pipeline/em-known.ts), written directly from their definitions in
// backend.ts. Every log-sum-exp takes its own maximum, so no row underflows.
import type { F64, I32 } from './tensor.js';

const LOG_2PI = Math.log(2 * Math.PI);

/** logDens [N,K] and classLogLik [N,C] (backend.ts mixtureLogLik). */
export function mixtureLogLik(z: F64, mu: F64, logVar: F64, rho: F64, logDens: F64, classLogLik: F64, n: number, d: number, k: number, c: number): void {
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) {
      let s = 0;
      for (let t = 0; t < d; t++) {
        const e = z[i * d + t] - mu[j * d + t];
        s += LOG_2PI + logVar[j * d + t] + e * e * Math.exp(-logVar[j * d + t]);
      }
      logDens[i * k + j] = -0.5 * s;
    }
    for (let a = 0; a < c; a++) {
      let mx = -Infinity;
      for (let j = 0; j < k; j++) if (rho[a * k + j] > 0) mx = Math.max(mx, logDens[i * k + j] + Math.log(rho[a * k + j]));
      let s = 0;
      if (mx > -Infinity) for (let j = 0; j < k; j++) if (rho[a * k + j] > 0) s += Math.exp(logDens[i * k + j] + Math.log(rho[a * k + j]) - mx);
      classLogLik[i * c + a] = mx > -Infinity ? mx + Math.log(s) : -Infinity;
    }
  }
}

/** post [N,C], colSums [S,C], sampleLogLik [S] (backend.ts mixturePosteriors). sampleOf is range-checked by the caller. */
export function mixturePosteriors(classLogLik: F64, sampleOf: I32, logPrior: F64, post: F64, colSums: F64, sampleLogLik: F64, n: number, c: number): void {
  colSums.fill(0);
  sampleLogLik.fill(0);
  for (let i = 0; i < n; i++) {
    const s = sampleOf[i];
    let mx = -Infinity;
    for (let a = 0; a < c; a++) mx = Math.max(mx, classLogLik[i * c + a] + logPrior[s * c + a]);
    let t = 0;
    for (let a = 0; a < c; a++) t += Math.exp(classLogLik[i * c + a] + logPrior[s * c + a] - mx);
    const l = mx + Math.log(t);
    for (let a = 0; a < c; a++) {
      const p = Math.exp(classLogLik[i * c + a] + logPrior[s * c + a] - l);
      post[i * c + a] = p;
      colSums[s * c + a] += p;
    }
    sampleLogLik[s] += l;
  }
}

/** classWeights [C,K], sum1 and sum2 [K,D] about `center` (backend.ts mixtureStats). */
export function mixtureStats(z: F64, logDens: F64, classLogLik: F64, post: F64, rho: F64, center: F64, classWeights: F64, sum1: F64, sum2: F64,
  n: number, d: number, k: number, c: number): void {
  classWeights.fill(0);
  sum1.fill(0);
  sum2.fill(0);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) {
      let r = 0;
      for (let a = 0; a < c; a++) {
        const p = post[i * c + a];
        if (p === 0 || rho[a * k + j] === 0) continue;
        const g = p * rho[a * k + j] * Math.exp(logDens[i * k + j] - classLogLik[i * c + a]);
        classWeights[a * k + j] += g;
        r += g;
      }
      for (let t = 0; t < d; t++) {
        const e = z[i * d + t] - center[j * d + t];
        sum1[j * d + t] += r * e;
        sum2[j * d + t] += r * e * e;
      }
    }
  }
}
