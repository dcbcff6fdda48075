// The wasm worker pool's row jobs (bindings/backends/wasm/threads.ts: ROW_KERNELS): ops whose rows are
// independent run as row slices on the caller and the workers. Results must be bit-identical to one
// thread (same kernel, same rows, only the split differs), every row written (outputs poisoned with
// NaN), at row counts that do not divide evenly, and below the size at which splitting starts.
// gmmLogResp also checks each thread uses its own f64 scratch (shared scratch would mix rows' terms);
// the mixture EM's reductions sum in fixed chunks, so they too are bit-identical on any thread count.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ComputeBackend, Tensor } from '../bindings/backend.js';
import { createWasmBackend, type WasmBackend } from '../bindings/backends/wasm/index.js';
import { reproduceHint, Rng, testSeed } from './helpers/rng.js';

const SEED = testSeed();
const hint = reproduceHint(SEED, 'test/op-wasm-row-split.test.ts');

let one: WasmBackend;
let three: WasmBackend;
beforeAll(async () => {
  one = await createWasmBackend({ relaxed: false });
  three = await createWasmBackend({ relaxed: false, threads: 3 });
});
afterAll(() => {
  one.destroy();
  three.destroy();
});

type Inputs = Record<string, { shape: number[]; data: Float32Array | Int32Array | null; dtype?: 'i32' }>;

/** Uploads the inputs (null data = an output, NaN-poisoned), runs `call`, downloads `outs`. */
async function run(be: ComputeBackend, inputs: Inputs, call: (t: Record<string, Tensor>) => void, outs: string[]): Promise<Float32Array[]> {
  const t: Record<string, Tensor> = {};
  for (const [name, d] of Object.entries(inputs)) {
    const i32 = d.data instanceof Int32Array || d.dtype === 'i32';
    t[name] = be.create(d.shape, i32 ? 'i32' : 'f32');
    // Outputs poisoned: NaN, or −1 for an index output (no kernel writes a negative index).
    be.upload(t[name], d.data ?? (i32 ? new Int32Array(t[name].size).fill(-1) : new Float32Array(t[name].size).fill(NaN)));
  }
  call(t);
  const res: Float32Array[] = [];
  for (const name of outs) res.push((await be.download(t[name])) as Float32Array);
  for (const u of Object.values(t)) be.dispose(u);
  return res;
}

const f32 = (a: Float64Array) => Float32Array.from(a);

async function sameOnBoth(label: string, inputs: Inputs, call: (be: ComputeBackend, t: Record<string, Tensor>) => void, outs: string[]) {
  const a = await run(one, inputs, (t) => call(one, t), outs);
  const b = await run(three, inputs, (t) => call(three, t), outs);
  for (let i = 0; i < outs.length; i++) {
    expect(a[i].some((v) => Number.isNaN(v) || (a[i] instanceof Int32Array && v < 0)), `${label}: ${outs[i]} has unwritten rows; ${hint}`).toBe(false);
    expect(Buffer.from(b[i].buffer).equals(Buffer.from(a[i].buffer)), `${label}: ${outs[i]} differs between 1 and 3 threads; ${hint}`).toBe(true);
  }
}

