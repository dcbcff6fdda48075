// Strict reading of a model file's metadata (JSON strings in a safetensors __metadata__ map),
// shared by every loader: bindings/models/model-file.ts for the single models, and the pipeline
// loader. A loader must not trust what it reads: a dims of "8,4" or [30000000, 4] in a 2 KB file
// must be refused before a layer is built, with an error that names the file, the metadata key and
// the field, and what was expected. So:
//   - ModelFileReader.open(bytes, source, format) decodes the safetensors container and requires
//     the file checksum (hemaclust.crc32.file), which covers the metadata as well as the tensors;
//   - json(key) parses one metadata entry into null-prototype objects (keys from the file can
//     never reach a prototype), with a size cap;
//   - int/num/bool/str/oneOf/intArray/numArray/boolArray/obj read a field at a dotted path and
//     check its type and range;
//   - expectTensors(shapes) checks that the file holds exactly the tensors the metadata implies,
//     with exactly those shapes, before anything is allocated from the metadata. Since every
//     declared size must then be backed by tensor bytes in the file, what a loader allocates from
//     the metadata is bounded by the file size (declaredLimit() states the bound).
import { FormatError } from './errors.js';
import { decodeSafetensors, type NamedTensor, type SafetensorsContent } from './safetensors.js';

/** Largest metadata JSON string accepted per key (our largest, a pipeline's meta, is a few KB). */
export const MAX_METADATA_JSON_BYTES = 1 << 20;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** JSON.parse whose objects have no prototype ("__proto__" stays an ordinary own key). */
export function parseJsonNullProto(text: string): Json {
  return JSON.parse(text, (_k, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const o: Record<string, unknown> = Object.create(null);
    for (const [k, x] of Object.entries(v)) o[k] = x; // no __proto__ setter on a null-prototype object
    return o;
  }) as Json;
}

const join = (path: string, i: number) => (path ? `${path}.${i}` : String(i));

const show = (v: unknown): string => {
  let s: string;
  try { s = JSON.stringify(v) ?? String(v); } catch { s = String(v); }
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
};

export class ModelFileReader {
  private constructor(
    /** Names the file in every error. */
    readonly source: string,
    readonly content: SafetensorsContent,
    /** Total file size in bytes. */
    readonly fileBytes: number,
  ) {}

  /**
   * Decodes `bytes` and checks the container: the file checksum (metadata included) must be
   * present, and metadata 'format' must be one of `formats`.
   */
  static open(bytes: Uint8Array, source: string, formats: string | readonly string[]): ModelFileReader {
    const content = decodeSafetensors(bytes, source);
    const r = new ModelFileReader(source, content, bytes.length);
    if (!content.checksums.file) {
      throw new FormatError(source, { byte: 8 }, 'no hemaclust.crc32.file checksum in the metadata: expected a model file written by this version (the checksum covers the metadata; re-save the model)');
    }
    const want = typeof formats === 'string' ? [formats] : formats;
    const format = Object.hasOwn(content.metadata, 'format') ? content.metadata.format : undefined;
    if (format === undefined || !want.includes(format)) {
      throw r.error(`not a hemaclust ${want.join(' or ')} file (metadata format ${show(format ?? null)})`);
    }
    return r;
  }

  /** A FormatError naming the file and the header (byte 8, where the metadata lives). */
  error(message: string): FormatError {
    return new FormatError(this.source, { byte: 8 }, message);
  }

  /** The raw metadata string for `key`, or undefined. */
  meta(key: string): string | undefined {
    return Object.hasOwn(this.content.metadata, key) ? this.content.metadata[key] : undefined;
  }

  /** Parses metadata `key` as JSON (null-prototype objects); a missing key is an error unless `optional`. */
  json(key: string, optional = false): Json | undefined {
    const s = this.meta(key);
    if (s === undefined) {
      if (optional) return undefined;
      throw this.error(`metadata has no '${key}': expected a JSON string`);
    }
    if (s.length > MAX_METADATA_JSON_BYTES) throw this.error(`metadata '${key}' is ${s.length} characters, more than the ${MAX_METADATA_JSON_BYTES} allowed`);
    try {
      return parseJsonNullProto(s);
    } catch (e) {
      throw this.error(`metadata '${key}' is not valid JSON (${(e as Error).message})`);
    }
  }

  /** The value at a dotted path ('stage2.k', 'dims.0') inside `root`, or undefined. */
  at(root: unknown, path: string): unknown {
    let v: unknown = root;
    for (const part of path === '' ? [] : path.split('.')) {
      if (v === null || typeof v !== 'object' || !Object.hasOwn(v, part)) return undefined;
      v = (v as Record<string, unknown>)[part];
    }
    return v;
  }

  private bad(where: string, path: string, expected: string, v: unknown): never {
    throw this.error(`${where}${path ? ` field '${path}'` : ''}: expected ${expected}, found ${v === undefined ? 'nothing' : show(v)}`);
  }

