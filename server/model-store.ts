// Where the server keeps models, behind a small interface so the app itself stays free of any
// runtime's file API: an in-memory store (tests, the demo model, runtimes without a disk) and a
// directory store for Node (model-store-fs.ts). Names are checked by checkModelName before they
// reach a store; the stores check again, since a name is a path in the directory store.
import { checkModelName } from './names.js';

export interface StoredModelInfo {
  name: string;
  bytes: number;
  modifiedAt: string;
}

export interface ModelStore {
  /** Human-readable location for /health and logs. */
  readonly where: string;
  list(): Promise<StoredModelInfo[]>;
  /** The model's bytes, or null when there is none of that name. */
  get(name: string): Promise<Uint8Array | null>;
  /** Stores (or replaces) a model; atomic where the medium allows. */
  put(name: string, bytes: Uint8Array): Promise<void>;
}

export class MemoryModelStore implements ModelStore {
  readonly where = 'memory';
  private readonly models = new Map<string, { bytes: Uint8Array; modifiedAt: string }>();

  async list(): Promise<StoredModelInfo[]> {
    return [...this.models].map(([name, m]) => ({ name, bytes: m.bytes.byteLength, modifiedAt: m.modifiedAt })).sort((a, b) => a.name.localeCompare(b.name));
  }

  async get(name: string): Promise<Uint8Array | null> {
    return this.models.get(checkModelName(name))?.bytes ?? null;
  }

  async put(name: string, bytes: Uint8Array): Promise<void> {
    this.models.set(checkModelName(name), { bytes: bytes.slice(), modifiedAt: new Date().toISOString() });
  }
}
