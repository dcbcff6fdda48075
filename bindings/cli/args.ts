import { availableParallelism } from 'node:os';
// Minimal option parsing on top of node:util parseArgs, turning its errors into UsageError.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { BACKEND_KINDS, type BackendKind } from '../backends/index.js';
import { UsageError } from './command.js';

export function parse<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T, allowPositionals = false) {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

export function intOpt(name: string, v: string | undefined, def: number, min = 1): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer ≥ ${min} (got '${v}')`);
  return n;
}

export function numOpt(name: string, v: string | undefined, def: number): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new UsageError(`--${name} must be a number (got '${v}')`);
  return n;
}

export function backendOpt(v: string | undefined): BackendKind {
  const kind = (v ?? 'auto') as BackendKind;
  if (!BACKEND_KINDS.includes(kind)) throw new UsageError(`--backend must be one of ${BACKEND_KINDS.join('|')} (got '${v}')`);
  return kind;
}

/** The wasm backend's default worker threads: every core of the machine, at most MAX_DEFAULT_THREADS.
 *  The wasm kernels split rows between threads without changing any sum's order, so a model is
 *  bit-identical whatever the thread count; beyond a few threads the small layers stop gaining. */
export const MAX_DEFAULT_THREADS = 4;
export const DEFAULT_THREADS = Math.max(1, Math.min(MAX_DEFAULT_THREADS, availableParallelism()));
export const THREADS_HELP = `wasm worker threads (default: the machine's cores, at most ${MAX_DEFAULT_THREADS}; here ${DEFAULT_THREADS})`;

