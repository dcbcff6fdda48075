// wasm-backend specifics that the shared op harness (test/ops.test.ts) does not cover: build selection
// and loading errors, the JS allocator (reuse, alignment, out-of-memory message), gemm beyond the
// harness's shapes (several K and N blocks, against a float64 loop), worker threads (bit-identical
// to one thread), Philox known-answer vectors, and the relaxed-simd build run for real in a child
// Node with --experimental-wasm-relaxed-simd.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tensor } from '../bindings/backend.js';
import { ShapeError } from '../bindings/checks.js';
import { philox4x32 } from '../bindings/philox.js';
import { createWasmBackend, OutOfMemoryError, WasmAllocator, wasmUrl, type WasmBackend } from '../bindings/backends/wasm/index.js';
import { GEMM_MIN_CHUNK_ROWS, gemmChunks, rowChunks } from '../bindings/backends/wasm/threads.js';
import { relativeNormError } from './ops/run.js';
import { reproduceHint, Rng, testSeed } from './helpers/rng.js';

const SEED = testSeed();
const hint = reproduceHint(SEED, 'test/wasm.test.ts');
const root = fileURLToPath(new URL('..', import.meta.url));

/** float64 C = alpha*op(A)*op(B) + beta*C0, the oracle for the large gemm cases. */
function gemm64(a: Float64Array, b: Float64Array, c0: Float64Array | null, m: number, n: number, k: number,
  tA: boolean, tB: boolean, alpha: number, beta: number): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += (tA ? a[p * m + i] : a[i * k + p]) * (tB ? b[j * k + p] : b[p * n + j]);
      c[i * n + j] = alpha * s + (beta !== 0 && c0 ? beta * c0[i * n + j] : 0);
    }
  }
  return c;
}

const f32 = (x: Float64Array) => Float32Array.from(x);
function upload(be: WasmBackend, shape: number[], data: ArrayLike<number>): Tensor {
  const t = be.create(shape);
  be.upload(t, data as Float32Array);
  return t;
}

describe('wasm loader', () => {
  it('picks relaxed-simd exactly when the engine validates it, and says so in info()', async () => {
    const relaxedBytes = await readFile(fileURLToPath(wasmUrl('relaxed')));
    const expectRelaxed = WebAssembly.validate(relaxedBytes);
    const be = await createWasmBackend();
    expect(be.flavor).toBe(expectRelaxed ? 'relaxed' : 'simd');
    expect(be.info().device).toBe(`WASM SIMD128${expectRelaxed ? ' + relaxed-simd' : ''}, 1 thread`);
    expect(be.info().threads).toBe(1);
    expect(be.k.isRelaxed()).toBe(expectRelaxed ? 1 : 0);
    be.destroy();
  });

  it('relaxed: false loads the baseline build; relaxed: true fails clearly where unsupported', async () => {
    const be = await createWasmBackend({ relaxed: false });
    expect(be.flavor).toBe('simd');
    expect(be.k.isRelaxed()).toBe(0);
    be.destroy();
    const relaxedBytes = await readFile(fileURLToPath(wasmUrl('relaxed')));
    if (WebAssembly.validate(relaxedBytes)) {
      const r = await createWasmBackend({ relaxed: true });
      expect(r.k.isRelaxed()).toBe(1);
      r.destroy();
    } else {
      await expect(createWasmBackend({ relaxed: true })).rejects.toThrow(/relaxed-simd build .*hemaclust-relaxed\.wasm does not validate/);
    }
  });

  it('accepts module bytes from the caller, and names the source when they are bad', async () => {
    const bytes = new Uint8Array(await readFile(fileURLToPath(wasmUrl('simd'))));
    const be = await createWasmBackend({ relaxed: false, bytes: { simd: bytes } });
    expect(be.source).toBe('bytes (simd)');
    be.destroy();
    await expect(createWasmBackend({ relaxed: false, bytes: { simd: new Uint8Array([0, 97, 115, 109, 9, 9]) } }))
      .rejects.toThrow(/cannot compile bytes \(simd\)/);
  });

  it('a missing file is named in the error', async () => {
    const url = new URL('file:///nonexistent-dir/hemaclust-simd.wasm');
    await expect(createWasmBackend({ relaxed: false, urls: { simd: url } }))
      .rejects.toThrow(/wasm: cannot read \/nonexistent-dir\/hemaclust-simd\.wasm/);
  });

  it('rejects bad options', async () => {
    await expect(createWasmBackend({ threads: 0 })).rejects.toThrow(/threads must be a positive integer/);
    await expect(createWasmBackend({ maxPages: 70000 })).rejects.toThrow(/maxPages/);
  });
});

