// Classify's per-cell work moved off plain host JS (bench/NOTES.md §10):
//  - estimateProportions' EM without exp in its loop and classLogLik's shared exponentials, each
//    against a verbatim copy of the old log-space algorithm (below) on random inputs: equal to 1e-10
//    relative, including rows where a class's components underflow the shared sum;
//  - the backend's gmmLogResp (uniform π) as component log-densities: logGauss up to a per-row
//    constant, so the EM on either gives the same θ and posteriors (to the op's f32 rounding);
//  - the platelet side's keep on the backend (sideKeepOnBackend), and classify's level path (class log-likelihoods on the backend,
//    classifyRedFromClassLogLik), against their host versions.
import { principalAxes } from '../bindings/pipeline/axes.js';
import { describe, expect, it } from 'vitest';
import { classLogLik, classLogLikOnBackend, componentLogDensities, estimateProportions, logGauss, type ClassMixture } from '../bindings/pipeline/mixture.js';
import { classifyRed, classifyRedFromClassLogLik, levelInputs, type RedLevels } from '../bindings/pipeline/red-levels.js';
import { sideKeep, sideKeepOnBackend, sideRows, type PlateletSplit } from '../bindings/pipeline/platelet-side.js';
import { opTestBackends } from './helpers/backends.js';
import { f32Mixture, randomMixture } from './helpers/mixtures.js';
import { reproduceHint, Rng, testSeed } from './helpers/rng.js';

const SEED = testSeed();
const hint = reproduceHint(SEED, 'test/pipeline-ops.test.ts');

// ---- the old algorithms, verbatim (log-space E-step with exp in every iteration) ---------------
function oldClassLogLik(m: ClassMixture, logDens: ArrayLike<number>, n: number): Float64Array {
  const { k, classes: C } = m;
  const out = new Float64Array(n * C);
  const logRho = Float64Array.from(m.rho, (v) => Math.log(Math.max(v, 1e-300)));
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < C; c++) {
      let mx = -Infinity;
      for (let j = 0; j < k; j++) mx = Math.max(mx, logDens[i * k + j] + logRho[c * k + j]);
      let s = 0;
      for (let j = 0; j < k; j++) s += Math.exp(logDens[i * k + j] + logRho[c * k + j] - mx);
      out[i * C + c] = mx + Math.log(s);
    }
  }
  return out;
}

function oldEstimateProportions(m: ClassMixture, logDens: ArrayLike<number>, n: number,
  opts: { init?: ArrayLike<number>; iterations?: number; tol?: number; floor?: number } = {}): { theta: Float64Array; post: Float64Array } {
  const { classes } = m;
  const floor = opts.floor ?? 1e-6;
  const L = oldClassLogLik(m, logDens, n);
  let theta = Float64Array.from({ length: classes }, (_, c) => opts.init?.[c] ?? 1 / classes);
  const post = new Float64Array(n * classes);
  const iterations = opts.iterations ?? 200;
  const eStep = (logT: Float64Array) => {
    for (let i = 0; i < n; i++) {
      let mx = -Infinity;
      for (let c = 0; c < classes; c++) mx = Math.max(mx, (post[i * classes + c] = L[i * classes + c] + logT[c]));
      let s = 0;
      for (let c = 0; c < classes; c++) s += (post[i * classes + c] = Math.exp(post[i * classes + c] - mx));
      for (let c = 0; c < classes; c++) post[i * classes + c] /= s;
    }
  };
  for (let it = 0; it < iterations; it++) {
    eStep(Float64Array.from(theta, (v) => Math.log(Math.max(v, floor))));
    if (it === iterations - 1) break;
    const next = new Float64Array(classes);
    for (let i = 0; i < n; i++) for (let c = 0; c < classes; c++) next[c] += post[i * classes + c];
    let change = 0;
    for (let c = 0; c < classes; c++) {
      next[c] = n > 0 ? next[c] / n : theta[c];
      change = Math.max(change, Math.abs(next[c] - theta[c]));
    }
    theta = next;
    if (change < (opts.tol ?? 1e-7)) {
      eStep(Float64Array.from(theta, (v) => Math.log(Math.max(v, floor))));
      break;
    }
  }
  return { theta, post };
}

