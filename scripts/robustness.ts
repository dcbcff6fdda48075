// `npm run robustness`: the cross-analyzer robustness matrix (bench/robustness/matrix.ts) — every
// domain × training seed trains on `--train` samples and is scored on `--test` held-out ones.
// Writes bench/results/robustness-<date>.md (and .json) row by row, so an interrupted run keeps
// what it measured.
//
//   npm run robustness                                   # every matrix domain × seeds 1,2 (hours on 2 cores)
//   npm run robustness -- --domains low-gain,scalar-dog --seeds 1 --cells 20000
//   npm run robustness -- --merge a.json,b.json --out bench/results/robustness-DATE   # one table from several runs
//   (add --bounds to recompute each merged row's supervised bound: evaluation only, no training)
import { execSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { createBackend } from '../bindings/backends/index.js';
import { cellBound, formatMatrix, MATRIX_DOMAINS, meetsBars, runMatrixCell, type MatrixRow } from '../bench/robustness/matrix.js';
import { machineInfo } from '../bench/lib/machine.js';
import { opt, positiveInt } from '../bench/robustness/argv.js';


const domains = opt('domains', MATRIX_DOMAINS.join(',')).split(',').filter(Boolean);
const seeds = opt('seeds', '1,2').split(',').map(Number);
const train = positiveInt('train', 16);
const test = positiveInt('test', 8);
const cells = positiveInt('cells', 30000);
let threads = positiveInt('threads', Math.min(4, availableParallelism()));
const date = new Date().toISOString().slice(0, 10);
const out = opt('out', join('bench', 'results', `robustness-${date}`));

let commitOverride: string | null = null;
const commitNow = (() => {
  try {
    return execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim() + (execSync('git status --porcelain', { encoding: 'utf8' }).trim() ? '+dirty' : '');
  } catch {
    return 'unknown';
  }
})();
const m = machineInfo();
const be = await createBackend('wasm', { threads });
const rows: MatrixRow[] = [];
let started = new Date().toISOString();
mkdirSync(join(out, '..'), { recursive: true });

function write(done: boolean): void {
  const met = rows.filter(meetsBars).length;
  const commit = commitOverride ?? commitNow;
  const header = [
    `# Robustness matrix, ${date}${done ? '' : ' (in progress)'}`,
    '',
    `Machine: ${m.cpuModel}, ${m.cores} cores, Node ${m.node}; wasm backend, ${threads} threads. Commit ${commit}. Started ${started}.`,
    merge ? `Rows from separate runs of \`npm run robustness -- --domains D --seeds S --train ${train} --test ${test} --cells ${cells} --threads 1\`, two side by side, merged (\`--merge\`).`
      : `Command: \`npm run robustness -- --domains ${domains.join(',')} --seeds ${seeds.join(',')} --train ${train} --test ${test} --cells ${cells}\``,
    '',
    `Each row: the pipeline trained with its defaults on ${train} simulated samples × ${cells} events of one domain (references only),`,
    `scored on ${test} held-out samples against the per-event truth (debris and coincidence events excluded from F1, included in the`,
    'denominators of the shares as the analyzer counts them). Bars (issue 16): macro-F1 ≥ 0.95 (or ≥ the supervised bound − 0.02',
    'where that bound is below 0.97), plt and retic max error ≤ 0.5 pp, clump ≤ 1.0 pp. "gate": the training quality gate',
    '(training ran with force so a failed gate is still scored). Supervised bound: QDA on the true labels of the training',
    'samples\' events over the same pulse summaries (bench/robustness/qda.ts), evaluation only.',
    '',
    `Rows meeting every bar: ${met} of ${rows.length}.`,
    '',
  ];
  writeFileSync(`${out}.md`, header.join('\n') + formatMatrix(rows) + '\n\nFlags raised on held-out samples:\n\n' +
    rows.map((r) => `- ${r.domain} seed ${r.seed}: ${r.flags.length ? r.flags.join('; ') : 'none'}`).join('\n') + '\n');
  writeFileSync(`${out}.json`, JSON.stringify({ date, commit, machine: m, threads, train, test, cells, started, rows }, null, 1) + '\n');
}

const merge = opt('merge', '');
if (merge) {
  // Rows measured by separate runs (e.g. two processes side by side) into one table; their settings
  // must agree, and every commit they ran at is named (pick runs whose pipeline code is the same).
  const runs = merge.split(',').map((f) => JSON.parse(readFileSync(f, 'utf8')) as { commit: string; threads: number; train: number; test: number; cells: number; started?: string; rows: MatrixRow[] });
  const differ = runs.find((r) => r.train !== train || r.test !== test || r.cells !== cells);
  if (differ) throw new Error(`--merge: a run used --train ${differ.train} --test ${differ.test} --cells ${differ.cells}; pass the same values`);
  rows.push(...runs.flatMap((r) => r.rows));
  if (process.argv.includes('--bounds')) {
    for (const r of rows) {
      process.stderr.write(`robustness: supervised bound of ${r.domain} seed ${r.seed} …\n`);
      r.bound = cellBound(r.domain, r.seed, { train, test, cells });
    }
  }
  commitOverride = [...new Set(runs.map((r) => r.commit))].join(', ');
  threads = Math.max(...runs.map((r) => r.threads));
  started = runs.map((r) => r.started ?? '').filter(Boolean).sort()[0] ?? 'see the runs';
  write(true);
  console.log(`wrote ${out}.md (${rows.length} rows)`);
  process.exit(0);
}

for (const domain of domains) {
  for (const seed of seeds) {
    process.stderr.write(`robustness: ${domain} seed ${seed} …\n`);
    const row = await runMatrixCell(be, domain, seed, { train, test, cells, onProgress: (l) => process.stderr.write(`${l}\n`) });
    rows.push(row);
    process.stderr.write(`robustness: ${domain} seed ${seed}: macro-F1 ${row.macroF1.toFixed(3)} (bound ${row.bound.macroF1.toFixed(3)}), ` +
      `max err ${row.maxAbsError.plt_pct.toFixed(2)} / ${row.maxAbsError.retic_pct.toFixed(2)} / ${row.maxAbsError.clump_pct.toFixed(2)} pp, ` +
      `train ${row.trainSeconds.toFixed(0)} s, gate ${row.gatePassed ? 'pass' : 'FAIL'}\n`);
    write(false);
  }
}
write(true);
be.destroy();
console.log(`wrote ${out}.md`);
