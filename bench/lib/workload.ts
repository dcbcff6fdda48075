// The work a training run asks of its backend, counted while it runs, so that a peer can be given
// the same work: a backend wrapped so that every call of the ops that carry training's cost is
// counted by phase (the phase a caller names, e.g. the pipeline's progress stage) with the shapes it
// ran at. bench/e2e/train-pipeline.ts hands the result to the PyTorch version of the pipeline's
// training (bench/peers/torch_pipeline.py), which replays each phase with the same sizes and counts.
import type { ComputeBackend, GemmOptions, Tensor } from '../../bindings/backend.js';

/** One reference-constrained EM (pipeline/em-rows.ts): its rows, sizes and how often each of its
 *  three passes over the rows ran. */
export interface EmRun {
  phase: string;
  n: number;
  d: number;
  k: number;
  classes: number;
  samples: number;
  eSteps: number;
  posteriorPasses: number;
  statsPasses: number;
}

/** One k-means over n rows of width d: the assignment passes per centre count (k-means++ seeding
 *  passes with fewer centres) and the update passes. */
export interface KmeansRun {
  phase: string;
  n: number;
  d: number;
  assigns: Record<number, number>;
  updates: number;
}

/** Per phase: training steps of each kind at their minibatch size, the IDEC target refreshes over
 *  all rows, and the GEMMs outside training steps (inference passes) by shape. */
export interface PhaseWork {
  /** Reconstruction-loss gradients (every training step has one), and of them the IDEC steps (+ KL
   *  to the target) and the VaDE steps (+ the ELBO's KL). */
  steps: { ae: number; idec: number; vade: number };
  batch: number;
  /** IDEC clusters, VaDE components (0 where the phase has none). */
  idecK: number;
  vadeK: number;
  targetRows: number[];
  /** GEMMs over more rows than a minibatch: "M×K×N" → calls. */
  passes: Record<string, number>;
  /** Every GEMM's FLOP (2·M·N·K), training steps included: what the replay is checked against. */
  gemmFlop: number;
}

export interface Workload {
  phases: Record<string, PhaseWork>;
  em: EmRun[];
  kmeans: KmeansRun[];
}

/** `be` with counting wrappers around the ops that carry training's cost; `phase()` names the
 *  phase each call is counted in, `batch` is the training minibatch (a forward GEMM over more rows
 *  is an inference pass). Everything else passes through untouched. */
export function recordWorkload(be: ComputeBackend, batch: number, phase: () => string): { be: ComputeBackend; workload: Workload } {
  const workload: Workload = { phases: {}, em: [], kmeans: [] };
  const em = new WeakMap<Tensor, EmRun>();
  const km = new WeakMap<Tensor, KmeansRun>();
  const work = (): PhaseWork => (workload.phases[phase()] ??= { steps: { ae: 0, idec: 0, vade: 0 }, batch, idecK: 0, vadeK: 0, targetRows: [], passes: {}, gemmFlop: 0 });
  const emRun = (z: Tensor, k: number, classes: number, samples: number): EmRun => {
    let r = em.get(z);
    if (!r) {
      r = { phase: phase(), n: z.shape[0], d: z.shape[1], k, classes, samples, eSteps: 0, posteriorPasses: 0, statsPasses: 0 };
      em.set(z, r);
      workload.em.push(r);
    }
    return r;
  };
  // The posterior pass is keyed by its classLogLik, which the run's E-step wrote.
  const byClassLogLik = new WeakMap<Tensor, EmRun>();
  const counters: Partial<Record<keyof ComputeBackend, (...a: never[]) => void>> = {
    gemm: (a: Tensor, b: Tensor, c: Tensor, opts?: GemmOptions) => {
      const [M, N] = c.shape;
      const K = opts?.transA ? a.shape[0] : a.shape[1];
      const w = work();
      w.gemmFlop += 2 * M * N * K;
      if (!opts?.transA && !opts?.transB && M > batch) w.passes[`${M}x${K}x${N}`] = (w.passes[`${M}x${K}x${N}`] ?? 0) + 1;
    },
    mseLossBackward: () => void work().steps.ae++,
    bceLogitsLossBackward: () => void work().steps.ae++,
    klDivLoss: (p: Tensor) => {
      const w = work();
      w.steps.idec++;
      w.idecK = p.shape[1];
    },
    vadeKlLoss: (_mu: Tensor, _lv: Tensor, gamma: Tensor) => {
      const w = work();
      w.steps.vade++;
      w.vadeK = gamma.shape[1];
    },
    targetDistribution: (q: Tensor) => void work().targetRows.push(q.shape[0]),
    mixtureLogLik: (z: Tensor, _mu: Tensor, _lv: Tensor, rho: Tensor, _ld: Tensor, classLogLik: Tensor) => {
      const r = emRun(z, rho.shape[1], rho.shape[0], 0);
      r.eSteps++;
      byClassLogLik.set(classLogLik, r);
    },
    mixturePosteriors: (classLogLik: Tensor, _s: Tensor, logPrior: Tensor) => {
      const r = byClassLogLik.get(classLogLik);
      if (r) {
        r.posteriorPasses++;
        r.samples = logPrior.shape[0];
      }
    },
    mixtureStats: (z: Tensor) => {
      const r = em.get(z);
      if (r) r.statsPasses++;
    },
    kmeansAssign: (x: Tensor, centroids: Tensor) => {
      let r = km.get(x);
      if (!r) {
        r = { phase: phase(), n: x.shape[0], d: x.shape[1], assigns: {}, updates: 0 };
        km.set(x, r);
        workload.kmeans.push(r);
      }
      r.assigns[centroids.shape[0]] = (r.assigns[centroids.shape[0]] ?? 0) + 1;
    },
    kmeansUpdate: (x: Tensor) => {
      const r = km.get(x);
      if (r) r.updates++;
    },
  };
  return { be: counting(be, counters), workload };
}

/** `be` with each method named in `counters` calling its counter with the same arguments first. */
function counting(be: ComputeBackend, counters: Partial<Record<keyof ComputeBackend, (...a: never[]) => void>>): ComputeBackend {
  return new Proxy(be, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      const count = counters[prop as keyof ComputeBackend];
      if (typeof value !== 'function') return value;
      if (!count) return value.bind(target);
      return (...args: never[]) => {
        count(...args);
        return value.apply(target, args);
      };
    },
  });
}
