// Evidence for the clustering defaults on real data: a grid over MNIST sizes, resolutions and
// augmentation, each row over several seeds, every method with the library's defaults (what
// `hemaclust cluster` runs without options). For each (rows, side, augmentation, seed) one
// autoencoder is pretrained with the defaults and shared: AE + k-means clusters its embedding, and
// VaDE / IDEC start from it — exactly the network their own fit would pretrain (same seed, same
// defaults), without paying for it twice.
//
//   tsx scripts/mnist-grid.ts [--sizes 1000,2000] [--sides 28,14,8] [--augment none,on] [--seeds 3]
//        [--methods AE+k-means,VaDE,IDEC] [--threads 1] [--out FILE] [--pretrain-epochs N]
//        [--vade-epochs N] [--idec-epochs N]
// Augmentation 'on': random shifts ≤ 3 px at 28×28 (scaled with the side) and rotations ≤ 10° on
// every training minibatch (DEC-DA); scores always on the clean digits. Without --pretrain-epochs /
// --vade-epochs the library defaults apply (50 / 100). A run that throws is recorded as an error
// in its row, and the grid goes on.
import { execSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import v8 from 'node:v8';
import { parseArgs } from 'node:util';
import { createBackend } from '../bindings/backends/index.js';
import { clusteringScores } from '../bindings/metrics/index.js';
import { Autoencoder, IDEC, KMeans, VaDE, imageAffine, type ImageAffineOptions, type Matrix } from '../bindings/models/index.js';
import { downsample, loadMnist } from './mnist-data.js';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string' }, sides: { type: 'string' }, augment: { type: 'string' }, seeds: { type: 'string' },
    methods: { type: 'string' }, threads: { type: 'string' }, out: { type: 'string' },
    'pretrain-epochs': { type: 'string' }, 'vade-epochs': { type: 'string' }, 'idec-epochs': { type: 'string' },
  },
});
// The relaxed-SIMD wasm build (fused multiply-add, ~1.2× on the training GEMMs), as validate-mnist
// uses: Node 20 validates it only behind this flag, set before any module is compiled.
v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
const list = (v: string | undefined, d: string) => (v ?? d).split(',').map((s) => s.trim());
const sizes = list(values.sizes, '1000,2000').map(Number);
const sides = list(values.sides, '28,14,8').map(Number);
const augs = list(values.augment, 'none,on');
const seeds = Number(values.seeds ?? 3);
const methods = list(values.methods, 'AE+k-means,VaDE');
const threads = Number(values.threads ?? 1);
const pretrainEpochs = values['pretrain-epochs'] ? Number(values['pretrain-epochs']) : undefined;
const vadeEpochs = values['vade-epochs'] ? Number(values['vade-epochs']) : undefined;
const idecEpochs = Number(values['idec-epochs'] ?? 30);
const out = values.out ?? `bench/results/mnist-grid-${new Date().toISOString().slice(0, 10)}.md`;

interface Cell { acc: number[]; errors: string[]; recoveries: number; seconds: number[] }
const rows: { key: string; cells: Record<string, Cell> }[] = [];
const all = loadMnist(Math.max(...sizes));
const be = await createBackend('wasm', { threads, log: () => undefined });
const t0 = performance.now();
const commit = (() => {
  try {
    return execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim() + (execSync('git status --porcelain -- bindings scripts', { encoding: 'utf8' }).trim() ? ' (+ uncommitted changes)' : '');
  } catch {
    return 'unknown';
  }
})();
const cmd = `nice -n 10 npx tsx scripts/mnist-grid.ts ${process.argv.slice(2).join(' ')}`.trim();

