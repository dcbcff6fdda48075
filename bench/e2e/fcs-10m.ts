// End-to-end: 10M cells streamed from one FCS 3.1 file through the two-stage pipeline, with the
// PEAK RSS of a child process that does only that (target < 1 GiB).
//
// Parent (the bench process): trains the throw-away pipeline (pipeline-1m.ts; not timed), saves it,
// and writes the FCS file to a temp dir chunk by chunk — HEADER + TEXT first, then DATA appended
// 50k events at a time, so 10M × 128 float32 (5.1 GB) never sit in memory. The events cycle a pool
// of simulated samples. Child (this file run as a script, `child` argument): loads the model,
// streamFcsEvents(path, classify per chunk), prints cells/s and process.resourceUsage().maxRSS, so
// the RSS is the scenario's own and not the bench process's. The temp dir is removed afterwards.
//
// The FCS layout follows bindings/io/fcs.ts (encodeFcs): FCS 3.1, $MODE L, $DATATYPE F,
// little-endian, '/' delimiter, $BEGINDATA/$ENDDATA in TEXT, HEADER DATA offsets 0 when they exceed
// 99,999,999 (Spidlen et al., Cytometry A 77A (2010) 97–100). encodeFcs needs all events at once,
// hence this writer of the header alone.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { featureNames } from '../../bindings/simulate/index.js';
import { peakRssMiB, type E2EBench, type E2EResult } from '../lib/e2e.js';
import { cellPool, classifyFlop, FEATURES, NO_PIPELINE_PEER, trainBenchPipeline } from './pipeline-1m.js';

const HEADER_BYTES = 58;
const thisFile = fileURLToPath(import.meta.url);
const repoRoot = join(dirname(thisFile), '..', '..');

/** HEADER + TEXT of an FCS 3.1 float32 list-mode file with `events` rows of `names` parameters. */
export function fcsPrefix(names: string[], events: number, range: number): Uint8Array {
  const par = names.length;
  const esc = (s: string) => (s === '' ? ' ' : s).replace(/\//g, '//');
  const pairs: [string, string][] = [['$CYT', 'hemaclust bench (simulated)'], ['$BYTEORD', '1,2,3,4'], ['$DATATYPE', 'F'], ['$MODE', 'L'],
    ['$NEXTDATA', '0'], ['$PAR', String(par)], ['$TOT', String(events)], ['$BEGINANALYSIS', '0'], ['$ENDANALYSIS', '0'], ['$BEGINSTEXT', '0'], ['$ENDSTEXT', '0']];
  names.forEach((n, i) => pairs.push([`$P${i + 1}N`, n], [`$P${i + 1}B`, '32'], [`$P${i + 1}E`, '0,0'], [`$P${i + 1}R`, String(range)]));
  const body = pairs.map(([k, v]) => `${esc(k)}/${esc(v)}/`).join('');
  const dataBytes = events * par * 4;
  const enc = new TextEncoder();
  const textFor = (start: number) => enc.encode(`/${body}$BEGINDATA/${start}/$ENDDATA/${start + dataBytes - 1}/`);
  // TEXT's length depends on the digits of its own offsets: iterate to the fixed point.
  let text = textFor(0);
  for (let guess = HEADER_BYTES + text.length; ; guess = HEADER_BYTES + text.length) {
    text = textFor(guess);
    if (HEADER_BYTES + text.length === guess) break;
  }
  const dataStart = HEADER_BYTES + text.length;
  const dataEnd = dataStart + dataBytes - 1;
  const inHeader = dataEnd <= 99_999_999;
  const header = 'FCS3.1    ' + [HEADER_BYTES, dataStart - 1, inHeader ? dataStart : 0, inHeader ? dataEnd : 0, 0, 0].map((v) => String(v).padStart(8, ' ')).join('');
  const out = new Uint8Array(dataStart);
  for (let i = 0; i < HEADER_BYTES; i++) out[i] = header.charCodeAt(i);
  out.set(text, HEADER_BYTES);
  return out;
}

/** Writes `events` rows cycling `pool` (each rows × FEATURES) to `path`, one pool sample per write. */
function writeFcsStreaming(path: string, pool: Float32Array[], events: number): void {
  let max = 1;
  for (const p of pool) for (let i = 0; i < p.length; i++) if (p[i] > max) max = p[i];
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, fcsPrefix(featureNames(FEATURES / 4), events, Math.ceil(max)));
    const poolRows = pool[0].length / FEATURES;
    for (let done = 0, k = 0; done < events; k++) {
      const rows = Math.min(poolRows, events - done);
      const p = pool[k % pool.length];
      writeSync(fd, new Uint8Array(p.buffer, p.byteOffset, rows * FEATURES * 4));
      done += rows;
    }
  } finally {
    closeSync(fd);
  }
}

interface ChildReport { cells: number; seconds: number; maxRssMiB: number; platelets: number }

