// End-to-end: encoder forward over 1M cells, streamed in chunks of 4096 rows, embeddings read back.
// STAND-IN: the DEC layout 128-500-500-2000-10 (ReLU inside, linear embedding; Xie et al. 2016)
// with random weights, in place of the pipeline's trained encoder, until the pipeline exists.
// Each chunk: upload 4096×128 inputs, 4 × (gemm + biasAct), download the 4096×10 embedding.
// tfjs-wasm runs the same chain (matMul, add, relu) for the peer row; PyTorch CPU (nn.Linear + ReLU,
// no_grad, float32) runs it in a child process per thread count (bench/peers/torch_encoder.py), and
// so do ONNX Runtime Web and Node on the same chain written as an ONNX graph (bench/peers/onnx-peer.ts).
// The runner gives our rows ÷tfjs and ÷torch (cells/s ÷ the peer's at the same thread count, '*'
// where the peer ran fewer threads) and % of the ceiling from the FLOP counted here.
import type { ComputeBackend, Tensor } from '../../bindings/backend.js';
import { standInInput, standInLayers } from '../lib/stand-in.js';
import { quantiseDense } from '../../bindings/int8.js';
import { INT8_MIN_OUTPUTS } from '../../bindings/models/mlp.js';
import { peakRssMiB, type E2EBench, type E2EResult } from '../lib/e2e.js';
import { fasterBlas, runTorchEncoder } from '../peers/torch.js';
import { runOnnxEncoder } from '../peers/onnx-peer.js';

const DIMS = [128, 500, 500, 2000, 10];
const FLOP_PER_CELL = DIMS.slice(1).reduce((s, out, l) => s + 2 * DIMS[l] * out + 2 * out, 0);

/** Our chain: gemm + biasAct per layer, or with `int8` one denseInt8 per layer wide enough for it
 *  (Mlp's INT8_MIN_OUTPUTS; the weights quantised per output channel from the same f32 weights,
 *  bindings/int8.ts), as BloodCellPipeline.quantiseEncoders runs its encoders. */
async function runOurs(be: ComputeBackend, cells: number, chunk: number, int8 = false): Promise<number> {
  const w: Tensor[] = [], b: Tensor[] = [], act: Tensor[] = [], scales: (Tensor | null)[] = [];
  for (const [l, layer] of standInLayers(DIMS).entries()) {
    const [nin, nout] = [DIMS[l], DIMS[l + 1]];
    const host = layer.weight;
    if (int8 && nout >= INT8_MIN_OUTPUTS) {
      const q = quantiseDense(host, nin, nout);
      const wq = be.create([nout, Math.ceil(nin / 4)], 'i32');
      be.upload(wq, q.wq);
      const ws = be.create([nout]);
      be.upload(ws, q.ws);
      w.push(wq); scales.push(ws);
    } else {
      const wl = be.create([nin, nout]);
      be.upload(wl, host);
      w.push(wl); scales.push(null);
    }
    const bl = be.create([nout]);
    be.upload(bl, layer.bias);
    b.push(bl); act.push(be.create([chunk, nout]));
  }
  const x = be.create([chunk, DIMS[0]]);
  const host = standInInput(chunk, DIMS[0]);
  const oneChunk = async () => {
    be.upload(x, host);
    let a = x;
    for (let l = 0; l < w.length; l++) {
      const f = l + 1 < w.length ? 'relu' : 'identity';
      const ws = scales[l];
      if (ws) be.denseInt8(a, w[l], ws, b[l], f, act[l]);
      else {
        be.gemm(a, w[l], act[l]);
        be.biasAct(act[l], b[l], f, act[l]);
      }
      a = act[l];
    }
    await be.download(a);
  };
  await oneChunk(); // warm-up: JIT tiers, pipelines, first-touch pages
  const t0 = performance.now();
  for (let done = 0; done < cells; done += chunk) await oneChunk();
  const s = (performance.now() - t0) / 1e3;
  for (const t of [...w, ...b, ...act, ...scales.filter((t) => t !== null), x]) be.dispose(t);
  return s;
}

async function runTfjs(cells: number, chunk: number): Promise<number> {
  const tf = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs-backend-wasm');
  await tf.setBackend('wasm');
  await tf.ready();
  const layers = standInLayers(DIMS);
  const w = layers.map((l, i) => tf.tensor2d(l.weight, [DIMS[i], DIMS[i + 1]]));
  const b = layers.map((l) => tf.tensor1d(l.bias));
  const host = standInInput(chunk, DIMS[0]);
  const oneChunk = async () => {
    const z = tf.tidy(() => {
      let a: import('@tensorflow/tfjs-core').Tensor2D = tf.tensor2d(host, [chunk, DIMS[0]]);
      for (let l = 0; l < w.length; l++) {
        const y = tf.add(tf.matMul(a, w[l]), b[l]) as import('@tensorflow/tfjs-core').Tensor2D;
        a = l + 1 < w.length ? tf.relu(y) : y;
      }
      return a;
    });
    await z.data();
    z.dispose();
  };
  await oneChunk();
  const t0 = performance.now();
  for (let done = 0; done < cells; done += chunk) await oneChunk();
  const s = (performance.now() - t0) / 1e3;
  for (const t of [...w, ...b]) t.dispose();
  return s;
}

