// Rows → a plain-text table (stdout), a markdown file and a JSON file. One row = one op case on one
// backend or peer. Our rows carry the ratio to each peer (>1: we are faster) and the fraction of
// the roofline ceiling: t_roof = max(FLOP / peak, bytes / bandwidth) with the measured WASM peak
// for the row's SIMD flavour and thread count, so 100% means "as fast as WASM could go".
import type { Timing } from './timing.js';

export interface Row {
  label: string;
  family: string;
  /** "wasm 1t", "tfjs-wasm 1t", "torch 2t", "reference", "webgpu". */
  backend: string;
  kind: 'ours' | 'peer';
  /** Nominal work, for GFLOP/s and GB/s. */
  flops: number;
  bytes: number;
  unit: 'GFLOP/s' | 'GB/s';
  timing?: Timing;
  /** Why this row has no timing. */
  na?: string;
  gflops?: number;
  gbs?: number;
  ceilingPct?: number;
  /** ours / peer throughput (same op, same size); '*' in the table when the peer ran fewer threads. */
  vsTfjs?: { ratio: number; fewerThreads: boolean };
  vsTorch?: { ratio: number; fewerThreads: boolean };
  vsGpujs?: { ratio: number; fewerThreads: boolean };
  /** Why a ceiling or a peer ratio is absent on this row (every row carries both or a reason). */
  missing?: { ceiling?: string; tfjs?: string; torch?: string; gpujs?: string };
  note?: string;
}

export function fillRates(r: Row): void {
  if (!r.timing) return;
  const s = r.timing.p50Ms / 1e3;
  r.gflops = r.flops / s / 1e9;
  r.gbs = r.bytes / s / 1e9;
}

const f = (x: number | undefined, d = 1) => (x === undefined || !Number.isFinite(x) ? '' : x >= 100 ? x.toFixed(0) : x.toFixed(d));
const ratio = (v: Row['vsTfjs']) => (v ? `${v.ratio >= 10 ? v.ratio.toFixed(0) : v.ratio.toFixed(2)}${v.fewerThreads ? '*' : ''}` : '');

const HEAD = ['op', 'backend', 'median ms', 'GFLOP/s', 'GB/s', '% ceiling', '÷tfjs', '÷torch', '÷gpujs', 'note'];
const NUMERIC = (c: number) => c >= 2 && c <= 8;

function cells(r: Row): string[] {
  if (!r.timing) return [r.label, r.backend, 'n/a', '', '', '', '', '', '', r.na ?? ''];
  const primary = (u: Row['unit'], x: string) => (r.unit === u ? x : x ? `(${x})` : '');
  // An absent ratio or ceiling prints a dash and its reason goes to the note, so no cell is silently empty.
  const m = r.missing ?? {};
  const why = [m.ceiling && `ceiling: ${m.ceiling}`, ...(['tfjs', 'torch', 'gpujs'] as const).map((p) => m[p] && `÷${p}: ${m[p]}`)].filter(Boolean);
  const dash = (v: string, reason: string | undefined) => v || (reason ? '–' : '');
  const ratios = r.kind === 'peer' ? ['peer', 'peer', 'peer']
    : [dash(ratio(r.vsTfjs), m.tfjs), dash(ratio(r.vsTorch), m.torch), dash(ratio(r.vsGpujs), m.gpujs)];
  return [
    r.label, r.backend, f(r.timing.p50Ms, 2), primary('GFLOP/s', f(r.gflops)), primary('GB/s', f(r.gbs)),
    dash(r.ceilingPct === undefined ? '' : `${f(r.ceilingPct, 0)}%`, m.ceiling), ...ratios,
    [r.note, ...why].filter(Boolean).join('; '),
  ];
}

export function textTable(rows: Row[]): string {
  const all = [HEAD, ...rows.map(cells)];
  const w = HEAD.map((_, c) => Math.max(...all.map((r) => r[c].length)));
  const line = (r: string[]) => r.map((x, c) => (NUMERIC(c) ? x.padStart(w[c]) : x.padEnd(w[c]))).join('  ').trimEnd();
  const out: string[] = [line(HEAD), w.map((n) => '-'.repeat(n)).join('  ')];
  let prev = '';
  for (const r of rows) {
    if (prev && r.label !== prev) out.push('');
    out.push(line(cells(r)));
    prev = r.label;
  }
  return out.join('\n');
}

export function markdownTable(rows: Row[]): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const out = [`| ${HEAD.join(' | ')} |`, `| ${HEAD.map((_, c) => (NUMERIC(c) ? '---:' : '---')).join(' | ')} |`];
  for (const r of rows) out.push(`| ${cells(r).map(esc).join(' | ')} |`);
  return out.join('\n');
}

export const TABLE_LEGEND = [
  'median ms: median latency of one call (tinybench; peers timed the same way).',
  'GFLOP/s, GB/s: nominal work / median time; the row\'s judged unit is plain, the other in parentheses.',
  '% ceiling: roofline time max(FLOP/peak, bytes/bandwidth) ÷ measured time, with the measured WASM',
  '  SIMD128 peak of the row\'s flavour (baseline mul+add or relaxed FMA) × its threads and the triad bandwidth.',
  '÷tfjs, ÷torch, ÷gpujs: our throughput ÷ the peer\'s on the same op and size (>1: ours is faster);',
  '  * = the peer ran on fewer threads than our row (tfjs-wasm runs 1 thread in Node).',
  'Peer rows are the denominators (their ratio cells read "peer"); their % ceiling is against the same',
  '  WASM SIMD128 baseline peak × threads (PyTorch runs native AVX-512, so it can exceed 100%).',
  '–: no value, the reason is in the note.',
];