describe('wasm row jobs on 3 threads are bit-identical to 1 thread', () => {
  // Row counts: below the split threshold, odd, and large with a remainder.
  const ROWS = [1, 7, 13, 257, 4099];

  it('gmmLogResp (per-thread scratch)', async () => {
    const rng = Rng.forCase(SEED, 'row split gmmLogResp');
    for (const n of ROWS) {
      for (const [d, k] of [[10, 24], [6, 5], [3, 7]]) {
        await sameOnBoth(`gmmLogResp N=${n} D=${d} K=${k}`, {
          z: { shape: [n, d], data: f32(rng.normals(n * d, 2)) }, pi: { shape: [k], data: f32(rng.normals(k)) },
          mu: { shape: [k, d], data: f32(rng.normals(k * d, 2)) }, lv: { shape: [k, d], data: f32(rng.uniforms(k * d, -1, 1)) },
          out: { shape: [n, k], data: null },
        }, (be, t) => be.gmmLogResp(t.z, t.pi, t.mu, t.lv, t.out), ['out']);
      }
    }
  });

  it('kmeansAssign (per-thread transposed centroids)', async () => {
    const rng = Rng.forCase(SEED, 'row split kmeansAssign');
    for (const n of ROWS) {
      for (const [d, k] of [[10, 24], [8, 6], [3, 5]]) {
        await sameOnBoth(`kmeansAssign N=${n} D=${d} K=${k}`, {
          x: { shape: [n, d], data: f32(rng.normals(n * d, 2)) }, c: { shape: [k, d], data: f32(rng.normals(k * d, 2)) },
          labels: { shape: [n], data: null, dtype: 'i32' }, minDist: { shape: [n], data: null },
        }, (be, t) => be.kmeansAssign(t.x, t.c, t.labels, t.minDist), ['labels', 'minDist']);
      }
    }
  });

  it('mixtureLogLik, mixturePosteriors, mixtureStats (chunked reductions)', async () => {
    const rng = Rng.forCase(SEED, 'row split mixture');
    for (const n of [...ROWS, 9001]) {
      const [d, k, c, S] = [12, 24, 3, 5];
      const rho = rng.simplexRows(c, k, 1);
      const z = f32(rng.normals(n * d, 2)), mu = f32(rng.normals(k * d, 2)), lv = f32(rng.uniforms(k * d, -1, 1));
      await sameOnBoth(`mixtureLogLik N=${n}`, {
        z: { shape: [n, d], data: z }, mu: { shape: [k, d], data: mu }, lv: { shape: [k, d], data: lv }, rho: { shape: [c, k], data: f32(rho) },
        ld: { shape: [n, k], data: null }, L: { shape: [n, c], data: null },
      }, (be, t) => be.mixtureLogLik(t.z, t.mu, t.lv, t.rho, t.ld, t.L), ['ld', 'L']);
      const [ld, L] = await run(one, {
        z: { shape: [n, d], data: z }, mu: { shape: [k, d], data: mu }, lv: { shape: [k, d], data: lv }, rho: { shape: [c, k], data: f32(rho) },
        ld: { shape: [n, k], data: null }, L: { shape: [n, c], data: null },
      }, (t) => one.mixtureLogLik(t.z, t.mu, t.lv, t.rho, t.ld, t.L), ['ld', 'L']);
      const sampleOf = rng.ints(n, S);
      await sameOnBoth(`mixturePosteriors N=${n}`, {
        L: { shape: [n, c], data: L }, s: { shape: [n], data: sampleOf }, lp: { shape: [S, c], data: f32(rng.normals(S * c)) },
        post: { shape: [n, c], data: null }, cs: { shape: [S, c], data: null }, sl: { shape: [S], data: null },
      }, (be, t) => be.mixturePosteriors(t.L, t.s, t.lp, t.post, t.cs, t.sl), ['post', 'cs', 'sl']);
      await sameOnBoth(`mixtureStats N=${n}`, {
        z: { shape: [n, d], data: z }, ld: { shape: [n, k], data: ld }, L: { shape: [n, c], data: L }, post: { shape: [n, c], data: f32(rng.simplexRows(n, c, 2)) },
        rho: { shape: [c, k], data: f32(rho) }, mu: { shape: [k, d], data: mu },
        cw: { shape: [c, k], data: null }, s1: { shape: [k, d], data: null }, s2: { shape: [k, d], data: null },
      }, (be, t) => be.mixtureStats(t.z, t.ld, t.L, t.post, t.rho, t.mu, t.cw, t.s1, t.s2), ['cw', 's1', 's2']);
    }
  });

  it('asinhStandardize', async () => {
    const rng = Rng.forCase(SEED, 'row split asinhStandardize');
    for (const n of ROWS) {
      const d = 131;
      await sameOnBoth(`asinhStandardize N=${n}`, {
        x: { shape: [n, d], data: f32(rng.normals(n * d, 300)) }, mean: { shape: [d], data: f32(rng.normals(d)) },
        std: { shape: [d], data: f32(rng.uniforms(d, 0.5, 2)) }, out: { shape: [n, d], data: null },
      }, (be, t) => be.asinhStandardize(t.x, t.mean, t.std, 16, t.out), ['out']);
    }
  });

  it('biasAct (every activation) and softAssign', async () => {
    const rng = Rng.forCase(SEED, 'row split biasAct softAssign');
    for (const n of ROWS) {
      for (const act of ['identity', 'relu', 'sigmoid', 'tanh'] as const) {
        const d = 67;
        await sameOnBoth(`biasAct ${act} N=${n}`, {
          x: { shape: [n, d], data: f32(rng.normals(n * d)) }, b: { shape: [d], data: f32(rng.normals(d)) }, out: { shape: [n, d], data: null },
        }, (be, t) => be.biasAct(t.x, t.b, act, t.out), ['out']);
      }
      const [d, k] = [10, 9];
      await sameOnBoth(`softAssign N=${n}`, {
        z: { shape: [n, d], data: f32(rng.normals(n * d)) }, mu: { shape: [k, d], data: f32(rng.normals(k * d)) }, q: { shape: [n, k], data: null },
      }, (be, t) => be.softAssign(t.z, t.mu, t.q, 1), ['q']);
    }
  });

  it('adamUpdate and sgdUpdate (elements are the rows; in place on param and state)', async () => {
    // Sizes below the split threshold (ROW_SPLIT_MIN_WORK elements), and above it with a remainder
    // that is not a multiple of 4 (the scalar tail of the last chunk). In place: a chunk no thread
    // ran keeps its old values and differs from the 1-thread result.
    const rng = Rng.forCase(SEED, 'row split optimisers');
    for (const n of [5, 4099, 40_003, 131_077]) {
      for (const weightDecay of [0, 0.01]) {
        const state = () => ({
          param: { shape: [n], data: f32(rng.normals(n)) }, grad: { shape: [n], data: f32(rng.normals(n)) },
          m: { shape: [n], data: f32(rng.normals(n, 0.1)) }, v: { shape: [n], data: f32(rng.uniforms(n, 0, 0.01)) },
        });
        await sameOnBoth(`adamUpdate n=${n} wd=${weightDecay}`, state(), (be, t) => {
          for (let step = 1; step <= 3; step++) be.adamUpdate(t.param, t.grad, t.m, t.v, { lr: 1e-2, step, weightDecay });
        }, ['param', 'm', 'v']);
      }
      await sameOnBoth(`sgdUpdate n=${n}`, {
        param: { shape: [n], data: f32(rng.normals(n)) }, grad: { shape: [n], data: f32(rng.normals(n)) },
        vel: { shape: [n], data: f32(rng.normals(n, 0.1)) },
      }, (be, t) => {
        for (let step = 0; step < 3; step++) be.sgdUpdate(t.param, t.grad, t.vel, { lr: 0.05, momentum: 0.9 });
      }, ['param', 'vel']);
    }
  });

  it('many back-to-back jobs of alternating kernels and sizes (no job runs with another job\'s arguments)', async () => {
    // Workers take chunks from a shared counter and may wake late; a stale worker must never run a
    // chunk with the arguments of the job before or after. Alternate two ops with different
    // outputs and row counts, many times, and check every output after every round.
    const [n, d, k] = [1500, 24, 11];
    // Both backends get the same inputs: one generator per backend, seeded alike.
    const setup = (be: WasmBackend, rng: Rng) => {
      const x = f32(rng.normals(n * d, 40));
      const t = (shape: number[], data?: Float32Array) => {
        const u = be.create(shape);
        if (data) be.upload(u, data);
        return u;
      };
      const mean = t([d], f32(rng.normals(d)));
      const std = t([d], f32(rng.uniforms(d, 0.5, 2)));
      const mu = t([k, d], f32(rng.normals(k * d)));
      const rows = Array.from({ length: 6 }, (_, i) => n - 7 * i);
      const ins = rows.map((r) => t([r, d], x.subarray(0, r * d)));
      const outs = rows.map((r, i) => t(i % 2 ? [r, k] : [r, d]));
      const round = () => {
        for (let i = 0; i < rows.length; i++) {
          if (i % 2) be.softAssign(ins[i], mu, outs[i], 1);
          else be.asinhStandardize(ins[i], mean, std, 16, outs[i]);
        }
      };
      return { round, outs, all: [mean, std, mu, ...ins, ...outs] };
    };
    const a = setup(one, Rng.forCase(SEED, 'row split stress'));
    a.round();
    const want: Float32Array[] = [];
    for (const t of a.outs) want.push((await one.download(t)) as Float32Array);
    for (const t of a.all) one.dispose(t);
    const b = setup(three, Rng.forCase(SEED, 'row split stress'));
    for (let rep = 0; rep < 100; rep++) {
      b.round();
      for (let i = 0; i < b.outs.length; i++) {
        const got = (await three.download(b.outs[i])) as Float32Array;
        if (!Buffer.from(got.buffer).equals(Buffer.from(want[i].buffer))) {
          expect.fail(`round ${rep}, output ${i} differs from 1 thread; ${hint}`);
        }
      }
    }
    for (const t of b.all) three.dispose(t);
  });
});