// Seeds outermost: a run stopped early still has every row, with fewer seeds.
for (let seed = 1; seed <= seeds; seed++) for (const n of sizes) for (const side of sides) for (const aug of augs) {
  const sub: Matrix = { rows: n, cols: 784, data: all.x.data.subarray(0, n * 784) };
  const x = downsample(sub, 28, side);
  const y = all.y.subarray(0, n);
  const affine: ImageAffineOptions | undefined = aug === 'on' ? { width: side, height: side, maxShift: (3 * side) / 28, maxRotate: 10 } : undefined;
  const augment = affine ? imageAffine(affine) : undefined;
  const key = `${n} | ${side}×${side} | ${aug}`;
  let row = rows.find((r) => r.key === key);
  if (!row) rows.push((row = { key, cells: Object.fromEntries(methods.map((m) => [m, { acc: [], errors: [], recoveries: 0, seconds: [] } as Cell])) }));
  {
    const timed = async (m: string, f: () => Promise<Int32Array>) => {
      const c = row!.cells[m];
      const t = performance.now();
      try {
        const acc = clusteringScores(y, await f()).acc;
        c.acc.push(acc);
        console.error(`${key} seed ${seed} ${m}: ACC ${acc.toFixed(4)}`);
      } catch (e) {
        c.errors.push(`seed ${seed}: ${(e as Error).message}`);
        console.error(`${key} seed ${seed} ${m}: ERROR ${(e as Error).message}`);
      }
      c.seconds.push((performance.now() - t) / 1000);
    };
    const tp = performance.now();
    const ae = await new Autoencoder(be, { seed }).fit(x, { epochs: pretrainEpochs, augment });
    const pretrainS = (performance.now() - tp) / 1000;
    if (methods.includes('AE+k-means')) await timed('AE+k-means', async () => {
      const z = await ae.transform(x);
      return (await new KMeans(be, { k: 10, seed, nInit: 20 }).fit({ rows: n, cols: z.length / n, data: z })).labels!;
    });
    if (methods.includes('VaDE')) await timed('VaDE', async () => {
      const m = new VaDE(be, { k: 10, seed, augment: affine, epochs: vadeEpochs });
      try {
        await m.fit(x, { pretrained: ae, onProgress: (p) => p.stage === 'recover' && console.error(`  ${p.message}`) });
        row!.cells.VaDE.recoveries += m.recoveries.length;
        return await m.predict(x);
      } finally {
        m.dispose();
      }
    });
    if (methods.includes('IDEC')) await timed('IDEC', async () => {
      const m = new IDEC(be, { k: 10, seed, maxIterations: idecEpochs * Math.ceil(n / 256) });
      try {
        await m.fit(x, { pretrained: ae, augment });
        return m.labels!;
      } finally {
        m.dispose();
      }
    });
    ae.dispose();
    console.error(`  pretraining ${pretrainS.toFixed(1)} s; elapsed ${((performance.now() - t0) / 60000).toFixed(1)} min`);
    write();
  }
}
be.destroy();

function write(): void {
  const mean = (a: number[]) => (a.length ? a.reduce((s, v) => s + v, 0) / a.length : NaN);
  const fmt = (c: Cell) => c.acc.length ? `${mean(c.acc).toFixed(3)} (${c.acc.map((v) => v.toFixed(3)).join(', ')})${c.errors.length ? ` **${c.errors.length} error(s)**` : ''}` : `**${c.errors.length} error(s)**`;
  const lines = [
    `# MNIST grid — defaults on real data (${new Date().toISOString().slice(0, 10)})`,
    '',
    `- command: \`${cmd}\``,
    `- commit: ${commit}; machine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores shared with other work, Node ${process.version}`,
    `- backend: ${be.info().name} (${be.info().device}); wall time so far ${((performance.now() - t0) / 60000).toFixed(1)} min`,
    `- data: the first N digits of the \`mnist\` package (class round-robin), area-averaged to side×side, pixels in [0,1]; k = 10`,
    `- every method at its library defaults: autoencoder 784-500-500-2000-10 (or side²-…), ${pretrainEpochs ?? 50} pretraining epochs, Adam 1e-3, batch 256;` +
      ` AE + k-means: 20 restarts on the embedding; VaDE: ${vadeEpochs ?? 100} ELBO epochs, lr 2e-3, collapse recovery on${methods.includes('IDEC') ? `; IDEC: ${idecEpochs} epochs` : ''}`,
    `- augmentation 'on': shifts ≤ 3·side/28 px, rotations ≤ 10° on every training minibatch; scores on the clean digits`,
    `- ACC (Hungarian) as mean (seed 1, 2, …)`,
    '',
    `| rows | side | augment | ${methods.join(' | ')} | VaDE ≥ AE+k-means | VaDE rollbacks |`,
    `|---|---|---|${methods.map(() => '---').join('|')}|---|---|`,
    ...rows.map((r) => {
      const v = r.cells.VaDE;
      const a = r.cells['AE+k-means'];
      const ok = v && a && v.acc.length && a.acc.length ? (mean(v.acc) >= mean(a.acc) ? 'yes' : '**no**') : '–';
      return `| ${r.key} | ${methods.map((m) => fmt(r.cells[m])).join(' | ')} | ${ok} | ${v ? v.recoveries : '–'} |`;
    }),
    '',
    ...rows.flatMap((r) => Object.entries(r.cells).flatMap(([m, c]) => c.errors.map((e) => `- ${r.key} ${m} ${e}`))),
    '',
    'Seconds per run (mean over the row\'s seeds, pretraining excluded): ' +
      rows.map((r) => `${r.key}: ${methods.map((m) => `${m} ${mean(r.cells[m].seconds).toFixed(0)}`).join(', ')}`).join('; '),
    '',
  ];
  writeFileSync(out, lines.join('\n'));
}
