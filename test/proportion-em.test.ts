// The per-sample proportion EM (bindings/pipeline/proportions.ts): its fused E/M pass and its
// SQUAREM acceleration must reach the fixed point of the plain EM map. The reference below is the
// plain EM written independently (a log-space E-step, posteriors written every iteration) and run
// far past the library's tolerance, until a step moves θ by < 1e-15 — on random inputs and on
// near-degenerate ones (overlapping classes, a class with ~0 mass, n = 1, a single class).
// Also classify's other serial host work made cheaper with it (bench/NOTES.md §13): validateSample's
// all-finite check on f32 bit patterns, against Number.isFinite; the level inputs straight from the
// pulse summaries, against levelInputs of the joint [embedding, pulse] rows (bit for bit).
import { describe, expect, it } from 'vitest';
import { validateSample } from '../bindings/pipeline/index.js';
import { proportionsFromClassLogLik } from '../bindings/pipeline/proportions.js';
import { fitPulseScaler, withPulse } from '../bindings/pipeline/pulse-features.js';
import { levelInputs, levelInputsFromPulse, type RedLevels } from '../bindings/pipeline/red-levels.js';
import { reproduceHint, Rng, testSeed } from './helpers/rng.js';

const SEED = testSeed();
const hint = reproduceHint(SEED, 'test/proportion-em.test.ts');

/** Posteriors under θ by a log-space E-step: softmax_c(L_ic + log max(θ_c, floor)). */
function referencePosteriors(L: ArrayLike<number>, n: number, C: number, theta: ArrayLike<number>, floor: number): Float64Array {
  const post = new Float64Array(n * C);
  for (let i = 0; i < n; i++) {
    let mx = -Infinity;
    for (let c = 0; c < C; c++) mx = Math.max(mx, (post[i * C + c] = L[i * C + c] + Math.log(Math.max(theta[c], floor))));
    let s = 0;
    for (let c = 0; c < C; c++) s += (post[i * C + c] = Math.exp(post[i * C + c] - mx));
    for (let c = 0; c < C; c++) post[i * C + c] /= s;
  }
  return post;
}

/** Plain EM to convergence: θ ← mean of the posteriors until a step moves θ by < 1e-15. */
function referenceFixedPoint(L: ArrayLike<number>, n: number, C: number, init: ArrayLike<number>, floor: number): { theta: Float64Array; steps: number } {
  let theta = Float64Array.from(init);
  for (let steps = 1; steps <= 2_000_000; steps++) {
    const post = referencePosteriors(L, n, C, theta, floor);
    const next = new Float64Array(C);
    for (let i = 0; i < n; i++) for (let c = 0; c < C; c++) next[c] += post[i * C + c] / n;
    let change = 0;
    for (let c = 0; c < C; c++) change = Math.max(change, Math.abs(next[c] - theta[c]));
    theta = next;
    if (change < 1e-15) return { theta, steps };
  }
  throw new Error('reference EM did not converge (the test case is too slow for it)');
}

interface Case { name: string; n: number; C: number; L: Float64Array; init?: Float64Array; floor?: number }

