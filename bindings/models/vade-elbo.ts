// One step of VaDE's ELBO training (vade.ts trains with it; the blood pipeline's stage 2 runs the
// same step with a per-sample prior): the buffers a step on batches of B rows needs, and its
// forward/backward. vade.ts's header states the objective.
import type { ComputeBackend, Tensor } from '../backend.js';
import { reconLoss, type ResolvedAeConfig } from './autoencoder.js';
import type { Mlp, Param } from './mlp.js';
import { VADE_TENSORS } from './specs.js';

export interface VadeWorkspace {
  B: number;
  xb: Tensor; eps: Tensor; z: Tensor; dz: Tensor; dMu: Tensor; dLv: Tensor; dh: Tensor | null;
  logResp: Tensor; gamma: Tensor; dPi: Tensor; dMuC: Tensor; dLvC: Tensor; lossR: Tensor; lossKl: Tensor;
  reconScale: number;
  /** The mixture's tensors with their gradients, named as the model file names them. */
  gmmParams: Param[];
  dispose(): void;
}

/** A built VaDE's networks and mixture (trunk: every encoder layer but the last; null when there is one). */
export interface VadeParts {
  c: ResolvedAeConfig;
  trunk: Mlp | null;
  muHead: Mlp;
  logVarHead: Mlp;
  decoder: Mlp;
  piLogits: Tensor;
  muC: Tensor;
  logVarC: Tensor;
}

/** μ̃ and log σ̃² of a batch (buffers owned by the heads). */
export function encode(m: VadeParts, x: Tensor): { mu: Tensor; logVar: Tensor } {
  const h = m.trunk ? m.trunk.forward(x) : x;
  return { mu: m.muHead.forward(h), logVar: m.logVarHead.forward(h) };
}

/** Buffers for one ELBO step on batches of B rows with k components (xb and eps are the step's inputs). */
export function vadeWorkspace(be: ComputeBackend, m: VadeParts, k: number, B: number): VadeWorkspace {
  const { c, trunk, muHead, piLogits, muC, logVarC } = m;
  const d = muHead.outputDim;
  const f = (shape: number[]) => be.create(shape);
  const dPi = f([k]);
  const dMuC = f([k, d]);
  const dLvC = f([k, d]);
  const ws = {
    B, xb: f([B, c.inputDim]), eps: f([B, d]), z: f([B, d]), dz: f([B, d]), dMu: f([B, d]), dLv: f([B, d]),
    dh: trunk ? f([B, trunk.outputDim]) : null, logResp: f([B, k]), gamma: f([B, k]), dPi, dMuC, dLvC,
    lossR: f([1]), lossKl: f([1]),
    // Gaussian likelihood for real-valued data: −log p(x|z) = ½ Σ_d (x_d − x̂_d)² + const = D/2 · MSE.
    reconScale: c.loss === 'mse' ? c.inputDim / 2 : 1,
    gmmParams: [
      { name: VADE_TENSORS.piLogits, value: piLogits, grad: dPi },
      { name: VADE_TENSORS.mu, value: muC, grad: dMuC },
      { name: VADE_TENSORS.logVar, value: logVarC, grad: dLvC },
    ] as Param[],
    dispose: () => {
      for (const t of Object.values(ws)) if (t && typeof t === 'object' && 'shape' in t) be.dispose(t as Tensor);
    },
  };
  return ws;
}

/**
 * One forward/backward of the negative ELBO on ws.xb with noise ws.eps: losses into ws.lossR
 * (unscaled reconstruction; the loss term is reconScale × it) and ws.lossKl; gradients into every
 * parameter's grad tensor. γ is computed from the sampled z unless `fixedGamma` is true, in which
 * case ws.gamma is used as it is (for gradient checks: the op contract treats γ as a constant).
 */
export function elboStep(be: ComputeBackend, m: VadeParts, ws: VadeWorkspace, fixedGamma: boolean): void {
  const { c, trunk, muHead, logVarHead, decoder, piLogits, muC, logVarC } = m;
  const { mu, logVar } = encode(m, ws.xb);
  be.reparameterize(mu, logVar, ws.eps, ws.z);
  const out = decoder.forward(ws.z);
  const dOut = decoder.outputGrad(ws.B);
  reconLoss(be, c.loss, out, ws.xb, ws.lossR, dOut, ws.reconScale);
  if (!fixedGamma) {
    // γ = p(c|z) at the sampled z (eq. 16), constant in the gradient.
    be.gmmLogResp(ws.z, piLogits, muC, logVarC, ws.logResp);
    be.softmax(ws.logResp, ws.gamma);
  }
  be.vadeKlLoss(mu, logVar, ws.gamma, piLogits, muC, logVarC, ws.lossKl);
  be.vadeKlLossBackward(mu, logVar, ws.gamma, piLogits, muC, logVarC, ws.dMu, ws.dLv, ws.dPi, ws.dMuC, ws.dLvC);
  // Reconstruction path: decoder → z → (μ̃, log σ̃²) through z = μ̃ + exp(½ log σ̃²)·ε.
  decoder.backward(dOut, ws.dz);
  be.reparameterizeBackward(ws.dz, logVar, ws.eps, ws.dMu, ws.dLv, { accumulate: true });
  if (ws.dh && trunk) {
    muHead.backward(ws.dMu, ws.dh);
    logVarHead.backward(ws.dLv, ws.dh, true);
    trunk.backward(ws.dh);
  } else {
    muHead.backward(ws.dMu);
    logVarHead.backward(ws.dLv);
  }
}
