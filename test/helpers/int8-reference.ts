// The int8 reference classifier for the --int8 export's tests: BloodCellPipeline.classify on the
// float64 reference backend, with stage 1's encoder layers run by the host int8 reference
// (bindings/export/int8.ts) instead of the backend's gemm. Each int8 layer's input is rounded to
// f32 first, as the module's activations are f32, so the quantisation sees the module's values;
// the bias and ReLU stay with the backend's biasAct (float64: the next layer's f32 rounding of
// product + bias is the module's f32 add). Layers the plan keeps fp32 run the backend's own gemm.
import type { GemmOptions, Tensor } from '../../bindings/backend.js';
import { ReferenceBackend, RefTensor } from '../../bindings/backends/reference/index.js';
import { decodePipeline } from '../../bindings/pipeline/model-file.js';
import { BloodCellPipeline } from '../../bindings/pipeline/index.js';
import { int8Dense, quantiseWeights, type Int8Layer } from '../../bindings/export/int8.js';

class Int8ReferenceBackend extends ReferenceBackend {
  readonly layers = new Map<Tensor, Int8Layer>();

  override gemm(a: Tensor, b: Tensor, c: Tensor, opts: GemmOptions = {}): void {
    const layer = this.layers.get(b);
    if (!layer || opts.transA || opts.transB || opts.beta) return super.gemm(a, b, c, opts);
    const rows = a.shape[0]!;
    const y = int8Dense(Float32Array.from((a as RefTensor).data), rows, layer, new Float32Array(layer.nout), false);
    (c as RefTensor).data.set(y);
  }
}

/** The int8 reference pipeline of a model file's bytes for an int8 plan (int8.ts int8Plan); dispose it. */
export function int8ReferencePipeline(bytes: Uint8Array, plan: boolean[]): BloodCellPipeline {
  const st = decodePipeline(bytes, 'int8 reference');
  const be = new Int8ReferenceBackend();
  const pipe = BloodCellPipeline.fromBytes(bytes, be, 'int8 reference');
  // The pipeline keeps its encoders private; the test reaches stage 1's weight tensors to swap their gemm.
  const w = (pipe as unknown as { enc1: { w: Tensor[] } }).enc1.w;
  let nin = st.meta.features;
  st.dims.forEach((nout, l) => {
    if (plan[l]) be.layers.set(w[l]!, quantiseWeights(st.stage1.encoder[`stage1.encoder.${l}.weight`]!.data, nout, nin));
    nin = nout;
  });
  return pipe;
}
