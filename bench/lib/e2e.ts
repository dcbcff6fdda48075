// End-to-end rows: one file per scenario in bench/e2e/, each default-exporting an E2EBench.
// The runner imports every file there, so adding a scenario (two-stage inference on 1M cells,
// 10M cells streamed from FCS with peak RSS, IDEC/VaDE training samples/s) is adding a file.
// `--only NAME` selects a scenario by its name; `--no-e2e` skips them all.
import type { Ceilings } from '../ceilings/probe.js';
import type { LoadedBackend } from './backends.js';

export interface E2EContext {
  quick: boolean;
  /** Backends that loaded (reference and software GPUs included: a scenario decides what it runs). */
  backends: LoadedBackend[];
  ceilings: Ceilings | null;
  /** Peers selected with --peers (a scenario may time its own peer version). */
  peers: readonly string[];
  log(msg: string): void;
}

/** Peers an end-to-end row can be measured against, and the --peers choice that selects each. */
export const E2E_PEERS = ['tfjs', 'torch', 'ort-web', 'ort-node'] as const;
export type E2EPeer = (typeof E2E_PEERS)[number];
export const PEER_CHOICE_OF: Record<E2EPeer, string> = { tfjs: 'tfjs', torch: 'torch', 'ort-web': 'onnx', 'ort-node': 'onnx' };

export interface E2EResult {
  scenario: string;
  backend: string;
  /** Headline metric, e.g. "cells/s", "samples/s". */
  metric: string;
  value: number;
  seconds: number;
  /** Achieved GFLOP/s where the scenario counts its FLOP (every measured row should: the runner
   *  turns it into % of the WASM SIMD128 ceiling). How the FLOP were counted goes in `counted`. */
  gflops?: number;
  counted?: string;
  /** Set on a peer's row; our rows get ÷peer ratios against these. */
  peer?: E2EPeer;
  /** Filled by the runner: % of the ceiling, ours ÷ each peer, and why either is absent. */
  ceilingPct?: number;
  vs?: Partial<Record<E2EPeer, { ratio: number; fewerThreads: boolean }>>;
  /** A scenario may say why no peer exists for it (e.g. nobody else runs the two-stage pipeline). */
  noPeer?: string;
  missing?: { ceiling?: string } & Partial<Record<E2EPeer, string>>;
  /** process.resourceUsage().maxRSS at the end, MiB (process-wide peak so far). */
  peakRssMiB: number;
  note?: string;
  na?: string;
}

export interface E2EBench {
  name: string;
  description: string;
  run(ctx: E2EContext): Promise<E2EResult[]>;
}

export function peakRssMiB(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}
