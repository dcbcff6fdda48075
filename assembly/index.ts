// Entry of the WASM module: every op of bindings/backend.ts (same names), one file per op family.
// All pointers are byte offsets into the imported shared memory, handed out by the JS allocator
// (bindings/backends/wasm/memory.ts); shapes are passed as plain integers.
export { heapBase, isRelaxed } from './common';
export { fill, axpby, gatherRows } from './elementwise';
export { asinhStandardize, pulseSummaries } from './preprocess';
export { gemm, gemmPackABytes, gemmPackBBytes } from './gemm';
export { gemmNarrowKBlocks, gemmNarrowPartBytes, gemmNarrowSplitK, gemmNarrowReduce } from './gemm-narrow';
export { biasAct, biasActBackward, colSum } from './dense';
export { denseInt8, denseInt8ScratchBytes } from './dense-int8';
export {
  mseLoss, mseLossBackward, bceLogitsLoss, bceLogitsLossBackward, proportionXentLoss, proportionXentLossBackward,
} from './losses';
export { adamUpdate, sgdUpdate } from './optim';
export { softAssign, targetDistribution, klDivLoss, softAssignBackward } from './dec';
export {
  philox, philoxWord, philoxNormal, reparameterize, reparameterizeBackward, gmmLogResp, gmmScratchBytes,
  vadeKlLoss, vadeKlLossBackward, vadeScratchBytes,
} from './vade';
export {
  mixtureLogLik, mixtureLogLikScratchBytes, mixturePosteriors, mixturePosteriorsAccBytes, mixturePosteriorsScratchBytes,
  mixtureStats, mixtureStatsAccBytes, mixtureStatsScratchBytes,
} from './mixture';
export { kmeansAssign, kmeansAssignScratchBytes, kmeansUpdate, argmax, softmax, softmaxBackward } from './kmeans';
