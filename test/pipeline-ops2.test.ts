// Classify's class log-likelihoods on the backend (bench/NOTES.md §11): classLogLikOnBackend is
// gmmLogResp → softmax → gemm with ρᵀ, n × classes read back. Checked against the host
// classLogLik(logGauss(…)) UP TO A PER-ROW CONSTANT (what every consumer cancels) on every backend:
//  - random mixtures (soft ρ, and hard maps with exact zeros) at odd sizes;
//  - a class whose weights are all tiny (1e-300 floor, or exactly 0): finite and equal, not −∞;
//  - a class whose components lie hundreds of nats below every row (its f32 sum underflows): those
//    rows take the exact host path, so the values are the host's, finite;
//  - the proportion EM on the backend values gives the host θ and posteriors;
// and the wasm softmax as a row kernel over the worker pool: 2 threads bit-identical to 1.
import { describe, expect, it } from 'vitest';
import type { ComputeBackend, Tensor } from '../bindings/backend.js';
import { classLogLik, classLogLikOnBackend, logGauss, proportionsFromClassLogLik, type ClassMixture } from '../bindings/pipeline/mixture.js';
import { opTestBackends } from './helpers/backends.js';
import { f32Mixture, randomMixture } from './helpers/mixtures.js';
import { reproduceHint, Rng, testSeed } from './helpers/rng.js';

const SEED = testSeed();
const hint = reproduceHint(SEED, 'test/pipeline-ops2.test.ts');

const targets = opTestBackends('test/pipeline-ops2.test.ts');

/** A random class mixture with f32-rounded parameters (what the pipeline keeps and the ops see). */
const randomF32Mixture = (rng: Rng, k: number, d: number, classes: number, hard: boolean) => f32Mixture(randomMixture(rng, k, d, classes, hard));

/** Rows near the components (the EM's data), as f32 like the embeddings. */
const nearRows = (rng: Rng, m: ClassMixture, n: number) =>
  Float32Array.from({ length: n * m.d }, (_, i) => m.mu[(Math.floor(i / m.d) % m.k) * m.d + (i % m.d)] + 0.9 * rng.normal());

/**
 * Worst violation of "got = host + a per-row constant" (≤ 1 passes). The constant is taken at the
 * row's best host class; each class may differ by 2e-6 · (1 + |host_ic| + |host_i,best|) nats: the
 * op's f32 log-densities round each term by ~6e-8 of its size, then a softmax and a k-term dot
 * product in f32 (measured: ≤ 1.6e-7 · (…) on lavapipe WebGPU, ≤ 1e-8 · (…) on wasm, 20 seeds at
 * n = 1000, k = 24, d = 10).
 */
function perRowConstantError(got: Float64Array, host: Float64Array, n: number, C: number): { worst: number; at: string } {
  let worst = 0;
  let at = '';
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < C; c++) if (host[i * C + c] > host[i * C + best]) best = c;
    const shift = got[i * C + best] - host[i * C + best];
    for (let c = 0; c < C; c++) {
      const g = got[i * C + c];
      const h = host[i * C + c];
      const bound = 2e-6 * (1 + Math.abs(h) + Math.abs(host[i * C + best]));
      const r = Number.isFinite(g) ? Math.abs(g - h - shift) / bound : Infinity;
      if (!(r <= worst)) {
        worst = r;
        at = `row ${i} class ${c}: got ${g} (shift ${shift}), host ${h}`;
      }
    }
  }
  return { worst, at };
}

/** The backend with its gatherRows counted: classLogLikOnBackend gathers exactly the rows it redoes
 *  on the host (methods are bound to the backend itself, which the ownership checks expect). */