describe('wasm memory', () => {
  it('hands out 64-byte-aligned blocks and reuses freed ones (no growth in a create/dispose loop)', async () => {
    const be = await createWasmBackend({ relaxed: false });
    const shapes = [[7, 13], [256, 784], [1], [500]];
    for (const s of shapes) be.dispose(be.create(s)); // warm up: every size seen once
    const mem = be.alloc.memoryBytes;
    const live = be.alloc.liveCount;
    for (let step = 0; step < 200; step++) {
      const ts = shapes.map((s) => be.create(s));
      for (const t of ts) expect((t as unknown as { ptr: number }).ptr % 64).toBe(0);
      for (const t of ts) be.dispose(t);
    }
    expect(be.alloc.memoryBytes).toBe(mem);
    expect(be.alloc.liveCount).toBe(live);
    be.destroy();
  });

  it('create() zero-fills reused memory', async () => {
    const be = await createWasmBackend({ relaxed: false });
    const a = be.create([33, 5]);
    be.fill(a, 7.5);
    be.dispose(a);
    const b = be.create([33, 5]);
    expect(Array.from(await be.download(b)).every((v) => v === 0)).toBe(true);
    be.destroy();
  });

  it('coalesces neighbours so a large block fits where small ones were', () => {
    const mem = new WebAssembly.Memory({ initial: 1, maximum: 4, shared: true });
    const al = new WasmAllocator(mem, 0, 4);
    const ps = [al.alloc(1000, 'a'), al.alloc(1000, 'b'), al.alloc(1000, 'c'), al.alloc(64, 'guard')];
    al.release(ps[1]);
    al.release(ps[0]);
    al.release(ps[2]);
    expect(al.alloc(3000, 'big')).toBe(ps[0]);
    expect(() => al.release(12345)).toThrow(/unknown pointer/);
  });

  it('out of memory is a clear error that names the request and the memory size', async () => {
    const be = await createWasmBackend({ relaxed: false, maxPages: 512 }); // 32 MiB
    const before = be.alloc.liveCount;
    expect(() => be.create([4096, 8192])).toThrow(OutOfMemoryError);
    expect(() => be.create([4096, 8192])).toThrow(
      /^wasm: out of memory allocating \[4096,8192\] f32 \(128\.0 MiB\); memory is [\d.]+ MiB of 32\.0 MiB max/);
    expect(be.alloc.liveCount).toBe(before);
    // memory still usable after the failure, and it grows up to the maximum
    const t = be.create([1024, 4096]); // 16 MiB: needs growth beyond the initial 16 MiB
    be.fill(t, 1);
    expect((await be.download(t))[1024 * 4096 - 1]).toBe(1);
    be.destroy();
  });
});

