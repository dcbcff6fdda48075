// The cross-analyzer robustness matrix (issue 16): for each simulated analyzer (domain) and
// training seed, train the pipeline with its defaults on `train` samples (references only),
// classify `test` held-out samples, and score them against the per-event truth. Beside each row,
// the domain's supervised bound: QDA on the true labels of the training samples (qda.ts),
// evaluated on the same held-out events. Used by scripts/robustness.ts (the committed tables) and
// test/robustness-ci.test.ts (a reduced run in CI).
import type { ComputeBackend } from '../../bindings/backend.js';
import { BloodCellPipeline, type Reference, type SampleInput } from '../../bindings/pipeline/index.js';
import { argmax4, evaluateResults, trueShares } from '../../bindings/pipeline/evaluate.js';
import { detectLayout, layoutWidth, columnSources } from '../../bindings/pipeline/layout.js';
import { canonicalColumns, fitPreprocessor, toAsinhUnits } from '../../bindings/pipeline/preprocess.js';
import { pulseSummaries } from '../../bindings/pipeline/pulse-features.js';
import { macroF1 } from '../../bindings/metrics/index.js';
import { DOMAINS, simulateSample } from '../../bindings/simulate/index.js';
import { fitQda, predictQda, qdaLogDensities } from './qda.js';
import { proportionsFromClassLogLik } from '../../bindings/pipeline/proportions.js';

/** The committed matrix's domains: every kind of difference the simulator family varies. */
export const MATRIX_DOMAINS = ['builtin', 'builtin-cat', 'low-gain', 'high-gain', 'flat-top', 'noisy', 'scalar-dog', 'scalar-cat',
  'renamed-reordered', 'wide-ranges', 'cat-low-gain', 'mixed-points', 'multi-peak', 'scalar-vendor'];

export interface MatrixOptions {
  train: number;
  test: number;
  cells: number;
  /** Extra training options (e.g. fewer epochs in CI); defaults otherwise. */
  trainOptions?: Record<string, unknown>;
  onProgress?: (line: string) => void;
}

export interface MatrixRow {
  domain: string;
  seed: number;
  layout: string;
  macroF1: number;
  perClassF1: Record<string, number | null>;
  maxAbsError: Reference;
  trainSeconds: number;
  /** Whether the training gate passed (rows are scored either way: training ran with force). */
  gatePassed: boolean;
  /** Held-out samples with at least one flag, and the flags seen. */
  flagged: number;
  flags: string[];
  bound: SupervisedBound;
  /** Ablation of the reticulocyte count scale (retic-count.ts): the largest held-out retic %
   *  error when reticulocytes are counted by each event's most probable class, as the labels say. */
  reticArgmaxMaxError?: number;
  /** Whether training kept a platelet | red split of stage 1's red side (red-side.ts). */
  redSide?: boolean;
}

/** The supervised classifier's scores on the held-out events, and the largest error of the shares
 *  counted from labels the way the pipeline counts its own: a QDA over all six truth classes
 *  (debris and coincidences too, so they need not be taken for cells), each held-out sample's class
 *  proportions estimated by EM under those true-label densities, each event in its most probable
 *  class under them, shares with the truth's denominators. How close counting by per-event labels
 *  can get with these features. */
export interface SupervisedBound {
  macroF1: number;
  perClassF1: (number | null)[];
  maxAbsError?: Reference;
}

/** platelet, rbc, reticulocyte, clumped, debris, coincidence (the simulator's truth labels). */
const TRUTH_CLASSES = 6;

/** Samples first … first+count−1 of a domain's cohort for `seed`: the simulator's output, the
 *  pipeline's inputs (ids `<domain>-<index>`, columns named) and their references. */
export function domainCohort(domainName: string, seed: number, count: number, cells: number, first = 0) {
  const domain = DOMAINS[domainName];
  if (!domain) throw new Error(`unknown domain '${domainName}'`);
  const sims = Array.from({ length: count }, (_, i) => simulateSample({ domain, cells, seed, sampleIndex: first + i }));
  const inputs: SampleInput[] = sims.map((s, i) => ({ id: `${domainName}-${first + i}`, rows: s.cells, cols: s.features.length, data: s.signals, columns: s.features }));
  const refs = new Map<string, Reference>(sims.map((s, i) => [inputs[i].id, { plt_pct: s.reference.pltPct, retic_pct: s.reference.reticPct, clump_pct: s.reference.clumpPct }]));
  return { domain, sims, inputs, refs };
}

