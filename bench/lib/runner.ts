// The bench pipeline behind bench/run.ts (and the smoke test): ceilings → backends → peers →
// our rows → end-to-end files → table + results files.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { OpSet } from '../../bindings/backend.js';
import { bandwidthFor, measureCeilings, type Ceilings } from '../ceilings/probe.js';
import { opCases, prepare, SIZES, type OpCase } from '../ops/cases.js';
import { createTfjsPeer, type PeerHandle } from '../peers/tfjs.js';
import { createTorchPeer, type TorchPeer } from '../peers/torch.js';
import { createGpujsPeer } from '../peers/gpujs.js';
import { OP_FAMILIES, selected, type BenchArgs } from './args.js';
import { backendConfigs, loadBackend, naBackend, type LoadedBackend } from './backends.js';
import { preflight } from './preflight.js';
import { E2E_PEERS, PEER_CHOICE_OF, type E2EBench, type E2EPeer, type E2EResult } from './e2e.js';
import { hostKind, load1, machineInfo, type MachineInfo } from './machine.js';
import { fillRates, markdownTable, TABLE_LEGEND, textTable, type Row } from './report.js';
import { timeIt } from './timing.js';

const benchDir = join(dirname(fileURLToPath(import.meta.url)), '..');

const OP_OF_FAMILY: Record<OpCase['family'], keyof OpSet> = {
  gemm: 'gemm', softAssign: 'softAssign', gmmLogResp: 'gmmLogResp', adam: 'adamUpdate', biasAct: 'biasAct',
};

export interface BenchResult {
  schema: 1;
  date: string;
  args: Omit<BenchArgs, 'only'> & { only: string[] | null };
  machine: MachineInfo;
  load1: { start: number; end: number };
  ceilings: Ceilings | null;
  backends: { label: string; device: string; sizes: string; software: boolean; na?: string }[];
  peers: { name: string; detail: string; na?: string }[];
  rows: Row[];
  e2e: E2EResult[];
}

export async function runBench(args: BenchArgs, log: (m: string) => void): Promise<{ result: BenchResult; text: string; files: string[] }> {
  const startLoad = load1();
  const machine = machineInfo();
  log(`${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}, load ${startLoad}`);

  // 1. Ceilings (first, while nothing else of ours is resident).
  let ceilings: Ceilings | null = null;
  if (args.ceilings) {
    log('ceilings: FMA-chain peak, clock, triad bandwidth');
    ceilings = await measureCeilings([...new Set([1, ...args.threads])], args.quick);
  }

  // 2. Our backends.
  const loaded = await loadBackends(args, log);

  // 3. Peers, timed at the size our fast backends use.
  const peerSize = SIZES[args.quick ? 'quick' : 'full'];
  const peerCases = opCases(peerSize).filter((c) => selected(args, c.family));
  const { peers, peerInfo } = await startPeers(args, peerCases.length > 0, log);
  const rows: Row[] = [];
  const peerRow = await timePeers(peers, peerInfo, peerCases, ceilings, args, rows, log);

  // 4. Our rows.
  for (const lb of loaded) await timeOurs(lb, { args, ceilings, peerRow, peerInfo, peerSizeName: peerSize.name }, rows, log);
  rows.sort((a, b) => a.label.localeCompare(b.label, 'en', { numeric: true }) || order(a) - order(b));

  // 5. End-to-end scenarios, one file each in bench/e2e/.
  const e2e = args.e2e ? await runE2E(args, loaded, ceilings, log) : [];

  annotateE2E(e2e, loaded, ceilings, args);
  for (const lb of loaded) lb.be?.destroy();
  for (const p of peers) await p.close();

  const result: BenchResult = {
    schema: 1,
    date: new Date().toISOString(),
    args: { ...args, only: args.only ? [...args.only] : null },
    machine,
    load1: { start: startLoad, end: load1() },
    ceilings,
    backends: loaded.map((l) => ({ label: l.config.label, device: l.device, sizes: l.sizes, software: l.software, na: l.na })),
    peers: peerInfo,
    rows,
    e2e,
  };
  const text = `${header(result).join('\n')}\n\n${textTable(rows)}\n${e2eText(e2e)}\n${TABLE_LEGEND.join('\n')}`;
  return { result, text, files: writeResults(result, args) };
}