function counting(be: ComputeBackend): { be: ComputeBackend; gathered: () => number } {
  let rows = 0;
  const spy = new Proxy(be, {
    get(target, key) {
      const v = Reflect.get(target, key, target);
      if (key === 'gatherRows') return (src: Tensor, idx: Tensor, out: Tensor) => { rows += idx.size; target.gatherRows(src, idx, out); };
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  return { be: spy, gathered: () => rows };
}

/** Compares every backend with the host; returns the rows each backend redid on the host. */
async function checkAll(label: string, m: ClassMixture, z: Float32Array, n: number): Promise<Record<string, number>> {
  const host = classLogLik(m, logGauss(m, z, n), n);
  for (let i = 0; i < host.length; i++) expect(Number.isFinite(host[i]), `${label}: host value ${i} is finite`).toBe(true);
  let compared = 0;
  const redone: Record<string, number> = {};
  for (const { name, be: plain } of targets) {
    if (!plain) continue;
    const { be, gathered } = counting(plain);
    const got = await classLogLikOnBackend(be, m, z, n);
    redone[name] = gathered();
    expect(got.length).toBe(n * m.classes);
    const { worst, at } = perRowConstantError(got, host, n, m.classes);
    expect(worst, `${label}, ${name}: ${at}; ${hint}`).toBeLessThanOrEqual(1);
    compared++;
  }
  expect(compared).toBeGreaterThanOrEqual(3);
  return redone;
}

describe('classLogLikOnBackend is the host classLogLik up to a per-row constant', () => {
  for (const [n, k, d, C, hard] of [[1, 1, 1, 1, false], [13, 5, 3, 2, false], [13, 6, 2, 3, true], [1031, 24, 6, 2, true], [517, 24, 10, 3, false]] as const) {
    it(`n=${n} k=${k} d=${d} classes=${C}${hard ? ' (hard map)' : ''}`, async () => {
      const rng = Rng.forCase(SEED, `classLogLik ${n} ${k} ${d} ${C} ${hard}`);
      const m = randomF32Mixture(rng, k, d, C, hard);
      await checkAll(`n=${n} k=${k}`, m, nearRows(rng, m, n), n);
    });
  }

  it('a class whose weights are all tiny (1e-300, or exactly 0) stays finite and equal', async () => {
    const rng = Rng.forCase(SEED, 'classLogLik tiny class');
    const [n, k, d] = [301, 12, 4];
    for (const tiny of [1e-300, 1e-200, 1e-45, 0]) {
      const m = randomF32Mixture(rng, k, d, 3, false);
      for (let j = 0; j < k; j++) m.rho[k + j] *= tiny; // class 1: every weight tiny (or 0: the 1e-300 floor)
      const redone = await checkAll(`class 1 weights × ${tiny}`, m, nearRows(rng, m, n), n);
      // The per-class scale keeps these weights in f32 range: no row needs the host path.
      for (const [name, r] of Object.entries(redone)) expect(r, `${name}: rows redone on the host, weights × ${tiny}`).toBe(0);
    }
  });

  it('a class far below every row (f32 sum underflows) takes the exact path: finite, equal', async () => {
    const rng = Rng.forCase(SEED, 'classLogLik far class');
    const [n, k, d] = [257, 8, 3];
    const m = randomF32Mixture(rng, k, d, 2, true);
    // Class 1's components (odd j) moved 30–60 units away with narrow variances: hundreds to
    // thousands of nats below class 0 for every row near class 0's components, which are the rows.
    for (let j = 1; j < k; j += 2) {
      for (let t = 0; t < d; t++) {
        m.mu[j * d + t] = Math.fround(m.mu[j * d + t] + rng.range(30, 60));
        m.logVar[j * d + t] = Math.fround(-1);
      }
    }
    const z = Float32Array.from({ length: n * d }, (_, i) => m.mu[((2 * Math.floor(i / d)) % k) * d + (i % d)] + 0.9 * rng.normal());
    // The premise: for most rows, class 1 is beyond f32 range relative to the row's best.
    const host = classLogLik(m, logGauss(m, z, n), n);
    let beyond = 0;
    for (let i = 0; i < n; i++) if (host[i * 2 + 1] - host[i * 2] < -120) beyond++;
    expect(beyond, 'rows whose class-1 likelihood underflows f32').toBeGreaterThan(n / 2);
    const redone = await checkAll('far class', m, z, n);
    for (const [name, r] of Object.entries(redone)) expect(r, `${name}: rows redone on the host`).toBeGreaterThanOrEqual(beyond);
  });

  it('the proportion EM on the backend values gives the host θ and posteriors', async () => {
    const rng = Rng.forCase(SEED, 'classLogLik EM');
    const [n, k, d, C] = [2003, 24, 6, 3];
    const m = randomF32Mixture(rng, k, d, C, true);
    const z = nearRows(rng, m, n);
    const want = proportionsFromClassLogLik(C, classLogLik(m, logGauss(m, z, n), n), n);
    for (const { name, be } of targets) {
      if (!be) continue;
      const got = proportionsFromClassLogLik(C, await classLogLikOnBackend(be, m, z, n), n);
      for (let c = 0; c < C; c++) expect(Math.abs(got.theta[c] - want.theta[c]), `${name} θ[${c}]; ${hint}`).toBeLessThanOrEqual(1e-4);
      let worst = 0;
      for (let i = 0; i < want.post.length; i++) worst = Math.max(worst, Math.abs(got.post[i] - want.post[i]));
      expect(worst, `${name} posteriors; ${hint}`).toBeLessThanOrEqual(1e-4);
    }
  });
});

describe('wasm softmax is a row kernel of the worker pool', () => {
  it('2 threads give exactly the 1-thread result, every row written', async () => {
    const rng = Rng.forCase(SEED, 'softmax row split');
    for (const [n, k] of [[1, 3], [2049, 24], [4097, 7]]) {
      const x = Float32Array.from(rng.normals(n * k, 30));
      const res: Float32Array[] = [];
      for (const be of [targets[1].be!, targets[2].be!]) {
        const tx = be.create([n, k]);
        const to = be.create([n, k]);
        be.upload(tx, x);
        be.upload(to, new Float32Array(n * k).fill(NaN));
        be.softmax(tx, to);
        res.push((await be.download(to)) as Float32Array);
        be.dispose(tx);
        be.dispose(to);
      }
      expect(res[0].some(Number.isNaN), `n=${n}: an unwritten row`).toBe(false);
      expect(Buffer.from(res[1].buffer).equals(Buffer.from(res[0].buffer)), `n=${n} k=${k}; ${hint}`).toBe(true);
    }
  });
});
