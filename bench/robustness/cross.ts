// The cross-analyzer protocol (issue 22): a model trained on one simulated analyzer (domain A)
// classifies held-out samples of another (domain B) without retraining. What a lab that swaps or
// adds an instrument would do. Each (A, B) cell says whether classify refused (and why), the
// macro-F1 and share errors when it did not, and how many samples the quality flags marked as
// outside the training domain: a model should either transfer or say that it cannot.
// The diagonal (A = A) is the robustness matrix's own row for that domain and seed.
import type { ComputeBackend } from '../../bindings/backend.js';
import { BloodCellPipeline, type Reference } from '../../bindings/pipeline/index.js';
import { evaluateResults } from '../../bindings/pipeline/evaluate.js';
import { domainCohort } from './matrix.js';

export interface CrossOptions {
  seed: number;
  train: number;
  test: number;
  cells: number;
  onProgress?: (line: string) => void;
}

export interface CrossCell {
  trainDomain: string;
  testDomain: string;
  seed: number;
  /** classify's error message when it refused the test samples (then no scores). */
  refused?: string;
  macroF1?: number;
  maxAbsError?: Reference;
  /** Test samples with at least one quality flag, of `test`. */
  flagged?: number;
  flags?: string[];
}

/** Trains on `trainDomain` once, then scores every test domain's held-out samples. */
export async function runCrossRow(be: ComputeBackend, trainDomain: string, testDomains: string[], o: CrossOptions): Promise<CrossCell[]> {
  const { inputs, refs } = domainCohort(trainDomain, o.seed, o.train, o.cells);
  const pipe = await BloodCellPipeline.train(inputs, refs, { backend: be, seed: o.seed, force: true });
  const cells: CrossCell[] = [];
  try {
    for (const testDomain of testDomains) {
      // Samples train … train+test−1: for the training domain itself, the matrix's held-out samples.
      const held = domainCohort(testDomain, o.seed, o.test, o.cells, o.train);
      const cell: CrossCell = { trainDomain, testDomain, seed: o.seed };
      try {
        const items = [];
        for (let i = 0; i < held.inputs.length; i++) {
          items.push({ result: await pipe.classify(held.inputs[i]), truth: held.sims[i].truth, reference: held.refs.get(held.inputs[i].id)! });
        }
        const ev = evaluateResults(items);
        const flags = items.flatMap((it) => it.result.summary.quality?.flags ?? []);
        Object.assign(cell, {
          macroF1: ev.macroF1!, maxAbsError: ev.maxAbsErrorVsTruth!,
          flagged: items.filter((it) => (it.result.summary.quality?.flags.length ?? 0) > 0).length,
          flags: [...new Set(flags.map((f) => f.replace(/[0-9.]+/g, '#')))],
        });
      } catch (e) {
        cell.refused = (e as Error).message;
      }
      o.onProgress?.(`cross: ${trainDomain} → ${testDomain}: ${cell.refused ? `refused (${cell.refused.slice(0, 120)})` : `macro-F1 ${cell.macroF1!.toFixed(3)}, flagged ${cell.flagged}/${o.test}`}`);
      cells.push(cell);
    }
  } finally {
    pipe.dispose();
  }
  return cells;
}

const fmtErr = (e: Reference) => `${e.plt_pct.toFixed(2)} / ${e.retic_pct.toFixed(2)} / ${e.clump_pct.toFixed(2)}`;

/** The table: one row per training domain, one column per test domain. */
export function formatCross(cells: CrossCell[], test: number): string {
  const trains = [...new Set(cells.map((c) => c.trainDomain))];
  const tests = [...new Set(cells.map((c) => c.testDomain))];
  const at = (a: string, b: string) => cells.find((c) => c.trainDomain === a && c.testDomain === b);
  const show = (c: CrossCell | undefined) => !c ? '' : c.refused ? 'refused' : `${c.macroF1!.toFixed(3)} (${c.flagged}/${test} flagged)`;
  const lines = [
    `| trained on ↓ / tested on → | ${tests.join(' | ')} |`,
    `|---|${tests.map(() => '---').join('|')}|`,
    ...trains.map((a) => `| ${a} | ${tests.map((b) => show(at(a, b))).join(' | ')} |`),
    '',
    'Largest share errors vs truth, plt / retic / clump (pp), where classify ran:',
    '',
    `| trained on ↓ / tested on → | ${tests.join(' | ')} |`,
    `|---|${tests.map(() => '---').join('|')}|`,
    ...trains.map((a) => `| ${a} | ${tests.map((b) => { const c = at(a, b); return c && !c.refused ? fmtErr(c.maxAbsError!) : ''; }).join(' | ')} |`),
    '',
    'Why classify refused, and the flags raised:',
    '',
    ...cells.filter((c) => c.refused || c.flags?.length).map((c) => `- ${c.trainDomain} → ${c.testDomain}: ${c.refused ? `refused: ${c.refused}` : c.flags!.join('; ')}`),
  ];
  return lines.join('\n');
}
