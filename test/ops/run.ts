// Runs one op case on a target backend and on the float64 reference with identical inputs, and
// compares every output. 'out' tensors are poisoned (NaN, or a sentinel for i32) before the call in
// both backends so an element the kernel forgot to write shows up; NaN/Inf in an output is reported
// apart from the tolerance; inputs must come back unchanged. Everything read back is awaited, so
// async (WebGPU) backends work the same way as the CPU ones.
import type { ComputeBackend, Tensor } from '../../bindings/backend.js';
import type { Rng } from '../helpers/rng.js';
import type { Built, OpCase, Variant } from './cases.js';
import { toleranceFor } from './cases.js';

/** Written into i32 outputs before the call; no op produces it on the inputs the cases build. */
export const I32_POISON = 0x7eadbeef;

export interface RunResult {
  /** Number of output tensors compared. */
  comparisons: number;
  /** Number of output tensors the case declares (comparisons must reach it). */
  declared: number;
  /** Human-readable problems; empty on success. */
  failures: string[];
}

type HostData = Float32Array | Int32Array;

/** Uploads the case's tensors, runs it, and reads back every tensor (inputs too). */
async function execute(be: ComputeBackend, built: Built): Promise<Record<string, HostData>> {
  const tensors: Record<string, Tensor> = {};
  try {
    for (const [name, decl] of Object.entries(built.tensors)) {
      const t = be.create(decl.shape, decl.dtype);
      tensors[name] = t;
      const n = t.size;
      if (decl.role === 'out') be.upload(t, decl.dtype === 'f32' ? new Float32Array(n).fill(NaN) : new Int32Array(n).fill(I32_POISON));
      else be.upload(t, decl.dtype === 'f32' ? Float32Array.from(decl.data!) : Int32Array.from(decl.data!));
    }
    built.call(be, tensors);
    await be.sync();
    const result: Record<string, HostData> = {};
    for (const [name, t] of Object.entries(tensors)) result[name] = await be.download(t);
    return result;
  } finally {
    for (const t of Object.values(tensors)) be.dispose(t);
  }
}

/** ‖a − b‖ / max(‖b‖, tiny), the comparison every f32 output uses. */
export function relativeNormError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0, den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-30);
}

/** Compares one output; returns problems (empty when it matches). */
export function compareOutput(name: string, got: HostData, want: HostData, tol: number): string[] {
  if (got.length !== want.length) return [`${name}: length ${got.length}, reference ${want.length}`];
  if (want instanceof Int32Array || got instanceof Int32Array) {
    if (!(want instanceof Int32Array && got instanceof Int32Array)) return [`${name}: dtype differs from the reference`];
    for (let i = 0; i < want.length; i++) {
      if (got[i] !== want[i]) {
        const bad = want.reduce((c, w, j) => c + (got[j] !== w ? 1 : 0), 0);
        return [`${name}: ${bad} of ${want.length} i32 elements differ; first at [${i}]: got ${got[i]}${got[i] === I32_POISON ? ' (never written)' : ''}, reference ${want[i]}`];
      }
    }
    return [];
  }
  // Non-finite values are a failure of their own, reported before (and apart from) the tolerance.
  for (let i = 0; i < want.length; i++) if (!Number.isFinite(want[i])) return [`${name}: the REFERENCE produced ${want[i]} at [${i}] (the case builds bad inputs)`];
  const nonFinite: number[] = [];
  for (let i = 0; i < got.length; i++) if (!Number.isFinite(got[i])) nonFinite.push(i);
  if (nonFinite.length > 0) {
    const i = nonFinite[0];
    return [`${name}: ${nonFinite.length} of ${got.length} elements are NaN/Inf (unwritten or overflowed); first at [${i}]: got ${got[i]}, reference ${want[i]}`];
  }
  const err = relativeNormError(got, want);
  if (!(err <= tol)) {
    let worst = 0;
    for (let i = 1; i < got.length; i++) if (Math.abs(got[i] - want[i]) > Math.abs(got[worst] - want[worst])) worst = i;
    return [`${name}: relative-norm error ${err.toExponential(3)} > tolerance ${tol}; worst at [${worst}]: got ${got[worst]}, reference ${want[worst]}`];
  }
  return [];
}

/** Runs `variant` of `opCase` on `target` and on `reference` with inputs from `rng`. */
export async function runVariant(target: ComputeBackend, reference: ComputeBackend, opCase: OpCase, variant: Variant,
  rng: Rng): Promise<RunResult> {
  const built = variant.build(rng);
  const failures: string[] = [];
  let comparisons = 0;
  const declared = Object.values(built.tensors).filter((d) => d.role !== 'in').length;
  let got: Record<string, HostData>;
  try {
    got = await execute(target, built);
  } catch (e) {
    return { comparisons, declared, failures: [`threw on ${target.name}: ${(e as Error).stack ?? e}`] };
  }
  const want = await execute(reference, built);
  const tol = toleranceFor(opCase, target.name);
  for (const [name, decl] of Object.entries(built.tensors)) {
    if (decl.role === 'in') {
      // Inputs must be left alone (a kernel writing through the wrong binding shows up here).
      const sent = decl.dtype === 'f32' ? Float32Array.from(decl.data!) : Int32Array.from(decl.data!);
      const back = got[name];
      const changed = back.findIndex((v, i) => !Object.is(v, sent[i]));
      if (changed >= 0) failures.push(`input ${name} was modified at [${changed}]: ${back[changed]} (uploaded ${sent[changed]})`);
      continue;
    }
    failures.push(...compareOutput(name, got[name], want[name], tol));
    comparisons++;
  }
  return { comparisons, declared, failures };
}