/** Our backends, each loaded after a preflight in a child process (a crash there is an n/a row, not ours). */
async function loadBackends(args: BenchArgs, log: (m: string) => void): Promise<LoadedBackend[]> {
  const loaded: LoadedBackend[] = [];
  const families = OP_FAMILIES.filter((f) => selected(args, f));
  for (const cfg of backendConfigs(args.backends, args.threads)) {
    const crash = cfg.choice === 'reference' ? null : preflight(cfg, families.length ? [...families] : ['gemm']);
    const lb = crash ? { ...naBackend(cfg, args.quick), na: crash } : await loadBackend(cfg, args.quick);
    log(`backend ${cfg.label}: ${lb.be ? lb.device : `n/a (${lb.na})`}`);
    loaded.push(lb);
  }

  return loaded;
}

/** The peers asked for; one that cannot start is listed with why. */
async function startPeers(args: BenchArgs, anyCase: boolean, log: (m: string) => void): Promise<{ peers: PeerHandle[]; peerInfo: BenchResult['peers'] }> {
  const peers: PeerHandle[] = [];
  const peerInfo: BenchResult['peers'] = [];
  if (args.peers.includes('tfjs') && anyCase) {
    try { const p = await createTfjsPeer(); peers.push(p); peerInfo.push({ name: p.name, detail: p.detail }); }
    catch (e) { peerInfo.push({ name: 'tfjs-wasm', detail: '', na: (e as Error).message }); }
  }
  if (args.peers.includes('torch') && anyCase) {
    const p = createTorchPeer();
    if ('why' in p) peerInfo.push({ name: 'torch', detail: '', na: p.why });
    else peers.push(p);
  }
  if (args.peers.includes('gpujs') && anyCase) {
    log('gpu.js: probing its backends');
    try { const p = await createGpujsPeer(args.quick); peers.push(p); peerInfo.push({ name: p.name, detail: p.detail }); }
    catch (e) { peerInfo.push({ name: 'gpu.js', detail: '', na: (e as Error).message.slice(0, 400) }); }
  }
  return { peers, peerInfo };
}

/** Every peer's rows (appended to `rows`), keyed `${peer}|${threads}|${label}` for our rows' ratios. */
async function timePeers(peers: PeerHandle[], peerInfo: BenchResult['peers'], peerCases: OpCase[], ceilings: Ceilings | null,
  args: BenchArgs, rows: Row[], log: (m: string) => void): Promise<Map<string, Row>> {
  const peerRow = new Map<string, Row>();
  for (const p of peers) {
    for (const t of args.threads) {
      const why = p.whyNotThreads(t);
      if (why) continue;
      if (p.name === 'torch') {
        log(`torch ${t}t: ${peerCases.length} jobs`);
        try { (p as TorchPeer).prefetch(peerCases.map((c) => c.job), t, args.timeMs); } catch (e) { log(`torch: ${(e as Error).message}`); }
      }
      for (const c of peerCases) {
        const r: Row = { label: c.label, family: c.family, backend: `${p.name} ${t}t`, kind: 'peer', flops: c.flops, bytes: c.bytes, unit: c.unit };
        try {
          if (p.name !== 'torch') log(`${p.name} ${t}t: ${c.label}`);
          r.timing = await p.time(c.job, t, args.timeMs);
        } catch (e) { r.na = (e as Error).message.split('\n')[0].slice(0, 200); }
        fillRates(r);
        if (r.timing) {
          const pct = ceilingPct(ceilings, c, t, false, r.timing.p50Ms);
          if (pct === undefined) r.missing = { ceiling: 'ceilings not measured (--no-ceilings)' };
          else r.ceilingPct = pct;
        }
        rows.push(r);
        peerRow.set(`${p.name}|${t}|${c.label}`, r);
      }
    }
    if (p.name === 'torch') {
      peerInfo.push({ name: p.name, detail: p.detail });
    }
  }

  return peerRow;
}

