// Differential fuzzing of every file reader (issue 24), the CI-sized run: a few hundred mutants of
// real files per format (FCS, CSV, NPY, safetensors, model files), each read by the project's reader
// and by an independent decoder written for the tests (test/helpers/fuzz-oracle-*.ts). A mutant
// must be read exactly as the oracle reads it, or refused with a FormatError naming the file —
// never a TypeError/RangeError from internals, never a silent misread, never an allocation beyond
// ALLOC_FACTOR × file size. `npm run fuzz` runs the same harness with ≥ 10,000 mutants per format
// (pipeline files included); bench/results/fuzz-2026-12-07.md holds its counts.
import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseFcs, streamFcsEvents, FormatError } from '../bindings/io/index.js';
import { createReferenceBackend } from '../bindings/backends/reference/index.js';
import { Rng } from '../bindings/simulate/rng.js';
import { ALLOC_FACTOR, ALLOC_SLACK, mutate, runFuzz, SOURCE, type Target } from './helpers/fuzz-harness.js';
import { csvSeeds, fcsSeeds, modelSeeds, npySeeds, safetensorsSeeds } from './helpers/fuzz-seeds.js';
import { csvTarget, fcsTarget, modelTarget, npyTarget, safetensorsTarget, structuredMutant } from './helpers/fuzz-targets.js';

const CASES = 400;

function check(name: string, t: Target, seeds: Uint8Array[], seed: number, numeric: RegExp | null, structured: boolean, minAccepted: number) {
  const { counts, failures } = runFuzz(t, seeds, CASES, seed, numeric, structured ? (rng) => structuredMutant(seeds, rng) : undefined);
  if (process.env.FUZZ_VERBOSE) console.log(name, counts);
  expect(failures.map((f) => `${f.kind}: ${f.detail}\n${f.input.slice(0, 300)}`)).toEqual([]);
  expect(counts.mutants).toBe(CASES);
  // A run that compared nothing proves nothing: enough mutants must be accepted and compared.
  expect(counts.acceptedAgreed).toBeGreaterThanOrEqual(minAccepted);
  expect(counts.agreed - counts.acceptedAgreed).toBeGreaterThan(CASES / 10);
}

describe('differential fuzzing: reader vs independent decoder', () => {
  it('FCS', () => check('fcs', fcsTarget, fcsSeeds(), 101, /(?:^FCS3\.\d {4}(?: {0,7})| +|[/|])(\d+)/g, false, 15));
  it('CSV', () => check('csv', csvTarget, csvSeeds(), 102, /[,;\t\n"](\d+)/g, false, 60));
  it('NPY', () => check('npy', npyTarget, npySeeds(), 103, /(?:\(|, |'descr': '[<>|]?[a-z])(\d+)/g, false, 4));
  it('safetensors', () => check('safetensors', safetensorsTarget, safetensorsSeeds(), 104, /[[,:](\d+)/g, true, 60));
  it('model files (tiny trained KMeans, Autoencoder, DEC, IDEC, VaDE)', async () => {
    const seeds = await modelSeeds();
    check('model', modelTarget(createReferenceBackend()), seeds, 105, /[[,:](\d+)/g, true, 20);
  });
});

describe('the harness can fail', () => {
  const seeds = [new Uint8Array(64)];
  const base: Target = { read: () => 1, oracle: () => ({ ok: true, value: 1 }), compare: (a, b) => (a === b ? null : 'differs') };
  it('counts a foreign exception, a misread and an over-allocation', () => {
    const foreign = runFuzz({ ...base, read: () => { throw new RangeError('boom'); } }, seeds, 3, 1, null);
    expect(foreign.counts.foreign).toBe(3);
    const unnamed = runFuzz({ ...base, read: () => { throw new FormatError('other.bin', null, 'x'); } }, seeds, 3, 1, null);
    expect(unnamed.counts.foreign).toBe(3);
    const misread = runFuzz({ ...base, read: () => 2 }, seeds, 3, 1, null);
    expect(misread.counts.misread).toBe(3);
    const accepts = runFuzz({ ...base, oracle: () => ({ ok: false, why: 'no' }) }, seeds, 3, 1, null);
    expect(accepts.counts.misread).toBe(3);
    const keep: ArrayBuffer[] = [];
    const hog = runFuzz({ ...base, read: (b) => keep.push(new ArrayBuffer(ALLOC_FACTOR * Math.max(b.length, 1) + ALLOC_SLACK + (1 << 20))) }, seeds, 2, 1, null);
    expect(hog.counts.overAlloc).toBe(2);
    const stricter = runFuzz({ ...base, read: () => { throw new FormatError(SOURCE, null, 'no'); } }, seeds, 3, 1, null);
    expect([stricter.counts.stricter, stricter.counts.foreign]).toEqual([3, 0]);
  });
});

describe('FCS streaming reader', () => {
  it('agrees with parseFcs on mutants (same values, or the same FormatError)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fuzz-'));
    const rng = new Rng(14);
    const seeds = fcsSeeds();
    let compared = 0;
    for (let i = 0; i < 300; i++) {
      const input = mutate(seeds[rng.int(seeds.length)]!, rng, /[/|](\d+)/g);
      const path = join(dir, 'fz.fcs');
      writeFileSync(path, input);
      let whole: Float32Array | Error;
      try { whole = parseFcs(input, path).data; } catch (e) { whole = e as Error; }
      const got: number[] = [];
      let streamed: number[] | Error;
      try {
        await streamFcsEvents(path, (c) => { got.push(...c); }, 1 + rng.int(4));
        streamed = got;
      } catch (e) { streamed = e as Error; }
      if (whole instanceof Error || streamed instanceof Error) {
        expect(streamed instanceof Error && whole instanceof Error, `case ${i}: ${String(whole)} vs ${String(streamed)}`).toBe(true);
        expect(streamed).toBeInstanceOf(FormatError);
        expect((streamed as Error).message).toBe((whole as Error).message);
      } else {
        expect(streamed).toEqual(Array.from(whole));
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(10);
  });
});
