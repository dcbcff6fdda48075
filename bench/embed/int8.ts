// fp32 against --int8 exports of one trained model on its simulated cohort (docs/embedding.md,
// "int8"; issue 20): per sample the change of every percentage and of the per-event macro-F1
// against the simulator's truth, for the int8 plans (every layer int8; the first layer kept fp32).
//   npx tsx bench/embed/int8.ts --model M.safetensors (--domain NAME | --species dog|cat) --seed S
//     --samples N --cells C [--held-out FIRST] [--flavour simd|scalar] [--json FILE]
// The cohort is re-simulated exactly as the model's training run made it (simulateSample with the
// same domain or species, seed and sample indices); samples from --held-out on were not trained on.
import { readFile, writeFile } from 'node:fs/promises';
import { exportClassifier, readGenericModule, type EmbedFlavour, type ExportOptions } from '../../bindings/export/module.js';
import { EmbeddedClassifier } from '../../bindings/export/host.js';
import { evaluateResults } from '../../bindings/pipeline/evaluate.js';
import type { ClassifyResult } from '../../bindings/pipeline/types.js';
import { DOMAINS, simulateSample, type Species } from '../../bindings/simulate/index.js';

const arg = (name: string, def?: string) => {
  const i = process.argv.indexOf(`--${name}`);
  if (i >= 0) return process.argv[i + 1]!;
  if (def === undefined) throw new Error(`--${name} is required`);
  return def;
};
const modelPath = arg('model');
const domainName = arg('domain', '');
const species = arg('species', 'dog') as Species;
const seed = Number(arg('seed', '1'));
const samples = Number(arg('samples'));
const cells = Number(arg('cells'));
const heldOut = Number(arg('held-out', String(samples)));
const flavour = arg('flavour', 'simd') as EmbedFlavour;
const domain = domainName ? DOMAINS[domainName] : undefined;
if (domainName && !domain) throw new Error(`unknown domain '${domainName}'`);

const KEYS = ['plt_pct', 'retic_pct', 'clump_pct'] as const;
const PLANS: [string, ExportOptions][] = [['fp32', {}], ['int8', { int8: true }], ['int8, first layer fp32', { int8: true, int8KeepFirst: true }]];
const model = new Uint8Array(await readFile(modelPath));
const generic = await readGenericModule(flavour);
const modules = await Promise.all(PLANS.map(async ([, o]) => EmbeddedClassifier.load(await exportClassifier(model, generic, flavour, modelPath, o))));

interface Row { sample: number; heldOut: boolean; pct: number[][]; f1: number[]; maxProb: number[]; meanProb: number[] }
const rows: Row[] = [];
/** Per plan, every sample's result and truth: the cohort's pooled macro-F1 (all samples, held out). */
const pooled: { result: ClassifyResult; truth: Int32Array; heldOut: boolean }[][] = PLANS.map(() => []);
for (let i = 0; i < samples; i++) {
  const s = simulateSample(domain ? { domain, cells, seed, sampleIndex: i } : { species, cells, seed, sampleIndex: i });
  // The module reads the model's column order; a domain's files may name and order them otherwise.
  const data = modules[0]!.inModelOrder(s.signals, s.cells, s.features);
  const F = data.length / s.cells;
  const outs = modules.map((m) => m.classify(data, s.cells, F));
  const result = (o: (typeof outs)[number]): ClassifyResult => ({
    probabilities: o.probabilities,
    summary: { id: `s${i}`, cells: s.cells, counts: { platelet: o.summary.platelet, rbc: o.summary.rbc, reticulocyte: o.summary.reticulocyte, clumped_rbc: o.summary.clumped_rbc },
      percentages: { plt_pct: o.summary.plt_pct, retic_pct: o.summary.retic_pct, clump_pct: o.summary.clump_pct } },
  });
  const f1 = outs.map((o, p) => {
    pooled[p]!.push({ result: result(o), truth: s.truth, heldOut: i >= heldOut });
    return evaluateResults([{ result: result(o), truth: s.truth }]).macroF1!;
  });
  const diffs = outs.map((o) => {
    let w = 0;
    let sum = 0;
    for (let j = 0; j < o.probabilities.length; j++) {
      const d = Math.abs(o.probabilities[j]! - outs[0]!.probabilities[j]!);
      w = Math.max(w, d);
      sum += d;
    }
    return [w, sum / o.probabilities.length];
  });
  rows.push({ sample: i, heldOut: i >= heldOut, pct: outs.map((o) => KEYS.map((k) => o.summary[k])), f1, maxProb: diffs.map((d) => d[0]!), meanProb: diffs.map((d) => d[1]!) });
  process.stderr.write(`sample ${i}: ${PLANS.map(([n], p) => `${n} ${rows.at(-1)!.pct[p]!.map((v) => v.toFixed(3)).join('/')} F1 ${f1[p]!.toFixed(4)}`).join(' | ')}\n`);
}

