// The oracle checked against things that do not share its code: published Philox known-answer
// vectors, hand computations, closed forms (K=1 VaDE KL = KL of two diagonal Gaussians), direct
// (non-log) GMM responsibilities, Lloyd's k-means on separated blobs, and the error contract.
import { describe, expect, it } from 'vitest';
import type { Tensor } from '../bindings/backend.js';
import { OP_NAMES } from '../bindings/backend.js';
import { createReferenceBackend } from '../bindings/backends/reference/index.js';
import { ShapeError } from '../bindings/checks.js';
import { mulhi32, philox4x32, philoxNormalAt } from '../bindings/philox.js';
import { tensorF64 } from './helpers/gradcheck.js';
import { reproduceHint, Rng, testSeed } from './helpers/rng.js';

const SEED = testSeed();
const HINT = reproduceHint(SEED, 'test/reference.test.ts');
const be = createReferenceBackend();
const rngFor = (name: string) => Rng.forCase(SEED, `reference ${name}`);
const t64 = (shape: number[], data: number[] | Float64Array) => tensorF64(be, shape, Float64Array.from(data));
const read = (t: Tensor) => Array.from(be.readF64(t));
const hex = (a: Uint32Array) => Array.from(a, (x) => x.toString(16).padStart(8, '0')).join(' ');

describe('Philox4x32-10', () => {
  it('matches the Random123 known-answer vectors', () => {
    expect(hex(philox4x32(0, 0, 0, 0, 0, 0))).toBe('6627e8d5 e169c58d bc57ac4c 9b00dbd8');
    const f = 0xffffffff;
    expect(hex(philox4x32(f, f, f, f, f, f))).toBe('408f276d 41c83b0e a20bc7c6 6d5451fd');
    expect(hex(philox4x32(0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0)))
      .toBe('d16cfe09 94fdcceb 5001e420 24126ea1');
  });

  it('mulhi32 equals the BigInt product on random and extreme operands', () => {
    const rng = rngFor('mulhi');
    const pairs: [number, number][] = [[0, 0], [0xffffffff, 0xffffffff], [0xd2511f53, 0xffffffff], [1, 0xffffffff], [0x10000, 0x10000]];
    for (let i = 0; i < 2000; i++) pairs.push([rng.u32(), rng.u32()]);
    for (const [a, b] of pairs) expect(mulhi32(a, b), `${a}*${b}; ${HINT}`).toBe(Number((BigInt(a) * BigInt(b)) >> 32n));
  });

  it('philoxNormal follows the recipe: hand evaluation from the known-answer words', () => {
    // Counter (0,0,0,0), key (0,0) gives r0 = 0x6627e8d5, r1 = 0xe169c58d (first vector above).
    const u1 = ((0x6627e8d5 >>> 8) + 0.5) / 2 ** 24;
    const u2 = (0xe169c58d >>> 8) / 2 ** 24;
    const want = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    const out = be.create([3]);
    be.philoxNormal(out, 0, 0, 0);
    expect(be.readF64(out)[0]).toBe(want);
    // Element i uses counter offset+i: offset 1 shifts the sequence by one.
    const shifted = be.create([2]);
    be.philoxNormal(shifted, 0, 0, 1);
    expect(read(shifted)).toEqual(read(out).slice(1));
  });

  it('philoxNormal wraps the counter mod 2^32 and depends on seed and stream', () => {
    const out = be.create([3]);
    be.philoxNormal(out, 7, 9, 0xffffffff);
    const [, atZero] = read(out);
    expect(atZero).toBe(philoxNormalAt(7, 9, 0));
    const other = be.create([3]);
    be.philoxNormal(other, 8, 9, 0xffffffff);
    expect(read(other)).not.toEqual(read(out));
    be.philoxNormal(other, 7, 10, 0xffffffff);
    expect(read(other)).not.toEqual(read(out));
  });

  it('normals have mean 0, variance 1, kurtosis 3 and 68.3% within one sigma on 1e5 draws', () => {
    const n = 100_000;
    const out = be.create([n]);
    const rng = rngFor('philox stats');
    be.philoxNormal(out, rng.u32(), rng.u32(), rng.u32());
    const x = be.readF64(out);
    let s1 = 0, s2 = 0, s4 = 0, inside = 0;
    for (const v of x) { s1 += v; s2 += v * v; s4 += v ** 4; if (Math.abs(v) < 1) inside++; }
    const mean = s1 / n, variance = s2 / n - mean * mean;
    // Bounds are ~6 standard errors (mean: 1/√n = 0.0032; variance: √(2/n) = 0.0045; 4th moment: √(96/n) = 0.031;
    // fraction: 0.0015); a wrong transform (e.g. √(−ln u) → variance 0.5, uniform → 1/12) fails them all.
    expect(Math.abs(mean), HINT).toBeLessThan(0.02);
    expect(Math.abs(variance - 1), HINT).toBeLessThan(0.03);
    expect(Math.abs(s4 / n - 3), HINT).toBeLessThan(0.2);
    expect(Math.abs(inside / n - 0.6827), HINT).toBeLessThan(0.01);
  });
});

