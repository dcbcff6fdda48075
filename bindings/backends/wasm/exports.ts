// The kernel module's exports (assembly/index.ts), typed. Pointers are byte offsets into the shared
// memory; `bool` flags are 0/1 integers. Row ranges [r0, r1) let a worker run a slice of rows.
type P = number; // pointer (usize)
type I = number; // i32
type F = number; // f32 / f64

export interface KernelExports {
  heapBase(): P;
  isRelaxed(): I;
  fill(out: P, n: I, bits: I): void;
  axpby(x: P, y: P, n: I, alpha: F, beta: F): void;
  gatherRows(src: P, idx: P, out: P, b: I, d: I): void;
  asinhStandardize(x: P, mean: P, std: P, out: P, d: I, invScale: F, r0: I, r1: I): void;
  pulseSummaries(x: P, out: P, d: I, channels: I, scale: F, r0: I, r1: I): void;
  gemm(a: P, b: P, c: P, m: I, n: I, k: I, transA: I, transB: I, alpha: F, beta: F, packA: P, packB: P, m0: I, m1: I): void;
  gemmPackABytes(): I;
  gemmPackBBytes(): I;
  gemmNarrowKBlocks(k: I): I;
  gemmNarrowPartBytes(m: I, n: I, k: I): I;
  gemmNarrowSplitK(a: P, b: P, m: I, n: I, k: I, transB: I, alpha: F, scratch: P, kb0: I, kb1: I): void;
  gemmNarrowReduce(c: P, m: I, n: I, k: I, beta: F, scratch: P, r0: I, r1: I): void;
  biasAct(x: P, bias: P, act: I, out: P, n: I, d: I, r0: I, r1: I): void;
  denseInt8(x: P, wq: P, ws: P, bias: P, act: I, out: P, n: I, nin: I, nout: I, block: I, scratch: P, r0: I, r1: I): void;
  denseInt8ScratchBytes(nin: I, block: I): I;
  biasActBackward(dy: P, y: P, act: I, dx: P, n: I): void;
  colSum(x: P, out: P, n: I, d: I, accumulate: I): void;
  mseLoss(pred: P, target: P, loss: P, n: I): void;
  mseLossBackward(pred: P, target: P, dpred: P, n: I, coef: F): void;
  bceLogitsLoss(logits: P, target: P, loss: P, n: I, rows: I): void;
  bceLogitsLossBackward(logits: P, target: P, dlogits: P, n: I, coef: F): void;
  proportionXentLoss(pred: P, target: P, loss: P, n: I, s: I): void;
  proportionXentLossBackward(pred: P, target: P, dpred: P, n: I, coef: F): void;
  adamUpdate(param: P, grad: P, m: P, v: P, lr: F, beta1: F, beta2: F, eps: F, bc1: F, bc2: F, wd: F,
    oneMinusBeta1: F, oneMinusBeta2: F, i0: I, i1: I): void;
  sgdUpdate(param: P, grad: P, vel: P, lr: F, momentum: F, i0: I, i1: I): void;
  softAssign(z: P, mu: P, q: P, n: I, d: I, k: I, alpha: F, r0: I, r1: I): void;
  targetDistribution(q: P, f: P, p: P, n: I, k: I): void;
  klDivLoss(p: P, q: P, loss: P, n: I, k: I): void;
  softAssignBackward(z: P, mu: P, p: P, q: P, n: I, d: I, k: I, alpha: F, dz: P, dmu: P, scale: F, accumulate: I, scratch: P): void;
  philox(c0: I, c1: I, c2: I, c3: I, k0: I, k1: I): void;
  philoxWord(i: I): I;
  philoxNormal(out: P, n: I, seed: I, stream: I, offset: I): void;
  reparameterize(mu: P, logVar: P, eps: P, z: P, n: I): void;
  reparameterizeBackward(dz: P, logVar: P, eps: P, dmu: P, dlogVar: P, n: I, accumulate: I): void;
  gmmLogResp(z: P, piLogits: P, muC: P, logVarC: P, logResp: P, n: I, d: I, k: I, scratch: P, r0: I, r1: I): void;
  gmmScratchBytes(d: I, k: I): I;
  vadeKlLoss(muEnc: P, logVarEnc: P, gamma: P, piLogits: P, muC: P, logVarC: P, loss: P, n: I, d: I, k: I, scratch: P): void;
  vadeKlLossBackward(muEnc: P, logVarEnc: P, gamma: P, piLogits: P, muC: P, logVarC: P, dMuEnc: P, dLogVarEnc: P,
    dPiLogits: P, dMuC: P, dLogVarC: P, n: I, d: I, k: I, scale: F, accumulate: I, scratch: P): void;
  vadeScratchBytes(d: I, k: I): I;
  mixtureLogLik(z: P, mu: P, logVar: P, rho: P, logDens: P, classLogLik: P, n: I, d: I, k: I, c: I, scratch: P, r0: I, r1: I): void;
  mixtureLogLikScratchBytes(d: I, k: I, c: I): I;
  mixturePosteriors(classLogLik: P, sampleOf: P, logPrior: P, post: P, n: I, c: I, s: I, scratch: P, acc: P, chunkRows: I, r0: I, r1: I): void;
  mixturePosteriorsAccBytes(c: I, s: I): I;
  mixturePosteriorsScratchBytes(c: I): I;
  mixtureStats(z: P, logDens: P, classLogLik: P, post: P, rho: P, center: P, n: I, d: I, k: I, c: I, scratch: P, acc: P, chunkRows: I, r0: I, r1: I): void;
  mixtureStatsAccBytes(d: I, k: I, c: I): I;
  mixtureStatsScratchBytes(d: I, k: I, c: I): I;
  kmeansAssign(x: P, centroids: P, labels: P, minDist: P, n: I, d: I, k: I, scratch: P, r0: I, r1: I): void;
  kmeansAssignScratchBytes(d: I, k: I): I;
  kmeansUpdate(x: P, labels: P, sums: P, counts: P, n: I, d: I, k: I, accumulate: I, scratch: P): void;
  argmax(x: P, out: P, n: I, k: I): void;
  softmax(x: P, out: P, n: I, k: I, r0: I, r1: I): void;
  softmaxBackward(y: P, dy: P, dx: P, n: I, k: I): void;
}
