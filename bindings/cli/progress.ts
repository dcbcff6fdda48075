// A small progress renderer for long CLI work, on stderr. On a TTY it redraws one line with a bar
// (`label [#####-----] 12/40 loss=…`); off a TTY it prints a plain line per stage change and per
// message (logs stay readable); with `silent` (e.g. --json) it prints nothing at all.
import type { PipelineProgress } from '../pipeline/index.js';

export interface ProgressOptions {
  stream?: NodeJS.WriteStream;
  silent?: boolean;
  width?: number;
}

export class ProgressRenderer {
  private readonly stream: NodeJS.WriteStream;
  private readonly tty: boolean;
  private readonly silent: boolean;
  private readonly width: number;
  private lineOpen = false;
  private lastStage = '';
  private readonly t0 = performance.now();

  constructor(o: ProgressOptions = {}) {
    this.stream = o.stream ?? process.stderr;
    this.silent = o.silent ?? false;
    this.tty = !this.silent && Boolean(this.stream.isTTY);
    this.width = o.width ?? 24;
  }

  /** Redraws the bar (TTY) for `done` of `total`. */
  bar(label: string, done: number, total: number, extra = ''): void {
    if (this.silent) return;
    if (!this.tty) {
      if (label !== this.lastStage) this.line(`${label}…`);
      this.lastStage = label;
      return;
    }
    const f = total > 0 ? Math.min(1, done / total) : 0;
    const fill = Math.round(f * this.width);
    const text = `${label} [${'#'.repeat(fill)}${'-'.repeat(this.width - fill)}] ${done}/${total}${extra ? ` ${extra}` : ''} ${this.elapsed()}`;
    const cols = this.stream.columns ?? 100;
    this.stream.write(`\r${text.slice(0, cols - 1).padEnd(Math.min(cols - 1, text.length))}\x1b[K`);
    this.lineOpen = true;
    this.lastStage = label;
  }

  /** A message on its own line (closing an open bar first). */
  line(message: string): void {
    if (this.silent) return;
    if (this.lineOpen) this.stream.write('\n');
    this.lineOpen = false;
    this.stream.write(`${message}\n`);
  }

  /** Adapter for the pipeline's progress callback. */
  pipeline = (p: PipelineProgress): void => {
    if (p.message) {
      this.line(`${p.stage}: ${p.message}`);
      return;
    }
    const loss = p.losses ? Object.entries(p.losses).map(([k, v]) => `${k}=${Number(v.toPrecision(4))}`).join(' ') : '';
    if (p.of) this.bar(p.stage, p.epoch ?? 0, p.of, loss);
    else if (this.tty) this.bar(p.stage, p.epoch ?? 0, 0, loss);
    else if (p.stage !== this.lastStage) {
      this.line(`${p.stage}…`);
      this.lastStage = p.stage;
    }
  };

  finish(): void {
    if (this.lineOpen) this.stream.write('\n');
    this.lineOpen = false;
  }

  private elapsed(): string {
    return `${((performance.now() - this.t0) / 1000).toFixed(0)}s`;
  }
}