describe('wasm ops beyond the harness', () => {
  let be: WasmBackend;
  beforeAll(async () => {
    be = await createWasmBackend({ relaxed: false });
  });
  afterAll(() => be.destroy());

  it('gemm over several K, M and N blocks matches a float64 loop (all transposes)', async () => {
    const rng = Rng.forCase(SEED, 'wasm big gemm');
    const [m, n, k] = [131, 517, 601]; // > MC=128, > NC=512, > KC=512 (two K blocks); none a multiple of the tile
    for (const [tA, tB] of [[false, false], [true, false], [false, true], [true, true]] as const) {
      const a = rng.normals(m * k);
      const b = rng.normals(k * n);
      const c0 = rng.normals(m * n);
      const [alpha, beta] = tA ? [0.75, -0.5] : [1, 0];
      const ta = upload(be, tA ? [k, m] : [m, k], f32(a));
      const tb = upload(be, tB ? [n, k] : [k, n], f32(b));
      const tc = upload(be, [m, n], beta === 0 ? new Float32Array(m * n).fill(NaN) : f32(c0));
      be.gemm(ta, tb, tc, { transA: tA, transB: tB, alpha, beta });
      const want = gemm64(Float64Array.from(f32(a)), Float64Array.from(f32(b)), Float64Array.from(f32(c0)), m, n, k, tA, tB, alpha, beta);
      const err = relativeNormError(await be.download(tc), want);
      expect(err, `transA=${tA} transB=${tB}; ${hint}`).toBeLessThan(1e-5);
      for (const t of [ta, tb, tc]) be.dispose(t);
    }
  });

  it('Philox4x32-10 matches the Random123 known-answer vectors and bindings/philox.ts', () => {
    const kat: [number[], number[], number[]][] = [
      [[0, 0, 0, 0], [0, 0], [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]],
      [[0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff], [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]],
      [[0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0], [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]],
    ];
    const words = () => [0, 1, 2, 3].map((i) => be.k.philoxWord(i) >>> 0);
    for (const [c, key, want] of kat) {
      be.k.philox(c[0], c[1], c[2], c[3], key[0], key[1]);
      expect(words()).toEqual(want);
    }
    const rng = Rng.forCase(SEED, 'wasm philox');
    for (let t = 0; t < 100; t++) {
      const a = [rng.u32(), rng.u32(), rng.u32(), rng.u32(), rng.u32(), rng.u32()];
      be.k.philox(a[0], a[1], a[2], a[3], a[4], a[5]);
      expect(words(), hint).toEqual(Array.from(philox4x32(a[0], a[1], a[2], a[3], a[4], a[5])));
    }
  });

  it('every op runs the shared checks first', () => {
    const a = be.create([3, 4]);
    const b = be.create([5, 6]);
    const c = be.create([3, 6]);
    expect(() => be.gemm(a, b, c)).toThrow(ShapeError);
    expect(() => be.gemm(a, b, c)).toThrow(/gemm: inner dimensions differ/);
    const idx = be.create([2], 'i32');
    be.upload(idx, [0, 3]);
    const out = be.create([2, 4]);
    expect(() => be.gatherRows(a, idx, out)).toThrow(/gatherRows: idx\[1\] = 3 is outside 0\.\.2/);
    const labels = be.create([3], 'i32');
    be.upload(labels, [0, -1, 0]);
    expect(() => be.kmeansUpdate(a, labels, be.create([2, 4]), be.create([2]))).toThrow(/labels\[1\] = -1/);
    be.dispose(a);
    expect(() => be.fill(a, 0)).toThrow(/was disposed/);
    expect(() => be.biasAct(c, be.create([5]), 'relu', c)).toThrow(ShapeError);
  });

  it('refuses a tensor of another wasm instance: its pointer means nothing in this memory', async () => {
    const other = await createWasmBackend({ relaxed: false });
    try {
      const foreign = other.create([2, 2]);
      const mine = be.create([2, 2]);
      expect(() => be.axpby(foreign, mine, 1, 0)).toThrow(/axpby: x belongs to another 'wasm' backend instance/);
      expect(() => be.dispose(foreign)).toThrow(/dispose: t belongs to another 'wasm' backend instance/);
      await expect(be.download(foreign)).rejects.toThrow(/download: t belongs to another/);
    } finally {
      other.destroy();
    }
  });
});