const bench: E2EBench = {
  name: 'encoder-1m',
  description: 'encoder forward, 1M cells in chunks of 4096 (STAND-IN: DEC layout 128-500-500-2000-10, random weights)',
  async run(ctx) {
    const cells = ctx.quick ? 2048 : 1 << 20;
    const chunk = ctx.quick ? 512 : 4096;
    const label = `encoder fwd ${ctx.quick ? cells : '1M'} cells (stand-in 128-500-500-2000-10)`;
    const out: E2EResult[] = [];
    const row = (backend: string, s: number, note?: string, peer?: E2EResult['peer']): E2EResult => ({
      scenario: label, backend, metric: 'cells/s', value: cells / s, seconds: s, peer,
      gflops: (cells * FLOP_PER_CELL) / s / 1e9, counted: `${(FLOP_PER_CELL / 1e6).toFixed(2)} MFLOP/cell = Σ layers 2·in·out + 2·out (GEMM + bias/ReLU)`,
      peakRssMiB: peakRssMiB(), note,
    });
    for (const lb of ctx.backends) {
      if (!lb.be || lb.config.choice === 'reference') continue; // float64 TS: hours at this size
      if (lb.software && !ctx.quick) {
        out.push({ scenario: label, backend: lb.config.label, metric: 'cells/s', value: NaN, seconds: NaN, peakRssMiB: peakRssMiB(), na: 'software GPU: correctness device, not timed at 1M cells' });
        continue;
      }
      ctx.log(`e2e ${label} on ${lb.config.label}`);
      out.push(row(lb.config.label, await runOurs(lb.be, cells, chunk), lb.software ? 'software rasteriser: correctness device' : undefined));
      if (lb.config.choice === 'wasm') {
        ctx.log(`e2e ${label} on ${lb.config.label} int8`);
        out.push(row(`${lb.config.label} int8`, await runOurs(lb.be, cells, chunk, true), `denseInt8 on the layers with ≥ ${INT8_MIN_OUTPUTS} outputs (int8 weights per output channel, inputs quantised per row, i32x4.dot_i16x8_s), the 10-wide embedding layer f32; FLOP counted as for fp32`));
      }
    }
    const cpuThreads = ctx.backends.filter((lb) => lb.config.choice === 'wasm' || lb.config.choice === 'wasm-relaxed').map((lb) => lb.config.threads);
    if (ctx.peers.includes('tfjs')) {
      ctx.log(`e2e ${label} on tfjs-wasm 1t`);
      out.push(row('tfjs-wasm 1t', await runTfjs(cells, chunk), undefined, 'tfjs'));
    }
    // Peers in child processes at the thread counts of our CPU rows (1 and 2 on this machine), at least 1.
    const peerThreads = [...new Set([1, ...cpuThreads])].sort((a, b) => a - b);
    if (ctx.peers.includes('torch')) {
      for (const t of peerThreads) {
        ctx.log(`e2e ${label} on torch ${t}t`);
        try {
          const got = fasterBlas(t, (blas) => runTorchEncoder(DIMS, cells, chunk, t, blas));
          if ('why' in got) {
            out.push({ scenario: label, backend: 'torch', metric: 'cells/s', value: NaN, seconds: NaN, peakRssMiB: peakRssMiB(), na: got.why, peer: 'torch' });
            break;
          }
          const { best, blasThreads, others } = got;
          out.push(row(`torch ${t}t`, best.seconds, `PyTorch ${best.torch}, BLAS ${best.blas.split(',')[0]} on ${blasThreads} thread(s)${others ? ` (${others})` : ''}; child process`, 'torch'));
        } catch (e) {
          out.push({ scenario: label, backend: `torch ${t}t`, metric: 'cells/s', value: NaN, seconds: NaN, peakRssMiB: peakRssMiB(), na: (e as Error).message.split('\n')[0].slice(0, 200), peer: 'torch' });
        }
      }
    }
    if (ctx.peers.includes('onnx')) {
      for (const [runtime, peer, what] of [['web', 'ort-web', 'ONNX Runtime Web (wasm SIMD, threads)'], ['node', 'ort-node', 'ONNX Runtime Node (native CPU)']] as const) {
        for (const t of peerThreads) {
          ctx.log(`e2e ${label} on ${peer} ${t}t`);
          const na = (why: string): E2EResult => ({ scenario: label, backend: `${peer} ${t}t`, metric: 'cells/s', value: NaN, seconds: NaN, peakRssMiB: peakRssMiB(), na: why, peer });
          try {
            const got = runOnnxEncoder(runtime, DIMS, cells, chunk, t);
            if ('why' in got) {
              out.push(na(got.why));
              break;
            }
            if (got.threads !== t) throw new Error(`${peer} ran ${got.threads} thread(s), asked ${t}`);
            out.push(row(`${peer} ${t}t`, got.seconds, `${what} ${got.version}, the same weights and chunks as an ONNX graph (Gemm, Relu); child process`, peer));
          } catch (e) {
            out.push(na((e as Error).message.split('\n')[0].slice(0, 200)));
          }
        }
      }
    }
    return out;
  },
};
export default bench;