const fmt = (v: number, d = 3) => (v >= 0 ? '+' : '') + v.toFixed(d);
const what = domain ? `domain ${domain.name}` : `species ${species}`;
console.log(`Model \`${modelPath}\`, ${what}, seed ${seed}, ${samples} samples × ${cells} events (held out from ${heldOut}), ${flavour} build. Δ = int8 − fp32.\n`);
for (let p = 1; p < PLANS.length; p++) {
  console.log(`**${PLANS[p]![0]}**\n`);
  console.log('| sample | fp32 plt / retic / clump % | Δ plt pp | Δ retic pp | Δ clump pp | fp32 macro-F1 | Δ macro-F1 | max \\|Δp\\| | mean \\|Δp\\| |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  const worst = [0, 0, 0, 0, 0, 0];
  for (const r of rows) {
    const d = KEYS.map((_, k) => r.pct[p]![k]! - r.pct[0]![k]!);
    const df1 = r.f1[p]! - r.f1[0]!;
    [...d, df1, r.maxProb[p]!, r.meanProb[p]!].forEach((v, k) => (worst[k] = Math.max(worst[k]!, Math.abs(v))));
    console.log(`| ${r.sample}${r.heldOut ? ' (held out)' : ''} | ${r.pct[0]!.map((v) => v.toFixed(2)).join(' / ')} | ${d.map((v) => fmt(v)).join(' | ')} | ${r.f1[0]!.toFixed(4)} | ${fmt(df1, 4)} | ${r.maxProb[p]!.toExponential(1)} | ${r.meanProb[p]!.toExponential(1)} |`);
  }
  console.log(`| **max \\|Δ\\|** | | ${worst.slice(0, 3).map((v) => v.toFixed(3)).join(' | ')} | | ${worst[3]!.toFixed(4)} | ${worst[4]!.toExponential(1)} | ${worst[5]!.toExponential(1)} |\n`);
}
const cohortF1 = pooled.map((items) => [evaluateResults(items).macroF1!, evaluateResults(items.filter((x) => x.heldOut)).macroF1 ?? NaN]);
console.log('Pooled per-event macro-F1 (all samples / held out):\n');
console.log('| export | all samples | held out | Δ all | Δ held out |');
console.log('|---|---|---|---|---|');
PLANS.forEach(([name], p) => console.log(`| ${name} | ${cohortF1[p]![0]!.toFixed(5)} | ${cohortF1[p]![1]!.toFixed(5)} | ${p ? fmt(cohortF1[p]![0]! - cohortF1[0]![0]!, 5) : '–'} | ${p ? fmt(cohortF1[p]![1]! - cohortF1[0]![1]!, 5) : '–'} |`));
const json = arg('json', '');
if (json) await writeFile(json, JSON.stringify({ model: modelPath, domain: domain?.name ?? null, species, seed, samples, cells, heldOut, flavour, plans: PLANS.map(([n]) => n), rows, cohortF1 }, null, 1));
