// The exported classifier's ABI against bad input (docs/embedding.md, "Errors"): wrong sizes,
// pointers outside the input buffer, NaN and infinities, calls out of order, a stream that changes
// between passes, too many events, and random call sequences. Every such call must return its
// error code with a message and leave the module as it was: never a trap, and a clean
// classification afterwards gives bit for bit what a fresh module gives. The fp32 and the --int8
// export run the same checks (the int8 one has its own work buffers).
import { beforeAll, describe, expect, it } from 'vitest';
import { encodePipeline } from '../bindings/pipeline/model-file.js';
import { exportClassifier, readGenericModule, type ExportOptions } from '../bindings/export/module.js';
import { EmbeddedClassifier } from '../bindings/export/host.js';
import { handSignals, handState } from './helpers/embed-models.js';
import { Rng, testSeed, reproduceHint } from './helpers/rng.js';

const E = { STATE: 3, FEATURES: 4, ROWS: 5, POINTER: 6, NOT_FINITE: 7, TOO_MANY: 8, EMPTY: 9, STREAM: 10, NO_MODEL: 1 };
const ROWS = 700;
let wasm: Uint8Array;
let F: number;
let data: Float32Array;
let clean: { probabilities: Float32Array; summary: Record<string, number> };

type Abi = EmbeddedClassifier['abi'];

const PRECISIONS: [string, ExportOptions][] = [['fp32', {}], ['int8', { int8: true }]];

beforeAll(() => {
  const st = handState('waveform', 5);
  F = st.meta.features;
  data = handSignals(st, ROWS, 9);
});

const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

function expectClean(c: EmbeddedClassifier): void {
  const got = c.classify(data, ROWS, F, 256);
  expect(bits(got.probabilities).equals(bits(clean.probabilities))).toBe(true);
  expect(got.summary).toEqual(clean.summary);
}

function put(a: Abi, rows: Float32Array): number {
  const p = a.hc_input_ptr();
  new Float32Array(a.memory.buffer, p, rows.length).set(rows);
  return p;
}

