// Scoring a pipeline's output against per-event truth (simulated data only) and the references.
// Truth uses the simulator's 6 ids (platelet, rbc, reticulocyte, clumped_rbc, debris, coincidence);
// the first four coincide with CLASSES. Per-event metrics count only events whose true class is one
// of the four (debris and coincidences have no class of their own in the pipeline); the confusion
// matrix shows all six true classes against the four predicted ones. True percentages use the
// analyzer's denominators over ALL events, exactly as the reference does.
import { macroF1, perClassF1, confusionMatrix, balancedAccuracy, accuracy } from '../metrics/index.js';
import { CLASSES, type ClassifyResult, type Reference } from './types.js';

export const TRUTH_CLASSES = ['platelet', 'rbc', 'reticulocyte', 'clumped_rbc', 'debris', 'coincidence'] as const;

export interface SampleEvaluation {
  id: string;
  cells: number;
  predicted: Reference;
  reference: Reference | null;
  truth: Reference | null;
  errorVsTruth: Reference | null;
  errorVsReference: Reference | null;
  /** Reasons to distrust this sample's result (quality.ts), empty when none. */
  flags: string[];
}

export interface Evaluation {
  macroF1: number | null;
  perClassF1: Record<string, number | null> | null;
  accuracy: number | null;
  balancedAccuracy: number | null;
  /** rows: true class (6), columns: predicted class (4). */
  confusion: number[][] | null;
  samples: SampleEvaluation[];
  /** Largest absolute per-sample error (percentage points). */
  maxAbsErrorVsTruth: Reference | null;
  maxAbsErrorVsReference: Reference | null;
  meanAbsErrorVsTruth: Reference | null;
}

export function trueShares(labels: Int32Array): Reference {
  const c = [0, 0, 0, 0, 0, 0];
  for (const y of labels) c[y]++;
  const red = c[1] + c[2] + c[3];
  return {
    plt_pct: labels.length ? (100 * c[0]) / labels.length : 0,
    retic_pct: red ? (100 * c[2]) / red : 0,
    clump_pct: red ? (100 * c[3]) / red : 0,
  };
}

const diff = (a: Reference, b: Reference): Reference => ({ plt_pct: a.plt_pct - b.plt_pct, retic_pct: a.retic_pct - b.retic_pct, clump_pct: a.clump_pct - b.clump_pct });
const KEYS = ['plt_pct', 'retic_pct', 'clump_pct'] as const;

function reduce(errs: Reference[], f: (vals: number[]) => number): Reference | null {
  if (!errs.length) return null;
  return Object.fromEntries(KEYS.map((k) => [k, f(errs.map((e) => Math.abs(e[k])))])) as unknown as Reference;
}

export function argmax4(p: Float32Array): Int32Array {
  const n = p.length / 4;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let b = 0;
    for (let c = 1; c < 4; c++) if (p[i * 4 + c] > p[i * 4 + b]) b = c;
    out[i] = b;
  }
  return out;
}

