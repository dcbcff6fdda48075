// Finds, reads and instantiates the kernel module. Two builds ship side by side (scripts/build-wasm.mjs):
// baseline SIMD128 and SIMD128 + relaxed-simd. The relaxed one is used when the engine validates it
// (Node 22+, Chromium; Node 20 only with --experimental-wasm-relaxed-simd). Node reads the files with
// fs (imported dynamically, on the Node path only); browsers fetch them, so the browser path touches
// no Node API. The URL '../../../build/' is right both from the source tree (bindings/backends/wasm/)
// and from the compiled tree (dist/bindings/backends/wasm/ → dist/build/).

import type { KernelExports } from './exports.js';

export type BuildFlavor = 'simd' | 'relaxed';

export const WASM_FILES: Record<BuildFlavor, string> = {
  simd: 'hemaclust-simd.wasm',
  relaxed: 'hemaclust-relaxed.wasm',
};

export interface LoadOptions {
  /** 'auto' (default): relaxed when the engine validates it; true: relaxed or an error; false: baseline. */
  relaxed?: 'auto' | boolean;
  /** Module bytes supplied by the caller (skips file/URL loading for that flavour). */
  bytes?: { simd?: Uint8Array; relaxed?: Uint8Array };
  /** Where to find the files instead of '../../../build/' next to this module (e.g. a CDN path). */
  urls?: { simd?: URL | string; relaxed?: URL | string };
}

export interface LoadedModule {
  module: WebAssembly.Module;
  flavor: BuildFlavor;
  /** Where the bytes came from (file path, URL or 'bytes'), for messages. */
  source: string;
  /** The exact bytes, so worker threads can compile the same module. */
  bytes: Uint8Array;
}

const isNode = (): boolean =>
  typeof process !== 'undefined' && typeof process.versions === 'object' && typeof process.versions.node === 'string';

/** URL of a build file relative to this module. */
export function wasmUrl(flavor: BuildFlavor): URL {
  return new URL(`../../../build/${WASM_FILES[flavor]}`, import.meta.url);
}

/** Read one build's bytes: supplied bytes, else the file (Node) or a fetch (browser). */
export async function readWasm(flavor: BuildFlavor, supplied?: Uint8Array, at?: URL | string): Promise<{ bytes: Uint8Array; source: string }> {
  if (supplied) return { bytes: supplied, source: `bytes (${flavor})` };
  const url = at === undefined ? wasmUrl(flavor) : new URL(at, import.meta.url);
  if (isNode() && url.protocol === 'file:') {
    // Variable specifier: keeps browser bundlers from trying to resolve a Node built-in.
    const fsName = 'node:fs/promises';
    const urlName = 'node:url';
    const { readFile } = (await import(/* @vite-ignore */ fsName)) as typeof import('node:fs/promises');
    const { fileURLToPath } = (await import(/* @vite-ignore */ urlName)) as typeof import('node:url');
    const path = fileURLToPath(url);
    try {
      const buf = await readFile(path);
      return { bytes: new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), source: path };
    } catch (e) {
      throw new Error(`wasm: cannot read ${path} (${(e as Error).message}); run \`npm run build:wasm\` first`);
    }
  }
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new Error(`wasm: cannot fetch ${url.href} (${(e as Error).message})`);
  }
  if (!res.ok) throw new Error(`wasm: cannot fetch ${url.href} (HTTP ${res.status} ${res.statusText})`);
  return { bytes: new Uint8Array(await res.arrayBuffer()), source: url.href };
}

/** Choose the build and compile it. */
export async function loadModule(opts: LoadOptions = {}): Promise<LoadedModule> {
  const want = opts.relaxed ?? 'auto';
  if (want !== false) {
    const r = await readWasm('relaxed', opts.bytes?.relaxed, opts.urls?.relaxed).catch((e: Error) => {
      if (want === true) throw e;
      return null; // auto: a missing relaxed build just means baseline
    });
    if (r && WebAssembly.validate(r.bytes as Uint8Array<ArrayBuffer>)) return compile(r.bytes, 'relaxed', r.source);
    if (want === true) {
      throw new Error(
        `wasm: relaxed-simd build ${r?.source ?? ''} does not validate on this engine ` +
          '(Node 20 needs --experimental-wasm-relaxed-simd; Node 22+ and Chromium support it)',
      );
    }
  }
  const s = await readWasm('simd', opts.bytes?.simd, opts.urls?.simd);
  return compile(s.bytes, 'simd', s.source);
}

async function compile(bytes: Uint8Array, flavor: BuildFlavor, source: string): Promise<LoadedModule> {
  try {
    // Copy into a plain ArrayBuffer-backed view (compile() rejects SharedArrayBuffer views).
    const own = new Uint8Array(new ArrayBuffer(bytes.byteLength));
    own.set(bytes);
    return { module: await WebAssembly.compile(own), flavor, source, bytes: own };
  } catch (e) {
    throw new Error(`wasm: cannot compile ${source} (${(e as Error).message})`);
  }
}

/** Instantiate over a given (shared) memory. Nothing but the memory is imported. */
export async function instantiate(module: WebAssembly.Module, memory: WebAssembly.Memory): Promise<KernelExports> {
  const inst = await WebAssembly.instantiate(module, { env: { memory } });
  return inst.exports as unknown as KernelExports;
}
