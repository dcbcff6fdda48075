// The Node model store: one file `<name>.safetensors` per model in a directory. Only names that
// passed checkModelName are joined to the directory, and the joined path is checked to stay inside
// it as a second line of defence. Writes are atomic (temp file + rename).
import { readdir, readFile, stat, mkdir } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { writeFileAtomic } from '../bindings/io/atomic.js';
import { checkModelName, MODEL_NAME_PATTERN } from './names.js';
import type { ModelStore, StoredModelInfo } from './model-store.js';

export const MODEL_EXTENSION = '.safetensors';

export class DirectoryModelStore implements ModelStore {
  readonly where: string;
  private readonly dir: string;

  constructor(dir: string) {
    this.dir = resolve(dir);
    this.where = this.dir;
  }

  private pathOf(name: string): string {
    const p = join(this.dir, `${checkModelName(name)}${MODEL_EXTENSION}`);
    if (!p.startsWith(this.dir + sep)) throw new Error(`model path ${p} escapes ${this.dir}`);
    return p;
  }

  async list(): Promise<StoredModelInfo[]> {
    let entries: string[];
    try {
      entries = await readdir(this.dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const out: StoredModelInfo[] = [];
    for (const f of entries.sort()) {
      if (!f.endsWith(MODEL_EXTENSION)) continue;
      const name = f.slice(0, -MODEL_EXTENSION.length);
      if (!MODEL_NAME_PATTERN.test(name) || name.includes('..')) continue;
      const s = await stat(join(this.dir, f));
      if (s.isFile()) out.push({ name, bytes: s.size, modifiedAt: s.mtime.toISOString() });
    }
    return out;
  }

  async get(name: string): Promise<Uint8Array | null> {
    try {
      const b = await readFile(this.pathOf(name));
      return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  }

  async put(name: string, bytes: Uint8Array): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await writeFileAtomic(this.pathOf(name), bytes);
  }
}