describe('reference ops: hand computations and closed forms', () => {
  it('softAssign: a 2x2 case by hand (alpha = 1 and 3), rows sum to 1', () => {
    const z = t64([2, 1], [0, 2]), mu = t64([2, 1], [0, 1]), q = be.create([2, 2]);
    be.softAssign(z, mu, q, 1);
    // α=1: kernel 1/(1+d²). z=0: d² = 0, 1 → 1, 1/2 → [2/3, 1/3]; z=2: d² = 4, 1 → 1/5, 1/2 → [2/7, 5/7].
    expectAll(read(q), [2 / 3, 1 / 3, 2 / 7, 5 / 7]);
    be.softAssign(z, mu, q, 3);
    // α=3: kernel (1+d²/3)^−2. z=0: 1, 9/16 → [16/25, 9/25]; z=2: (7/3)^−2 = 9/49, (4/3)^−2 = 9/16.
    const a = 9 / 49, b = 9 / 16;
    expectAll(read(q), [16 / 25, 9 / 25, a / (a + b), b / (a + b)]);
    const rng = rngFor('softAssign rows');
    const big = be.create([13, 7]);
    be.softAssign(t64([13, 4], rng.normals(52, 3)), t64([7, 4], rng.normals(28, 3)), big, 1);
    const qs = read(big);
    for (let i = 0; i < 13; i++) expect(qs.slice(i * 7, i * 7 + 7).reduce((s, v) => s + v, 0)).toBeCloseTo(1, 14);
  });

  it('targetDistribution and klDivLoss: hand cases', () => {
    const q = t64([2, 2], [2 / 3, 1 / 3, 2 / 7, 5 / 7]), f = be.create([2]), p = be.create([2, 2]);
    be.colSum(q, f);
    expectAll(read(f), [20 / 21, 22 / 21]);
    be.targetDistribution(q, f, p);
    // Row 0: q²/f = (4/9)/(20/21) = 7/15 and (1/9)/(22/21) = 7/66 → normalised [66/81, 15/81].
    // Row 1: (4/49)/(20/21) = 3/35 and (25/49)/(22/21) = 75/154 → ratio 3/35 : 75/154 = 66 : 375.
    expectAll(read(p), [66 / 81, 15 / 81, 66 / 441, 375 / 441]);
    const loss = be.create([1]);
    be.klDivLoss(t64([2, 2], [1, 0, 0.5, 0.5]), t64([2, 2], [0.5, 0.5, 0.25, 0.75]), loss);
    expectAll(read(loss), [(Math.log(2) + 0.5 * Math.log(2) + 0.5 * Math.log(2 / 3)) / 2]);
  });

  it('gmmLogResp: rows logsumexp to 0 and match the direct (non-log) responsibilities', () => {
    const rng = rngFor('gmm');
    const [n, d, k] = [7, 3, 4];
    const z = rng.normals(n * d), a = rng.normals(k), mu = rng.normals(k * d), lv = rng.uniforms(k * d, -1, 1);
    const out = be.create([n, k]);
    be.gmmLogResp(t64([n, d], z), t64([k], a), t64([k, d], mu), t64([k, d], lv), out);
    const logResp = read(out);
    const piSum = a.reduce((s, v) => s + Math.exp(v), 0);
    for (let i = 0; i < n; i++) {
      const row = logResp.slice(i * k, i * k + k);
      expect(Math.log(row.reduce((s, v) => s + Math.exp(v), 0))).toBeCloseTo(0, 13);
      const joint = Array.from({ length: k }, (_, c) => {
        let dens = Math.exp(a[c]) / piSum;
        for (let t = 0; t < d; t++) {
          const v = Math.exp(lv[c * d + t]);
          dens *= Math.exp(-((z[i * d + t] - mu[c * d + t]) ** 2) / (2 * v)) / Math.sqrt(2 * Math.PI * v);
        }
        return dens;
      });
      const total = joint.reduce((s, v) => s + v, 0);
      expectAll(row.map(Math.exp), joint.map((v) => v / total), 1e-12);
    }
  });

  it('vadeKlLoss with K=1 is the mean KL between the two diagonal Gaussians; one-hot gamma adds −log π_c', () => {
    const rng = rngFor('vade K=1');
    const [n, d] = [5, 3];
    const me = rng.normals(n * d), lve = rng.uniforms(n * d, -1, 1), mc = rng.normals(d), lvc = rng.uniforms(d, -1, 1);
    // KL(N(m1, s1²) ‖ N(m2, s2²)) = log(s2/s1) + (s1² + (m1 − m2)²)/(2 s2²) − ½ per dimension.
    const klRow = (i: number, c: number, mcs: Float64Array, lvcs: Float64Array) => {
      let s = 0;
      for (let t = 0; t < d; t++) {
        const s1 = Math.exp(lve[i * d + t] / 2), s2 = Math.exp(lvcs[c * d + t] / 2);
        s += Math.log(s2 / s1) + (s1 * s1 + (me[i * d + t] - mcs[c * d + t]) ** 2) / (2 * s2 * s2) - 0.5;
      }
      return s;
    };
    const loss = be.create([1]);
    be.vadeKlLoss(t64([n, d], me), t64([n, d], lve), t64([n, 1], new Float64Array(n).fill(1)), t64([1], [0.3]),
      t64([1, d], mc), t64([1, d], lvc), loss);
    let want = 0;
    for (let i = 0; i < n; i++) want += klRow(i, 0, mc, lvc) / n;
    expectAll(read(loss), [want], 1e-13);

    // K=2 with one-hot γ (row i in cluster i mod 2): KL to that cluster's Gaussian − log π_c.
    const mc2 = rng.normals(2 * d), lvc2 = rng.uniforms(2 * d, -1, 1), logits = [0.4, -1.1];
    const gamma = Float64Array.from({ length: n * 2 }, (_, j) => (j % 2 === Math.floor(j / 2) % 2 ? 1 : 0));
    be.vadeKlLoss(t64([n, d], me), t64([n, d], lve), t64([n, 2], gamma), t64([2], logits), t64([2, d], mc2), t64([2, d], lvc2), loss);
    const logZ = Math.log(Math.exp(logits[0]) + Math.exp(logits[1]));
    want = 0;
    for (let i = 0; i < n; i++) want += (klRow(i, i % 2, mc2, lvc2) - (logits[i % 2] - logZ)) / n;
    expectAll(read(loss), [want], 1e-13);
  });

  it('adamUpdate and sgdUpdate: one step by hand', () => {
    const p = t64([2], [1, -2]), g = t64([2], [0.5, 0.1]), m = t64([2], [0, 0]), v = t64([2], [0, 0]);
    be.adamUpdate(p, g, m, v, { lr: 0.1, step: 1, weightDecay: 0.01 });
    // Step 1: m = 0.1 g, v = 0.001 g², m̂ = g, v̂ = g², so the step is lr·(g/(|g|+1e-8) + wd·p).
    expectAll(read(m), [0.05, 0.01]);
    expectAll(read(v), [0.00025, 0.00001]);
    expectAll(read(p), [1 - 0.1 * (0.5 / (0.5 + 1e-8) + 0.01), -2 - 0.1 * (0.1 / (0.1 + 1e-8) - 0.02)]);
    // Step 2 with a new gradient, default betas: bias corrections 1 − 0.9² and 1 − 0.999².
    const g2 = t64([2], [-1, 0.1]);
    be.adamUpdate(p, g2, m, v, { lr: 0.1, step: 2 });
    const m2 = [0.9 * 0.05 + 0.1 * -1, 0.9 * 0.01 + 0.1 * 0.1];
    const v2 = [0.999 * 0.00025 + 0.001 * 1, 0.999 * 0.00001 + 0.001 * 0.01];
    const p1 = [1 - 0.1 * (0.5 / (0.5 + 1e-8) + 0.01), -2 - 0.1 * (0.1 / (0.1 + 1e-8) - 0.02)];
    expectAll(read(p), p1.map((x, i) => x - 0.1 * (m2[i] / 0.19) / (Math.sqrt(v2[i] / (1 - 0.999 ** 2)) + 1e-8)));

    const sp = t64([2], [1, 2]), sv = t64([2], [0.5, -1]);
    be.sgdUpdate(sp, t64([2], [0.2, 0.4]), sv, { lr: 0.1 });
    expectAll(read(sv), [0.9 * 0.5 + 0.2, 0.9 * -1 + 0.4]);
    expectAll(read(sp), [1 - 0.1 * 0.65, 2 - 0.1 * -0.5]);
  });

  it('losses by hand: mse, stable bce at ±100, proportion xent with the 1e-12 floor', () => {
    const loss = be.create([1]);
    be.mseLoss(t64([2, 2], [1, 2, 3, 4]), t64([2, 2], [0, 2, 5, 4]), loss);
    expectAll(read(loss), [(1 + 0 + 4 + 0) / 4]);
    be.bceLogitsLoss(t64([1, 3], [100, -100, 0]), t64([1, 3], [1, 1, 0.5]), loss);
    // softplus(100) − 100 ≈ e^−100; softplus(−100) + 100 ≈ 100; softplus(0) − 0 = log 2.
    expectAll(read(loss), [Math.exp(-100) + 100 + Math.log(2)]);
    be.proportionXentLoss(t64([2, 2], [0.25, 0.75, 0, 1]), t64([2, 2], [0.5, 0.5, 0.5, 0.5]), loss);
    expectAll(read(loss), [-(0.5 * Math.log(0.25) + 0.5 * Math.log(0.75) + 0.5 * Math.log(1e-12) + 0) / 2]);
    const d = be.create([2, 2]);
    be.proportionXentLossBackward(t64([2, 2], [0.25, 0.75, 0, 1]), t64([2, 2], [0.5, 0.5, 0.5, 0.5]), d, 2);
    expectAll(read(d), [-2 * 0.5 / (2 * 0.25), -2 * 0.5 / (2 * 0.75), -2 * 0.5 / (2 * 1e-12), -2 * 0.5 / 2]);
  });

  it('small ops by hand: biasAct, argmax (first on ties), softmax of huge logits, gatherRows, fill, axpby', async () => {
    const out = be.create([1, 4]);
    be.biasAct(t64([1, 4], [0, -1, 2, 0]), t64([4], [0, 0, 0, 0]), 'sigmoid', out);
    expectAll(read(out), [0.5, 1 / (1 + Math.E), 1 / (1 + Math.exp(-2)), 0.5]);
    be.biasAct(t64([1, 4], [0, -1, 2, 0.5]), t64([4], [1, 0, -3, 0]), 'relu', out);
    expect(read(out)).toEqual([1, 0, 0, 0.5]);
    const am = be.create([2], 'i32');
    be.argmax(t64([2, 3], [1, 5, 5, -2, -2, -3]), am);
    expect(Array.from(await be.download(am))).toEqual([1, 0]);
    const sm = be.create([1, 3]);
    be.softmax(t64([1, 3], [1000, 1000, -1000]), sm);
    expectAll(read(sm), [0.5, 0.5, 0]);
    const idx = be.create([3], 'i32');
    be.upload(idx, [2, 0, 2]);
    const g = be.create([3, 2]);
    be.gatherRows(t64([3, 2], [1, 2, 3, 4, 5, 6]), idx, g);
    expect(read(g)).toEqual([5, 6, 1, 2, 5, 6]);
    be.fill(g, 0.1);
    expect(read(g)).toEqual(new Array(6).fill(Math.fround(0.1)));
    const y = t64([2], [NaN, 1]);
    be.axpby(t64([2], [1, 2]), y, 3, 0);
    expect(read(y)).toEqual([3, 6]);
  });

  it('gemm: a hand product, and beta = 0 ignores NaN in C', () => {
    const c = t64([2, 2], [NaN, NaN, Infinity, NaN]);
    be.gemm(t64([2, 3], [1, 2, 3, 4, 5, 6]), t64([3, 2], [7, 8, 9, 10, 11, 12]), c);
    expect(read(c)).toEqual([58, 64, 139, 154]);
    be.gemm(t64([3, 2], [1, 4, 2, 5, 3, 6]), t64([2, 3], [7, 9, 11, 8, 10, 12]), c, { transA: true, transB: true, alpha: 2, beta: -1 });
    expect(read(c)).toEqual([58, 64, 139, 154]);
  });

  it('accumulate adds the fresh gradient to what was there', () => {
    const rng = rngFor('accumulate');
    const x = t64([7, 3], rng.normals(21)), prior = rng.normals(3), out = t64([3], prior);
    const fresh = be.create([3]);
    be.colSum(x, fresh);
    be.colSum(x, out, { accumulate: true });
    expectAll(read(out), read(fresh).map((v, i) => v + prior[i]), 1e-14);

    const [n, d, k] = [5, 3, 2];
    const args = [t64([n, d], rng.normals(n * d)), t64([n, d], rng.uniforms(n * d, -1, 0)), t64([n, k], rng.simplexRows(n, k)),
      t64([k], rng.normals(k)), t64([k, d], rng.normals(k * d)), t64([k, d], rng.uniforms(k * d, -1, 1))] as const;
    const shapes = [[n, d], [n, d], [k], [k, d], [k, d]];
    const freshG = shapes.map((s) => be.create(s));
    const priors = shapes.map((s) => rng.normals(s[0] * (s[1] ?? 1)));
    const accG = shapes.map((s, i) => t64(s, priors[i]));
    be.vadeKlLossBackward(...args, freshG[0], freshG[1], freshG[2], freshG[3], freshG[4], 0.5);
    be.vadeKlLossBackward(...args, accG[0], accG[1], accG[2], accG[3], accG[4], 0.5, { accumulate: true });
    accG.forEach((t, i) => expectAll(read(t), read(freshG[i]).map((v, j) => v + priors[i][j]), 1e-14));

    const z = t64([n, d], rng.normals(n * d)), mu = t64([k, d], rng.normals(k * d)), p = t64([n, k], rng.simplexRows(n, k));
    const q = be.create([n, k]);
    be.softAssign(z, mu, q, 1);
    const dz0 = be.create([n, d]), dmu0 = be.create([k, d]);
    be.softAssignBackward(z, mu, p, q, 1, dz0, dmu0);
    const pz = rng.normals(n * d), pmu = rng.normals(k * d), dz = t64([n, d], pz), dmu = t64([k, d], pmu);
    be.softAssignBackward(z, mu, p, q, 1, dz, dmu, 1, { accumulate: true });
    expectAll(read(dz), read(dz0).map((v, i) => v + pz[i]), 1e-14);
    expectAll(read(dmu), read(dmu0).map((v, i) => v + pmu[i]), 1e-14);

    const dlv0 = be.create([n, d]), dm0 = be.create([n, d]);
    const dzIn = t64([n, d], rng.normals(n * d)), lv = t64([n, d], rng.normals(n * d)), eps = t64([n, d], rng.normals(n * d));
    be.reparameterizeBackward(dzIn, lv, eps, dm0, dlv0);
    const pm = rng.normals(n * d), plv = rng.normals(n * d), dm = t64([n, d], pm), dlv = t64([n, d], plv);
    be.reparameterizeBackward(dzIn, lv, eps, dm, dlv, { accumulate: true });
    expectAll(read(dm), read(dm0).map((v, i) => v + pm[i]), 1e-14);
    expectAll(read(dlv), read(dlv0).map((v, i) => v + plv[i]), 1e-14);
  });

  it("k-means (Lloyd's iterations of kmeansAssign + kmeansUpdate) finds three separated blobs", async () => {
    const rng = rngFor('kmeans');
    const centers = [[0, 0], [20, 0], [0, 20]];
    const perBlob = 40, n = 3 * perBlob, d = 2, k = 3;
    const xs = new Float64Array(n * d), truth: number[] = [];
    for (let i = 0; i < n; i++) {
      const b = i % 3;
      truth.push(b);
      for (let t = 0; t < d; t++) xs[i * d + t] = Math.fround(centers[b][t] + rng.normal());
    }
    const x = t64([n, d], xs), labels = be.create([n], 'i32'), minDist = be.create([n]);
    // Start well away from the blob centres (each start nearest a different blob), listed out of order.
    const cents = t64([k, d], [3, 14, 7, 4, 13, 3]), sums = be.create([k, d]), counts = be.create([k]);
    for (let it = 0; it < 20; it++) {
      be.kmeansAssign(x, cents, labels, minDist);
      be.kmeansUpdate(x, labels, sums, counts);
      const s = read(sums), c = read(counts);
      be.writeF64(cents, Float64Array.from(s, (v, j) => (c[Math.floor(j / d)] > 0 ? v / c[Math.floor(j / d)] : be.readF64(cents)[j])));
    }
    be.kmeansAssign(x, cents, labels, minDist);
    const lab = Array.from(await be.download(labels));
    // Same partition as the truth (up to renaming the clusters).
    const map = new Map<number, number>();
    lab.forEach((l, i) => { if (!map.has(truth[i])) map.set(truth[i], l); expect(l, HINT).toBe(map.get(truth[i])); });
    expect(new Set(map.values()).size).toBe(3);
    // Centroids are the blob means; minDist is the squared distance to the assigned centroid.
    const cs = read(cents), md = read(minDist);
    for (let b = 0; b < 3; b++) {
      for (let t = 0; t < d; t++) {
        let mean = 0;
        for (let i = b; i < n; i += 3) mean += xs[i * d + t] / perBlob;
        expect(cs[map.get(b)! * d + t]).toBeCloseTo(mean, 10);
      }
    }
    for (let i = 0; i < n; i++) {
      const c = lab[i];
      expect(md[i]).toBeCloseTo((xs[i * d] - cs[c * d]) ** 2 + (xs[i * d + 1] - cs[c * d + 1]) ** 2, 10);
    }
    expect(read(counts)).toEqual([perBlob, perBlob, perBlob]);
  });
});

