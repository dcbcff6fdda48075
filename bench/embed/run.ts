// The exported classifier's size, speed and memory (docs/embedding.md; issue 20):
//   npx tsx bench/embed/run.ts [--events N] [--memory-events N] [--out FILE.md]
// Size: the exported file for a model of the demo's shape (128 features, encoder 256-64-10, 4
// stage-1 clusters, 6 platelet sub-clusters, 24-component levels) — hand-made weights: size and
// speed do not depend on their values. Speed: events/s on one thread over all passes, fp32 and --int8,
// beside BloodCellPipeline.classify on the 1-thread wasm backend, in the same sitting. Memory:
// the module's linear memory after a stream of --memory-events (default 10M) events through the passes
// up to the one that allocates (one bit per event), with a model of tiny widths so the stream is
// quick (the fixed buffers are then smaller than the demo model's: both sizes are printed).
import { writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { createWasmBackend } from '../../bindings/backends/wasm/index.js';
import { encodePipeline } from '../../bindings/pipeline/model-file.js';
import { BloodCellPipeline, type PipelineState } from '../../bindings/pipeline/index.js';
import { exportClassifier, readGenericModule } from '../../bindings/export/module.js';
import { EmbeddedClassifier } from '../../bindings/export/host.js';
import { handSignals, handState } from '../../test/helpers/embed-models.js';
import { levelAColumns, levelBColumns } from '../../bindings/pipeline/red-levels.js';

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : def;
};
const EVENTS = Number(arg('events', '20000'));
const MEM_EVENTS = Number(arg('memory-events', '10000000'));

/** A hand-made model at the demo's shape (test/helpers/embed-models.ts, widened). */
function demoShape(): PipelineState {
  const st = handState('waveform', 7);
  const F = 128;
  const T = 32;
  st.layout = { kind: 'waveform', points: T, groups: st.layout.groups.map((g, r) => ({ ...g, columns: Array.from({ length: T }, (_, t) => `#${r * T + t}`) })), featureNames: null, inputColumns: F };
  st.meta.features = F;
  const rnd = (n: number, lo: number, hi: number) => Float32Array.from({ length: n }, (_, i) => lo + (hi - lo) * ((Math.sin(i * 12.9898 + n) * 43758.5453) % 1 + 1) % 1);
  st.pre = { offset: rnd(F, -0.1, 0.1), scale: rnd(F, 0.2, 0.6), mean: rnd(F, 0.5, 1.5), std: rnd(F, 0.5, 1.5) };
  st.dims = [256, 64, 10];
  const d = 10;
  for (const s of ['stage1', 'stage2'] as const) {
    const enc: PipelineState['stage1']['encoder'] = {};
    [F, 256, 64].forEach((nin, l) => {
      const out = st.dims[l]!;
      enc[`${s}.encoder.${l}.weight`] = { shape: [out, nin], data: rnd(out * nin, -1 / Math.sqrt(nin), 1 / Math.sqrt(nin)) };
      enc[`${s}.encoder.${l}.bias`] = { shape: [out], data: rnd(out, -0.1, 0.1) };
    });
    st[s].encoder = enc;
  }
  const mix = (k: number, dd: number, classes: number) => ({ k, d: dd, classes, mu: Float64Array.from(rnd(k * dd, -1.5, 1.5)), logVar: Float64Array.from(rnd(k * dd, -1, 0.5)), rho: Float64Array.from({ length: classes * k }, () => 1 / k) });
  st.stage1.centers = rnd(4 * d, -1, 1);
  st.stage2.mixture = mix(24, d, 3);
  const roles = st.stage2.levels!.roles;
  st.stage2.levels = { ...st.stage2.levels!, embeddingDim: d, a: mix(24, levelAColumns(d, roles).length, 2), b: mix(24, levelBColumns(d, roles).length, 2) };
  return st;
}