/** max_i |a_i − b_i| / |b_i| (b_i = 0 must give a_i = 0). */
function maxRel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < b.length; i++) {
    const r = b[i] === a[i] ? 0 : Math.abs(a[i] - b[i]) / Math.abs(b[i]);
    if (!(r <= worst)) worst = r;
  }
  return worst;
}

describe('estimateProportions / classLogLik without exp in the EM loop', () => {
  it('equal the old log-space algorithm to 1e-10 relative on random inputs', () => {
    let compared = 0;
    for (const [n, k, classes, hard, spread] of [[1, 1, 1, false, 3], [7, 5, 2, true, 10], [500, 24, 3, false, 8], [2000, 12, 2, true, 30], [333, 7, 4, true, 2]] as const) {
      const rng = Rng.forCase(SEED, `em ${n} ${k} ${classes} ${hard}`);
      const m = randomMixture(rng, k, 3, classes, hard);
      const logDens = rng.normals(n * k, spread, -20);
      const init = rng.simplexRows(1, classes, 1);
      for (const opts of [{}, { init }, { init, iterations: 1 }, { iterations: 7, floor: 1e-3 }]) {
        const a = estimateProportions(m, logDens, n, opts);
        const b = oldEstimateProportions(m, logDens, n, opts);
        expect(maxRel(a.theta, b.theta), `θ, n=${n} k=${k} C=${classes} ${JSON.stringify(opts)}; ${hint}`).toBeLessThanOrEqual(1e-10);
        expect(maxRel(a.post, b.post), `posteriors, n=${n} k=${k} C=${classes}; ${hint}`).toBeLessThanOrEqual(1e-10);
        compared++;
      }
      expect(maxRel(classLogLik(m, logDens, n), oldClassLogLik(m, logDens, n)), `classLogLik n=${n}; ${hint}`).toBeLessThanOrEqual(1e-10);
    }
    expect(compared).toBe(20);
  });

  it('classLogLik keeps a class whose components lie ~900 nats below the row best (shared sum underflows)', () => {
    const m: ClassMixture = { k: 3, d: 1, classes: 2, mu: new Float64Array(3), logVar: new Float64Array(3), rho: Float64Array.from([0.5, 0.5, 0, 0, 0, 1]) };
    const logDens = Float64Array.from([0, -1, -900, -3, -2, -1000]);
    const got = classLogLik(m, logDens, 2);
    const want = oldClassLogLik(m, logDens, 2);
    expect(Number.isFinite(got[1]) && Number.isFinite(got[3])).toBe(true);
    expect(maxRel(got, want)).toBeLessThanOrEqual(1e-10);
  });
});

