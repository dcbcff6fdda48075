// The first host implementation of mixture.ts emKnownProportions, kept as the test oracle for the
// faster one (which takes each row's exponentials once and balances classes without exp): the
// same E- and M-steps written the direct way, one log-sum-exp per (row, class) and per round.
import { logGauss, type ClassMixture } from '../../bindings/pipeline/mixture.js';
import { mStep } from '../../bindings/pipeline/em-known.js';

export function emKnownProportionsOracle(m: ClassMixture, z: ArrayLike<number>, n: number, sampleOf: ArrayLike<number>,
  theta: number[][], iterations: number,
  opts: { floor?: number; varFloor?: number; rhoFloor?: number; fixRho?: boolean; matchProportions?: boolean } = {}): number {
  const { k, classes: C } = m;
  const floor = opts.floor ?? 1e-3;
  const varFloor = opts.varFloor ?? 1e-4;
  const rhoFloor = opts.rhoFloor ?? 1e-6;
  const match = opts.matchProportions ?? true;
  const S = theta.length;
  let ll = 0;
  for (let it = 0; it < iterations; it++) {
    const ld = logGauss(m, z, n);
    // Per row: log p(z_i | c) and the within-class component split (kept in ld as probabilities per class).
    const logRho = Float64Array.from(m.rho, (v) => Math.log(Math.max(v, 1e-300)));
    const L = new Float64Array(n * C);
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < C; c++) {
        let mx = -Infinity;
        for (let j = 0; j < k; j++) mx = Math.max(mx, ld[i * k + j] + logRho[c * k + j]);
        let s = 0;
        for (let j = 0; j < k; j++) s += Math.exp(ld[i * k + j] + logRho[c * k + j] - mx);
        L[i * C + c] = mx + Math.log(s);
      }
    }
    // Class posteriors under θ_s (optionally balanced to the sample's class totals).
    const logT = theta.map((t) => t.map((v) => Math.log(Math.max(v, floor))));
    const offset = Array.from({ length: S }, () => new Float64Array(C));
    const q = new Float64Array(n * C);
    const rounds = match ? 30 : 1;
    ll = 0;
    for (let round = 0; round < rounds; round++) {
      const colSum = Array.from({ length: S }, () => new Float64Array(C));
      const rowsOf = new Float64Array(S);
      let sumLl = 0;
      for (let i = 0; i < n; i++) {
        const s = sampleOf[i];
        let mx = -Infinity;
        for (let c = 0; c < C; c++) mx = Math.max(mx, (q[i * C + c] = L[i * C + c] + logT[s][c] + offset[s][c]));
        let t = 0;
        for (let c = 0; c < C; c++) t += (q[i * C + c] = Math.exp(q[i * C + c] - mx));
        for (let c = 0; c < C; c++) colSum[s][c] += (q[i * C + c] /= t);
        rowsOf[s]++;
        if (round === 0) sumLl += mx + Math.log(t);
      }
      if (round === 0) ll = sumLl / n;
      if (!match) break;
      let worst = 0;
      for (let s = 0; s < S; s++) {
        let tot = 0;
        for (let c = 0; c < C; c++) tot += Math.max(theta[s][c], floor);
        for (let c = 0; c < C; c++) {
          const want = (rowsOf[s] * Math.max(theta[s][c], floor)) / tot;
          const step = Math.log(want / Math.max(colSum[s][c], 1e-12));
          worst = Math.max(worst, Math.abs(step));
          offset[s][c] += step;
        }
      }
      if (worst < 1e-3) break;
    }
    // Component responsibilities r_ik = Σ_c q_ic ρ_ck N_k / p(z|c), and the per-class accumulators of ρ.
    const r = new Float64Array(n * k);
    const acc = new Float64Array(C * k);
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < C; c++) {
        const qc = q[i * C + c];
        if (qc < 1e-12) continue;
        for (let j = 0; j < k; j++) {
          if (m.rho[c * k + j] === 0) continue;
          const g = qc * Math.exp(ld[i * k + j] + logRho[c * k + j] - L[i * C + c]);
          r[i * k + j] += g;
          acc[c * k + j] += g;
        }
      }
    }
    mStep(m, z, n, r, varFloor);
    if (!opts.fixRho) {
      for (let c = 0; c < C; c++) {
        let s = 0;
        // A weight that is exactly zero stays zero (a hard class map); others get the floor.
        for (let j = 0; j < k; j++) s += (acc[c * k + j] += m.rho[c * k + j] > 0 ? rhoFloor : 0);
        for (let j = 0; j < k; j++) m.rho[c * k + j] = acc[c * k + j] / s;
      }
    }
  }
  return ll;
}