describe('reference backend: memory and the error contract', () => {
  it('supports every op, rounds uploads to f32, downloads f32/i32 arrays, keeps float64 inside', async () => {
    for (const op of OP_NAMES) expect(be.supportsOp(op)).toBe(true);
    const t = be.create([3]);
    be.upload(t, [0.1, 1 / 3, 1e-50]);
    expect(read(t)).toEqual([Math.fround(0.1), Math.fround(1 / 3), 0]);
    be.writeF64(t, Float64Array.from([0.1, 1 / 3, 2]));
    expect(read(t)).toEqual([0.1, 1 / 3, 2]);
    const down = await be.download(t);
    expect(down).toBeInstanceOf(Float32Array);
    expect(Array.from(down)).toEqual([Math.fround(0.1), Math.fround(1 / 3), 2]);
    const it32 = be.create([2, 2], 'i32');
    be.upload(it32, Int32Array.from([1, -2, 3, 4]));
    const d32 = await be.download(it32);
    expect(d32).toBeInstanceOf(Int32Array);
    expect(Array.from(d32)).toEqual([1, -2, 3, 4]);
    await be.sync();
  });

  it('a shape mismatch throws ShapeError naming the op and the shapes', () => {
    const a = be.create([2, 3]), b = be.create([4, 5]), c = be.create([2, 5]);
    expect(() => be.gemm(a, b, c)).toThrow(ShapeError);
    expect(() => be.gemm(a, b, c)).toThrow(/^gemm: inner dimensions differ.*got a\[2,3\] b\[4,5\] c\[2,5\]/);
    expect(() => be.softAssign(be.create([4, 3]), be.create([2, 5]), be.create([4, 2]), 1)).toThrow(/softAssign: .*mu\[2,5\]/);
    expect(() => be.mseLoss(be.create([2, 3]), be.create([3, 2]), be.create([1]))).toThrow(/mseLoss: .*same shape.*pred\[2,3\] target\[3,2\]/);
    expect(() => be.argmax(be.create([2, 3]), be.create([2]))).toThrow(/argmax: out must be i32/);
    expect(() => be.upload(be.create([3]), [1, 2])).toThrow(/upload: data has 2 elements/);
    expect(() => be.create([0, 3])).toThrow(ShapeError);
  });

  it('refuses disposed tensors and tensors of another backend', async () => {
    const x = be.create([2, 2]), out = be.create([2, 2]);
    be.dispose(x);
    expect(() => be.softmax(x, out)).toThrow(/softmax: x was disposed/);
    await expect(be.download(x)).rejects.toThrow(/was disposed/);
    const foreign = { shape: [2, 2], dtype: 'f32', size: 4, backendName: 'wasm', disposed: false } as Tensor;
    expect(() => be.softmax(foreign, out)).toThrow(/softmax: x belongs to backend 'wasm', not 'reference'/);
  });

  it('checks labels and indices against their range', () => {
    const idx = be.create([2], 'i32');
    be.upload(idx, [0, 3]);
    expect(() => be.gatherRows(be.create([3, 2]), idx, be.create([2, 2]))).toThrow(/gatherRows: idx\[1\] = 3 is outside 0..2/);
    const labels = be.create([2], 'i32');
    be.upload(labels, [-1, 0]);
    expect(() => be.kmeansUpdate(be.create([2, 2]), labels, be.create([2, 2]), be.create([2]))).toThrow(/kmeansUpdate: labels\[0\] = -1/);
  });
});

function expectAll(got: number[], want: number[], tol = 1e-15) {
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => expect(Math.abs(g - want[i]), `[${i}] got ${g}, want ${want[i]}; ${HINT}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(want[i]))));
}
