// Every backward op of the reference backend against central finite differences in float64, on
// random inputs at small odd shapes (seed printed on failure; HEMACLUST_TEST_SEED fixes it).
import { describe, expect, it } from 'vitest';
import type { Activation, Tensor } from '../bindings/backend.js';
import { ACTIVATIONS } from '../bindings/backend.js';
import { createReferenceBackend } from '../bindings/backends/reference/index.js';
import { numericGrad, relErr, tensorF64, weightedSum } from './helpers/gradcheck.js';
import { reproduceHint, Rng, testSeed } from './helpers/rng.js';

const SEED = testSeed();
const HINT = reproduceHint(SEED, 'test/gradcheck.test.ts');
/** Central differences at eps = 1e-6 in float64 are good to ~1e-9 relative here; 1e-6 leaves margin. */
const TOL = 1e-6;
const be = createReferenceBackend();
const N = 5, D = 3, K = 3; // small odd shapes
const rngFor = (name: string) => Rng.forCase(SEED, `gradcheck ${name}`);
const scalar = (t: Tensor) => be.readF64(t)[0];

function expectClose(analytic: Float64Array, numeric: Float64Array, what: string) {
  const err = relErr(analytic, numeric);
  expect(err, `${what}: relative error ${err.toExponential(2)} (analytic ${analytic.slice(0, 4)}…, numeric ${numeric.slice(0, 4)}…); ${HINT}`)
    .toBeLessThanOrEqual(TOL);
  // A zero gradient would pass trivially against a zero numeric one: the cases are built so it is not.
  expect(Math.max(...numeric.map(Math.abs)), `${what}: numeric gradient is all zero`).toBeGreaterThan(1e-8);
}

