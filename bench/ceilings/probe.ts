// Ceilings beside every row: how fast this machine could possibly run the op under WASM.
//
// Compute peak (FLOP/s per core, SIMD128), derived and then measured:
//   one f32x4 instruction works on 4 lanes. Baseline SIMD has no fused multiply-add, so a
//   multiply-accumulate costs 2 instructions (f32x4.mul + f32x4.add) for 4×2 = 8 FLOP.
//   With relaxed SIMD, f32x4.relaxed_madd lowers to one vfmadd on x64 (FMA3): 8 FLOP/instruction.
//   Peak = 8 FLOP × (mul+add pairs, or FMAs, issued per cycle) × clock. On a core with two FP
//   pipes that both multiply and add (most x64 since Haswell) that is 1 pair/cycle → 8 FLOP/cycle
//   baseline and 2 FMA/cycle → 16 FLOP/cycle relaxed; Intel cores since Golden Cove add two
//   "fast adders" (ports 1 and 5), so mul on p0/p1 + add on p1/p5 can reach 1.5 pairs/cycle →
//   12 FLOP/cycle baseline. The probe (ceilings/as/peak.ts) runs 4, 8 and 12 independent
//   register-only chains a = a·m + c and keeps the best; the 4-chain figure is latency-bound.
// Clock: a chain of dependent 1-cycle integer ops (add, xor) counts cycles per second.
// Memory bandwidth: STREAM's triad a = b + s·c in WASM SIMD, counted as 3 arrays × 4 B per
//   element (STREAM's convention; write-allocate traffic would add a fourth), at working sets of
//   3×8, 3×32 and 3×128 MiB; an op is judged against the largest that does not exceed its own
//   working set (`footprint` in ops/cases.ts; see bandwidthFor). All-cores figures run one worker per core at once.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import { Worker } from 'node:worker_threads';
import asc from 'assemblyscript/asc';

const here = dirname(fileURLToPath(import.meta.url));

export interface ProbeModules {
  baseline: Uint8Array;
  relaxed: Uint8Array | null;
  relaxedWhyNot?: string;
}

async function compileAs(file: string, enable: string[]): Promise<Uint8Array> {
  const src = readFileSync(join(here, 'as', file), 'utf8');
  const r = await asc.compileString({ [file]: src }, {
    optimizeLevel: 3, shrinkLevel: 0, runtime: 'stub', noAssert: true, enable, initialMemory: 32,
  } as Parameters<typeof asc.compileString>[1]);
  if (r.error || !r.binary) throw new Error(`asc ${file}: ${r.error?.message}\n${r.stderr.toString()}`);
  return r.binary;
}

export async function compileProbes(): Promise<ProbeModules> {
  const baseline = await compileAs('peak.ts', ['simd']);
  const relaxedBin = await compileAs('peak-relaxed.ts', ['simd', 'relaxed-simd']);
  if (WebAssembly.validate(relaxedBin as Uint8Array<ArrayBuffer>)) return { baseline, relaxed: relaxedBin };
  return { baseline, relaxed: null, relaxedWhyNot: 'relaxed SIMD does not validate in this runtime' };
}

type Task = { kind: 'chain'; fn: string; iters: number; reps: number } | { kind: 'triad'; n: number; reps: number };

/** Runs `task` in `threads` workers at once; returns each worker's best seconds. */
async function inWorkers(binary: Uint8Array, task: Task, threads: number): Promise<number[]> {
  const url = new URL('./probe-worker.mjs', import.meta.url);
  const runs = Array.from({ length: threads }, () => new Promise<number>((resolve, reject) => {
    const w = new Worker(url, { workerData: { binary, task } });
    w.once('message', (m: { seconds: number }) => { resolve(m.seconds); void w.terminate(); });
    w.once('error', reject);
  }));
  return Promise.all(runs);
}

export interface TriadPoint {
  /** Size of each of the three arrays, MiB (working set 3×). */
  arrayMiB: number;
  /** Per thread count: GB/s, STREAM counting. */
  gbs: Record<number, number>;
}

export interface Ceilings {
  /** Estimated core clock, GHz (dependent integer chain). */
  clockGHz: number;
  /** Per thread count: aggregate measured peak GFLOP/s. */
  peakSimd: Record<number, number>;
  peakRelaxed: Record<number, number> | null;
  /** Best chain count per build, and FLOP/cycle/core it reached. */
  detail: { simdChains: number; simdFlopPerCycle: number; relaxedChains: number | null; relaxedFlopPerCycle: number | null };
  /** Derived (not measured) peaks per core, GFLOP/s at the measured clock. */
  derived: { simd2Pipes: number; simdGoldenCove: number; relaxedFma: number };
  /** Triad bandwidth at growing working sets (smallest first). */
  triad: TriadPoint[];
  relaxedWhyNot?: string;
}