/** One cell of the matrix. */
export async function runMatrixCell(be: ComputeBackend, domainName: string, seed: number, o: MatrixOptions): Promise<MatrixRow> {
  const { domain, sims, inputs, refs } = domainCohort(domainName, seed, o.train + o.test, o.cells);
  const t0 = performance.now();
  let gatePassed = true;
  const pipe = await BloodCellPipeline.train(inputs.slice(0, o.train), refs, {
    backend: be, seed, force: true, ...o.trainOptions,
    onProgress: (p) => {
      if (p.stage === 'quality' && p.message?.startsWith('WARNING')) gatePassed = false;
      if (p.message && (p.stage === 'quality' || p.stage === 'prepare' || p.stage === 'stage1-map')) o.onProgress?.(`  ${domainName} seed ${seed}: ${p.message}`);
    },
  });
  const trainSeconds = (performance.now() - t0) / 1000;
  const redSide = pipe.meta.options?.stage1RedSide === true;
  const items = [];
  for (let i = o.train; i < sims.length; i++) items.push({ result: await pipe.classify(inputs[i]), truth: sims[i].truth, reference: refs.get(inputs[i].id)! });
  pipe.dispose();
  const ev = evaluateResults(items);
  const reticArgmaxMaxError = Math.max(...items.map((it) => Math.abs(argmaxShares(it.result.probabilities).retic_pct - trueShares(it.truth).retic_pct)));
  const flags = items.flatMap((it) => it.result.summary.quality?.flags ?? []);
  const flagged = items.filter((it) => (it.result.summary.quality?.flags.length ?? 0) > 0).length;
  return {
    domain: domainName, seed, layout: domain.layout, macroF1: ev.macroF1!, perClassF1: ev.perClassF1 as Record<string, number | null>,
    maxAbsError: ev.maxAbsErrorVsTruth!, trainSeconds, gatePassed, flagged, flags: [...new Set(flags.map((f) => f.replace(/[0-9.]+/g, '#')))],
    bound: supervisedBound(inputs, sims.map((s) => s.truth), o.train), reticArgmaxMaxError, redSide,
  };
}

/** A cell's supervised bound alone (no pipeline training): the same simulated samples, the same QDA. */
export function cellBound(domainName: string, seed: number, o: Pick<MatrixOptions, 'train' | 'test' | 'cells'>): SupervisedBound {
  const { sims, inputs } = domainCohort(domainName, seed, o.train + o.test, o.cells);
  return supervisedBound(inputs, sims.map((s) => s.truth), o.train);
}

/** Shares by each event's most probable class (no count scale), the analyzer's denominators. */
function argmaxShares(p: Float32Array): Reference {
  const c = [0, 0, 0, 0];
  for (const y of argmax4(p)) c[y]++;
  const red = c[1] + c[2] + c[3];
  return { plt_pct: (100 * c[0]) / Math.max(1, p.length / 4), retic_pct: red ? (100 * c[2]) / red : 0, clump_pct: red ? (100 * c[3]) / red : 0 };
}

/** QDA on the true labels of the training samples' events, over the pipeline's unit-free pulse
 *  summaries (fitted on the training samples, as the pipeline fits them), scored on the held-out. */
