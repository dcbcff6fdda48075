// emKnownProportions (em-known.ts: its row work as backend ops) against its first implementation,
// host float64 written the direct way (test/helpers/em-oracle.ts), on fresh random mixtures: the
// same parameters after many iterations on the reference backend (float64 inside, its inputs
// rounded to f32) and on wasm. Cases cover rows far from every component (underflow against the
// row's best), classes that own no component for a row (ρ exactly 0: a hard map), components no
// class uses, empty components, proportion matching on and off. The oracle balances from zero each
// iteration, so these runs do too (warmStart off); the warm start is checked on its own below.
import { afterAll, describe, expect, it } from 'vitest';
import type { ComputeBackend } from '../bindings/backend.js';
import { createReferenceBackend } from '../bindings/backends/reference/index.js';
import { createWasmBackend } from '../bindings/backends/wasm/index.js';
import type { ClassMixture } from '../bindings/pipeline/mixture.js';
import { emKnownProportions, perSampleProportions } from '../bindings/pipeline/em-known.js';
import { estimateProportions, logGauss, selectRows } from '../bindings/pipeline/mixture.js';
import { emKnownProportionsOracle } from './helpers/em-oracle.js';
import { reproduceHint, Rng, testSeed } from './helpers/rng.js';

const SEED = testSeed();
const hint = reproduceHint(SEED, 'test/em-known-proportions.test.ts');

function mixture(rng: Rng, k: number, d: number, C: number, hard: boolean): ClassMixture {
  const rho = new Float64Array(C * k);
  for (let j = 0; j < k; j++) {
    if (hard) rho[(j % C) * k + j] = 1;
    else for (let c = 0; c < C; c++) rho[c * k + j] = rng.range(0.05, 1);
  }
  for (let c = 0; c < C; c++) {
    let s = 0;
    for (let j = 0; j < k; j++) s += rho[c * k + j];
    for (let j = 0; j < k; j++) rho[c * k + j] /= s || 1;
  }
  return { k, d, classes: C, mu: Float64Array.from(rng.normals(k * d, 3)), logVar: Float64Array.from({ length: k * d }, () => rng.range(-1, 1)), rho };
}

const clone = (m: ClassMixture): ClassMixture => ({ ...m, mu: Float64Array.from(m.mu), logVar: Float64Array.from(m.logVar), rho: Float64Array.from(m.rho) });

function relErr(a: Float64Array, b: Float64Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / Math.max(den, 1e-300));
}

const f32 = (a: Float64Array) => Float64Array.from(a, Math.fround);

/** Rows whose parameters and inputs are f32 already, so the oracle (float64 throughout) and the
 *  backends see the same numbers at the start. */
function f32Mixture(m: ClassMixture): ClassMixture {
  return { ...m, mu: f32(m.mu), logVar: f32(m.logVar), rho: f32(m.rho) };
}

const backends: [string, () => Promise<ComputeBackend>, number][] = [
  // name, factory, tolerance (relative norm after 25 iterations against the float64 oracle)
  ['reference', async () => createReferenceBackend(), 1e-4],
  ['wasm', async () => createWasmBackend({ relaxed: false, threads: 2 }), 1e-3],
];
const made: ComputeBackend[] = [];
afterAll(() => made.forEach((b) => b.destroy()));

describe.each(backends)('emKnownProportions on %s is its direct implementation', (beName, create, tol) => {
  const cases: [string, number, number, number, number, boolean, boolean, boolean][] = [
    // name, n, k, d, classes, hard map, match proportions, far rows
    ['soft map, matched', 600, 7, 3, 3, false, true, false],
    ['hard map, matched, rows far from everything', 500, 6, 2, 2, true, true, true],
    ['soft map, unmatched', 400, 5, 4, 2, false, false, false],
    ['one class (stage 1 sub-clusters)', 300, 6, 10, 1, false, true, false],
    // Near rows only: the direct version floors ρ at 1e-300 inside its log, so a row hundreds of
    // sds nearer to a component no class uses than to any other took its class likelihood from that
    // floor; ρ = 0 means the component is no part of the class, and the fast version gives it none.
    ['hard map with a component no class uses', 350, 8, 3, 3, true, true, false],
  ];
  for (const [name, n, k, d, C, hard, match, far] of cases) {
    it(name, async () => {
      const be = await create();
      made.push(be);
      const rng = Rng.forCase(SEED, `emKnown ${name}`);
      const m = f32Mixture(mixture(rng, k, d, C, hard));
      if (name.includes('no class uses')) for (let c = 0; c < C; c++) m.rho[c * k + k - 1] = 0;
      const S = 4;
      const sampleOf = Int32Array.from({ length: n }, (_, i) => i % S);
      const theta = Array.from({ length: S }, () => {
        const t = Array.from({ length: C }, () => rng.range(0.01, 1));
        const s = t.reduce((a, b) => a + b, 0);
        return t.map((v) => v / s);
      });
      const z = Float64Array.from({ length: n * d }, (_, i) => Math.fround((() => {
        const row = Math.floor(i / d);
        const comp = row % k;
        // Far rows sit hundreds of sds from every component: exp(ld − max) underflows for most.
        return far && row % 17 === 0 ? 400 * (rng.uniform() < 0.5 ? -1 : 1) + rng.normal() : m.mu[comp * d + (i % d)] + rng.normal();
      })()));
      const a = clone(m);
      const b = clone(m);
      const llA = await emKnownProportions(be, a, z, n, sampleOf, theta, 25, { matchProportions: match, warmStart: false });
      const llB = emKnownProportionsOracle(b, z, n, sampleOf, theta, 25, { matchProportions: match });
      expect(Number.isFinite(llA), hint).toBe(true);
      expect(Math.abs(llA - llB) / Math.max(1, Math.abs(llB)), `${beName} log-lik; ${hint}`).toBeLessThan(tol);
      for (const key of ['mu', 'logVar', 'rho'] as const) {
        expect(a[key].every(Number.isFinite), `${key} finite; ${hint}`).toBe(true);
        expect(relErr(a[key], b[key]), `${beName} ${key}; ${hint}`).toBeLessThan(tol);
      }
      if (hard) for (let i = 0; i < a.rho.length; i++) if (m.rho[i] === 0) expect(a.rho[i]).toBe(0);
    });
  }
});

