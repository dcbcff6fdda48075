// The stand-in encoder of encoder-1m (bench/e2e/encoder-1m.ts): seeded weights and inputs that our
// rows and every in-language peer (tfjs, ONNX Runtime) build alike, so all time the same numbers.
// (torch_encoder.py draws its own: dense-layer cost does not depend on the values.)
import { hostData } from '../ops/cases.js';

/** Each layer of `dims`: weight [in × out] Glorot-uniform-like ±√(6/in), bias ±0.1. */
export function standInLayers(dims: readonly number[]): { weight: Float32Array; bias: Float32Array }[] {
  return dims.slice(1).map((out, l) => {
    const s = Math.sqrt(6 / dims[l]);
    return { weight: hostData(dims[l] * out, 100 + l, -s, s), bias: hostData(out, 200 + l, -0.1, 0.1) };
  });
}

/** One chunk of inputs, rows × width, in ±2. */
export function standInInput(rows: number, width: number): Float32Array {
  return hostData(rows * width, 7, -2, 2);
}