function supervisedBound(inputs: SampleInput[], truth: Int32Array[], nTrain: number): SupervisedBound {
  const layout = detectLayout(inputs[0].columns ?? null, inputs[0].cols);
  const W = layoutWidth(layout, inputs[0].cols);
  const canon = inputs.map((s) => canonicalColumns(s.data, s.rows, s.cols, columnSources(layout, s.columns, s.cols)));
  const nFit = Math.min(...inputs.slice(0, nTrain).map((s) => s.rows));
  const pool = new Float32Array(nTrain * nFit * W);
  for (let i = 0; i < nTrain; i++) pool.set(canon[i].subarray(0, nFit * W), i * nFit * W);
  const pre = fitPreprocessor(layout, pool, nTrain * nFit, W);
  const feats = canon.map((c, i) => pulseSummaries(layout, toAsinhUnits(pre, c, inputs[i].rows, W), W, Array.from({ length: inputs[i].rows }, (_, r) => r)));
  const P = feats[0].length / inputs[0].rows;
  const concat = (from: number, to: number) => {
    const n = inputs.slice(from, to).reduce((a, s) => a + s.rows, 0);
    const x = new Float64Array(n * P);
    const y = new Int32Array(n);
    let at = 0;
    for (let i = from; i < to; i++) {
      x.set(feats[i], at * P);
      y.set(truth[i], at);
      at += inputs[i].rows;
    }
    return { x, y, n };
  };
  const tr = concat(0, nTrain);
  const te = concat(nTrain, inputs.length);
  const model = fitQda(tr.x, tr.y, tr.n, P, 4);
  const pred = predictQda(model, te.x, te.n);
  const yt: number[] = [];
  const yp: number[] = [];
  for (let i = 0; i < te.n; i++) {
    if (te.y[i] < 4) {
      yt.push(te.y[i]);
      yp.push(pred[i]);
    }
  }
  const f1 = perClass(yt, yp);
  const counting = fitQda(tr.x, tr.y, tr.n, P, TRUTH_CLASSES);
  const maxAbsError = { plt_pct: 0, retic_pct: 0, clump_pct: 0 };
  for (let i = nTrain, at = 0; i < inputs.length; at += inputs[i].rows, i++) {
    const n = inputs[i].rows;
    const x = te.x.subarray(at * P, (at + n) * P);
    const { theta } = proportionsFromClassLogLik(TRUTH_CLASSES, qdaLogDensities(counting, x, n), n, { accelerate: true });
    const got = trueShares(predictQda(counting, x, n, Array.from(theta, (t) => Math.log(Math.max(t, 1e-12)))));
    const want = trueShares(truth[i]);
    for (const k of ['plt_pct', 'retic_pct', 'clump_pct'] as const) maxAbsError[k] = Math.max(maxAbsError[k], Math.abs(got[k] - want[k]));
  }
  return { macroF1: macroF1(yt, yp, 4), perClassF1: f1, maxAbsError };
}

function perClass(yt: number[], yp: number[]): (number | null)[] {
  return [0, 1, 2, 3].map((c) => {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (let i = 0; i < yt.length; i++) {
      if (yp[i] === c && yt[i] === c) tp++;
      else if (yp[i] === c) fp++;
      else if (yt[i] === c) fn++;
    }
    return tp + fp + fn ? (2 * tp) / (2 * tp + fp + fn) : null;
  });
}

/** Whether a row meets the bars. */
export function meetsBars(r: MatrixRow): boolean {
  const f1Bar = r.bound.macroF1 < 0.97 ? Math.min(0.95, r.bound.macroF1 - 0.02) : 0.95;
  return r.macroF1 >= f1Bar && r.maxAbsError.plt_pct <= 0.5 && r.maxAbsError.retic_pct <= 0.5 && r.maxAbsError.clump_pct <= 1.0;
}

function boundErrors(b: SupervisedBound): string {
  const e = b.maxAbsError;
  return e ? `${e.plt_pct.toFixed(2)} / ${e.retic_pct.toFixed(2)} / ${e.clump_pct.toFixed(2)}` : '–';
}

export function formatMatrix(rows: MatrixRow[]): string {
  const f = (v: number | null | undefined, d = 3) => (v === null || v === undefined ? '–' : v.toFixed(d));
  const lines = [
    '| domain | seed | layout | macro-F1 | plt F1 | rbc F1 | retic F1 | clump F1 | max err plt / retic / clump (pp) | retic err, argmax count (pp) | supervised bound (QDA) | QDA max err plt / retic / clump (pp) | train s | gate | red-side split | flagged held-out | bars |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const p = r.perClassF1;
    lines.push(`| ${r.domain} | ${r.seed} | ${r.layout} | ${f(r.macroF1)} | ${f(p.platelet)} | ${f(p.rbc)} | ${f(p.reticulocyte)} | ${f(p.clumped_rbc)} | ` +
      `${f(r.maxAbsError.plt_pct, 2)} / ${f(r.maxAbsError.retic_pct, 2)} / ${f(r.maxAbsError.clump_pct, 2)} | ${f(r.reticArgmaxMaxError, 2)} | ${f(r.bound.macroF1)} | ${boundErrors(r.bound)} | ${r.trainSeconds.toFixed(0)} | ` +
      `${r.gatePassed ? 'pass' : 'FAIL'} | ${r.redSide === undefined ? '–' : r.redSide ? 'kept' : 'no'} | ${r.flagged} | ${meetsBars(r) ? 'met' : 'missed'} |`);
  }
  return lines.join('\n');
}