describe('wasm threads', () => {
  it('cuts rows into chunks on multiples of 4 that cover [0, m)', () => {
    for (const [m, threads] of [[1, 2], [7, 2], [13, 3], [4096, 2], [9, 4]]) {
      const { chunk, chunks } = rowChunks(m, threads);
      expect(chunk % 4).toBe(0);
      // Chunk c is [c·chunk, min(m, (c+1)·chunk)): every row once, none past m, none empty.
      expect((chunks - 1) * chunk).toBeLessThan(m);
      expect(chunks * chunk).toBeGreaterThanOrEqual(m);
      expect(chunks).toBeLessThanOrEqual(4 * threads + 1);
    }
  });

  it('cuts a gemm into fewer, taller chunks (each repacks op(B)), still covering [0, m)', () => {
    for (const [m, threads] of [[1, 2], [7, 2], [256, 2], [500, 2], [784, 2], [2000, 3], [4096, 2], [9, 4]]) {
      const { chunk, chunks } = gemmChunks(m, threads);
      expect(chunk % 4).toBe(0);
      expect((chunks - 1) * chunk).toBeLessThan(m);
      expect(chunks * chunk).toBeGreaterThanOrEqual(m);
      expect(chunks).toBeLessThanOrEqual(4 * threads);
      // Chunks under the minimum height only where there are too few rows for one per thread.
      if (m >= threads * GEMM_MIN_CHUNK_ROWS) expect(chunk).toBeGreaterThanOrEqual(GEMM_MIN_CHUNK_ROWS - 4);
    }
    expect(gemmChunks(500, 2).chunks).toBe(2); // the 500-row dW: one repack of op(B) per thread
  });

  it('gemm on 3 threads is bit-identical to 1 thread (shared memory, row slices)', async () => {
    const one = await createWasmBackend({ relaxed: false });
    const three = await createWasmBackend({ relaxed: false, threads: 3 });
    expect(three.info()).toEqual({ name: 'wasm', device: 'WASM SIMD128, 3 threads', threads: 3 });
    const rng = Rng.forCase(SEED, 'wasm threads');
    // [1003, 10, 530] and [613, 3, 37] are narrow (N ≤ 16: gemm-narrow.ts, lanes along K or M) with M, K
    // tails; the last three shallow (K ≤ 32: gemm-shallow.ts) with M, N tails (4-row strips, 8-wide
    // panels), the last one at the threshold.
    // Every path: deep K (several K blocks and op(B) blocks with tails: 1030×1030×520, 203×45×4100),
    // narrow N, shallow K; alpha = 1 with transA takes the deep path's plain-add loop for later K blocks.
    for (const [m, n, k] of [[301, 129, 257], [1000, 517, 33], [97, 600, 300], [1003, 10, 530], [613, 3, 37],
      [1003, 250, 10], [517, 530, 13], [405, 301, 32], [1030, 1030, 520], [203, 45, 4100],
      // split K (narrow, transA, K ≥ 2048: K blocks as chunks, partials folded in block order, §24).
      [52, 10, 4100], [2000, 10, 2100], [203, 13, 2050]]) {
      for (const [tA, tB] of [[false, false], [true, false], [false, true], [true, true]] as const) {
        const a = f32(rng.normals(m * k));
        const b = f32(rng.normals(k * n));
        const c0 = f32(rng.normals(m * n));
        const opts = { transA: tA, transB: tB, alpha: tA ? 1 : 1.25, beta: tB ? 0.5 : 0 };
        const results: Float32Array[] = [];
        for (const be of [one, three]) {
          const ta = upload(be, tA ? [k, m] : [m, k], a);
          const tb = upload(be, tB ? [n, k] : [k, n], b);
          const tc = upload(be, [m, n], opts.beta ? c0 : new Float32Array(m * n).fill(NaN));
          be.gemm(ta, tb, tc, opts);
          results.push((await be.download(tc)) as Float32Array);
          for (const t of [ta, tb, tc]) be.dispose(t);
        }
        expect(results[1].some(Number.isNaN)).toBe(false);
        expect(Buffer.from(results[1].buffer).equals(Buffer.from(results[0].buffer)), `[${m},${n},${k}] tA=${tA} tB=${tB}; ${hint}`).toBe(true);
      }
    }
    // The split-K path (narrow TN, K ≥ 2048) at other alphas and betas: its partials hold alpha*acc
    // and the fold applies beta, so both must round as the 1-thread write-back does.
    for (const [m, n, k] of [[52, 10, 4100], [203, 13, 2050], [37, 16, 8200]]) {
      for (const [alpha, beta] of [[0.1, 0], [-1.5, 0.25], [0.75, -3], [1, 1]]) {
        for (const tB of [false, true]) {
          const a = f32(rng.normals(m * k));
          const b = f32(rng.normals(k * n));
          const c0 = f32(rng.normals(m * n));
          const opts = { transA: true, transB: tB, alpha, beta };
          const results: Float32Array[] = [];
          for (const be of [one, three]) {
            const ta = upload(be, [k, m], a);
            const tb = upload(be, tB ? [n, k] : [k, n], b);
            const tc = upload(be, [m, n], beta ? c0 : new Float32Array(m * n).fill(NaN));
            be.gemm(ta, tb, tc, opts);
            results.push((await be.download(tc)) as Float32Array);
            for (const t of [ta, tb, tc]) be.dispose(t);
          }
          expect(results[1].some(Number.isNaN)).toBe(false);
          expect(Buffer.from(results[1].buffer).equals(Buffer.from(results[0].buffer)),
            `split K [${m},${n},${k}] tB=${tB} alpha=${alpha} beta=${beta}; ${hint}`).toBe(true);
        }
      }
    }
    one.destroy();
    three.destroy();
    three.destroy(); // idempotent
    expect(() => three.create([1])).toThrow(/destroyed/);
  });
});

