// The page's state: the loaded samples, their results and the selection. Every module reads and
// changes it here, so there is one place that says what the page knows.
import type { SampleSummary } from '../../bindings/browser.js';

export interface LoadedSample {
  id: string;
  file: string;
  bytes: Uint8Array;
  rows: number;
  cols: number;
  data: Float32Array;
  /** Column names from the file (CSV header, FCS parameters), when it has them. */
  columns: string[] | null;
}

export interface Result {
  summary: SampleSummary;
  backend: string;
  ms: number;
  probabilities: Float32Array;
  embedding2d?: Float32Array;
}

export const state = {
  samples: [] as LoadedSample[],
  /** Results by sample id: removing a sample removes its result. */
  results: new Map<string, Result>(),
  selected: null as string | null,
  busy: false,
};

/** Samples that have a result, in the order they were loaded. */
export function classified(): { sample: LoadedSample; result: Result }[] {
  return state.samples.flatMap((s) => {
    const r = state.results.get(s.id);
    return r ? [{ sample: s, result: r }] : [];
  });
}
