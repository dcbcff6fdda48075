// A JavaScript host for an exported classifier module: what a firmware host does in C
// (docs/embedding.md, examples in test/embed-c-host.c), used by the tests and by `export --check`.
// The module is instantiated with an empty import object.
import { SUMMARY_FIELDS } from './module.js';

interface Abi {
  memory: WebAssembly.Memory;
  hc_init(): number; hc_error(): number; hc_error_ptr(): number; hc_error_len(): number;
  hc_meta_ptr(): number; hc_meta_len(): number; hc_features(): number; hc_chunk_rows(): number;
  hc_input_ptr(): number; hc_output_ptr(): number; hc_summary_ptr(): number; hc_summary_len(): number;
  hc_begin(): number; hc_max_events(): number; hc_limit_events(n: number): number; hc_push(ptr: number, rows: number, cols: number): number; hc_end_pass(): number; hc_pass(): number; hc_passes(): number;
}

export class EmbeddedError extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
    this.name = 'EmbeddedError';
  }
}

export type EmbeddedSummary = Record<(typeof SUMMARY_FIELDS)[number], number>;

export class EmbeddedClassifier {
  private constructor(readonly abi: Abi) {}

  static async load(bytes: Uint8Array): Promise<EmbeddedClassifier> {
    const instance = await WebAssembly.instantiate(await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>), {});
    const c = new EmbeddedClassifier(instance.exports as unknown as Abi);
    c.check(c.abi.hc_init());
    return c;
  }

  /** The last error's message. */
  message(): string {
    return new TextDecoder().decode(new Uint8Array(this.abi.memory.buffer, this.abi.hc_error_ptr(), this.abi.hc_error_len()));
  }

  check(code: number): void {
    if (code !== 0) throw new EmbeddedError(code, `error ${code}: ${this.message()}`);
  }

  meta(): Record<string, unknown> {
    const a = this.abi;
    return JSON.parse(new TextDecoder().decode(new Uint8Array(a.memory.buffer, a.hc_meta_ptr(), a.hc_meta_len()))) as Record<string, unknown>;
  }

  /**
   * A sample's values (rows × columns.length, in the file's own column order) reordered to the
   * order the module reads: its metadata's featureNames (each channel's columns, FSC, SSC, FL,
   * IMP), every one found by exact name in `columns`. Names of the form '#i' (a model trained on
   * unnamed columns) are the file's column i. What a firmware host does once per file layout.
   */
  inModelOrder(data: Float32Array, rows: number, columns: readonly string[]): Float32Array {
    const names = this.meta().featureNames as string[];
    const at = new Map(columns.map((c, i) => [c, i]));
    const src = names.map((n) => {
      const i = at.get(n) ?? (/^#\d+$/.test(n) ? Number(n.slice(1)) : undefined);
      if (i === undefined || i >= columns.length) throw new RangeError(`the model reads column '${n}', which the sample does not have (columns: ${columns.slice(0, 8).join(', ')}${columns.length > 8 ? ', …' : ''})`);
      return i;
    });
    if (data.length !== rows * columns.length) throw new RangeError(`${data.length} values for ${rows} rows × ${columns.length} columns`);
    const F = names.length;
    const out = new Float32Array(rows * F);
    for (let r = 0; r < rows; r++) for (let j = 0; j < F; j++) out[r * F + j] = data[r * columns.length + src[j]!]!;
    return out;
  }

  /** Classifies rows × cols values (the model's feature order), streamed `chunk` rows at a time in
   *  every pass; probabilities rows × 4 and the summary. */
  classify(data: Float32Array, rows: number, cols: number, chunk = this.abi.hc_chunk_rows()): { probabilities: Float32Array; summary: EmbeddedSummary } {
    const a = this.abi;
    const probabilities = new Float32Array(rows * 4);
    this.check(a.hc_begin());
    for (let pass = 1; pass <= a.hc_passes(); pass++) {
      for (let start = 0; start < rows; start += chunk) {
        const n = Math.min(chunk, rows - start);
        const input = a.hc_input_ptr();
        new Float32Array(a.memory.buffer, input, n * cols).set(data.subarray(start * cols, (start + n) * cols));
        this.check(a.hc_push(input, n, cols));
        if (pass === a.hc_passes()) probabilities.set(new Float32Array(a.memory.buffer, a.hc_output_ptr(), n * 4), start * 4);
      }
      this.check(a.hc_end_pass());
    }
    return { probabilities, summary: this.summary() };
  }

  summary(): EmbeddedSummary {
    const s = new Float64Array(this.abi.memory.buffer, this.abi.hc_summary_ptr(), this.abi.hc_summary_len());
    return Object.fromEntries(SUMMARY_FIELDS.map((k, i) => [k, s[i]!])) as EmbeddedSummary;
  }
}