/** Random class log-likelihoods, and the near-degenerate shapes the pipeline can meet. */
function cases(): Case[] {
  const out: Case[] = [];
  const rng = (name: string) => Rng.forCase(SEED, name);
  for (const [n, C, spread] of [[7, 2, 3], [500, 2, 2], [2000, 3, 4], [333, 4, 1.5], [1200, 2, 0.7]] as const) {
    const r = rng(`random ${n} ${C}`);
    out.push({ name: `random n=${n} C=${C}`, n, C, L: r.normals(n * C, spread, -40), init: r.simplexRows(1, C, 1) });
  }
  {
    // Overlapping classes: the class likelihoods of a row differ by ~0.05 nats, so the data say
    // little about θ and the plain EM contracts slowly (rate near 1).
    const r = rng('overlap');
    const n = 400;
    const L = new Float64Array(n * 2);
    for (let i = 0; i < n; i++) {
      const base = r.normal() * 5;
      L[i * 2] = base + 0.05 * r.normal() + 0.02;
      L[i * 2 + 1] = base + 0.05 * r.normal();
    }
    out.push({ name: 'overlapping classes', n, C: 2, L });
  }
  {
    // A class with ~0 mass: every row likes it ≥ 12 nats less than its best class, so θ_c ends
    // near the floor (and the floor, not the data, sets its value).
    const r = rng('empty class');
    const n = 600;
    const L = r.normals(n * 3, 1);
    for (let i = 0; i < n; i++) L[i * 3 + 2] = Math.min(L[i * 3], L[i * 3 + 1]) - 12 - Math.abs(r.normal());
    out.push({ name: 'class with ~0 mass', n, C: 3, L });
    out.push({ name: 'class with ~0 mass, floor 1e-3', n, C: 3, L, floor: 1e-3 });
  }
  {
    const r = rng('n=1');
    out.push({ name: 'n = 1', n: 1, C: 3, L: r.normals(3, 2), init: r.simplexRows(1, 3, 1) });
    out.push({ name: 'one class', n: 50, C: 1, L: r.normals(50, 3) });
  }
  return out;
}

const rowSumError = (post: Float64Array, n: number, C: number) => {
  let worst = 0;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let c = 0; c < C; c++) s += post[i * C + c];
    worst = Math.max(worst, Math.abs(s - 1));
  }
  return worst;
};

describe('proportion EM: plain (fused E/M) and SQUAREM reach the plain EM\'s fixed point', () => {
  it('θ within 1e-7 of the reference fixed point; posteriors are the log-space E-step under θ, rows sum to 1', () => {
    let compared = 0;
    let plainEvaluations = 0;
    let fastEvaluations = 0;
    for (const { name, n, C, L, init, floor = 1e-6 } of cases()) {
      const start = init ?? Float64Array.from({ length: C }, () => 1 / C);
      const want = referenceFixedPoint(L, n, C, start, floor);
      // The library's plain EM stops at a step < tol; run it with a tol that small steps can meet.
      const plain = proportionsFromClassLogLik(C, L, n, { init, floor, tol: 1e-14, iterations: 2_000_001 });
      const fast = proportionsFromClassLogLik(C, L, n, { init, floor, accelerate: true });
      for (const [label, got] of [['plain', plain], ['SQUAREM', fast]] as const) {
        for (let c = 0; c < C; c++) {
          expect(Math.abs(got.theta[c] - want.theta[c]), `${label} θ_${c}, ${name} (reference ${want.theta[c]}, ${want.steps} steps); ${hint}`).toBeLessThanOrEqual(1e-7);
        }
        const ref = referencePosteriors(L, n, C, got.theta, floor);
        for (let i = 0; i < n * C; i++) expect(Math.abs(got.post[i] - ref[i]), `${label} post ${i}, ${name}; ${hint}`).toBeLessThanOrEqual(1e-12);
        expect(rowSumError(got.post, n, C), `${label} row sums, ${name}; ${hint}`).toBeLessThanOrEqual(1e-12);
        compared++;
      }
      plainEvaluations += plain.evaluations;
      fastEvaluations += fast.evaluations;
    }
    expect(compared).toBe(2 * cases().length);
    // The point of SQUAREM: far fewer passes over the rows than the plain EM needs for the same θ.
    expect(fastEvaluations, `SQUAREM ${fastEvaluations} vs plain ${plainEvaluations} evaluations; ${hint}`).toBeLessThan(plainEvaluations / 4);
  });

  it('iterations: 1 is exactly one E-step from init (θ = init), with and without acceleration', () => {
    const rng = Rng.forCase(SEED, 'one step');
    for (const [n, C] of [[1, 2], [17, 3], [400, 2]] as const) {
      const L = rng.normals(n * C, 3);
      const init = rng.simplexRows(1, C, 2);
      const want = referencePosteriors(L, n, C, init, 1e-6);
      for (const accelerate of [false, true]) {
        const got = proportionsFromClassLogLik(C, L, n, { init, iterations: 1, accelerate });
        expect(Array.from(got.theta), `θ, n=${n} C=${C} accelerate=${accelerate}; ${hint}`).toEqual(Array.from(init));
        expect(got.evaluations).toBe(0);
        for (let i = 0; i < n * C; i++) expect(Math.abs(got.post[i] - want[i]), `post ${i}, n=${n}; ${hint}`).toBeLessThanOrEqual(1e-12);
      }
    }
  });

  it('SQUAREM keeps to its budget of EM evaluations (iterations − 1) and stays on the simplex', () => {
    const rng = Rng.forCase(SEED, 'budget');
    const n = 800;
    const C = 3;
    const L = rng.normals(n * C, 0.3);
    for (const iterations of [2, 3, 4, 5, 9]) {
      const got = proportionsFromClassLogLik(C, L, n, { iterations, accelerate: true, tol: 0 });
      expect(got.evaluations, `iterations ${iterations}; ${hint}`).toBeLessThanOrEqual(iterations - 1);
      let sum = 0;
      for (let c = 0; c < C; c++) {
        expect(got.theta[c], `θ_${c} ≥ 0, iterations ${iterations}; ${hint}`).toBeGreaterThanOrEqual(0);
        sum += got.theta[c];
      }
      expect(Math.abs(sum - 1), `Σθ, iterations ${iterations}; ${hint}`).toBeLessThanOrEqual(1e-12);
    }
  });
});

