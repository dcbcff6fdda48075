// Training throughput (samples/s) of IDEC and VaDE through their public API (bindings/models), for
// bench/e2e/train-idec.ts and train-vade.ts, with the same training step in tfjs-wasm and PyTorch.
//
// What is timed: the clustering-stage training steps (IDEC: encoder + decoder forward, reconstruction
// + γ·KL(P‖Q), backward, Adam; VaDE: encoder with μ̃/log σ̃² heads, reparameterisation, decoder,
// −ELBO, backward, Adam on networks and the GMM prior). `fit` also does fixed work around the steps
// (k-means or GMM initialisation of the prior, whole-set passes for IDEC's target distribution,
// copying the given autoencoder). So each row fits twice with a different number of steps after
// an untimed warm-up fit, and reports the MARGINAL rate: (steps₂ − steps₁)·B / (t₂ − t₁). That is
// exactly one training step's cost, which is also what the peers time (they run steps only).
// IDEC's target P is refreshed only before the first and after the last step (updateInterval =
// steps, tol 0, so the count of refreshes is the same in both fits and cancels out); VaDE runs whole
// epochs (its per-epoch variance clamp is part of its step cost here).
// The autoencoder is built with random weights, not pretrained: pretraining is not what is timed.
//
// Layouts (input = 128 simulated-cell features, z-scored, MSE reconstruction, k = 4 clusters):
//   pipeline  encoder 128-256-64-10 (the two-stage pipeline's default widths), mirrored decoder
//   dec       encoder 128-500-500-2000-10 (the DEC/IDEC/VaDE papers' layout), mirrored decoder
// FLOP per sample (nominal, for GFLOP/s and % ceiling): 3 × the forward GEMM FLOP (forward, dX,
// dW; 2·in·out per layer, every layer of encoder, heads and decoder); bias, activations, losses
// and Adam are not counted.
import type { ComputeBackend } from '../../bindings/backend.js';
import { Autoencoder, IDEC, VaDE, type Matrix } from '../../bindings/models/index.js';
import { simulateSample } from '../../bindings/simulate/index.js';
import type { E2EContext, E2EResult } from './e2e.js';
import { peakRssMiB } from './e2e.js';
import { tfjsTrainSeconds } from '../peers/tfjs_train.js';
import { runTorchTrain } from '../peers/torch.js';

export type TrainModel = 'idec' | 'vade';

export interface TrainLayout { name: 'pipeline' | 'dec'; dims: number[] }

export const INPUT_DIM = 128;
export const CLUSTERS = 4;
export const LAYOUTS: TrainLayout[] = [{ name: 'pipeline', dims: [256, 64, 10] }, { name: 'dec', dims: [500, 500, 2000, 10] }];

/** Rows, batch and the two step counts of one measurement (steps are whole VaDE epochs), and how
 *  many times the pair of fits is repeated (the row reports the median marginal rate). */
export interface TrainPlan { rows: number; batch: number; steps: [number, number]; repeats: number }

export function trainPlan(size: 'full' | 'small' | 'quick', layout: TrainLayout): TrainPlan {
  if (size === 'quick') return { rows: 256, batch: 64, steps: [4, 8], repeats: 1 };
  if (size === 'small') return { rows: 512, batch: 64, steps: [8, 24], repeats: 3 };
  // full: a few seconds of marginal steps per row on one core at the expected rates. Three pairs:
  // one pair's 2-thread rate varies too much from run to run on a shared VM to report alone.
  return layout.name === 'dec' ? { rows: 4096, batch: 256, steps: [16, 48], repeats: 3 } : { rows: 4096, batch: 256, steps: [16, 208], repeats: 3 };
}

/** Layer widths [in, out] of every GEMM in one forward pass of the model. */
export function trainLayers(model: TrainModel, dims: number[], input = INPUT_DIM): [number, number][] {
  const enc = [input, ...dims];
  const encoder = dims.map((out, l) => [enc[l], out] as [number, number]);
  const decW = [...dims].reverse().concat([input]);
  const decoder = decW.slice(1).map((out, l) => [decW[l], out] as [number, number]);
  // VaDE: the last encoder layer is the μ̃ head, plus a log σ̃² head of the same shape.
  return model === 'vade' ? [...encoder, encoder[encoder.length - 1], ...decoder] : [...encoder, ...decoder];
}