describe('component densities on the backend (gmmLogResp with uniform π)', () => {
  const targets = opTestBackends('test/pipeline-ops.test.ts');

  it('is logGauss up to a per-row constant, and the EM on it gives the host θ and posteriors', async () => {
    let compared = 0;
    for (const [n, k, d] of [[1, 1, 1], [13, 5, 3], [1031, 24, 10]]) {
      const rng = Rng.forCase(SEED, `dens ${n} ${k} ${d}`);
      const m = f32Mixture(randomMixture(rng, k, d, 3, k > 3));
      // Rows near the components (the EM's data), stored as f32 like the embeddings.
      const z = Float32Array.from({ length: n * d }, (_, i) => m.mu[(i % k) * d + (i % d)] + 0.8 * rng.normal());
      const host = logGauss(m, z, n);
      const hostEm = estimateProportions(m, host, n);
      for (const { name, be } of targets) {
        if (!be) continue;
        const got = await componentLogDensities(be, m, z, n);
        expect(got.length).toBe(n * k);
        // got_ij − host_ij is the same for every j of a row (the row's log-normaliser), to the f32
        // rounding of the terms involved (WebGPU sums them in f32: ~1e-7 of their size each).
        for (let i = 0; i < n; i++) {
          const c0 = got[i * k] - host[i * k];
          for (let j = 1; j < k; j++) {
            const diff = got[i * k + j] - host[i * k + j] - c0;
            expect(Math.abs(diff), `${name} row ${i} comp ${j}; ${hint}`).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(host[i * k + j]) + Math.abs(host[i * k])));
          }
        }
        const em = estimateProportions(m, got, n);
        expect(maxRel(em.theta, hostEm.theta), `${name} θ; ${hint}`).toBeLessThanOrEqual(1e-4);
        let worst = 0;
        for (let i = 0; i < em.post.length; i++) worst = Math.max(worst, Math.abs(em.post[i] - hostEm.post[i]));
        expect(worst, `${name} posteriors; ${hint}`).toBeLessThanOrEqual(1e-4);
        compared++;
      }
    }
    expect(compared).toBeGreaterThanOrEqual(9);
  });

  it('the platelet side\'s keep and classifyRed match their host versions', async () => {
    const rng = Rng.forCase(SEED, 'keep and levels');
    const n = 777;
    const d = 4;
    const side: PlateletSplit = {
      mixture: f32Mixture(randomMixture(rng, 6, d, 2, true)), prior: [0.8, 0.2], input: 'pulse', reestimate: true, fit: 0,
      mean: rng.normals(d, 0.5), std: Float64Array.from(rng.normals(d, 0.3), (v) => 1 + Math.abs(v)),
      rotation: principalAxes(rng.normals(400, 1).map((v, i) => v + (i % d) * v), 100, d),
    };
    const z = Float32Array.from({ length: n * d }, (_, i) => side.mixture.mu[(i % 6) * d + (i % d)] * 1.3 + rng.normal());
    const sideEvents = Array.from({ length: n }, (_, i) => i).filter((i) => i % 3 !== 0);
    const zs = sideRows(side, z, null, n);
    const wantKeep = sideKeep(side, classLogLik(side.mixture, logGauss(side.mixture, zs, n), n), n, sideEvents);
    // Levels: embedding width 2, 8 pulse summaries; level A over 6 of them, level B over 2.
    const L: RedLevels = {
      embeddingDim: 2, roles: ['FSC', 'FSC', 'SSC', 'SSC', 'FL', 'FL', 'IMP', 'IMP'],
      a: f32Mixture(randomMixture(rng, 8, 6, 2, true)), b: f32Mixture(randomMixture(rng, 5, 2, 2, true)),
      priorA: [0.9, 0.1], priorB: [0.8, 0.2], centred: false,
      rotationA: principalAxes(rng.normals(600, 1).map((v, i) => v + (i % 6) * v), 100, 6),
    };
    const zl = rng.normals(n * 10, 1.5);
    const red = Array.from({ length: n }, (_, i) => i).filter((i) => i % 5 !== 0);
    const wantPost = classifyRed(L, zl, n)(red);
    for (const { name, be } of targets) {
      if (!be) continue;
      const keep = await sideKeepOnBackend(be, side, z, n, sideEvents);
      for (let i = 0; i < n; i++) expect(Math.abs(keep[i] - wantKeep[i]), `${name} keep[${i}]; ${hint}`).toBeLessThanOrEqual(1e-5);
      const { zA, zB } = levelInputs(L, zl, n);
      // The classify path: class log-likelihoods on the backend, the EM on the host.
      const post = classifyRedFromClassLogLik(L, await classLogLikOnBackend(be, L.a, zA, n), await classLogLikOnBackend(be, L.b, zB, n), n)(red);
      let worst = 0;
      for (let i = 0; i < post.length; i++) worst = Math.max(worst, Math.abs(post[i] - wantPost[i]));
      expect(worst, `${name} classifyRed posteriors; ${hint}`).toBeLessThanOrEqual(1e-4);
    }
  });
});
