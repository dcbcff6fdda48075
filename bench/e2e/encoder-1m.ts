// End-to-end: encoder forward over 1M cells, streamed in chunks of 4096 rows, embeddings read back.
// STAND-IN: the DEC layout 128-500-500-2000-10 (ReLU inside, linear embedding; Xie et al. 2016)
// with random weights, in place of the pipeline's trained encoder, until the pipeline exists.
// Each chunk: upload 4096×128 inputs, 4 × (gemm + biasAct), download the 4096×10 embedding.
// tfjs-wasm runs the same chain (matMul, add, relu) for the peer row; PyTorch CPU (nn.Linear + ReLU,
// no_grad, float32) runs it in a child process per thread count (bench/peers/torch_encoder.py).
// The runner gives our rows ÷tfjs and ÷torch (cells/s ÷ the peer's at the same thread count, '*'
// where the peer ran fewer threads) and % of the ceiling from the FLOP counted here.
import type { ComputeBackend, Tensor } from '../../bindings/backend.js';
import { hostData } from '../ops/cases.js';
import { peakRssMiB, type E2EBench, type E2EResult } from '../lib/e2e.js';
import { runTorchEncoder } from '../peers/torch.js';

const DIMS = [128, 500, 500, 2000, 10];
const FLOP_PER_CELL = DIMS.slice(1).reduce((s, out, l) => s + 2 * DIMS[l] * out + 2 * out, 0);

async function runOurs(be: ComputeBackend, cells: number, chunk: number): Promise<number> {
  const w: Tensor[] = [], b: Tensor[] = [], act: Tensor[] = [];
  for (let l = 0; l + 1 < DIMS.length; l++) {
    const wl = be.create([DIMS[l], DIMS[l + 1]]);
    const s = Math.sqrt(6 / DIMS[l]);
    be.upload(wl, hostData(wl.size, 100 + l, -s, s));
    const bl = be.create([DIMS[l + 1]]);
    be.upload(bl, hostData(bl.size, 200 + l, -0.1, 0.1));
    w.push(wl); b.push(bl); act.push(be.create([chunk, DIMS[l + 1]]));
  }
  const x = be.create([chunk, DIMS[0]]);
  const host = hostData(chunk * DIMS[0], 7, -2, 2);
  const oneChunk = async () => {
    be.upload(x, host);
    let a = x;
    for (let l = 0; l < w.length; l++) {
      be.gemm(a, w[l], act[l]);
      be.biasAct(act[l], b[l], l + 1 < w.length ? 'relu' : 'identity', act[l]);
      a = act[l];
    }
    await be.download(a);
  };
  await oneChunk(); // warm-up: JIT tiers, pipelines, first-touch pages
  const t0 = performance.now();
  for (let done = 0; done < cells; done += chunk) await oneChunk();
  const s = (performance.now() - t0) / 1e3;
  for (const t of [...w, ...b, ...act, x]) be.dispose(t);
  return s;
}

async function runTfjs(cells: number, chunk: number): Promise<number> {
  const tf = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs-backend-wasm');
  await tf.setBackend('wasm');
  await tf.ready();
  const w = DIMS.slice(1).map((out, l) => tf.tensor2d(hostData(DIMS[l] * out, 100 + l, -Math.sqrt(6 / DIMS[l]), Math.sqrt(6 / DIMS[l])), [DIMS[l], out]));
  const b = DIMS.slice(1).map((out, l) => tf.tensor1d(hostData(out, 200 + l, -0.1, 0.1)));
  const host = hostData(chunk * DIMS[0], 7, -2, 2);
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
    }
    const cpuThreads = ctx.backends.filter((lb) => lb.config.choice === 'wasm' || lb.config.choice === 'wasm-relaxed').map((lb) => lb.config.threads);
    if (ctx.peers.includes('tfjs')) {
      ctx.log(`e2e ${label} on tfjs-wasm 1t`);
      out.push(row('tfjs-wasm 1t', await runTfjs(cells, chunk), undefined, 'tfjs'));
    }
    if (ctx.peers.includes('torch')) {
      // torch at the thread counts of our CPU rows (1 and 2 on this machine), at least 1.
      for (const t of [...new Set([1, ...cpuThreads])].sort((a, b) => a - b)) {
        ctx.log(`e2e ${label} on torch ${t}t`);
        try {
          const got = runTorchEncoder(DIMS, cells, chunk, t);
          if ('why' in got) {
            out.push({ scenario: label, backend: 'torch', metric: 'cells/s', value: NaN, seconds: NaN, peakRssMiB: peakRssMiB(), na: got.why, peer: 'torch' });
            break;
          }
          if (got.threads !== t) throw new Error(`torch ran ${got.threads} thread(s), asked ${t}`);
          out.push(row(`torch ${t}t`, got.seconds, `PyTorch ${got.torch}, BLAS ${got.blas.split(',')[0]}; child process`, 'torch'));
        } catch (e) {
          out.push({ scenario: label, backend: `torch ${t}t`, metric: 'cells/s', value: NaN, seconds: NaN, peakRssMiB: peakRssMiB(), na: (e as Error).message.split('\n')[0].slice(0, 200), peer: 'torch' });
        }
      }
    }
    return out;
  },
};
export default bench;
