// Metrics for labelled evaluation where predictions and truth share the label space 0..K−1
// (e.g. after mapping clusters to classes with matchClusters).
import { checkLabels, type Labels } from './contingency.js';

/** matrix[t][p] = #{i : yTrue_i = t and yPred_i = p}, for labels 0..numClasses−1. */
export function confusionMatrix(yTrue: Labels, yPred: Labels, numClasses?: number): number[][] {
  checkLabels('confusionMatrix', yTrue, yPred);
  let k = numClasses ?? 0;
  if (numClasses === undefined) for (let i = 0; i < yTrue.length; i++) k = Math.max(k, yTrue[i] + 1, yPred[i] + 1);
  const m = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < yTrue.length; i++) {
    const t = yTrue[i];
    const p = yPred[i];
    if (t < 0 || t >= k || p < 0 || p >= k) throw new RangeError(`confusionMatrix: label out of range 0..${k - 1} at index ${i} (true ${t}, predicted ${p})`);
    m[t][p]++;
  }
  return m;
}

/** Per-class F1 = 2·TP / (2·TP + FP + FN); a class absent from both truth and prediction is skipped. */
export function perClassF1(matrix: number[][]): (number | null)[] {
  return matrix.map((row, c) => {
    const tp = row[c];
    const fn = row.reduce((s, x) => s + x, 0) - tp;
    const fp = matrix.reduce((s, r) => s + r[c], 0) - tp;
    return 2 * tp + fp + fn === 0 ? null : (2 * tp) / (2 * tp + fp + fn);
  });
}

/** Unweighted mean of per-class F1 over the classes present in truth or prediction. */
export function macroF1(yTrue: Labels, yPred: Labels, numClasses?: number): number {
  const f = perClassF1(confusionMatrix(yTrue, yPred, numClasses)).filter((x): x is number => x !== null);
  return f.reduce((s, x) => s + x, 0) / f.length;
}

/** Mean per-class recall over the classes present in the truth. */
export function balancedAccuracy(yTrue: Labels, yPred: Labels, numClasses?: number): number {
  const m = confusionMatrix(yTrue, yPred, numClasses);
  let sum = 0;
  let count = 0;
  m.forEach((row, c) => {
    const support = row.reduce((s, x) => s + x, 0);
    if (support > 0) {
      sum += row[c] / support;
      count++;
    }
  });
  return sum / count;
}

export function accuracy(yTrue: Labels, yPred: Labels): number {
  checkLabels('accuracy', yTrue, yPred);
  let hit = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) hit++;
  return hit / yTrue.length;
}
