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

export interface E2EResult {
  scenario: string;
  backend: string;
  /** Headline metric, e.g. "cells/s", "samples/s". */
  metric: string;
  value: number;
  seconds: number;
  /** Achieved GFLOP/s where the scenario counts its FLOP. */
  gflops?: number;
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