describe.each(PRECISIONS)('exported classifier ABI (%s)', (_, opts) => {
  beforeAll(async () => {
    wasm = await exportClassifier(encodePipeline(handState('waveform', 5)), await readGenericModule('simd'), 'simd', 'fuzz', opts);
    clean = (await EmbeddedClassifier.load(wasm)).classify(data, ROWS, F);
  });

  it('refuses bad pushes with a code and a message, and the sample goes on as if they never came', async () => {
    const c = await EmbeddedClassifier.load(wasm);
    const a = c.abi as Abi;
    const cap = a.hc_chunk_rows();
    const probabilities = new Float32Array(ROWS * 4);
    expect(a.hc_begin()).toBe(0);
    for (let pass = 1; pass <= a.hc_passes(); pass++) {
      for (let start = 0; start < ROWS; start += 256) {
        const n = Math.min(256, ROWS - start);
        const chunk = data.subarray(start * F, (start + n) * F);
        let p = put(a, chunk);
        const bad: [number, number][] = [
          [a.hc_push(p, n, F + 1), E.FEATURES], [a.hc_push(p, n, 0), E.FEATURES], [a.hc_push(p, -1, F), E.ROWS], [a.hc_push(p, cap + 1, F), E.ROWS],
          [a.hc_push(p + 2, n, F), E.POINTER], [a.hc_push(0, n, F), E.POINTER], [a.hc_push(-16, n, F), E.POINTER], [a.hc_push(p + (cap - n + 1) * F * 4, n, F), E.POINTER],
        ];
        for (const [got, want] of bad) {
          expect(got).toBe(want);
          expect(c.message().length).toBeGreaterThan(10);
        }
        for (const v of [NaN, Infinity, -Infinity]) {
          const poisoned = Float32Array.from(chunk);
          const at = (start * 7 + 3) % poisoned.length;
          poisoned[at] = v;
          p = put(a, poisoned);
          expect(a.hc_push(p, n, F)).toBe(E.NOT_FINITE);
          expect(c.message()).toContain(`value at event ${start + Math.floor(at / F)}, feature ${at % F}`);
        }
        p = put(a, chunk);
        expect(a.hc_push(p, n, F)).toBe(0);
        if (pass === a.hc_passes()) probabilities.set(new Float32Array(a.memory.buffer, a.hc_output_ptr(), n * 4), start * 4);
      }
      expect(a.hc_end_pass()).toBe(0);
    }
    expect(bits(probabilities).equals(bits(clean.probabilities))).toBe(true);
    expect(c.summary()).toEqual(clean.summary);
  });

  it('refuses calls out of order, an empty sample, a changed stream and too many events', async () => {
    const c = await EmbeddedClassifier.load(wasm);
    const a = c.abi as Abi;
    const p = put(a, data.subarray(0, 50 * F));
    expect(a.hc_push(p, 50, F)).toBe(E.STATE);
    expect(a.hc_end_pass()).toBe(E.STATE);
    expect(a.hc_begin()).toBe(0);
    expect(a.hc_end_pass()).toBe(E.EMPTY);
    expect(a.hc_pass()).toBe(0);
    // A second pass with one event fewer, then one with the same count and one value changed.
    for (const change of ['count', 'value']) {
      expect(a.hc_begin()).toBe(0);
      expect(a.hc_push(put(a, data.subarray(0, 50 * F)), 50, F)).toBe(0);
      expect(a.hc_end_pass()).toBe(0);
      const again = Float32Array.from(data.subarray(0, 50 * F));
      if (change === 'value') again[17] += 1;
      expect(a.hc_push(put(a, again), change === 'count' ? 49 : 50, F)).toBe(0);
      expect(a.hc_end_pass()).toBe(E.STREAM);
      expect(c.message()).toMatch(/every pass must stream the same events/);
      expect(a.hc_push(p, 1, F)).toBe(E.STATE);
    }
    expect(a.hc_limit_events(120)).toBe(0);
    expect(a.hc_max_events()).toBe(120);
    expect(a.hc_begin()).toBe(0);
    expect(a.hc_push(put(a, data.subarray(0, 100 * F)), 100, F)).toBe(0);
    expect(a.hc_push(put(a, data.subarray(0, 30 * F)), 30, F)).toBe(E.TOO_MANY);
    expect(c.message()).toMatch(/too many events: at most 120/);
    expect(a.hc_limit_events(0)).toBe(0);
    expectClean(c);
    expect(a.hc_push(p, 1, F)).toBe(E.STATE); // after the last pass
    expect(a.hc_end_pass()).toBe(E.STATE);
  });

  it('survives random call sequences without a trap, and classifies cleanly after them', async () => {
    const seed = testSeed();
    const rng = new Rng(seed);
    const c = await EmbeddedClassifier.load(wasm);
    const a = c.abi as Abi;
    const cap = a.hc_chunk_rows();
    try {
      for (let step = 0; step < 400; step++) {
        const op = rng.int(10);
        if (op === 0) a.hc_begin();
        else if (op === 1) a.hc_end_pass();
        else if (op === 2) a.hc_limit_events(rng.int(3) === 0 ? rng.int(2000) : 0);
        else if (op === 3) a.hc_push(rng.int(2 ** 32) | 0, rng.int(2 * cap) - 8, rng.int(3 * F) - 4);
        else {
          const n = rng.int(cap + 1);
          const x = handSignals(handState('waveform', 5), Math.max(n, 1), step).subarray(0, n * F);
          if (rng.int(4) === 0 && n > 0) x[rng.int(x.length)] = [NaN, Infinity, -Infinity, 3e38][rng.int(4)]!;
          const p = put(a, x);
          const code = a.hc_push(p + 4 * F * rng.int(2) * (rng.int(8) === 0 ? 1 : 0), n, rng.int(12) === 0 ? F - 1 : F);
          expect(code, reproduceHint(seed, 'test/embed-abi-fuzz.test.ts')).toBeGreaterThanOrEqual(0);
        }
      }
    } catch (e) {
      throw new Error(`${(e as Error).message} (${reproduceHint(seed, 'test/embed-abi-fuzz.test.ts')})`);
    }
    expect(a.hc_limit_events(0)).toBe(0);
    expectClean(c);
    expect(a.memory.buffer.byteLength).toBeLessThan(64 << 20);
  });
});

describe('exported classifier ABI without a model', () => {
  it('a generic module (no model) answers every call with an error, never a trap', async () => {
    const inst = await WebAssembly.instantiate(await WebAssembly.compile((await readGenericModule('scalar')) as Uint8Array<ArrayBuffer>), {});
    const a = inst.exports as unknown as Abi;
    expect(a.hc_init()).toBe(E.NO_MODEL);
    expect(a.hc_begin()).toBe(E.NO_MODEL);
    expect(a.hc_push(0, 1, 1)).toBe(E.NO_MODEL);
    expect(a.hc_end_pass()).toBe(E.NO_MODEL);
    expect(a.hc_features()).toBe(0);
    expect(a.hc_meta_len()).toBe(0);
    const msg = new TextDecoder().decode(new Uint8Array(a.memory.buffer, a.hc_error_ptr(), a.hc_error_len()));
    expect(msg).toMatch(/no model/);
  });
});
