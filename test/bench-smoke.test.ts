// Keeps the benchmark harness from rotting: a --quick run at toy sizes through the same code path as
// `npm run bench` (ceiling probes, backends with n/a handling, tfjs/torch peers, e2e files, table
// and results files). It asserts structure only — never speeds: timings on a shared CI machine
// mean nothing, and speed targets live in the benchmark itself.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseArgs, type BenchArgs } from '../bench/lib/args.js';
import { opCases, SIZES } from '../bench/ops/cases.js';
import { runBench, type BenchResult } from '../bench/lib/runner.js';

const out = mkdtempSync(join(tmpdir(), 'hemaclust-bench-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('bench harness (quick, toy sizes)', () => {
  it('parses the documented options and rejects unknown ones', () => {
    const a = parseArgs(['--quick', '--only', 'gemm,adam', '--threads', '1,3', '--peers', 'none', '--backends', 'reference,wasm']) as BenchArgs;
    expect(a.quick).toBe(true);
    expect([...a.only!]).toEqual(['gemm', 'adam']);
    expect(a.threads).toEqual([1, 3]);
    expect(a.peers).toEqual([]);
    expect(a.backends).toEqual(['reference', 'wasm']);
    expect(a.timeMs).toBeGreaterThan(0);
    expect(a.outDir).toBeNull(); // a toy-size run leaves bench/results alone unless --out is given
    expect((parseArgs([]) as BenchArgs).outDir).toBe('bench/results');
    expect(() => parseArgs(['--threads', '0'])).toThrow(/positive/);
    expect(() => parseArgs(['--backends', 'cuda'])).toThrow(/unknown 'cuda'/);
    expect(() => parseArgs(['--bogus'])).toThrow(/unknown option/);
  });

  it('counts GEMM work as 2·M·N·K and lists forward and both backward GEMMs per layer', () => {
    const g = opCases(SIZES.full).filter((c) => c.family === 'gemm');
    expect(g).toHaveLength(12);
    const l1 = g.find((c) => c.label.includes('NN 4096×784×500'))!;
    expect(l1.flops).toBe(2 * 4096 * 784 * 500);
    expect(g.filter((c) => c.label.startsWith('gemm NT'))).toHaveLength(4);
    expect(g.filter((c) => c.label.startsWith('gemm TN'))).toHaveLength(4);
  });

  let result: BenchResult;
  it('runs end to end and writes JSON + markdown with a row (or an n/a reason) for every case', async () => {
    const args = parseArgs(['--quick', '--only', 'gemm,softAssign,adam,encoder-1m,train-idec,train-vade,train-pipeline', '--threads', '1',
      '--backends', 'reference,wasm', '--time', '5', '--out', out, '--tag', 'smoke']) as BenchArgs;
    const logs: string[] = [];
    const r = await runBench(args, (m) => logs.push(m));
    result = r.result;
    const cases = opCases(SIZES.quick).filter((c) => ['gemm', 'softAssign', 'adam'].includes(c.family));
    for (const backend of ['reference', 'wasm 1t']) {
      for (const c of cases) {
        const row = result.rows.find((x) => x.backend === backend && x.label === c.label);
        expect(row, `${backend} ${c.label}`).toBeDefined();
        // either measured, or saying why not — never silently empty
        if (row!.timing) expect(row!.timing.p50Ms).toBeGreaterThanOrEqual(0);
        else expect(row!.na).toMatch(/\S/);
      }
    }
    // a backend that could not run says so loudly here (the run itself must still pass)
    for (const lb of result.backends) if (lb.na) console.warn(`bench smoke: backend ${lb.label} n/a: ${lb.na}`);
    // the reference backend always exists, so at least its rows were really measured
    expect(result.rows.filter((x) => x.backend === 'reference' && x.timing).length).toBe(cases.length);
    expect(result.load1.start).toBeGreaterThanOrEqual(0);
    expect(result.ceilings?.peakSimd[1]).toBeGreaterThan(0);
    expect(r.text).toContain('% ceiling');
    const files = readdirSync(out).sort();
    expect(files.some((f) => f.endsWith('-smoke-quick.json'))).toBe(true);
    expect(files.some((f) => f.endsWith('-smoke-quick.md'))).toBe(true);
    const json = JSON.parse(readFileSync(join(out, files.find((f) => f.endsWith('.json'))!), 'utf8')) as BenchResult;
    expect(json.rows.length).toBe(result.rows.length);
    expect(readFileSync(join(out, files.find((f) => f.endsWith('.md'))!), 'utf8')).toMatch(/^# hemaclust bench/);
    expect(result.e2e.length).toBeGreaterThan(0);
    // The pipeline's training row: measured on wasm, with its phases in the note.
    const tp = result.e2e.find((e) => e.scenario === 'train-pipeline' && e.backend === 'wasm 1t');
    expect(tp?.value, 'train-pipeline wasm 1t events/s').toBeGreaterThan(0);
    expect(tp?.note).toMatch(/stage1-pretrain [\d.]+ s.*stage2-map [\d.]+ s/);
  });

  it('gives every measured row its fraction of the ceiling and each peer ratio, or says why not', () => {
    const peerKeys = { tfjs: 'vsTfjs', torch: 'vsTorch', gpujs: 'vsGpujs' } as const;
    for (const r of result.rows.filter((x) => x.timing)) {
      if (r.ceilingPct === undefined) expect(r.missing?.ceiling, `${r.backend} ${r.label} ceiling`).toMatch(/\S/);
      else expect(r.ceilingPct).toBeGreaterThan(0);
      if (r.kind !== 'ours') continue;
      for (const [p, key] of Object.entries(peerKeys)) {
        if (r[key]) expect(r[key]!.ratio).toBeGreaterThan(0);
        else expect(r.missing?.[p as keyof typeof peerKeys], `${r.backend} ${r.label} ÷${p}`).toMatch(/\S/);
      }
    }
    for (const e of result.e2e.filter((x) => !x.na)) {
      if (e.ceilingPct === undefined) expect(e.missing?.ceiling, `${e.scenario} ${e.backend} ceiling`).toMatch(/\S/);
      else expect(e.ceilingPct).toBeGreaterThan(0);
      if (e.peer) continue;
      for (const p of ['tfjs', 'torch'] as const) {
        if (e.vs?.[p]) expect(e.vs[p]!.ratio).toBeGreaterThan(0);
        else expect(e.missing?.[p], `${e.scenario} ${e.backend} ÷${p}`).toMatch(/\S/);
      }
    }
  });

  it('times IDEC and VaDE training on the wasm backend with a tfjs peer row (torch where installed)', () => {
    for (const model of ['IDEC', 'VaDE']) {
      const rows = result.e2e.filter((x) => x.scenario.startsWith(`${model} train`));
      expect(rows.length, model).toBeGreaterThan(0);
      const ours = rows.filter((x) => x.backend === 'wasm 1t');
      expect(ours.length, `${model} wasm rows`).toBe(2); // pipeline and DEC layouts
      // marginal timing at toy sizes may be swamped by noise; then the row must say so
      for (const r of ours) if (r.na) expect(r.na).toMatch(/timing noise/); else expect(r.value).toBeGreaterThan(0);
      const tfjs = rows.filter((x) => x.peer === 'tfjs');
      expect(tfjs.length, `${model} tfjs rows`).toBe(2);
      for (const r of tfjs) {
        expect(r.na, `${model} tfjs`).toBeUndefined();
        expect(r.value).toBeGreaterThan(0);
      }
      const torch = result.peers.find((p) => p.name === 'torch');
      if (torch && !torch.na) expect(rows.some((x) => x.peer === 'torch' && x.value > 0), `${model} torch`).toBe(true);
    }
  });

  it('reports each peer as measured rows or with a reason it is missing', () => {
    for (const name of ['tfjs-wasm', 'torch', 'gpu.js']) {
      const info = result.peers.find((p) => p.name === name);
      const rows = result.rows.filter((x) => x.kind === 'peer' && x.backend.startsWith(name));
      expect(info, name).toBeDefined();
      if (info!.na) expect(rows).toHaveLength(0);
      else expect(rows.some((x) => x.timing)).toBe(true);
    }
    // gpu.js names the backend it chose and what became of the others
    const gj = result.peers.find((p) => p.name === 'gpu.js')!;
    if (!gj.na) expect(gj.detail).toMatch(/fastest working backend.*webasm/);
    // Adam is the one op gpu.js cannot express fairly: its row says why
    const adam = result.rows.find((x) => x.backend === 'gpu.js 1t' && x.family === 'adam');
    if (!gj.na) expect(adam?.na).toMatch(/not expressible/);
  });
});
