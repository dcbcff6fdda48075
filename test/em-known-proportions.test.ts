// emKnownProportions (mixture.ts) against its first implementation (test/helpers/em-oracle.ts), on
// fresh random mixtures: the same parameters after many iterations, within float64 rounding. Cases
// cover rows far from every component (underflow against the row's best), classes that own no
// component for a row (ρ exactly 0: a hard map), components no class uses, empty components,
// proportion matching on and off.
import { describe, expect, it } from 'vitest';
import type { ClassMixture } from '../bindings/pipeline/mixture.js';
import { emKnownProportions } from '../bindings/pipeline/em-known.js';
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

describe('emKnownProportions is its direct implementation, faster', () => {
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
    it(name, () => {
      const rng = Rng.forCase(SEED, `emKnown ${name}`);
      const m = mixture(rng, k, d, C, hard);
      if (name.includes('no class uses')) for (let c = 0; c < C; c++) m.rho[c * k + k - 1] = 0;
      const S = 4;
      const sampleOf = Int32Array.from({ length: n }, (_, i) => i % S);
      const theta = Array.from({ length: S }, () => {
        const t = Array.from({ length: C }, () => rng.range(0.01, 1));
        const s = t.reduce((a, b) => a + b, 0);
        return t.map((v) => v / s);
      });
      const z = Float64Array.from({ length: n * d }, (_, i) => {
        const row = Math.floor(i / d);
        const comp = row % k;
        // Far rows sit hundreds of sds from every component: exp(ld − max) underflows for most.
        return far && row % 17 === 0 ? 400 * (rng.uniform() < 0.5 ? -1 : 1) + rng.normal() : m.mu[comp * d + (i % d)] + rng.normal();
      });
      const a = clone(m);
      const b = clone(m);
      const llA = emKnownProportions(a, z, n, sampleOf, theta, 25, { matchProportions: match });
      const llB = emKnownProportionsOracle(b, z, n, sampleOf, theta, 25, { matchProportions: match });
      expect(Number.isFinite(llA), hint).toBe(true);
      expect(Math.abs(llA - llB) / Math.max(1, Math.abs(llB)), `log-lik; ${hint}`).toBeLessThan(1e-9);
      for (const key of ['mu', 'logVar', 'rho'] as const) {
        expect(a[key].every(Number.isFinite), `${key} finite; ${hint}`).toBe(true);
        expect(relErr(a[key], b[key]), `${key}; ${hint}`).toBeLessThan(1e-8);
      }
      if (hard) for (let i = 0; i < a.rho.length; i++) if (m.rho[i] === 0) expect(a.rho[i]).toBe(0);
    });
  }
});
