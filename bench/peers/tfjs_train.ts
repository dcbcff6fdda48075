// Peer for the training rows (bench/lib/training.ts): the same IDEC / VaDE training step written
// the way a TensorFlow.js user would — tf.variable weights (Glorot-uniform), dense layers as
// matMul + add + relu, the loss as a tensor expression, gradients by autodiff through
// optimizer.minimize, tf.train.adam. Runs on tfjs-backend-wasm (1 thread in Node, see tfjs.ts).
//   IDEC: loss = mean((dec(enc(x)) − x)²) + 0.1 · mean_rows KL(P‖Q), Q the Student-t soft assignment
//         (α = 1) of enc(x) to the cluster centres (a variable), P a fixed target batch. P is
//         refreshed in our fit only between the timed steps (see training.ts), so a fixed P is the
//         same per-step work.
//   VaDE: −ELBO with one reparameterised sample: ½ Σ_d (x − x̂)² + the closed-form KL of Jiang et al.
//         eq. 12 with γ = softmax(log π + log N(z | μ_c, σ²_c)) held constant (custom gradient 0,
//         as our vadeKlLossBackward treats it); π = softmax(logits), μ_c, log σ²_c trainable.
// Each step slices its batch from data resident in the backend (ours gathers from resident data too).
import type { Matrix } from '../../bindings/models/index.js';
import { hostData } from '../ops/cases.js';
import type { TrainModel } from '../lib/training.js';

type Tf = typeof import('@tensorflow/tfjs-core');
type T = import('@tensorflow/tfjs-core').Tensor;
type T2 = import('@tensorflow/tfjs-core').Tensor2D;
type V = import('@tensorflow/tfjs-core').Variable;

interface Dense { w: V; b: V }

function dense(tf: Tf, fanIn: number, fanOut: number, seed: number): Dense {
  const lim = Math.sqrt(6 / (fanIn + fanOut));
  return { w: tf.variable(tf.tensor2d(hostData(fanIn * fanOut, seed, -lim, lim), [fanIn, fanOut])), b: tf.variable(tf.zeros([fanOut])) };
}

/** Dense layers with ReLU between them; the last one linear unless `reluLast`. */
function mlp(tf: Tf, layers: Dense[], x: T2, reluLast = false): T2 {
  let a = x;
  layers.forEach((l, i) => {
    const y = tf.add(tf.matMul(a, l.w), l.b) as T2;
    a = i + 1 < layers.length || reluLast ? tf.relu(y) : y;
  });
  return a;
}

let gradientsRegistered: Promise<void> | undefined;

/**
 * tfjs-core's Node build (CommonJS) registers no gradients — the `@tensorflow/tfjs` union package
 * would import them for us, and it is not a dependency. Its ESM dist has them
 * (dist/register_all_gradients.js) but with extension-less relative imports that Node's ESM loader
 * refuses, so esbuild (a devDependency) bundles that one file and we import the bundle. The
 * registry and the engine live on a tfjs global, so this second copy of the gradient code
 * registers into the same engine the CommonJS build runs.
 */
function registerGradients(): Promise<void> {
  return (gradientsRegistered ??= (async () => {
    const { build } = await import('esbuild');
    const { createRequire } = await import('node:module');
    const entry = createRequire(import.meta.url).resolve('@tensorflow/tfjs-core/dist/register_all_gradients.js');
    const out = await build({ entryPoints: [entry], bundle: true, format: 'esm', platform: 'node', write: false, logLevel: 'silent' });
    await import(`data:text/javascript;base64,${Buffer.from(out.outputFiles[0].text).toString('base64')}`);
  })());
}

/** Seconds for `steps` training steps (after 2 untimed warm-up steps) on tfjs-wasm. */
export async function tfjsTrainSeconds(model: TrainModel, dims: number[], x: Matrix, batch: number, steps: number, k: number): Promise<number> {
  const tf: Tf = await import('@tensorflow/tfjs-core');
  await registerGradients();
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  wasm.setThreadsCount(1);
  if (!(await tf.setBackend('wasm'))) throw new Error('tfjs: setBackend(wasm) failed');
  await tf.ready();
  const D = x.cols;
  const widths = [D, ...dims];
  const made: T[] = [];
  let seed = 500;
  const enc = dims.map((out, l) => dense(tf, widths[l], out, seed++));
  const decW = [...widths].reverse();
  const dec = decW.slice(1).map((out, l) => dense(tf, decW[l], out, seed++));
  // z-score the cells as our models do (normalisation 'auto' for real-valued data)
  const X = tf.tidy(() => { const t = tf.tensor2d(x.data, [x.rows, D]); const m = tf.moments(t, 0); return tf.div(tf.sub(t, m.mean), tf.add(tf.sqrt(m.variance), 1e-6)); }) as T2;
  made.push(X);
  const d = dims[dims.length - 1];
  const vars: V[] = [...enc, ...dec].flatMap((l) => [l.w, l.b]);
  const g: Graph = { enc, dec, widths, d, k, rows: x.rows, vars, made, nextSeed: () => seed++ };
  const { loss, opt } = model === 'idec' ? idecObjective(tf, g) : vadeObjective(tf, g);
  const batches = Math.floor(x.rows / batch);
  let b = 0;
  const step = () => tf.tidy(() => {
    const i0 = (b++ % batches) * batch;
    const xb = tf.slice(X, [i0, 0], [batch, D]);
    opt.minimize(() => loss(xb, i0), false, vars);
  });
  try {
    step(); step();
    await vars[0].data();
    const t0 = performance.now();
    for (let s = 0; s < steps; s++) step();
    const last = await vars[vars.length - 1].data(); // wait for the last update
    const seconds = (performance.now() - t0) / 1e3;
    if (!Number.isFinite(last[0])) throw new Error(`tfjs ${model} step diverged`);
    return seconds;
  } finally {
    opt.dispose();
    for (const v of vars) v.dispose();
    for (const t of made) t.dispose();
  }
}