describe('the warm-started balancing', () => {
  it('reaches the cold start\'s parameters to the balancing tolerance', async () => {
    const rng = Rng.forCase(SEED, 'emKnown warm start');
    const be = createReferenceBackend();
    const [n, k, d, C, S] = [1200, 7, 3, 3, 4];
    const m = f32Mixture(mixture(rng, k, d, C, false));
    const sampleOf = Int32Array.from({ length: n }, (_, i) => i % S);
    const theta = Array.from({ length: S }, () => {
      const t = Array.from({ length: C }, () => rng.range(0.05, 1));
      const s = t.reduce((a, b) => a + b, 0);
      return t.map((v) => v / s);
    });
    const z = Float64Array.from({ length: n * d }, (_, i) => Math.fround(m.mu[(Math.floor(i / d) % k) * d + (i % d)] + rng.normal()));
    const warm = clone(m);
    const cold = clone(m);
    const llW = await emKnownProportions(be, warm, z, n, sampleOf, theta, 40);
    const llC = await emKnownProportions(be, cold, z, n, sampleOf, theta, 40, { warmStart: false });
    expect(Math.abs(llW - llC), hint).toBeLessThan(1e-3);
    for (const key of ['mu', 'logVar', 'rho'] as const) expect(relErr(warm[key], cold[key]), `${key}; ${hint}`).toBeLessThan(1e-2);
  });
});

describe.each(backends)('perSampleProportions on %s is the per-sample EM over host log-densities', (beName, create) => {
  it('gives every sample the proportions of the float64 host computation', async () => {
    const be = await create();
    made.push(be);
    const rng = Rng.forCase(SEED, 'perSampleProportions');
    const [n, k, d, C, S] = [2400, 6, 3, 3, 5];
    const m = f32Mixture(mixture(rng, k, d, C, false));
    // Each sample draws its rows from the components with its own class proportions; sample 4 has
    // no rows (null, as the pipeline expects for a sample stage 1 emptied).
    const truth = Array.from({ length: S - 1 }, () => {
      const t = Array.from({ length: C }, () => rng.range(0.05, 1));
      const s = t.reduce((a, b) => a + b, 0);
      return t.map((v) => v / s);
    });
    const sampleOf = Int32Array.from({ length: n }, (_, i) => i % (S - 1));
    const z = new Float64Array(n * d);
    for (let i = 0; i < n; i++) {
      const t = truth[sampleOf[i]];
      let u = rng.uniform();
      let c = 0;
      while (c < C - 1 && (u -= t[c]) > 0) c++;
      let v = rng.uniform();
      let j = 0;
      while (j < k - 1 && (v -= m.rho[c * k + j]) > 0) j++;
      for (let t2 = 0; t2 < d; t2++) z[i * d + t2] = Math.fround(m.mu[j * d + t2] + Math.exp(0.5 * m.logVar[j * d + t2]) * rng.normal());
    }
    const init = (s: number) => Array.from({ length: C }, (_, c) => (s + c + 1) / (C * (s + 2)));
    const got = await perSampleProportions(be, m, z, n, sampleOf, S, init);
    const ld = logGauss(m, z, n);
    expect(got[S - 1], hint).toBeNull();
    for (let s = 0; s < S - 1; s++) {
      const rows = Array.from({ length: n }, (_, i) => i).filter((i) => sampleOf[i] === s);
      const want = estimateProportions(m, selectRows(ld, k, rows), rows.length, { init: init(s), accelerate: true }).theta;
      const est = got[s]!;
      for (let c = 0; c < C; c++) expect(Math.abs(est[c] - want[c]), `${beName} sample ${s} class ${c}; ${hint}`).toBeLessThan(1e-4);
      // Not the starting point: the EM moved to the sample's own proportions.
      expect(Math.abs(est.reduce((a, v) => a + v, 0) - 1), hint).toBeLessThan(1e-9);
    }
  });
});