describe('gradcheck (reference backward ops vs central finite differences)', () => {
  it.for(ACTIVATIONS)('biasActBackward (%s) and colSum as the bias gradient', (act: Activation) => {
    const rng = rngFor(`biasAct ${act}`);
    const bias = rng.normals(D);
    // Keep pre-activations away from relu's kink at 0, where the derivative does not exist.
    const xs = rng.normals(N * D).map((v, i) => (Math.abs(v + bias[i % D]) < 0.1 ? v + 0.5 : v));
    // Row 0 active in every column (pre-activation ≥ 0.2), so relu's gradients are never all zero: with
    // negative biases every pre-activation could be negative (≈ 0.3% of seeds, e.g. seed 26).
    for (let j = 0; j < D; j++) xs[j] = Math.abs(xs[j]) + Math.abs(bias[j]) + 0.2;
    const w = rng.normals(N * D);
    const x = tensorF64(be, [N, D], xs), b = tensorF64(be, [D], bias), y = be.create([N, D]), dx = be.create([N, D]), db = be.create([D]);
    const loss = () => { be.biasAct(x, b, act, y); return weightedSum(be, y, w); };
    loss();
    be.biasActBackward(tensorF64(be, [N, D], w), y, act, dx); // dy = w
    be.colSum(dx, db);
    expectClose(be.readF64(dx), numericGrad(be, x, loss), `biasActBackward ${act} dx`);
    expectClose(be.readF64(db), numericGrad(be, b, loss), `colSum(dx) as dbias (${act})`);
  });

  it('gemm gradient identities for all transposes (dA, dB by gemm, dC = beta·W)', () => {
    const [m, n, k] = [5, 3, 7];
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const rng = rngFor(`gemm ${transA} ${transB}`);
        const alpha = 1.3, beta = -0.7;
        const a = tensorF64(be, transA ? [k, m] : [m, k], rng.normals(m * k));
        const b = tensorF64(be, transB ? [n, k] : [k, n], rng.normals(k * n));
        const c0 = rng.normals(m * n);
        const wArr = rng.normals(m * n);
        const c = be.create([m, n]), cIn = tensorF64(be, [m, n], c0), w = tensorF64(be, [m, n], wArr);
        const loss = () => { be.writeF64(c, be.readF64(cIn)); be.gemm(a, b, c, { transA, transB, alpha, beta }); return weightedSum(be, c, wArr); };
        // L = Σ W ⊙ (α op(A) op(B) + β C): dop(A) = α W op(B)ᵀ, dop(B) = α op(A)ᵀ W, dC = β W.
        const dA = be.create(a.shape), dB = be.create(b.shape);
        if (!transA) be.gemm(w, b, dA, { transB: !transB, alpha });
        else be.gemm(b, w, dA, { transA: transB, transB: true, alpha });
        if (!transB) be.gemm(a, w, dB, { transA: !transA, alpha });
        else be.gemm(w, a, dB, { transA: true, transB: transA, alpha });
        const tag = `gemm transA=${transA} transB=${transB}`;
        expectClose(be.readF64(dA), numericGrad(be, a, loss), `${tag} dA`);
        expectClose(be.readF64(dB), numericGrad(be, b, loss), `${tag} dB`);
        expectClose(wArr.map((v) => beta * v), numericGrad(be, cIn, loss), `${tag} dC`);
      }
    }
  });

  it('mseLossBackward', () => {
    const rng = rngFor('mse');
    const scale = 0.7;
    const pred = tensorF64(be, [N, D], rng.normals(N * D)), target = tensorF64(be, [N, D], rng.normals(N * D));
    const l = be.create([1]), g = be.create([N, D]);
    const loss = () => { be.mseLoss(pred, target, l); return scale * scalar(l); };
    be.mseLossBackward(pred, target, g, scale);
    expectClose(be.readF64(g), numericGrad(be, pred, loss), 'mseLossBackward');
  });

  it('bceLogitsLossBackward', () => {
    const rng = rngFor('bce');
    const scale = 1.9;
    const logits = tensorF64(be, [N, D], rng.normals(N * D, 3)), target = tensorF64(be, [N, D], rng.uniforms(N * D));
    const l = be.create([1]), g = be.create([N, D]);
    const loss = () => { be.bceLogitsLoss(logits, target, l); return scale * scalar(l); };
    be.bceLogitsLossBackward(logits, target, g, scale);
    expectClose(be.readF64(g), numericGrad(be, logits, loss), 'bceLogitsLossBackward');
  });

  it.for([1, 2.5])('softAssignBackward w.r.t. z and mu, p fixed (alpha=%s)', (alpha: number) => {
    const rng = rngFor(`softAssign ${alpha}`);
    const scale = 0.3;
    const z = tensorF64(be, [N, D], rng.normals(N * D)), mu = tensorF64(be, [K, D], rng.normals(K * D));
    const q = be.create([N, K]), p = be.create([N, K]), f = be.create([K]), l = be.create([1]);
    // p is a real target distribution of the starting q (rows sum to 1), then held constant.
    be.softAssign(z, mu, q, alpha);
    be.colSum(q, f);
    be.targetDistribution(q, f, p);
    const loss = () => { be.softAssign(z, mu, q, alpha); be.klDivLoss(p, q, l); return scale * scalar(l); };
    loss();
    const dz = be.create([N, D]), dmu = be.create([K, D]);
    be.softAssignBackward(z, mu, p, q, alpha, dz, dmu, scale);
    expectClose(be.readF64(dz), numericGrad(be, z, loss), `softAssignBackward dz (alpha=${alpha})`);
    expectClose(be.readF64(dmu), numericGrad(be, mu, loss), `softAssignBackward dmu (alpha=${alpha})`);
  });

  it('reparameterizeBackward', () => {
    const rng = rngFor('reparameterize');
    const mu = tensorF64(be, [N, D], rng.normals(N * D)), logVar = tensorF64(be, [N, D], rng.normals(N * D));
    const eps = tensorF64(be, [N, D], rng.normals(N * D)), z = be.create([N, D]);
    const w = rng.normals(N * D);
    const loss = () => { be.reparameterize(mu, logVar, eps, z); return weightedSum(be, z, w); };
    const dmu = be.create([N, D]), dlv = be.create([N, D]);
    be.reparameterizeBackward(tensorF64(be, [N, D], w), logVar, eps, dmu, dlv);
    expectClose(be.readF64(dmu), numericGrad(be, mu, loss), 'reparameterizeBackward dmu');
    expectClose(be.readF64(dlv), numericGrad(be, logVar, loss), 'reparameterizeBackward dlogVar');
  });

  it('vadeKlLossBackward w.r.t. all five inputs, gamma fixed', () => {
    const rng = rngFor('vadeKl');
    const scale = 1.7;
    const muEnc = tensorF64(be, [N, D], rng.normals(N * D)), logVarEnc = tensorF64(be, [N, D], rng.uniforms(N * D, -1, 0.5));
    const gamma = tensorF64(be, [N, K], rng.simplexRows(N, K)), piLogits = tensorF64(be, [K], rng.normals(K));
    const muC = tensorF64(be, [K, D], rng.normals(K * D)), logVarC = tensorF64(be, [K, D], rng.uniforms(K * D, -0.5, 0.5));
    const l = be.create([1]);
    const loss = () => { be.vadeKlLoss(muEnc, logVarEnc, gamma, piLogits, muC, logVarC, l); return scale * scalar(l); };
    const g = { dMuEnc: be.create([N, D]), dLogVarEnc: be.create([N, D]), dPiLogits: be.create([K]), dMuC: be.create([K, D]), dLogVarC: be.create([K, D]) };
    be.vadeKlLossBackward(muEnc, logVarEnc, gamma, piLogits, muC, logVarC, g.dMuEnc, g.dLogVarEnc, g.dPiLogits, g.dMuC, g.dLogVarC, scale);
    expectClose(be.readF64(g.dMuEnc), numericGrad(be, muEnc, loss), 'vadeKl dMuEnc');
    expectClose(be.readF64(g.dLogVarEnc), numericGrad(be, logVarEnc, loss), 'vadeKl dLogVarEnc');
    expectClose(be.readF64(g.dPiLogits), numericGrad(be, piLogits, loss), 'vadeKl dPiLogits');
    expectClose(be.readF64(g.dMuC), numericGrad(be, muC, loss), 'vadeKl dMuC');
    expectClose(be.readF64(g.dLogVarC), numericGrad(be, logVarC, loss), 'vadeKl dLogVarC');
  });

  it('softmaxBackward', () => {
    const rng = rngFor('softmax');
    const x = tensorF64(be, [N, K + 2], rng.normals(N * (K + 2))), y = be.create([N, K + 2]), dx = be.create([N, K + 2]);
    const w = rng.normals(N * (K + 2));
    const loss = () => { be.softmax(x, y); return weightedSum(be, y, w); };
    loss();
    be.softmaxBackward(y, tensorF64(be, [N, K + 2], w), dx);
    expectClose(be.readF64(dx), numericGrad(be, x, loss), 'softmaxBackward');
  });

  it('proportionXentLossBackward', () => {
    const rng = rngFor('proportion');
    const scale = 0.4;
    const pred = tensorF64(be, [N, K], rng.simplexRows(N, K)), target = tensorF64(be, [N, K], rng.simplexRows(N, K));
    const l = be.create([1]), g = be.create([N, K]);
    const loss = () => { be.proportionXentLoss(pred, target, l); return scale * scalar(l); };
    be.proportionXentLossBackward(pred, target, g, scale);
    expectClose(be.readF64(g), numericGrad(be, pred, loss), 'proportionXentLossBackward');
  });
});