interface OursContext {
  args: BenchArgs;
  ceilings: Ceilings | null;
  peerRow: Map<string, Row>;
  peerInfo: BenchResult['peers'];
  peerSizeName: string;
}

/** One backend's rows (appended to `rows`): timing, roofline % and the ratios to the peers. */
async function timeOurs(lb: LoadedBackend, ctx: OursContext, rows: Row[], log: (m: string) => void): Promise<void> {
  const { args, ceilings, peerRow, peerInfo } = ctx;
  const cases = opCases(SIZES[lb.sizes]).filter((c) => selected(args, c.family));
  for (const c of cases) {
    const r: Row = { label: c.label, family: c.family, backend: lb.config.label, kind: 'ours', flops: c.flops, bytes: c.bytes, unit: c.unit };
    if (lb.software) r.note = 'software rasteriser: correctness device';
    if (lb.sizes === 'small' && !args.quick) r.note = [r.note, 'small shape'].filter(Boolean).join('; ');
    rows.push(r);
    if (!lb.be) { r.na = (lb.na ?? '').length > 70 ? `${lb.na!.slice(0, 67)}… (see header)` : lb.na; continue; }
    if (!lb.be.supportsOp(OP_OF_FAMILY[c.family])) { r.na = `${lb.config.label} does not support ${OP_OF_FAMILY[c.family]}`; continue; }
    log(`${lb.config.label}: ${c.label}`);
    const be = lb.be;
    try {
      const p = prepare(be, c);
      try {
        r.timing = await timeIt(`${lb.config.label} ${c.label}`, async () => { p.run(); await be.sync(); }, { timeMs: args.timeMs });
      } finally { p.dispose(); }
    } catch (e) { r.na = (e as Error).message.split('\n')[0].slice(0, 200); continue; }
    fillRates(r);
    const missing: NonNullable<Row['missing']> = {};
    if (lb.software || lb.config.choice === 'webgpu') missing.ceiling = lb.software ? 'software rasteriser' : 'no GPU ceiling is measured';
    else {
      const pct = ceilingPct(ceilings, c, lb.ceilingThreads, lb.relaxed, r.timing.p50Ms);
      if (pct === undefined) missing.ceiling = ceilings ? 'no peak measured for this flavour/threads' : 'ceilings not measured (--no-ceilings)';
      else r.ceilingPct = pct;
    }
    const t = lb.config.threads;
    for (const [name, key, short] of [['tfjs-wasm', 'vsTfjs', 'tfjs'], ['torch', 'vsTorch', 'torch'], ['gpu.js', 'vsGpujs', 'gpujs']] as const) {
      const same = peerRow.get(`${name}|${t}|${c.label}`);
      const one = peerRow.get(`${name}|1|${c.label}`);
      const ref = same?.gflops ? same : one?.gflops ? one : undefined;
      if (ref?.gflops && r.gflops) r[key] = { ratio: r.gflops / ref.gflops, fewerThreads: ref !== same };
      else missing[short] = peerMissing(args, peerInfo, short, name, same ?? one, lb.sizes !== ctx.peerSizeName);
    }
    if (Object.keys(missing).length) r.missing = missing;
  }
}

/** The end-to-end scenarios of bench/e2e/ (one file each) that args select; a failing one is an n/a row. */
async function runE2E(args: BenchArgs, loaded: LoadedBackend[], ceilings: Ceilings | null, log: (m: string) => void): Promise<E2EResult[]> {
  const e2e: E2EResult[] = [];
  for (const file of readdirSync(join(benchDir, 'e2e')).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')).sort()) {
    const mod = (await import(pathToFileURL(join(benchDir, 'e2e', file)).href)) as { default: E2EBench };
    const sc = mod.default;
    if (!selected(args, sc.name)) continue;
    try {
      e2e.push(...(await sc.run({ quick: args.quick, backends: loaded.filter((l) => l.be), ceilings, peers: args.peers, log })));
    } catch (e) {
      e2e.push({ scenario: sc.name, backend: '', metric: '', value: NaN, seconds: NaN, peakRssMiB: NaN, na: (e as Error).message.slice(0, 200) });
    }
  }
  return e2e;
}