const lines: string[] = [];
const log = (s: string) => {
  console.log(s);
  lines.push(s);
};
log(`# Exported classifier: size, speed, memory (${new Date().toISOString().slice(0, 10)})`);
log('');
log(`Machine: ${cpus()[0]?.model ?? '?'}, ${cpus().length} cores (shared), Node ${process.version}. \`npx tsx bench/embed/run.ts --events ${EVENTS} --memory-events ${MEM_EVENTS}\`.`);
log('');
const st = demoShape();
const bytes = encodePipeline(st);
const F = st.meta.features;
const x = handSignals(st, EVENTS, 3);
const be = await createWasmBackend({ threads: 1 });
const pipe = BloodCellPipeline.fromBytes(bytes, be, 'demo-shape');
await pipe.classify({ id: 'warm', rows: 2000, cols: F, data: x.subarray(0, 2000 * F) });
let t0 = performance.now();
await pipe.classify({ id: 'b', rows: EVENTS, cols: F, data: x });
const tsRate = EVENTS / ((performance.now() - t0) / 1000);
pipe.dispose();
be.destroy();
log('| path | file bytes | events/s (1 thread, every pass) | memory after the sample |');
log('|---|---|---|---|');
log(`| BloodCellPipeline.classify, wasm backend 1 thread | – | ${tsRate.toFixed(0)} | – |`);
for (const [flavour, int8] of [['simd', false], ['scalar', false], ['simd', true], ['scalar', true]] as const) {
  const wasm = await exportClassifier(bytes, await readGenericModule(flavour), flavour, 'demo-shape', { int8 });
  const c = await EmbeddedClassifier.load(wasm);
  c.classify(x.subarray(0, 2000 * F), 2000, F);
  t0 = performance.now();
  c.classify(x, EVENTS, F);
  const rate = EVENTS / ((performance.now() - t0) / 1000);
  log(`| exported module, ${flavour}${int8 ? ', --int8' : ''} | ${wasm.length} | ${rate.toFixed(0)} | ${(c.abi.memory.buffer.byteLength / 2 ** 20).toFixed(2)} MiB |`);
}
// Memory at MEM_EVENTS: pass 1 only (the bitmap is its one allocation), tiny widths.
const tiny = handState('waveform', 2);
const tinyC = await EmbeddedClassifier.load(await exportClassifier(encodePipeline(tiny), await readGenericModule('simd'), 'simd'));
const a = tinyC.abi;
const tx = handSignals(tiny, a.hc_chunk_rows(), 4);
const before = a.memory.buffer.byteLength;
tinyC.check(a.hc_begin());
t0 = performance.now();
// Every pass up to the one that sets the red-cell bits (the third from last: a centred model has a
// shift pass before it); the later passes allocate nothing.
const upTo = a.hc_passes() - 2;
for (let pass = 1; pass <= upTo; pass++) {
  for (let done = 0; done < MEM_EVENTS; done += a.hc_chunk_rows()) {
    const n = Math.min(a.hc_chunk_rows(), MEM_EVENTS - done);
    new Float32Array(a.memory.buffer, a.hc_input_ptr(), n * tiny.meta.features).set(tx.subarray(0, n * tiny.meta.features));
    tinyC.check(a.hc_push(a.hc_input_ptr(), n, tiny.meta.features));
  }
  tinyC.check(a.hc_end_pass());
}
log('');
log(`Memory: a ${MEM_EVENTS}-event stream (passes 1–${upTo} of ${a.hc_passes()}, tiny-width model) took the module's memory from ${(before / 2 ** 20).toFixed(2)} MiB to ${(a.memory.buffer.byteLength / 2 ** 20).toFixed(2)} MiB ` +
  `(${((performance.now() - t0) / 1000).toFixed(1)} s); the demo-shape model's fixed buffers are in the table. The later passes allocate nothing.`);
const out = arg('out', '');
if (out) await writeFile(out, lines.join('\n') + '\n');
