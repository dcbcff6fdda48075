// `npm run fuzz`: differential fuzzing of every file reader (issue 24), ≥ 10,000 mutants per
// format by default. Mutants of real files go to the reader and to an independent decoder
// (test/helpers/fuzz-*.ts); the counts are printed as a Markdown table and the run exits non-zero
// on any foreign exception, silent misread or over-allocation.
//   npm run fuzz -- [--cases N] [--seed S] [--only fcs,csv,npy,safetensors,model,pipeline] [--out file.md]
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createReferenceBackend } from '../bindings/backends/reference/index.js';
import { ALLOC_FACTOR, ALLOC_SLACK, runFuzz, type Counts, type Failure, type Target } from '../test/helpers/fuzz-harness.js';
import { csvSeeds, fcsSeeds, modelSeeds, npySeeds, pipelineSeed, safetensorsSeeds } from '../test/helpers/fuzz-seeds.js';
import { csvTarget, fcsTarget, modelTarget, npyTarget, pipelineTarget, safetensorsTarget, structuredMutant } from '../test/helpers/fuzz-targets.js';

const { values } = parseArgs({ options: { cases: { type: 'string' }, seed: { type: 'string' }, only: { type: 'string' }, out: { type: 'string' } } });
const cases = Number(values.cases ?? 10000);
const seed = Number(values.seed ?? 2026);
const only = new Set((values.only ?? 'fcs,csv,npy,safetensors,model,pipeline').split(','));

const be = createReferenceBackend();
let pipelineBytes: Promise<Uint8Array> | null = null;
const pipeline = () => (pipelineBytes ??= pipelineSeed());
const formats: [string, () => Promise<{ t: Target; seeds: Uint8Array[]; numeric: RegExp | null; structured: boolean }>][] = [
  ['fcs', async () => ({ t: fcsTarget, seeds: fcsSeeds(), numeric: /(?:^FCS3\.\d {4}(?: {0,7})| +|[/|])(\d+)/g, structured: false })],
  ['csv', async () => ({ t: csvTarget, seeds: csvSeeds(), numeric: /[,;\t\n"](\d+)/g, structured: false })],
  ['npy', async () => ({ t: npyTarget, seeds: npySeeds(), numeric: /(?:\(|, |'descr': '[<>|]?[a-z])(\d+)/g, structured: false })],
  // The safetensors layer also gets a real pipeline file (its header and metadata mutated).
  ['safetensors', async () => ({ t: safetensorsTarget, seeds: [...safetensorsSeeds(), ...(only.has('pipeline') ? [await pipeline()] : [])], numeric: /[[,:](\d+)/g, structured: true })],
  ['model', async () => ({ t: modelTarget(be), seeds: await modelSeeds(), numeric: /[[,:](\d+)/g, structured: true })],
  ['pipeline', async () => ({ t: pipelineTarget(be), seeds: [await pipeline()], numeric: /[[,:](\d+)/g, structured: true })],
];

const rows: [string, Counts, number][] = [];
const allFailures: [string, Failure][] = [];
for (const [name, make] of formats) {
  if (!only.has(name)) continue;
  const t0 = performance.now();
  const { t, seeds, numeric, structured } = await make();
  const { counts, failures } = runFuzz(t, seeds, cases, seed, numeric, structured ? (rng) => structuredMutant(seeds, rng) : undefined);
  rows.push([name, counts, (performance.now() - t0) / 1000]);
  for (const f of failures) allFailures.push([name, f]);
  console.error(`${name}: ${JSON.stringify(counts)} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

const table = [
  `Differential fuzz run: ${cases} mutants per format, seed ${seed}, allocation bound ${ALLOC_FACTOR} × file size + ${ALLOC_SLACK} bytes (ArrayBuffer memory during the read).`,
  '',
  '| format | mutants | agreed (accepted + identical) | agreed (both reject) | reader stricter | foreign exceptions | silent misreads | over-allocations | max alloc / file size | seconds |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...rows.map(([n, c, s]) => `| ${n} | ${c.mutants} | ${c.acceptedAgreed} | ${c.agreed - c.acceptedAgreed} | ${c.stricter} | ${c.foreign} | ${c.misread} | ${c.overAlloc} | ${c.maxAllocRatio.toFixed(2)} | ${s.toFixed(0)} |`),
].join('\n');
console.log(table);
if (allFailures.length) {
  console.log('\nFirst failures:');
  for (const [n, f] of allFailures.sort((a, b) => (a[1].kind === b[1].kind ? 0 : a[1].kind === "misread" ? -1 : 1)).slice(0, 40)) console.log(`- ${n} ${f.kind}: ${f.detail}\n  input (base64, first 4 KB): ${f.input.slice(0, 400)}`);
}
if (values.out) writeFileSync(values.out, `${table}\n`);
process.exitCode = rows.some(([, c]) => c.foreign + c.misread + c.overAlloc > 0) ? 1 : 0;