export function evaluateResults(items: { result: ClassifyResult; truth?: Int32Array | null; reference?: Reference | null }[]): Evaluation {
  const yt: number[] = [];
  const yp: number[] = [];
  const confusion = TRUTH_CLASSES.map(() => CLASSES.map(() => 0));
  let haveTruth = false;
  const samples: SampleEvaluation[] = items.map(({ result, truth, reference }) => {
    const s = result.summary;
    let t: Reference | null = null;
    if (truth) {
      if (truth.length !== s.cells) throw new Error(`sample '${s.id}': ${truth.length} truth labels for ${s.cells} events`);
      haveTruth = true;
      t = trueShares(truth);
      const pred = argmax4(result.probabilities);
      for (let i = 0; i < truth.length; i++) {
        const y = truth[i];
        if (!(y >= 0 && y < TRUTH_CLASSES.length)) throw new Error(`sample '${s.id}': truth label ${y} at event ${i} is not a class id 0..5`);
        confusion[y][pred[i]]++;
        if (y < 4) {
          yt.push(y);
          yp.push(pred[i]);
        }
      }
    }
    return {
      id: s.id, cells: s.cells, predicted: s.percentages, reference: reference ?? null, truth: t,
      errorVsTruth: t ? diff(s.percentages, t) : null,
      errorVsReference: reference ? diff(s.percentages, reference) : null,
      flags: s.quality?.flags ?? [],
    };
  });
  const errT = samples.flatMap((s) => (s.errorVsTruth ? [s.errorVsTruth] : []));
  const errR = samples.flatMap((s) => (s.errorVsReference ? [s.errorVsReference] : []));
  const cm4 = haveTruth ? confusionMatrix(yt, yp, 4) : null;
  const f1 = cm4 ? perClassF1(cm4) : null;
  return {
    macroF1: haveTruth ? macroF1(yt, yp, 4) : null,
    perClassF1: f1 ? Object.fromEntries(CLASSES.map((c, i) => [c, f1[i]])) : null,
    accuracy: haveTruth ? accuracy(yt, yp) : null,
    balancedAccuracy: haveTruth ? balancedAccuracy(yt, yp, 4) : null,
    confusion: haveTruth ? confusion : null,
    samples,
    maxAbsErrorVsTruth: reduce(errT, (v) => Math.max(...v)),
    maxAbsErrorVsReference: reduce(errR, (v) => Math.max(...v)),
    meanAbsErrorVsTruth: reduce(errT, (v) => v.reduce((a, b) => a + b, 0) / v.length),
  };
}

/** Plain-text table of an evaluation (for the CLI). */
export function formatEvaluation(e: Evaluation): string {
  const f = (v: number | null | undefined, d = 2) => (v === null || v === undefined ? '–' : v.toFixed(d));
  const lines: string[] = [];
  lines.push('sample            plt% pred   ref  true | retic% pred   ref  true | clump% pred   ref  true');
  for (const s of e.samples) {
    const row = (k: (typeof KEYS)[number]) => `${f(s.predicted[k]).padStart(9)} ${f(s.reference?.[k], 1).padStart(5)} ${f(s.truth?.[k]).padStart(5)}`;
    lines.push(`${s.id.padEnd(16)} ${row('plt_pct')} | ${row('retic_pct')}  | ${row('clump_pct')}`);
  }
  const flagged = e.samples.filter((s) => s.flags.length);
  if (flagged.length) {
    lines.push('', `flagged samples (${flagged.length} of ${e.samples.length}): results outside what the model was trained on`);
    for (const s of flagged) lines.push(`  ${s.id}: ${s.flags.join('; ')}`);
  }
  if (e.macroF1 !== null) {
    lines.push('');
    lines.push(`per-event macro-F1 ${f(e.macroF1, 4)}  accuracy ${f(e.accuracy, 4)}  balanced accuracy ${f(e.balancedAccuracy, 4)}  (events of debris/coincidence excluded)`);
    lines.push(`per-class F1: ${CLASSES.map((c) => `${c} ${f(e.perClassF1![c], 4)}`).join('  ')}`);
    lines.push(`confusion (rows true, columns predicted ${CLASSES.join('/')}):`);
    e.confusion!.forEach((row, i) => lines.push(`  ${TRUTH_CLASSES[i].padEnd(12)} ${row.map((v) => String(v).padStart(7)).join(' ')}`));
  }
  const m = (name: string, r: Reference | null) => r && lines.push(`${name}: plt ${f(r.plt_pct)}  retic ${f(r.retic_pct)}  clump ${f(r.clump_pct)} pp`);
  m('max |error| vs truth', e.maxAbsErrorVsTruth);
  m('mean |error| vs truth', e.meanAbsErrorVsTruth);
  m('max |error| vs reference', e.maxAbsErrorVsReference);
  return lines.join('\n');
}