/** Bandwidth for an op whose working set is `footprint` bytes: the largest triad whose working set
 *  does not exceed it (else the smallest). This errs towards the faster, more cache-resident figure,
 *  so "% ceiling" is never inflated by judging a cache-resident op against DRAM bandwidth (the first
 *  results file used "smallest that holds it" and showed Adam at > 100%: its 45 MB stayed in the
 *  virtualised L3 while the 3×32 MiB triad did not). */
export function bandwidthFor(c: Ceilings, footprint: number, threads: number): number {
  const fits = c.triad.filter((t) => 3 * t.arrayMiB * 2 ** 20 <= footprint);
  const p = fits[fits.length - 1] ?? c.triad[0];
  return p?.gbs[threads] ?? NaN;
}

// Every probe is "best of many short windows" (≈ 5 ms each): on a machine shared with other work
// a window that ran undisturbed is likely among many, and its rate is the machine's, not the load's.
export async function measureCeilings(threadCounts: number[], quick: boolean): Promise<Ceilings> {
  // Compile the probes with the optimising tier only: under dynamic tiering a fresh worker's first
  // calls run Liftoff code (several times slower on dependent chains), and on a loaded machine the
  // background TurboFan compile can lag behind all the repetitions. The flag is process-wide, so it
  // is restored before anything else (our backends) compiles.
  v8.setFlagsFromString('--no-liftoff');
  try {
    return await measure(threadCounts, quick);
  } finally {
    v8.setFlagsFromString('--liftoff');
  }
}

async function measure(threadCounts: number[], quick: boolean): Promise<Ceilings> {
  const mods = await compileProbes();
  const reps = quick ? 4 : 40;
  const clockIters = 6e5; // 32 dependent ops each: ≈ 5 ms at 3.7 GHz
  const [clockS] = await inWorkers(mods.baseline, { kind: 'chain', fn: 'clockChain', iters: clockIters, reps }, 1);
  const clockHz = (clockIters * 32) / clockS;
  const iters = 2e6; // ≈ 4–6 ms for 8–12 chains

  async function peak(binary: Uint8Array, fns: [string, number][], t: number) {
    let bestRate = 0, bestChains = 0;
    for (const [fn, chains] of fns) {
      const secs = await inWorkers(binary, { kind: 'chain', fn, iters, reps }, t);
      const rate = secs.reduce((s, x) => s + (iters * chains * 8) / x, 0); // FLOP/s summed over workers
      if (rate > bestRate) { bestRate = rate; bestChains = chains; }
    }
    return { gflops: bestRate / 1e9, chains: bestChains };
  }

  const peakSimd: Record<number, number> = {};
  const peakRelaxed: Record<number, number> | null = mods.relaxed ? {} : null;
  const detail: Ceilings['detail'] = { simdChains: 0, simdFlopPerCycle: 0, relaxedChains: null, relaxedFlopPerCycle: null };
  for (const t of threadCounts) {
    const s = await peak(mods.baseline, [['mulAdd4', 4], ['mulAdd8', 8], ['mulAdd12', 12]], t);
    peakSimd[t] = s.gflops;
    if (t === 1) { detail.simdChains = s.chains; detail.simdFlopPerCycle = (s.gflops * 1e9) / clockHz; }
    if (mods.relaxed && peakRelaxed) {
      const r = await peak(mods.relaxed, [['madd8', 8], ['madd12', 12]], t);
      peakRelaxed[t] = r.gflops;
      if (t === 1) { detail.relaxedChains = r.chains; detail.relaxedFlopPerCycle = (r.gflops * 1e9) / clockHz; }
    }
  }

  const sizes = quick ? [1, 4] : [8, 32, 128];
  const triad: TriadPoint[] = [];
  for (const mib of sizes) {
    const n = (mib * 2 ** 20) / 4;
    const point: TriadPoint = { arrayMiB: mib, gbs: {} };
    for (const t of threadCounts) {
      const secs = await inWorkers(mods.baseline, { kind: 'triad', n, reps: quick ? 2 : Math.max(12, Math.round(160 / mib)) }, t);
      point.gbs[t] = secs.reduce((s, x) => s + (3 * n * 4) / x, 0) / 1e9;
    }
    triad.push(point);
  }
  const ghz = clockHz / 1e9;
  return {
    clockGHz: ghz, peakSimd, peakRelaxed, detail,
    derived: { simd2Pipes: 8 * ghz, simdGoldenCove: 12 * ghz, relaxedFma: 16 * ghz },
    triad,
    relaxedWhyNot: mods.relaxedWhyNot,
  };
}