describe('validateSample: the bit-pattern scan finds what Number.isFinite finds', () => {
  it('names the first non-finite value (NaN, ±∞) anywhere in a view with an offset; extreme finite values pass', () => {
    const rng = Rng.forCase(SEED, 'validate');
    const rows = 13;
    const cols = 7;
    // The sample is a view into a larger buffer whose neighbouring values are NaN: the scan must
    // read the view's own bytes only.
    const backing = new Float32Array(3 + rows * cols + 2).fill(NaN);
    const data = backing.subarray(3, 3 + rows * cols);
    let checked = 0;
    for (const bad of [NaN, Infinity, -Infinity, null]) {
      for (let trial = 0; trial < 6; trial++) {
        data.set(rng.normals(rows * cols, 1e3));
        data[rng.int(rows * cols)] = 3.4028234663852886e38; // the largest finite f32
        data[rng.int(rows * cols)] = -1.401298464324817e-45; // the smallest subnormal
        const at = trial === 0 ? 0 : trial === 1 ? rows * cols - 1 : rng.int(rows * cols);
        if (bad !== null) data[at] = bad;
        const call = () => validateSample({ id: 'v', rows, cols, data });
        if (bad === null) expect(call).not.toThrow();
        else expect(call, `${bad} at ${at}; ${hint}`).toThrow(`sample 'v': value at event ${Math.floor(at / cols)}, feature ${at % cols} is ${bad} (not finite)`);
        checked++;
      }
    }
    expect(checked).toBe(24);
  });
});

describe('levelInputsFromPulse', () => {
  it('equals levelInputs of withPulse\'s joint rows exactly', () => {
    const rng = Rng.forCase(SEED, 'level inputs');
    for (const [n, d] of [[1, 1], [37, 10], [500, 3]]) {
      const P = 8;
      const f = Float32Array.from(rng.normals(n * P, 40, 5));
      const sc = fitPulseScaler(Float64Array.from(f), n, P);
      if (n === 1) sc.std.fill(0.75); // one row has no spread; any positive scale will do
      const L = { embeddingDim: d, roles: ['FSC', 'FSC', 'SSC', 'SSC', 'FL', 'FL', 'IMP', 'IMP'] } as RedLevels;
      const want = levelInputs(L, withPulse(Float32Array.from(rng.normals(n * d)), d, f, P, sc, n), n);
      const got = levelInputsFromPulse(L, f, sc, n);
      expect(Array.from(got.zA), `zA n=${n} d=${d}; ${hint}`).toEqual(Array.from(want.zA));
      expect(Array.from(got.zB), `zB n=${n} d=${d}; ${hint}`).toEqual(Array.from(want.zB));
      expect(got.zA.length).toBe(n * 6);
      expect(got.zB.length).toBe(n * 2);
    }
  });
});