export function trainFlopPerSample(model: TrainModel, dims: number[]): number {
  return 3 * trainLayers(model, dims).reduce((s, [i, o]) => s + 2 * i * o, 0);
}

export function trainingCells(rows: number): Matrix {
  const s = simulateSample({ species: 'dog', cells: rows, seed: 31, sampleIndex: 0 });
  const cols = s.features.length;
  if (cols !== INPUT_DIM) throw new Error(`simulated cells have ${cols} features, expected ${INPUT_DIM}`);
  return { rows, cols, data: s.signals.subarray(0, rows * cols) };
}

/** Seconds of one `fit` doing `steps` training steps on `be` (after building a random autoencoder). */
async function fitSeconds(be: ComputeBackend, model: TrainModel, dims: number[], x: Matrix, batch: number, steps: number): Promise<number> {
  const ae = new Autoencoder(be, { dims, seed: 3 });
  ae.build(x);
  try {
    const t0 = performance.now();
    if (model === 'idec') {
      const m = new IDEC(be, { dims, k: CLUSTERS, seed: 3, batchSize: batch, maxIterations: steps, updateInterval: steps, tol: 0, kmeansInit: 1 });
      await m.fit(x, { pretrained: ae });
      const s = (performance.now() - t0) / 1e3;
      if (m.iterations !== steps) throw new Error(`IDEC ran ${m.iterations} steps, asked ${steps} (${m.stopReason})`);
      m.dispose();
      return s;
    }
    const epochs = steps / Math.ceil(x.rows / batch);
    if (!Number.isInteger(epochs)) throw new Error(`VaDE: ${steps} steps is not a whole number of epochs`);
    const m = new VaDE(be, { dims, k: CLUSTERS, seed: 3, batchSize: batch, epochs, gmmIterations: 5 });
    await m.fit(x, { pretrained: ae });
    const s = (performance.now() - t0) / 1e3;
    m.dispose();
    return s;
  } finally {
    ae.dispose();
  }
}

/** Marginal samples/s of our training on `be`: a warm-up fit, then `plan.repeats` pairs of fits of
 *  steps₁ and steps₂; the median pair's rate. */
export async function oursSamplesPerSecond(be: ComputeBackend, model: TrainModel, dims: number[], plan: TrainPlan): Promise<{ rate: number; seconds: number; note: string }> {
  const x = trainingCells(plan.rows);
  const [s1, s2] = plan.steps;
  await fitSeconds(be, model, dims, x, plan.batch, s1); // warm-up: JIT tiers, first-touch pages, pipelines
  const pairs: { t1: number; t2: number; rate: number }[] = [];
  let noisy = '';
  for (let i = 0; i < plan.repeats; i++) {
    const t1 = await fitSeconds(be, model, dims, x, plan.batch, s1);
    const t2 = await fitSeconds(be, model, dims, x, plan.batch, s2);
    // A pair whose longer fit was not slower measures noise only: dropped (and said), not fatal
    // while another pair is valid.
    if (t2 > t1) pairs.push({ t1, t2, rate: ((s2 - s1) * plan.batch) / (t2 - t1) });
    else noisy = `the ${s2}-step fit (${t2.toFixed(2)} s) was not slower than the ${s1}-step fit (${t1.toFixed(2)} s)`;
  }
  if (!pairs.length) throw new Error(`timing noise: ${noisy}`);
  const byRate = [...pairs].sort((a, b) => a.rate - b.rate);
  const mid = byRate[(byRate.length - 1) >> 1];
  const dropped = plan.repeats - pairs.length;
  const spread = (pairs.length > 1 ? `; median of ${pairs.length} pairs, rates ${pairs.map((p) => Math.round(p.rate)).join(' / ')} samples/s` : '')
    + (dropped ? `; ${dropped} of ${plan.repeats} pairs dropped as timing noise (${noisy})` : '');
  return { rate: mid.rate, seconds: mid.t2 - mid.t1,
    note: `marginal: fits of ${s1} and ${s2} steps took ${mid.t1.toFixed(2)} / ${mid.t2.toFixed(2)} s (B=${plan.batch}, ${plan.rows} cells)${spread}` };
}

