// Command-line options of `npm run bench` (see bench/README.md). Parsed by hand: a handful of flags
// does not need a dependency, and the smoke test calls parseArgs directly.
import { cpus } from 'node:os';

export const OP_FAMILIES = ['gemm', 'softAssign', 'gmmLogResp', 'adam', 'biasAct'] as const;
export type OpFamily = (typeof OP_FAMILIES)[number];

export const BACKEND_CHOICES = ['reference', 'wasm', 'wasm-relaxed', 'webgpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

export const PEER_CHOICES = ['tfjs', 'torch', 'gpujs', 'onnx'] as const;
export type PeerChoice = (typeof PEER_CHOICES)[number];

export interface BenchArgs {
  /** Toy sizes and short timings (the smoke test and a first look). */
  quick: boolean;
  /** Op families to run (`--only gemm,adam`); end-to-end files are named by their file name. */
  only: Set<string> | null;
  /** Thread counts for CPU backends and peers (`--threads 1,2`); default 1 and all cores. */
  threads: number[];
  backends: BackendChoice[];
  peers: PeerChoice[];
  /** Measure the ceilings (FMA peak, bandwidth, clock). */
  ceilings: boolean;
  /** Run the end-to-end files in bench/e2e/. */
  e2e: boolean;
  /** Time budget per measured row in ms (tinybench `time`). */
  timeMs: number;
  /** Where results go; null: print only. Default bench/results, but a --quick run (toy sizes, no
   *  measurement) only prints unless --out is given. */
  outDir: string | null;
  /** Extra word in the results file name (default: platform-arch-Nc). */
  tag: string | null;
}

const HELP = `usage: npm run bench -- [options]
  --quick                 toy sizes, short timings (what the smoke test runs)
  --only LIST             op families and/or e2e names: ${OP_FAMILIES.join(',')},encoder-1m,...
  --threads LIST          thread counts for wasm and peers (default: 1,<cores>)
  --backends LIST         ${BACKEND_CHOICES.join(',')} (default: all)
  --peers LIST|none       ${PEER_CHOICES.join(',')} (default: all)
  --no-ceilings           skip the FMA-peak / bandwidth / clock probes
  --no-e2e                skip bench/e2e/*
  --time MS               time budget per row (default 1500, quick 40)
  --out DIR               results folder (default bench/results; --quick only prints unless given)
  --no-write              print the table only
  --tag NAME              word in the results file name`;

function list(v: string | undefined, flag: string): string[] {
  if (v === undefined || v.startsWith('--')) throw new Error(`${flag} needs a value\n${HELP}`);
  return v.split(',').map((s) => s.trim()).filter(Boolean);
}

function pick<T extends string>(vals: string[], allowed: readonly T[], flag: string): T[] {
  for (const v of vals) if (!allowed.includes(v as T)) throw new Error(`${flag}: unknown '${v}' (expected ${allowed.join('|')})`);
  return vals as T[];
}

export function defaultThreads(): number[] {
  const n = cpus().length;
  return n > 1 ? [1, n] : [1];
}

export function parseArgs(argv: readonly string[]): BenchArgs | 'help' {
  const a: BenchArgs = {
    quick: false, only: null, threads: defaultThreads(), backends: [...BACKEND_CHOICES], peers: [...PEER_CHOICES],
    ceilings: true, e2e: true, timeMs: NaN, outDir: 'bench/results', tag: null,
  };
  let outGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const f = argv[i];
    switch (f) {
      case '--help': case '-h': return 'help';
      case '--quick': a.quick = true; break;
      case '--only': a.only = new Set(list(argv[++i], f)); break;
      case '--threads': {
        a.threads = list(argv[++i], f).map(Number);
        if (a.threads.some((t) => !Number.isInteger(t) || t < 1)) throw new Error(`--threads: positive integers, got ${argv[i]}`);
        break;
      }
      case '--backends': a.backends = pick(list(argv[++i], f), BACKEND_CHOICES, f); break;
      case '--peers': {
        const v = list(argv[++i], f);
        a.peers = v.length === 1 && v[0] === 'none' ? [] : pick(v, PEER_CHOICES, f);
        break;
      }
      case '--no-ceilings': a.ceilings = false; break;
      case '--no-e2e': a.e2e = false; break;
      case '--time': {
        a.timeMs = Number(argv[++i]);
        if (!(a.timeMs > 0)) throw new Error(`--time: a positive number of ms, got ${argv[i]}`);
        break;
      }
      case '--out': a.outDir = list(argv[++i], f)[0]; outGiven = true; break;
      case '--no-write': a.outDir = null; outGiven = true; break;
      case '--tag': a.tag = list(argv[++i], f)[0]; break;
      default: throw new Error(`unknown option '${f}'\n${HELP}`);
    }
  }
  if (Number.isNaN(a.timeMs)) a.timeMs = a.quick ? 40 : 1500;
  if (a.quick && !outGiven) a.outDir = null;
  return a;
}

export { HELP };

/** Whether a family or e2e name was selected by --only. */
export function selected(args: BenchArgs, name: string): boolean {
  return args.only === null || args.only.has(name);
}
