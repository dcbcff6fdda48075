// One measured row = one tinybench task. Sequential tinybench runs a task until both the time
// budget and the minimum iteration count are met; we report the median latency (robust to the
// odd descheduling on a shared machine) and keep mean, min and relative margin of error beside it.
import { Bench } from 'tinybench';

export interface Timing {
  p50Ms: number;
  meanMs: number;
  minMs: number;
  /** Relative margin of error of the mean, percent (95%). */
  rmePct: number;
  samples: number;
}

export interface TimeOptions {
  timeMs: number;
  /** Minimum measured iterations (default 3). */
  minIters?: number;
  /** Warm-up calls before measuring (default 2): JIT tiers, page faults, lazy pipelines. */
  warmupIters?: number;
}

export async function timeIt(name: string, fn: () => unknown | Promise<unknown>, o: TimeOptions): Promise<Timing> {
  const bench = new Bench({
    name,
    time: o.timeMs,
    iterations: o.minIters ?? 3,
    warmup: true,
    warmupIterations: o.warmupIters ?? 2,
    warmupTime: 0,
    throws: true,
  });
  bench.add(name, fn);
  await bench.run();
  const r = bench.tasks[0].result;
  if (r.state !== 'completed') throw new Error(`${name}: tinybench task ended '${r.state}'`);
  const lat = r.latency;
  return {
    p50Ms: lat.p50,
    meanMs: lat.mean,
    minMs: lat.min,
    rmePct: lat.mean > 0 ? (lat.moe / lat.mean) * 100 : 0,
    samples: lat.df + 1,
  };
}