/** The rows of one training scenario: our backends, then tfjs-wasm and torch doing the same step. */
export async function trainScenario(model: TrainModel, ctx: E2EContext): Promise<E2EResult[]> {
  const out: E2EResult[] = [];
  const name = model === 'idec' ? 'IDEC' : 'VaDE';
  const rss = () => peakRssMiB();
  for (const layout of LAYOUTS) {
    const flop = trainFlopPerSample(model, layout.dims);
    const label = `${name} train ${INPUT_DIM}-${layout.dims.join('-')} (${layout.name} layout)`;
    const counted = `${(flop / 1e6).toFixed(2)} MFLOP/sample = 3 × forward GEMM FLOP (fwd, dX, dW), element-wise work not counted`;
    const row = (backend: string, rate: number, seconds: number, note?: string, peer?: E2EResult['peer']): E2EResult => ({
      scenario: label, backend, metric: 'samples/s', value: rate, seconds, gflops: (rate * flop) / 1e9, counted, peakRssMiB: rss(), note, peer,
    });
    const na = (backend: string, why: string, peer?: E2EResult['peer']): E2EResult => ({ scenario: label, backend, metric: 'samples/s', value: NaN, seconds: NaN, peakRssMiB: rss(), na: why, peer });
    const fullPlan = trainPlan(ctx.quick ? 'quick' : 'full', layout);
    for (const lb of ctx.backends) {
      if (!lb.be) continue;
      const slow = lb.config.choice === 'reference' || lb.software;
      if (slow && layout.name === 'dec') { out.push(na(lb.config.label, `${lb.software ? 'software GPU' : 'float64 reference'}: timed at the small pipeline layout only`)); continue; }
      const plan = slow ? trainPlan(ctx.quick ? 'quick' : 'small', layout) : fullPlan;
      ctx.log(`e2e ${label} on ${lb.config.label}`);
      try {
        const r = await oursSamplesPerSecond(lb.be, model, layout.dims, plan);
        const tags = [slow && !ctx.quick ? `small plan (${plan.rows} cells, B=${plan.batch}): peers ran B=${fullPlan.batch}` : '', lb.software ? 'software rasteriser: correctness device' : '', r.note];
        out.push(row(lb.config.label, r.rate, r.seconds, tags.filter(Boolean).join('; ')));
      } catch (e) {
        out.push(na(lb.config.label, (e as Error).message.split('\n')[0].slice(0, 200)));
      }
    }
    const steps = fullPlan.steps[1] - fullPlan.steps[0];
    if (ctx.peers.includes('tfjs')) {
      ctx.log(`e2e ${label} on tfjs-wasm 1t`);
      try {
        const s = await tfjsTrainSeconds(model, layout.dims, trainingCells(fullPlan.rows), fullPlan.batch, steps, CLUSTERS);
        out.push(row('tfjs-wasm 1t', (steps * fullPlan.batch) / s, s, `${steps} steps after 2 warm-up steps; tf.train.adam, autodiff (optimizer.minimize)`, 'tfjs'));
      } catch (e) {
        out.push(na('tfjs-wasm 1t', (e as Error).message.split('\n')[0].slice(0, 200), 'tfjs'));
      }
    }
    if (ctx.peers.includes('torch')) {
      const cpu = ctx.backends.filter((lb) => lb.config.choice === 'wasm' || lb.config.choice === 'wasm-relaxed').map((lb) => lb.config.threads);
      for (const t of [...new Set([1, ...cpu])].sort((a, b) => a - b)) {
        ctx.log(`e2e ${label} on torch ${t}t`);
        try {
          const got = runTorchTrain({ model, dims: layout.dims, input: INPUT_DIM, k: CLUSTERS, rows: fullPlan.rows, batch: fullPlan.batch, steps, threads: t });
          if ('why' in got) { out.push(na('torch', got.why, 'torch')); break; }
          if (got.threads !== t) throw new Error(`torch ran ${got.threads} thread(s), asked ${t}`);
          out.push(row(`torch ${t}t`, (steps * fullPlan.batch) / got.seconds, got.seconds,
            `PyTorch ${got.torch}, BLAS ${got.blas.split(',')[0]}; ${steps} steps after 2 warm-up steps; torch.optim.Adam, autograd; child process`, 'torch'));
        } catch (e) {
          out.push(na(`torch ${t}t`, (e as Error).message.split('\n')[0].slice(0, 200), 'torch'));
        }
      }
    }
  }
  return out;
}
