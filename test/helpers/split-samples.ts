// Synthetic samples for the stage-1 split tests (platelet-side, red-side): several samples' rows
// stacked into one training set, as train.ts stacks its subsampled events.

export interface SplitSample {
  /** Rows × 3 features. */
  x: Float64Array;
  /** Stage 1's P(platelet side) per row. */
  pPlt: Float32Array;
  /** 1 where the row is a platelet. */
  truth: Uint8Array;
  n: number;
}

/** The samples' rows one after another, with each row's sample. */
export function stackSamples(samples: SplitSample[]): { x: Float64Array; pPlt: Float32Array; sampleOf: Int32Array; n: number } {
  const n = samples.reduce((a, s) => a + s.n, 0);
  const x = new Float64Array(n * 3);
  const pPlt = new Float32Array(n);
  const sampleOf = new Int32Array(n);
  let at = 0;
  samples.forEach((s, si) => {
    x.set(s.x, at * 3);
    pPlt.set(s.pPlt, at);
    sampleOf.fill(si, at, at + s.n);
    at += s.n;
  });
  return { x, pPlt, sampleOf, n };
}
