// The VaDE training step composes many ops (two encoder heads, reparameterisation, decoder, the
// closed-form KL with γ held constant). Its gradients are checked here against central finite
// differences of the loss recon·scale + KL on the reference backend, γ fixed as the op contract says.
import { describe, expect, it } from 'vitest';
import { createReferenceBackend } from '../bindings/backends/reference/index.js';
import type { Tensor } from '../bindings/backend.js';
import { Autoencoder, VaDE } from '../bindings/models/index.js';
import { HostRng } from '../bindings/models/rng.js';

const be = createReferenceBackend();

describe.each([['bce', true], ['mse', false]] as const)('VaDE gradients (%s reconstruction)', (loss, unit) => {
  it('match central finite differences for every parameter group', async () => {
    const rng = new HostRng(11, 7);
    const rows = 5;
    const cols = 4;
    const data = Float32Array.from({ length: rows * cols }, () => (unit ? rng.uniform() : 2 * rng.normal()));
    const x = { rows, cols, data };
    const ae = new Autoencoder(be, { dims: [6, 3], seed: 3, hiddenActivation: 'tanh' });
    const config = ae.build(x);
    expect(config.loss).toBe(loss);
    const vade = new VaDE(be, { k: 2, dims: [6, 3], seed: 3 });
    vade.buildFrom(config);
    for (const m of [vade.trunk!, vade.muHead!, vade.logVarHead!, vade.decoder!]) m.init(rng, 'glorot');
    be.upload(vade.logVarHead!.b[0], [-0.5, 0.2, -1]);
    be.upload(vade.piLogits!, [0.3, -0.2]);
    be.upload(vade.muC!, Array.from({ length: 6 }, () => rng.normal()));
    be.upload(vade.logVarC!, Array.from({ length: 6 }, () => 0.5 * rng.normal()));
    const ws = vade.workspace(rows);
    const norm = config.normalization;
    const xs = norm.kind === 'standard' ? Float32Array.from(data, (v, i) => (v - norm.mean[i % cols]) / norm.std[i % cols]) : data;
    be.upload(ws.xb, xs);
    be.upload(ws.eps, Array.from({ length: rows * 3 }, () => rng.normal()));

    const total = async () => (await be.download(ws.lossR))[0] * ws.reconScale + (await be.download(ws.lossKl))[0];
    vade.elboStep(ws); // computes γ from z once; the checks below hold it fixed
    const groups: { name: string; value: Tensor; grad: Tensor }[] = [
      ...vade.trunk!.params(), ...vade.muHead!.params(), ...vade.logVarHead!.params(), ...vade.decoder!.params(), ...ws.gmmParams,
    ];
    const grads = new Map<Tensor, Float32Array>();
    for (const g of groups) grads.set(g.value, Float32Array.from(await be.download(g.grad)));
    let compared = 0;
    let worst = 0;
    for (const g of groups) {
      const v = Float64Array.from(await be.download(g.value));
      const analytic = grads.get(g.value)!;
      for (let i = 0; i < v.length; i += 2) {
        // Losses come back as f32 (~2.4e-7 absolute at this size): h = 1e-2 keeps that noise near
        // 1e-5 in the difference quotient while the O(h²) truncation stays below it.
        const h = 1e-2;
        const orig = v[i];
        v[i] = orig + h; be.upload(g.value, v); vade.elboStep(ws, true); const lp = await total();
        v[i] = orig - h; be.upload(g.value, v); vade.elboStep(ws, true); const lm = await total();
        v[i] = orig; be.upload(g.value, v);
        const fd = (lp - lm) / (2 * h);
        const err = Math.abs(fd - analytic[i]) / (1e-2 + Math.abs(fd));
        worst = Math.max(worst, err);
        expect(err, `${g.name}[${i}]: analytic ${analytic[i]}, finite difference ${fd}`).toBeLessThan(5e-3);
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(40);
    ws.dispose();
  });
});