describe('wasm relaxed-simd build', () => {
  // Node 20 runs relaxed SIMD only behind a flag, so run the relaxed build in a child Node that has
  // it, against the float64 reference backend (FMA changes rounding: never compared bit-exactly).
  it('gives the reference results in a Node with --experimental-wasm-relaxed-simd', async () => {
    const script = `
      const { createWasmBackend } = await import('./bindings/backends/wasm/index.ts');
      const { createReferenceBackend } = await import('./bindings/backends/reference/index.ts');
      const { Rng } = await import('./test/helpers/rng.ts');
      const { relativeNormError } = await import('./test/ops/run.ts');
      const be = await createWasmBackend({ relaxed: true });
      const ref = createReferenceBackend();
      const rng = Rng.forCase(${SEED}, 'wasm relaxed child');
      const errs = {};
      const mk = (b, shape, data) => { const t = b.create(shape); b.upload(t, data); return t; };
      for (const [m, n, k] of [[13, 17, 7], [131, 517, 601], [64, 65, 129], [37, 10, 603], [29, 5, 17], [37, 250, 10], [22, 33, 32]]) {
        for (const [tA, tB] of [[false, false], [true, false], [false, true], [true, true]]) {
          const a = Float32Array.from(rng.normals(m * k)), b = Float32Array.from(rng.normals(k * n)), c0 = Float32Array.from(rng.normals(m * n));
          const opts = { transA: tA, transB: tB, alpha: 0.5, beta: tA ? 1 : 0 };
          const out = [];
          for (const x of [be, ref]) {
            const tc = mk(x, [m, n], opts.beta ? c0 : new Float32Array(m * n).fill(NaN));
            x.gemm(mk(x, tA ? [k, m] : [m, k], a), mk(x, tB ? [n, k] : [k, n], b), tc, opts);
            out.push(await x.download(tc));
          }
          errs['gemm ' + [m, n, k, tA, tB]] = relativeNormError(out[0], out[1]);
        }
      }
      const [n, d, k] = [1000, 10, 3];
      const z = Float32Array.from(rng.normals(n * d, 2)), mu = Float32Array.from(rng.normals(k * d, 2));
      const q = [];
      for (const x of [be, ref]) { const tq = x.create([n, k]); x.softAssign(mk(x, [n, d], z), mk(x, [k, d], mu), tq, 1); q.push(await x.download(tq)); }
      errs.softAssign = relativeNormError(q[0], q[1]);
      const y = Float32Array.from(rng.normals(1000 * 12)), xx = Float32Array.from(rng.normals(1000 * 12));
      const ax = [];
      for (const x of [be, ref]) { const ty = mk(x, [1000, 12], y); x.axpby(mk(x, [1000, 12], xx), ty, 0.3, -1.7); ax.push(await x.download(ty)); }
      errs.axpby = relativeNormError(ax[0], ax[1]);
      console.log(JSON.stringify({ device: be.info().device, errs }));
    `;
    const { stdout } = await promisify(execFile)(process.execPath,
      ['--experimental-wasm-relaxed-simd', '--import', 'tsx', '--input-type=module', '-e', script],
      { cwd: root, timeout: 110_000 }); // a loaded 2-core CI machine: well under testTimeout (120 s)
    const res = JSON.parse(stdout.trim().split('\n').pop()!) as { device: string; errs: Record<string, number> };
    expect(res.device).toBe('WASM SIMD128 + relaxed-simd, 1 thread');
    expect(Object.keys(res.errs).length).toBe(30);
    for (const [name, err] of Object.entries(res.errs)) {
      expect(err, `${name}; ${hint}`).toBeLessThan(name.startsWith('gemm') ? 1e-5 : 1e-6);
    }
  });
});