/** The child's whole job: load the model, stream the file, classify every chunk. */
async function childMain(fcsPath: string, modelPath: string, threads: number, chunkRows: number): Promise<void> {
  const { createWasmBackend } = await import('../../bindings/backends/wasm/index.js');
  const { BloodCellPipeline } = await import('../../bindings/pipeline/index.js');
  const { streamFcsEvents } = await import('../../bindings/io/fcs.js');
  const be = await createWasmBackend({ threads });
  const pipe = await BloodCellPipeline.load(modelPath, be);
  let cells = 0, platelets = 0, k = 0;
  const t0 = performance.now();
  await streamFcsEvents(fcsPath, async (chunk, rows) => {
    const r = await pipe.classify({ id: `chunk${k++}`, rows, cols: FEATURES, data: chunk });
    cells += rows;
    platelets += r.summary.counts.platelet;
  }, chunkRows);
  const seconds = (performance.now() - t0) / 1e3;
  pipe.dispose();
  be.destroy();
  const report: ChildReport = { cells, seconds, maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024), platelets };
  process.stdout.write(`\nFCS-CHILD ${JSON.stringify(report)}\n`);
}

function runChild(fcsPath: string, modelPath: string, threads: number, chunkRows: number): ChildReport {
  const r = spawnSync(process.execPath, ['--import', 'tsx', thisFile, 'child', fcsPath, modelPath, String(threads), String(chunkRows)],
    { cwd: repoRoot, encoding: 'utf8', maxBuffer: 16 << 20 });
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('FCS-CHILD '));
  if (r.status !== 0 || !line) throw new Error(`child exited ${r.status ?? r.signal}: ${(r.stderr || r.stdout || '').trim().split('\n').slice(-3).join(' | ').slice(0, 300)}`);
  return JSON.parse(line.slice('FCS-CHILD '.length)) as ChildReport;
}

const bench: E2EBench = {
  name: 'fcs-10m',
  description: '10M cells streamed from an FCS file through the pipeline in a child process: cells/s and the child\'s peak RSS',
  async run(ctx) {
    // HEMACLUST_BENCH_FCS_CELLS overrides the count (a shorter run; the row's label shows the count).
    const override = Number(process.env.HEMACLUST_BENCH_FCS_CELLS ?? '');
    let cells = Number.isSafeInteger(override) && override > 0 ? override : ctx.quick ? 100_000 : 10_000_000;
    const chunkRows = ctx.quick ? 25_000 : 65_536;
    const poolRows = 50_000;
    const out: E2EResult[] = [];
    const targets = ctx.backends.filter((lb) => lb.be && lb.config.choice === 'wasm');
    if (!targets.length) return out;
    const dir = mkdtempSync(join(tmpdir(), 'hemaclust-fcs-bench-'));
    const notes: string[] = [];
    try {
      // 10M × 128 × 4 B = 5.1 GB: shrink to what the temp disk holds with 2 GB to spare.
      const fs = statfsSync(dir);
      const free = fs.bavail * fs.bsize;
      const fits = Math.floor((free - 2e9) / (FEATURES * 4));
      if (fits < cells) {
        cells = Math.max(poolRows, Math.floor(fits / poolRows) * poolRows);
        notes.push(`temp disk short: ${cells} cells instead of the planned count`);
      }
      const label = `FCS stream ${cells >= 1e6 ? `${cells / 1e6}M` : `${cells / 1e3}k`} cells → pipeline (${chunkRows} rows/chunk, child process)`;
      ctx.log(`e2e ${label}: training the throw-away pipeline`);
      const pipe = await trainBenchPipeline(targets[0].be!, ctx.quick);
      const modelPath = join(dir, 'bench.hcm');
      await pipe.save(modelPath);
      pipe.dispose();
      const fcsPath = join(dir, 'cells.fcs');
      ctx.log(`e2e ${label}: writing ${((cells * FEATURES * 4) / 1e9).toFixed(2)} GB of FCS`);
      const tw = performance.now();
      const poolSize = ctx.quick ? 2 : 4;
      writeFcsStreaming(fcsPath, cellPool(poolSize, poolRows), cells);
      notes.push(`FCS written in ${((performance.now() - tw) / 1e3).toFixed(0)} s (not timed), events cycle ${poolSize} simulated 50k-cell samples; training not timed; RSS = child's maxRSS`);
      for (const lb of targets) {
        ctx.log(`e2e ${label} on ${lb.config.label} (child process)`);
        try {
          const r = runChild(fcsPath, modelPath, lb.config.threads, chunkRows);
          if (r.cells !== cells) throw new Error(`child classified ${r.cells} cells, file holds ${cells}`);
          const fl = classifyFlop(ctx.quick);
          out.push({ scenario: label, backend: lb.config.label, metric: 'cells/s', value: r.cells / r.seconds, seconds: r.seconds, peakRssMiB: r.maxRssMiB,
            gflops: (r.cells * fl.perCell) / r.seconds / 1e9, counted: `${fl.counted}; FCS parsing not counted`, noPeer: NO_PIPELINE_PEER,
            note: [`child peak RSS ${r.maxRssMiB} MiB (${r.maxRssMiB < 1024 ? 'under' : 'OVER'} the 1 GiB target)`, ...notes].join('; ') });
        } catch (e) {
          out.push({ scenario: label, backend: lb.config.label, metric: 'cells/s', value: NaN, seconds: NaN, peakRssMiB: peakRssMiB(), na: (e as Error).message.slice(0, 200) });
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return out;
  },
};
export default bench;

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url && process.argv[2] === 'child') {
  const [fcsPath, modelPath, threads, chunkRows] = process.argv.slice(3);
  childMain(fcsPath, modelPath, Number(threads), Number(chunkRows)).catch((e: unknown) => {
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  });
}
