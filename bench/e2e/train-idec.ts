// End-to-end: IDEC training samples/s through the public model API on each backend, beside the
// same training step in tfjs-wasm and PyTorch — see bench/lib/training.ts for what is timed, the
// layouts (pipeline 128-256-64-10 and DEC 128-500-500-2000-10) and how FLOP are counted.
import type { E2EBench } from '../lib/e2e.js';
import { trainScenario } from '../lib/training.js';

const bench: E2EBench = {
  name: 'train-idec',
  description: 'IDEC training samples/s (marginal rate of fit), pipeline and DEC layouts, with tfjs-wasm and PyTorch peers',
  run: (ctx) => trainScenario('idec', ctx),
};
export default bench;