  /** An object (null-prototype when it came from json()). `where` names the metadata key. */
  obj(where: string, root: unknown, path = ''): Record<string, unknown> {
    const v = this.at(root, path);
    if (v === null || typeof v !== 'object' || Array.isArray(v)) this.bad(where, path, 'an object', v);
    return v as Record<string, unknown>;
  }

  int(where: string, root: unknown, path: string, min: number, max: number): number {
    const v = this.at(root, path);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) this.bad(where, path, `an integer in [${min}, ${max}]`, v);
    return v as number;
  }

  /** A finite number in [min, max] (`exclusiveMin`: > min). */
  num(where: string, root: unknown, path: string, min = -Number.MAX_VALUE, max = Number.MAX_VALUE, exclusiveMin = false): number {
    const v = this.at(root, path);
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (exclusiveMin && v === min)) {
      this.bad(where, path, `a finite number ${exclusiveMin ? '>' : '≥'} ${min}${max < Number.MAX_VALUE ? ` and ≤ ${max}` : ''}`, v);
    }
    return v as number;
  }

  bool(where: string, root: unknown, path: string): boolean {
    const v = this.at(root, path);
    if (typeof v !== 'boolean') this.bad(where, path, 'true or false', v);
    return v as boolean;
  }

  str(where: string, root: unknown, path: string, maxLength = 1024): string {
    const v = this.at(root, path);
    if (typeof v !== 'string' || v.length > maxLength) this.bad(where, path, `a string of at most ${maxLength} characters`, v);
    return v as string;
  }

  oneOf<T extends string>(where: string, root: unknown, path: string, values: readonly T[]): T {
    const v = this.at(root, path);
    if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) this.bad(where, path, `one of ${values.join(', ')}`, v);
    return v as T;
  }

  private array(where: string, root: unknown, path: string, minLength: number, maxLength: number): unknown[] {
    const v = this.at(root, path);
    if (!Array.isArray(v) || v.length < minLength || v.length > maxLength) {
      this.bad(where, path, minLength === maxLength ? `an array of ${minLength} elements` : `an array of ${minLength} to ${maxLength} elements`, v);
    }
    return v as unknown[];
  }

  intArray(where: string, root: unknown, path: string, o: { minLength: number; maxLength: number; min: number; max: number }): number[] {
    const a = this.array(where, root, path, o.minLength, o.maxLength);
    a.forEach((_, i) => this.int(where, root, join(path, i), o.min, o.max));
    return a as number[];
  }

  numArray(where: string, root: unknown, path: string, o: { minLength: number; maxLength: number; min?: number; max?: number; exclusiveMin?: boolean }): number[] {
    const a = this.array(where, root, path, o.minLength, o.maxLength);
    a.forEach((_, i) => this.num(where, root, join(path, i), o.min, o.max, o.exclusiveMin));
    return a as number[];
  }

  boolArray(where: string, root: unknown, path: string, length: number): boolean[] {
    const a = this.array(where, root, path, length, length);
    a.forEach((_, i) => this.bool(where, root, join(path, i)));
    return a as boolean[];
  }

  /** Element count the tensors of this file hold: the most any shape declared by metadata may add up to. */
  declaredLimit(): number {
    let n = 0;
    for (const t of Object.values(this.content.tensors)) n += t.data.length;
    return n;
  }

  /**
   * Refuses a size declared by the metadata that no tensor backs (a workspace, a feature count)
   * when it exceeds `factor` × the elements the file's tensors hold: what a loader allocates from
   * metadata then stays within a documented multiple of the file size. `what` names the field.
   */
  budget(elements: number, what: string, factor = 1): void {
    const limit = factor * Math.max(1, this.declaredLimit());
    if (!Number.isSafeInteger(elements) || elements < 0 || elements > limit) {
      throw this.error(`${what} declares ${elements} elements, more than the ${limit} that ${factor} × the file's ${this.declaredLimit()} tensor elements allow`);
    }
  }

  /**
   * Checks that the file holds exactly the tensors in `shapes` (name → shape) with those shapes,
   * and no others (`allowExtra` lists name prefixes that may hold further tensors). Call it before
   * allocating anything from the metadata.
   */
  expectTensors(shapes: ReadonlyMap<string, readonly number[]>, allowExtra: readonly string[] = []): void {
    const t = this.content.tensors;
    for (const [name, shape] of shapes) {
      if (!Object.hasOwn(t, name)) throw this.error(`missing tensor '${name}' (expected shape [${shape}] from the architecture metadata)`);
      const got = t[name]!.shape;
      if (got.length !== shape.length || got.some((d, i) => d !== shape[i])) {
        throw this.error(`tensor '${name}' has shape [${got}], but the architecture metadata implies [${shape}]`);
      }
    }
    for (const name of Object.keys(t)) {
      if (!shapes.has(name) && !allowExtra.some((p) => name.startsWith(p))) throw this.error(`unexpected tensor '${name}': the architecture metadata does not declare it`);
    }
  }

  /** A tensor already checked by expectTensors. */
  tensor(name: string): NamedTensor {
    if (!Object.hasOwn(this.content.tensors, name)) throw this.error(`missing tensor '${name}'`);
    return this.content.tensors[name]!;
  }
}
