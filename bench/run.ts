// `npm run bench`: op-level rows at the models' shapes on our backends and on peers, ceilings
// beside them, end-to-end scenarios from bench/e2e/, then a table on stdout and dated JSON +
// markdown in bench/results/. See bench/README.md for options and how to reproduce.
import v8 from 'node:v8';
import { runBench } from './lib/runner.js';
import { HELP, parseArgs } from './lib/args.js';

// Node 20 validates relaxed-SIMD modules only behind this V8 flag (Node 22+ needs none). Setting
// it before any module is compiled lets the bench time both WASM flavours in one process.
v8.setFlagsFromString('--experimental-wasm-relaxed-simd');

const args = parseArgs(process.argv.slice(2));
if (args === 'help') {
  console.log(HELP);
} else {
  const { text, files } = await runBench(args, (m) => console.error(`[bench] ${m}`));
  console.log(text);
  for (const f of files) console.error(`[bench] wrote ${f}`);
}
// Dawn and worker pools can keep the event loop alive; the results are written by now.
process.exit(0);
