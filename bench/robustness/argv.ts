// The command-line options of the robustness scripts (scripts/robustness.ts, scripts/cross-analyzer.ts):
// `--name value` pairs read straight from process.argv, a handful each.

/** The value after `--name`, or `fallback`. */
export function opt(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

/** `--name` as a positive integer, or `fallback`; anything else is an error naming the flag. */
export function positiveInt(name: string, fallback: number): number {
  const v = Number(opt(name, String(fallback)));
  if (!Number.isSafeInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer`);
  return v;
}
