// A test double for the pipeline, injected into createApp by the server tests (never shipped):
// its "model" is JSON text { kind: 'double', features, threshold }, and it classifies a cell by
// its first feature (< threshold → platelet, else rbc), so expected counts are easy to compute
// from the fixture. Hooks let a test hold a classification or a training run open (gates).
import type { ComputeBackend } from '../bindings/backend.js';
import type { ClassifyResult, PipelineFactory, PipelineLike, PipelineMeta, SampleInput, Shares, TrainProgress } from '../server/engine.js';

export interface DoubleHooks {
  /** Awaited inside classify before answering. */
  classifyGate?: () => Promise<void>;
  /** Awaited inside train between progress events. */
  trainGate?: () => Promise<void>;
  classifyCalls: number;
  trainCalls: number;
}

export function doubleModelBytes(features: number, threshold = 0.5): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(JSON.stringify({ kind: 'double', features, threshold }));
}

export function makeDouble(hooks: DoubleHooks = { classifyCalls: 0, trainCalls: 0 }): PipelineFactory & { hooks: DoubleHooks } {
  const build = (features: number, threshold: number): PipelineLike => {
    const meta: PipelineMeta = { name: 'double', features, classes: ['platelet', 'rbc', 'reticulocyte', 'clumped_rbc'], createdAt: '2026-01-01T00:00:00Z', version: 'test' };
    return {
      meta,
      toBytes: () => doubleModelBytes(features, threshold),
      async classify(s: SampleInput): Promise<ClassifyResult> {
        hooks.classifyCalls++;
        await hooks.classifyGate?.();
        const probabilities = new Float32Array(s.rows * 4);
        const embedding2d = new Float32Array(s.rows * 2);
        let plt = 0;
        for (let i = 0; i < s.rows; i++) {
          const isPlt = s.data[i * s.cols]! < threshold;
          if (isPlt) plt++;
          probabilities[i * 4 + (isPlt ? 0 : 1)] = 1;
          embedding2d[2 * i] = s.data[i * s.cols]!;
          embedding2d[2 * i + 1] = i;
        }
        return {
          summary: { id: s.id, cells: s.rows, counts: { platelet: plt, rbc: s.rows - plt, reticulocyte: 0, clumped_rbc: 0 }, percentages: { plt_pct: (100 * plt) / s.rows, retic_pct: 0, clump_pct: 0 } },
          probabilities,
          embedding2d,
        };
      },
    };
  };
  return {
    hooks,
    fromBytes(bytes: Uint8Array, _be: ComputeBackend, source = 'model'): PipelineLike {
      let m: { kind?: string; features?: number; threshold?: number };
      try {
        m = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
      } catch {
        throw new Error(`${source}: not a double model`);
      }
      if (m?.kind !== 'double' || !Number.isInteger(m.features)) throw new Error(`${source}: not a double model`);
      return build(m.features!, m.threshold ?? 0.5);
    },
    async train(samples: SampleInput[], refs: Map<string, Shares>, opts: { onProgress?(p: TrainProgress): void }): Promise<PipelineLike> {
      hooks.trainCalls++;
      if (samples.some((s) => !refs.has(s.id))) throw new Error('double: missing reference');
      for (let e = 1; e <= 3; e++) {
        await hooks.trainGate?.();
        opts.onProgress?.({ stage: 'double', epoch: e, of: 3, losses: { loss: 1 / e } });
      }
      return build(samples[0]!.cols, 0.5);
    },
  };
}

/** A backend stand-in: the double never computes on it, the app only passes it through. */
export const NO_BACKEND = { info: () => ({ name: 'none', device: 'test double' }), destroy() {} } as unknown as ComputeBackend;

/** A promise plus its resolver, to hold work open from a test. */
export function gate(): { wait: () => Promise<void>; open: () => void } {
  let open!: () => void;
  const p = new Promise<void>((r) => (open = r));
  return { wait: () => p, open };
}
