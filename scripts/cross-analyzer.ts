// `npm run cross-analyzer`: the cross-analyzer protocol (bench/robustness/cross.ts) — train on each
// --train-domains domain, classify the held-out samples of every --test-domains domain without
// retraining. Writes <out>.json after every training domain (an interrupted run keeps its rows)
// and <out>.md at the end.
//
//   npm run cross-analyzer -- --train-domains builtin,noisy --test-domains builtin,noisy,scalar-dog --cells 20000
//   npm run cross-analyzer -- --merge a.json,b.json --out bench/results/cross-analyzer-DATE   # one table from several runs
import { execSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { createBackend } from '../bindings/backends/index.js';
import { formatCross, runCrossRow, type CrossCell } from '../bench/robustness/cross.js';
import { machineInfo } from '../bench/lib/machine.js';
import { opt, positiveInt } from '../bench/robustness/argv.js';

/** The robustness table's domains: both species, waveform and scalar layouts, gains, noise, renamed channels. */
const DEFAULT_DOMAINS = 'builtin,low-gain,high-gain,noisy,renamed-reordered,scalar-dog,scalar-vendor,builtin-cat';


const seed = positiveInt('seed', 1);
const train = positiveInt('train', 16);
const test = positiveInt('test', 8);
const cells = positiveInt('cells', 30000);
const threads = positiveInt('threads', Math.min(4, availableParallelism()));
const date = new Date().toISOString().slice(0, 10);
const out = opt('out', join('bench', 'results', `cross-analyzer-${date}`));
const merge = opt('merge', '');
mkdirSync(join(out, '..'), { recursive: true });

let commit = 'unknown';
try {
  commit = execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim() + (execSync('git status --porcelain', { encoding: 'utf8' }).trim() ? '+dirty' : '');
} catch {
  // not a checkout: the table says so
}

function writeTable(rows: CrossCell[], commits: string): void {
  const m = machineInfo();
  const text = [
    `# Cross-analyzer protocol, ${date}`,
    '',
    `Machine: ${m.cpuModel}, ${m.cores} cores, Node ${m.node}; wasm backend. Commit ${commits}.`,
    `Each row: the pipeline trained with its defaults (references only) on ${train} simulated samples × ${cells} events of one`,
    `domain (seed ${seed}), then, without retraining, asked to classify ${test} held-out samples of each domain (samples ${train}…${train + test - 1}`,
    'of that domain\'s seed-' + seed + ' cohort, so the diagonal is the robustness matrix\'s row). A cell: per-event macro-F1 against the',
    'simulator\'s truth and how many of the samples the quality flags marked as outside the training domain, or "refused" where',
    'classify stopped with an error. No recalibration from reference samples of the test domain is tried here.',
    '',
    formatCross(rows, test),
    '',
  ].join('\n');
  writeFileSync(`${out}.md`, text);
  console.log(`wrote ${out}.md`);
}

if (merge) {
  const parts = merge.split(',').map((f) => JSON.parse(readFileSync(f, 'utf8')) as { commit: string; rows: CrossCell[] });
  writeTable(parts.flatMap((p) => p.rows), [...new Set(parts.map((p) => p.commit))].join(', '));
} else {
  const trainDomains = opt('train-domains', DEFAULT_DOMAINS).split(',').filter(Boolean);
  const testDomains = opt('test-domains', DEFAULT_DOMAINS).split(',').filter(Boolean);
  const be = await createBackend('wasm', { threads });
  const rows: CrossCell[] = [];
  try {
    for (const a of trainDomains) {
      console.log(`cross: training on ${a} …`);
      rows.push(...await runCrossRow(be, a, testDomains, { seed, train, test, cells, onProgress: (l) => console.log(l) }));
      writeFileSync(`${out}.json`, JSON.stringify({ commit, date, seed, train, test, cells, rows }, null, 1));
    }
  } finally {
    be.destroy();
  }
  writeTable(rows, commit);
}