/** Writes the result as JSON and markdown under args.outDir (if any); returns their paths. */
function writeResults(result: BenchResult, args: BenchArgs): string[] {
  const md = markdown(result);
  const machine = result.machine;
  const files: string[] = [];
  if (args.outDir) {
    mkdirSync(args.outDir, { recursive: true });
    const base = join(args.outDir, `${result.date.slice(0, 10)}-${args.tag ?? hostKind(machine)}${args.quick ? '-quick' : ''}`);
    writeFileSync(`${base}.json`, `${JSON.stringify(result, null, 1)}\n`);
    writeFileSync(`${base}.md`, md);
    files.push(`${base}.json`, `${base}.md`);
  }
  return files;
}

/** Roofline % of a row: max(FLOP / peak, bytes / bandwidth) ÷ its median time; undefined without ceilings. */
function ceilingPct(ceilings: Ceilings | null, c: OpCase, threads: number, relaxed: boolean, p50Ms: number): number | undefined {
  if (!ceilings) return undefined;
  const peak = relaxed ? ceilings.peakRelaxed?.[threads] : ceilings.peakSimd[threads];
  if (!peak) return undefined;
  const bw = bandwidthFor(ceilings, c.footprint, threads);
  const roof = Math.max(c.flops / (peak * 1e9), c.bytes / (bw * 1e9));
  return (roof / (p50Ms / 1e3)) * 100;
}

/** Why one of our rows has no ratio to a peer: short, for the note column. */
function peerMissing(args: BenchArgs, info: BenchResult['peers'], short: string, name: string, row: Row | undefined, otherSize: boolean): string {
  const choice = short === 'tfjs' ? 'tfjs' : short === 'torch' ? 'torch' : 'gpujs';
  if (!args.peers.includes(choice)) return 'peer not selected';
  const i = info.find((p) => p.name === name);
  if (i?.na) return `peer n/a (see header)`;
  if (otherSize) return 'peers run at full size only';
  if (row?.na) return `peer row n/a`;
  return 'peer not timed';
}

/**
 * End-to-end rows get the same two judgements as op rows: % of the ceiling (the row's counted FLOP
 * at the measured WASM SIMD128 peak of its flavour × its threads; peers against the baseline peak)
 * and ours ÷ each peer of the same scenario at the same thread count ('*': the peer ran fewer).
 * Whatever cannot be given gets its reason in `missing`.
 */
function annotateE2E(e2e: E2EResult[], loaded: LoadedBackend[], ceilings: Ceilings | null, args: BenchArgs): void {
  const threadsOf = (label: string) => Number(/(\d+)t\b/.exec(label)?.[1] ?? 1);
  for (const r of e2e) {
    if (r.na) continue;
    const missing: NonNullable<E2EResult['missing']> = {};
    const lb = loaded.find((l) => l.config.label === r.backend);
    const t = lb ? lb.ceilingThreads : threadsOf(r.backend);
    const peak = lb?.relaxed ? ceilings?.peakRelaxed?.[t] : ceilings?.peakSimd[t];
    if (lb && (lb.software || lb.config.choice === 'webgpu')) missing.ceiling = lb.software ? 'software rasteriser' : 'no GPU ceiling is measured';
    else if (!ceilings) missing.ceiling = 'ceilings not measured (--no-ceilings)';
    else if (!r.gflops) missing.ceiling = 'scenario counts no FLOP';
    else if (!peak) missing.ceiling = `no peak measured at ${t} thread(s)`;
    else r.ceilingPct = (r.gflops / peak) * 100;
    if (!r.peer) {
      const mine = threadsOf(r.backend);
      for (const p of E2E_PEERS) {
        const peerRows = e2e.filter((x) => x.scenario === r.scenario && x.peer === p && !x.na && x.value > 0);
        const same = peerRows.find((x) => threadsOf(x.backend) === mine);
        const ref = same ?? peerRows.find((x) => threadsOf(x.backend) === 1);
        if (ref) (r.vs ??= {})[p] = { ratio: r.value / ref.value, fewerThreads: ref !== same };
        else missing[p] = r.noPeer ?? (!(args.peers as readonly string[]).includes(PEER_CHOICE_OF[p]) ? 'peer not selected'
          : e2e.some((x) => x.scenario === r.scenario && x.peer === p) ? 'peer row n/a' : 'no such peer row in this scenario');
      }
    }
    if (Object.keys(missing).length) r.missing = missing;
  }
}

