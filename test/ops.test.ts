// The shared op harness: every op of OP_NAMES, on every backend of test/helpers/backends.ts, against
// the float64 reference, on fresh random inputs (seed printed on failure; HEMACLUST_TEST_SEED fixes it).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackwardOptions, ComputeBackend, GemmOptions, Tensor } from '../bindings/backend.js';
import { OP_NAMES } from '../bindings/backend.js';
import { createReferenceBackend, ReferenceBackend } from '../bindings/backends/reference/index.js';
import { mustRun, TARGET_BACKENDS } from './helpers/backends.js';
import { reproduceHint, Rng, testSeed } from './helpers/rng.js';
import { OP_CASES } from './ops/cases.js';
import { compareOutput, runVariant } from './ops/run.js';

const SEED = testSeed();
const FILE = 'test/ops.test.ts';

describe('op case table', () => {
  it('has exactly one case for every op of OP_NAMES, each with variants', () => {
    const names = OP_CASES.map((c) => c.op);
    expect(new Set(names).size, 'an op appears twice in test/ops/cases.ts').toBe(names.length);
    expect([...names].sort()).toEqual([...OP_NAMES].sort());
    for (const c of OP_CASES) expect(c.variants.length, `${c.op} has no variants`).toBeGreaterThan(0);
  });
});

describe.each(TARGET_BACKENDS)('$name vs reference', (entry) => {
  let target: ComputeBackend | null = null;
  const reference = createReferenceBackend();
  let compared = 0;

  beforeAll(async () => {
    target = await entry.create();
    if (!target) {
      if (mustRun(entry)) {
        throw new Error(`backend '${entry.name}' could not be created (required=${entry.required}, CI=${process.env.CI ?? 'unset'}): this is a failure, not a skip`);
      }
      console.warn(`\n*** SKIPPING backend '${entry.name}': create() returned null (no adapter). Under CI=true this fails. ***\n`);
    }
  });

  afterAll(() => {
    target?.destroy();
    reference.destroy();
  });

  it.for(OP_CASES)('$op', async (opCase, ctx) => {
    if (!target) return ctx.skip();
    expect(target.supportsOp(opCase.op), `${entry.name} does not support ${opCase.op}: every backend implements every op`).toBe(true);
    const problems: string[] = [];
    let expected = 0, done = 0;
    for (const variant of opCase.variants) {
      const rng = Rng.forCase(SEED, `${opCase.op} ${variant.label}`);
      const r = await runVariant(target, reference, opCase, variant, rng);
      done += r.comparisons;
      expected += r.declared;
      for (const f of r.failures) problems.push(`[${variant.label}] ${f}`);
    }
    compared += done;
    const header = `${entry.name} ${opCase.op}: ${reproduceHint(SEED, FILE, opCase.op)}`;
    expect(problems, `${header}\n  ${problems.join('\n  ')}`).toEqual([]);
    expect(done, `${header}: compared ${done} outputs, the case declares ${expected}`).toBe(expected);
  });

  it('compared something (a run that compared nothing is a failure)', (ctx) => {
    if (!target) return ctx.skip();
    expect(compared).toBeGreaterThan(0);
  });
});

// The harness must be able to fail: backends with planted bugs are caught, each for the right reason.
describe('harness self-test (planted bugs are caught)', () => {
  class Unwritten extends ReferenceBackend {
    override softmax(x: Tensor, out: Tensor): void {
      const before = this.readF64(out);
      super.softmax(x, out);
      const after = this.readF64(out);
      after[after.length - 1] = before[before.length - 1]; // "forgets" the last element
      this.writeF64(out, after);
    }
  }
  class SlightlyOff extends ReferenceBackend {
    override gemm(a: Tensor, b: Tensor, c: Tensor, opts?: GemmOptions): void {
      super.gemm(a, b, c, opts);
      this.writeF64(c, this.readF64(c).map((v) => v * (1 + 1e-3)));
    }
  }
  class TouchesInput extends ReferenceBackend {
    override colSum(x: Tensor, out: Tensor, opts?: BackwardOptions): void {
      super.colSum(x, out, opts);
      this.fill(x, 0);
    }
  }
  class WrongLabel extends ReferenceBackend {
    override argmax(x: Tensor, out: Tensor): void {
      super.argmax(x, out);
      this.fill(out, 0); // wrong for every row whose max is not in column 0
    }
  }
  const reference = createReferenceBackend();
  const caseOf = (op: string) => OP_CASES.find((c) => c.op === op)!;
  const run = (be: ComputeBackend, op: string, v: number) =>
    runVariant(be, reference, caseOf(op), caseOf(op).variants[v], Rng.forCase(SEED, `self-test ${op}`));

  it('reports an unwritten (still poisoned) element as NaN, apart from the tolerance', async () => {
    const r = await run(new Unwritten(), 'softmax', 2);
    expect(r.failures.join('\n')).toMatch(/out: 1 of \d+ elements are NaN\/Inf/);
  });
  it('reports an error beyond the tolerance', async () => {
    const r = await run(new SlightlyOff(), 'gemm', 20);
    expect(r.failures.join('\n')).toMatch(/c: relative-norm error 1\.000e-3 > tolerance/);
  });
  it('reports a modified input', async () => {
    const r = await run(new TouchesInput(), 'colSum', 2);
    expect(r.failures.join('\n')).toMatch(/input x was modified/);
  });
  it('compares i32 outputs exactly', async () => {
    const r = await run(new WrongLabel(), 'argmax', 3);
    expect(r.failures.join('\n')).toMatch(/out: \d+ of 1000 i32 elements differ/);
  });
  it('passes a 1e-6 relative perturbation at the f32 elementwise tolerance and fails it at 1e-7', () => {
    const want = Float32Array.from({ length: 100 }, (_, i) => Math.sin(i) + 2);
    const got = want.map((v) => v * (1 + 1e-6));
    expect(compareOutput('y', got, want, 1e-5)).toEqual([]);
    expect(compareOutput('y', got, want, 1e-7)).toHaveLength(1);
  });
});
