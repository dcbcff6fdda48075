// `hemaclust info`: which backends exist here, what device each runs on, and a quick correctness
// check of each against the float64 reference (GEMM, fused bias+ReLU, soft assignment).
import type { ComputeBackend, Tensor } from '../../backend.js';
import { createBackend, type BackendKind } from '../../backends/index.js';
import { parse } from '../args.js';
import type { Command } from '../command.js';

interface Probe { backend: string; available: boolean; device?: string; checks?: Record<string, number>; ok?: boolean; reason?: string }

/** Small deterministic inputs (LCG), so the check needs no other module. */
function inputs(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32 - 0.5;
  }
  return out;
}

async function run3(be: ComputeBackend): Promise<Record<string, Float32Array | Int32Array>> {
  const [m, k, n, c] = [67, 45, 33, 5];
  const t = (shape: number[], seed: number): Tensor => {
    const x = be.create(shape);
    be.upload(x, inputs(shape.reduce((a, b) => a * b, 1), seed));
    return x;
  };
  const a = t([m, k], 1), b = t([k, n], 2), bias = t([n], 3), mu = t([c, n], 4);
  const y = be.create([m, n]), q = be.create([m, c]);
  be.gemm(a, b, y);
  const gemm = await be.download(y);
  be.biasAct(y, bias, 'relu', y);
  const biasAct = await be.download(y);
  be.softAssign(y, mu, q, 1);
  const softAssign = await be.download(q);
  for (const x of [a, b, bias, mu, y, q]) be.dispose(x);
  return { gemm, biasAct, softAssign };
}

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0, den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-30);
}

export const info: Command = {
  name: 'info',
  summary: 'list the backends on this machine and check each against the float64 reference',
  usage: 'hemaclust info [--json]',
  async run(argv) {
    const { values } = parse(argv, { json: { type: 'boolean' } });
    const ref = await createBackend('reference');
    const want = await run3(ref);
    const probes: Probe[] = [{ backend: 'reference', available: true, device: ref.info().device, ok: true }];
    for (const kind of ['wasm', 'webgpu'] as BackendKind[]) {
      let be: ComputeBackend | undefined;
      try {
        be = await createBackend(kind);
        const got = await run3(be);
        const checks = Object.fromEntries(Object.keys(want).map((k) => [k, relErr(got[k], want[k])]));
        probes.push({ backend: kind, available: true, device: be.info().device, checks, ok: Object.values(checks).every((e) => e <= 1e-4) });
      } catch (e) {
        probes.push({ backend: kind, available: false, reason: (e as Error).message });
      } finally {
        be?.destroy();
      }
    }
    ref.destroy();
    if (values.json) {
      console.log(JSON.stringify({ backends: probes }, null, 2));
    } else {
      console.log('hemaclust backends (quick check: relative error vs float64 reference, pass ≤ 1e-4)\n');
      for (const p of probes) {
        if (!p.available) console.log(`  ${p.backend.padEnd(9)} unavailable: ${p.reason}`);
        else if (!p.checks) console.log(`  ${p.backend.padEnd(9)} ${p.device} (the oracle)`);
        else {
          const errs = Object.entries(p.checks).map(([k, e]) => `${k} ${e.toExponential(1)}`).join(', ');
          console.log(`  ${p.backend.padEnd(9)} ${p.ok ? 'ok  ' : 'FAIL'} ${p.device}\n            ${errs}`);
        }
      }
    }
    return probes.every((p) => !p.available || p.ok) ? 0 : 1;
  },
};
