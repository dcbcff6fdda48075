// Worker for the ceiling probes (plain JS so it needs no TypeScript loader inside a worker).
// Receives the compiled probe module and one task; replies with the seconds it took.
// Several of these run at once to measure the all-cores peak and bandwidth.
import { parentPort, workerData } from 'node:worker_threads';

const { binary, task } = workerData;
const { instance } = await WebAssembly.instantiate(binary, { env: { abort() { throw new Error('probe abort'); } } });
const e = instance.exports;

function best(reps, f) {
  let bestS = Infinity;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    f();
    bestS = Math.min(bestS, (performance.now() - t0) / 1000);
  }
  return bestS;
}

let seconds;
if (task.kind === 'chain') {
  // register-only FLOP chain or integer clock chain
  const fn = e[task.fn];
  fn(1000, 1.0, 7); // tier up
  seconds = best(task.reps, () => fn(task.iters, 1.0, 7));
} else if (task.kind === 'triad') {
  // three arrays of n f32 above the module's own data, 64-byte aligned
  const mem = e.memory;
  const bytes = task.n * 4;
  const base = 1 << 20;
  const need = base + 3 * bytes + 64;
  const have = mem.buffer.byteLength;
  if (need > have) mem.grow(Math.ceil((need - have) / 65536));
  const a = base, b = base + bytes, c = base + 2 * bytes;
  new Float32Array(mem.buffer, b, task.n).fill(1);
  new Float32Array(mem.buffer, c, task.n).fill(2);
  e.triad(a, b, c, task.n, 0.5); // first touch of a
  seconds = best(task.reps, () => e.triad(a, b, c, task.n, 0.5));
} else {
  throw new Error(`unknown probe task ${task.kind}`);
}
parentPort.postMessage({ seconds });
