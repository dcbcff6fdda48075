// The shared validation of bindings/checks.ts, wired into every backend: Adam's step, finite gradient
// scales, and download/dispose of dead or foreign tensors. Each bad call must throw a ShapeError that
// names the op, before any work is done (the tensors it was given come back unchanged).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ComputeBackend, Tensor } from '../bindings/backend.js';
import { createReferenceBackend } from '../bindings/backends/reference/index.js';
import { ShapeError } from '../bindings/checks.js';
import { mustRun, TARGET_BACKENDS } from './helpers/backends.js';

/** Every op with a `scale` argument, called on small valid tensors with the given scale. */
const SCALED_OPS: { op: string; call: (be: ComputeBackend, t: (shape: number[]) => Tensor, scale: number) => void }[] = [
  { op: 'mseLossBackward', call: (be, t, s) => be.mseLossBackward(t([2, 3]), t([2, 3]), t([2, 3]), s) },
  { op: 'bceLogitsLossBackward', call: (be, t, s) => be.bceLogitsLossBackward(t([2, 3]), t([2, 3]), t([2, 3]), s) },
  { op: 'proportionXentLossBackward', call: (be, t, s) => be.proportionXentLossBackward(t([2, 3]), t([2, 3]), t([2, 3]), s) },
  { op: 'softAssignBackward', call: (be, t, s) => be.softAssignBackward(t([4, 2]), t([3, 2]), t([4, 3]), t([4, 3]), 1, t([4, 2]), t([3, 2]), s) },
  {
    op: 'vadeKlLossBackward',
    call: (be, t, s) => be.vadeKlLossBackward(t([4, 2]), t([4, 2]), t([4, 3]), t([3]), t([3, 2]), t([3, 2]),
      t([4, 2]), t([4, 2]), t([3]), t([3, 2]), t([3, 2]), s),
  },
];

describe.each(TARGET_BACKENDS)('shared checks on $name', (entry) => {
  let be: ComputeBackend | null = null;
  const made: Tensor[] = [];
  /** A tensor holding 0.5 everywhere (valid input for every op above), disposed in afterAll. */
  const tensor = (shape: number[]) => {
    const t = be!.create(shape);
    be!.upload(t, new Float32Array(t.size).fill(0.5));
    made.push(t);
    return t;
  };

  beforeAll(async () => {
    be = await entry.create();
    if (!be) {
      if (mustRun(entry)) throw new Error(`backend '${entry.name}' could not be created (CI=${process.env.CI ?? 'unset'}): a failure, not a skip`);
      console.warn(`\n*** SKIPPING shared checks on '${entry.name}': no adapter. Under CI=true this fails. ***\n`);
    }
  });
  afterAll(() => {
    if (be) for (const t of made) be.dispose(t);
    be?.destroy();
  });

  it('adamUpdate rejects a step that is not an integer ≥ 1, before touching param, m or v', async (ctx) => {
    if (!be) return ctx.skip();
    const [param, grad, m, v] = [tensor([3, 2]), tensor([3, 2]), tensor([3, 2]), tensor([3, 2])];
    for (const step of [0, -1, 1.5, NaN, Infinity, undefined]) {
      const call = () => be!.adamUpdate(param, grad, m, v, { lr: 1e-3, step: step as number });
      expect(call, `step=${step}`).toThrow(ShapeError);
      expect(call, `step=${step}`).toThrow(`adamUpdate: step must be an integer ≥ 1 (got ${step})`);
    }
    for (const t of [param, m, v]) expect(Array.from(await be.download(t))).toEqual(new Array(6).fill(0.5));
    be.adamUpdate(param, grad, m, v, { lr: 1e-3, step: 1 }); // the valid call still works
    expect((await be.download(param))[0]).not.toBe(0.5);
  });

  it('adamUpdate and sgdUpdate reject a non-finite learning rate', (ctx) => {
    if (!be) return ctx.skip();
    const ts = [tensor([2]), tensor([2]), tensor([2]), tensor([2])] as const;
    expect(() => be!.adamUpdate(...ts, { lr: NaN, step: 1 })).toThrow('adamUpdate: lr must be a finite number (got NaN)');
    expect(() => be!.sgdUpdate(ts[0], ts[1], ts[2], { lr: Infinity })).toThrow('sgdUpdate: lr must be a finite number (got Infinity)');
  });

  it.for(SCALED_OPS)('$op rejects a NaN or infinite scale and leaves its outputs alone', async ({ op, call }, ctx) => {
    if (!be) return ctx.skip();
    for (const scale of [NaN, Infinity, -Infinity]) {
      const before = made.length;
      expect(() => call(be!, tensor, scale), `scale=${scale}`).toThrow(ShapeError);
      expect(() => call(be!, tensor, scale), `scale=${scale}`).toThrow(`${op}: scale must be a finite number (got ${scale})`);
      for (const t of made.slice(before)) expect(Array.from(await be.download(t)).every((x) => x === 0.5), `${op} wrote before failing`).toBe(true);
    }
    expect(() => call(be!, tensor, 0.5)).not.toThrow(); // a finite scale is fine
    await be.sync();
  });

  it('download of a disposed tensor rejects with an error naming download', async (ctx) => {
    if (!be) return ctx.skip();
    const t = be.create([4]);
    be.dispose(t);
    await expect(be.download(t)).rejects.toThrow(ShapeError);
    await expect(be.download(t)).rejects.toThrow('download: t was disposed');
  });

  it('download and dispose of another backend\'s tensor, or of a non-tensor, fail naming the op', async (ctx) => {
    if (!be) return ctx.skip();
    const other = createReferenceBackend();
    const foreign = { ...other.create([2]), backendName: entry.name === 'reference' ? 'elsewhere' : 'reference' } as Tensor;
    await expect(be.download(foreign)).rejects.toThrow(`download: t belongs to backend '${foreign.backendName}', not '${be.name}'`);
    expect(() => be!.dispose(foreign)).toThrow(`dispose: t belongs to backend '${foreign.backendName}', not '${be.name}'`);
    await expect(be.download({} as Tensor)).rejects.toThrow('download: t is not a tensor');
    expect(() => be!.dispose(undefined as unknown as Tensor)).toThrow('dispose: t is not a tensor');
    other.destroy();
  });

  it('disposing a tensor twice is a no-op, and ops refuse it afterwards', (ctx) => {
    if (!be) return ctx.skip();
    const t = be.create([3]);
    be.dispose(t);
    expect(t.disposed).toBe(true);
    expect(() => be!.dispose(t)).not.toThrow();
    expect(() => be!.fill(t, 1)).toThrow('fill: out was disposed');
  });
});