function order(r: Row): number {
  const b = r.backend;
  return b.startsWith('reference') ? 0 : b.startsWith('wasm-relaxed') ? 2 : b.startsWith('wasm') ? 1 : b.startsWith('webgpu') ? 3 : b.startsWith('tfjs') ? 4 : b.startsWith('torch') ? 5 : 6;
}

const g = (x: number | undefined, d = 1) => (x === undefined || !Number.isFinite(x) ? 'n/a' : x.toFixed(d));

function header(r: BenchResult): string[] {
  const m = r.machine, c = r.ceilings;
  const lines = [
    `hemaclust bench ${r.date}${r.args.quick ? ' (quick: toy sizes, not a measurement)' : ''}`,
    `machine: ${m.cpuModel}${m.cpuId ? ` (${m.cpuId})` : ''}, ${m.cores} cores, reported ${m.reportedMHz ?? '?'} MHz${m.hypervisor ? ', under a hypervisor' : ''}, ${m.memGiB} GiB, ${m.platform}-${m.arch}, SIMD flags ${m.simdFlags.join(' ')}`,
    `runtime: Node ${m.node}, V8 ${m.v8}`,
    `load average (1 min): ${r.load1.start} at start, ${r.load1.end} at end`,
  ];
  for (const b of r.backends) lines.push(`backend ${b.label}: ${b.na ? `n/a: ${b.na}` : `${b.device} [${b.sizes} sizes]${b.software ? ' — software rasteriser: correctness device' : ''}`}`);
  for (const p of r.peers) lines.push(`peer ${p.name}: ${p.na ? `n/a: ${p.na}` : p.detail}`);
  if (c) {
    const ts = Object.keys(c.peakSimd);
    lines.push(`ceiling clock: ${g(c.clockGHz, 2)} GHz measured (dependent integer chain)`);
    lines.push(`ceiling WASM SIMD128 mul+add: ${ts.map((t) => `${t}t ${g(c.peakSimd[+t])}`).join(', ')} GFLOP/s measured (${g(c.detail.simdFlopPerCycle)} FLOP/cycle/core, ${c.detail.simdChains} chains); derived per core ${g(c.derived.simd2Pipes)} (8 FLOP/cycle) – ${g(c.derived.simdGoldenCove)} (12 FLOP/cycle)`);
    lines.push(c.peakRelaxed
      ? `ceiling WASM relaxed FMA: ${ts.map((t) => `${t}t ${g(c.peakRelaxed?.[+t])}`).join(', ')} GFLOP/s measured (${g(c.detail.relaxedFlopPerCycle ?? NaN)} FLOP/cycle/core); derived per core ${g(c.derived.relaxedFma)} (16 FLOP/cycle)`
      : `ceiling WASM relaxed FMA: n/a (${c.relaxedWhyNot})`);
    lines.push(`ceiling bandwidth (WASM triad, STREAM counting, GB/s): ${c.triad.map((p) => `3×${p.arrayMiB} MiB: ${ts.map((t) => `${t}t ${g(p.gbs[+t])}`).join(', ')}`).join('; ')}`);
  }
  return lines;
}