type Loss = (xb: T2, i0: number) => import('@tensorflow/tfjs-core').Scalar;
/** What the objectives build on: the networks, shapes, and the lists they add their tensors to. */
interface Graph {
  enc: Dense[];
  dec: Dense[];
  widths: number[];
  d: number;
  k: number;
  rows: number;
  vars: V[];
  made: T[];
  nextSeed: () => number;
}

/** IDEC's loss: reconstruction + 0.1 · KL(P‖Q) against a fixed target P, with Adam at 1e-3. */
function idecObjective(tf: Tf, g: Graph): { loss: Loss; opt: import('@tensorflow/tfjs-core').Optimizer } {
  const { enc, dec, d, k, vars, made, rows } = g;
  const mu = tf.variable(tf.tensor2d(hostData(k * d, g.nextSeed(), -1, 1), [k, d]));
  vars.push(mu);
  const P = tf.softmax(tf.tensor2d(hostData(rows * k, g.nextSeed(), -2, 2), [rows, k])) as T2; // a fixed target
  made.push(P);
  const opt = tf.train.adam(1e-3);
  const loss: Loss = (xb, i0) => {
    const z = mlp(tf, enc, xb);
    const recon = tf.mean(tf.square(tf.sub(mlp(tf, dec, z), xb)));
    const d2 = tf.sum(tf.square(tf.sub(tf.expandDims(z, 1), tf.expandDims(mu, 0))), 2);
    const q0 = tf.reciprocal(tf.add(1, d2)); // (1 + d²/α)^(−(α+1)/2) at α = 1
    const q = tf.div(q0, tf.sum(q0, 1, true));
    const pb = tf.slice(P, [i0, 0], [xb.shape[0], k]);
    const kl = tf.mean(tf.sum(tf.mul(pb, tf.sub(tf.log(pb), tf.log(q))), 1));
    return tf.add(recon, tf.mul(0.1, kl)) as import('@tensorflow/tfjs-core').Scalar;
  };
  return { loss, opt };
}

/** VaDE's negative ELBO (one reparameterised sample), with Adam at 2e-3. */
function vadeObjective(tf: Tf, g: Graph): { loss: Loss; opt: import('@tensorflow/tfjs-core').Optimizer } {
  const { enc, dec, widths, d, k, vars } = g;
  const trunk = enc.slice(0, -1);
  const muHead = enc[enc.length - 1];
  const lvHead = dense(tf, widths[widths.length - 2], d, g.nextSeed());
  const piLogits = tf.variable(tf.zeros([k]));
  const muC = tf.variable(tf.tensor2d(hostData(k * d, g.nextSeed(), -1, 1), [k, d]));
  const lvC = tf.variable(tf.zeros([k, d]));
  vars.push(lvHead.w, lvHead.b, piLogits, muC, lvC);
  // γ is a constant of the gradient (E-step): identity forward, zero gradient back.
  const constant = tf.customGrad(((a: T) => ({ value: a.clone(), gradFunc: (dy: T) => tf.zerosLike(dy) })) as unknown as Parameters<Tf["customGrad"]>[0]) as unknown as (a: T) => T;
  const LOG2PI = Math.log(2 * Math.PI);
  const opt = tf.train.adam(2e-3);
  const loss: Loss = (xb) => {
    const B = xb.shape[0];
    const h = trunk.length ? mlp(tf, trunk, xb, true) : xb;
    const mu = tf.add(tf.matMul(h, muHead.w), muHead.b) as T2;
    const lv = tf.add(tf.matMul(h, lvHead.w), lvHead.b) as T2;
    const z = tf.add(mu, tf.mul(tf.exp(tf.mul(0.5, lv)), tf.randomNormal([B, d]))) as T2;
    const recon = tf.div(tf.mul(0.5, tf.sum(tf.square(tf.sub(mlp(tf, dec, z), xb)))), B);
    const logPi = tf.logSoftmax(piLogits);
    const invVarC = tf.exp(tf.neg(lvC));
    const diffZ = tf.sub(tf.expandDims(z, 1), tf.expandDims(muC, 0));
    const logp = tf.add(tf.mul(-0.5, tf.sum(tf.add(tf.add(lvC, tf.mul(tf.square(diffZ), invVarC)), LOG2PI), 2)), logPi);
    const gamma = constant(tf.softmax(logp));
    const diffMu = tf.sub(tf.expandDims(mu, 1), tf.expandDims(muC, 0));
    const perC = tf.mul(0.5, tf.sum(tf.add(lvC, tf.mul(tf.add(tf.expandDims(tf.exp(lv), 1), tf.square(diffMu)), invVarC)), 2));
    const kl = tf.add(tf.sub(tf.sum(tf.mul(gamma, perC), 1), tf.sum(tf.mul(gamma, tf.sub(logPi, tf.log(tf.add(gamma, 1e-10)))), 1)),
      tf.mul(-0.5, tf.sum(tf.add(1, lv), 1)));
    return tf.add(recon, tf.mean(kl)) as import('@tensorflow/tfjs-core').Scalar;
  };
  return { loss, opt };
}