const e2eRatio = (v: { ratio: number; fewerThreads: boolean } | undefined) => (v ? `${v.ratio >= 10 ? v.ratio.toFixed(0) : v.ratio.toFixed(2)}${v.fewerThreads ? '*' : ''}` : '');

/** The judgement cells of an e2e row: % ceiling and ÷ each peer ('–' + reason when absent, 'peer' on peer rows). */
function e2eJudge(r: E2EResult): { ceiling: string; vs: Record<E2EPeer, string>; why: string } {
  const m = r.missing ?? {};
  const why = [m.ceiling && `ceiling: ${m.ceiling}`, ...E2E_PEERS.map((p) => m[p] && `÷${p}: ${m[p]}`)].filter(Boolean).join('; ');
  const vs = Object.fromEntries(E2E_PEERS.map((p) => [p, r.peer ? 'peer' : e2eRatio(r.vs?.[p]) || (m[p] ? '–' : '')])) as Record<E2EPeer, string>;
  return { ceiling: r.ceilingPct !== undefined ? `${r.ceilingPct.toFixed(0)}%` : m.ceiling ? '–' : '', vs, why };
}

function e2eText(e: E2EResult[]): string {
  if (!e.length) return '';
  const lines = ['', 'end-to-end:'];
  for (const r of e) {
    const j = e2eJudge(r);
    const notes = [r.note, r.counted && `FLOP: ${r.counted}`, j.why].filter(Boolean).join('; ');
    lines.push(r.na ? `  ${r.scenario} — ${r.backend}: n/a (${r.na})`
      : `  ${r.scenario} — ${r.backend}: ${g(r.value, 0)} ${r.metric}, ${g(r.seconds, 1)} s${r.gflops ? `, ${g(r.gflops)} GFLOP/s` : ''}, ceiling ${j.ceiling}, ${E2E_PEERS.map((p) => `÷${p} ${j.vs[p]}`).join(', ')}, process peak RSS ${r.peakRssMiB} MiB${notes ? ` (${notes})` : ''}`);
  }
  return `${lines.join('\n')}\n`;
}

function markdown(r: BenchResult): string {
  const e = r.e2e.length
    ? ['', '## End-to-end', '', `| scenario | backend | result | seconds | GFLOP/s | % ceiling | ${E2E_PEERS.map((p) => `÷${p}`).join(' | ')} | peak RSS MiB (bench process so far, or the scenario child process where the note says so) | note |`, `| --- | --- | ---: | ---: | ---: | ---: | ${E2E_PEERS.map(() => '---:').join(' | ')} | ---: | --- |`,
      ...r.e2e.map((x) => {
        const j = e2eJudge(x);
        const note = x.na ?? [x.note, x.counted && `FLOP: ${x.counted}`, j.why].filter(Boolean).join('; ');
        return `| ${x.scenario} | ${x.backend} | ${x.na ? 'n/a' : `${g(x.value, 0)} ${x.metric}`} | ${g(x.seconds, 1)} | ${g(x.gflops)} | ${x.na ? '' : j.ceiling} | ${E2E_PEERS.map((p) => (x.na ? '' : j.vs[p])).join(' | ')} | ${x.peakRssMiB} | ${note.replace(/\|/g, '\\|')} |`;
      })]
    : [];
  return [
    `# hemaclust bench — ${r.date.slice(0, 10)} — ${hostKind(r.machine)}`, '',
    ...header(r).map((l) => `- ${l}`), '',
    '## Op-level rows', '', markdownTable(r.rows), ...e, '',
    ...TABLE_LEGEND.map((l) => `> ${l}`), '',
    `Command: \`npm run bench --${r.args.quick ? ' --quick' : ''}${r.args.only ? ` --only ${r.args.only.join(',')}` : ''} --threads ${r.args.threads.join(',')} --backends ${r.args.backends.join(',')} --peers ${r.args.peers.join(',') || 'none'}${r.args.tag ? ` --tag ${r.args.tag}` : ''}\``, '',
  ].join('\n');
}
