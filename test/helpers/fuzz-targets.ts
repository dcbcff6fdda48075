// The five formats as fuzz targets: each pairs the project's reader with its independent oracle
// and says how to compare what both read. Model and pipeline files also get structured mutants:
// their metadata or tensor table rewritten (dims "8,4", [30000000, 4], a missing stage, a tensor
// named __proto__ …) and re-encoded with valid checksums, as a deliberate attacker would, since
// byte-level mutants of those files almost all fail the checksum.
import type { ComputeBackend, Tensor } from '../../bindings/backend.js';
import { parseCsv, parseFcs, parseNpy, toFloat32, type NpyArray } from '../../bindings/io/index.js';
import { decodeSafetensors, encodeSafetensors, type NamedTensor, type SafetensorsContent } from '../../bindings/io/safetensors.js';
import { Autoencoder, DeepEmbeddedClustering, KMeans, VaDE } from '../../bindings/models/index.js';
import type { Mlp } from '../../bindings/models/mlp.js';
import { loadModelBytes, type LoadedModel } from '../../bindings/models/serialize.js';
import { BloodCellPipeline } from '../../bindings/pipeline/index.js';
import type { Rng } from '../../bindings/simulate/rng.js';
import { sameJson, sameValues, SOURCE, type Target } from './fuzz-harness.js';
import { csvOracle, type CsvOracleValue } from './fuzz-oracle-csv.js';
import { fcsOracle, type FcsOracleValue } from './fuzz-oracle-fcs.js';
import { modelOracle, type ModelOracleValue } from './fuzz-oracle-model.js';
import { npyOracle, type NpyOracleValue } from './fuzz-oracle-npy.js';
import { safetensorsOracle, type StOracleValue } from './fuzz-oracle-safetensors.js';

const utf8 = new TextDecoder('utf-8');

export const npyTarget: Target = {
  read: (b) => { const a = parseNpy(b, SOURCE); toFloat32(a); return a; },
  oracle: npyOracle,
  compare(got, want) {
    const a = got as NpyArray, w = want as NpyOracleValue;
    const values = a.data instanceof BigInt64Array || a.data instanceof BigUint64Array ? Array.from(a.data, String) : Array.from(a.data as ArrayLike<number>);
    return sameJson([a.shape, a.dtype], [w.shape, w.dtype], 'shape/dtype') ?? (typeof values[0] === 'string' ? sameJson(values, w.values, 'values') : sameValues(values as number[], w.values as number[], 'values'));
  },
};

export const csvTarget: Target = {
  read: (b) => parseCsv(utf8.decode(b), SOURCE),
  oracle: (b) => csvOracle(utf8.decode(b)),
  compare(got, want) {
    const m = got as ReturnType<typeof parseCsv>, w = want as CsvOracleValue;
    return sameJson([m.columns, m.rows, m.cols], [w.columns, w.rows, w.cols], 'columns/rows/cols') ?? sameValues(m.data, w.values, 'data');
  },
};

export const fcsTarget: Target = {
  read: (b) => parseFcs(b, SOURCE),
  oracle: fcsOracle,
  compare(got, want) {
    const f = got as ReturnType<typeof parseFcs>, w = want as FcsOracleValue;
    const text = Object.entries(f.text).sort((x, y) => (x[0] < y[0] ? -1 : 1));
    return sameJson([f.events, f.parameters.map((p) => p.name), text], [w.events, w.names, w.text], 'events/names/TEXT') ?? sameValues(f.data, w.values, 'data');
  },
};

function sameTensors(got: Map<string, { shape: number[]; values: ArrayLike<number> }>, want: StOracleValue['tensors']): string | null {
  const names = (m: Map<string, unknown>) => [...m.keys()].sort();
  const d = sameJson(names(got), names(want), 'tensor names');
  if (d) return d;
  for (const [name, t] of want) {
    const g = got.get(name)!;
    const e = sameJson(g.shape, t.shape, `shape of ${name}`) ?? sameValues(g.values, t.values, name);
    if (e) return e;
  }
  return null;
}

const asMap = (r: Record<string, NamedTensor>) => new Map(Object.keys(r).map((k) => [k, { shape: r[k]!.shape, values: r[k]!.data }]));

export const safetensorsTarget: Target = {
  read: (b) => decodeSafetensors(b, SOURCE),
  oracle: safetensorsOracle,
  compare(got, want) {
    const c = got as SafetensorsContent, w = want as StOracleValue;
    const meta = Object.keys(c.metadata).sort().map((k) => [k, c.metadata[k]]);
    return sameTensors(asMap(c.tensors), w.tensors) ?? sameJson(meta, [...w.metadata].sort((x, y) => (x[0] < y[0] ? -1 : 1)), 'metadata');
  },
};

/** Every weight a loaded model holds, read back from the reference backend in file layout. */
function weightsOf(be: ComputeBackend & { readF64(t: Tensor): Float64Array }, m: LoadedModel['model']): Map<string, { shape: number[]; values: number[] }> {
  const out = new Map<string, { shape: number[]; values: number[] }>();
  const f32 = (t: Tensor) => Array.from(be.readF64(t), Math.fround);
  const mlp = (net: Mlp | null) => {
    if (!net) return;
    net.layers.forEach((s, l) => {
      const w = f32(net.w[l]!); // [in, out] → file layout [out, in]
      out.set(`${net.name}.${l}.weight`, { shape: [s.out, s.in], values: Array.from({ length: s.in * s.out }, (_, i) => w[(i % s.in) * s.out + Math.floor(i / s.in)]!) });
      out.set(`${net.name}.${l}.bias`, { shape: [s.out], values: f32(net.b[l]!) });
    });
  };
  if (m instanceof KMeans) out.set('cluster_centers', { shape: [m.k, m.dim], values: Array.from(m.centroids!) });
  else if (m instanceof Autoencoder) { mlp(m.encoder); mlp(m.decoder); }
  else if (m instanceof DeepEmbeddedClustering) { mlp(m.ae.encoder); mlp(m.ae.decoder); out.set('cluster_centers', { shape: [...m.mu!.shape], values: f32(m.mu!) }); }
  else if (m instanceof VaDE) {
    mlp(m.trunk); mlp(m.muHead); mlp(m.logVarHead); mlp(m.decoder);
    out.set('gmm.pi_logits', { shape: [m.k], values: f32(m.piLogits!) });
    out.set('gmm.mu', { shape: [...m.muC!.shape], values: f32(m.muC!) });
    out.set('gmm.log_var', { shape: [...m.logVarC!.shape], values: f32(m.logVarC!) });
  }
  return out;
}

export function modelTarget(be: ComputeBackend & { readF64(t: Tensor): Float64Array }): Target {
  return {
    read: (b) => loadModelBytes(be, b, SOURCE),
    oracle: modelOracle,
    compare(got, want) {
      const g = got as LoadedModel, w = want as ModelOracleValue;
      const d = sameJson([g.kind, g.classes], [w.kind, w.classes], 'kind/classes') ?? sameTensors(weightsOf(be, g.model), w.tensors);
      (g.model as { dispose?: () => void }).dispose?.();
      return d;
    },
  };
}

/**
 * Pipeline files through BloodCellPipeline.fromBytes. Its own rules belong to the pipeline, so
 * the oracle is the safetensors layer, and an accepted file must round-trip: toBytes() of the
 * loaded pipeline holds the file's tensors, values and 'meta' exactly (a silent misread shows).
 */
export function pipelineTarget(be: ComputeBackend): Target {
  return {
    read: (b) => BloodCellPipeline.fromBytes(b, be, SOURCE),
    oracle: safetensorsOracle,
    compare(got, want) {
      const p = got as BloodCellPipeline, w = want as StOracleValue;
      try {
        const back = decodeSafetensors(p.toBytes(), 'round trip');
        return sameTensors(asMap(back.tensors), w.tensors) ?? sameJson(JSON.parse(back.metadata.meta ?? 'null'), JSON.parse(w.metadata.get('meta') ?? 'null'), 'meta');
      } catch (e) {
        return `the loaded pipeline cannot be written back: ${(e as Error).message}`;
      } finally {
        p.dispose();
      }
    },
  };
}

// ---- structured mutants: metadata and tensor table rewritten, checksums valid ----------------

const POOL: unknown[] = ['8,4', 1e9, 30000000, [30000000, 4], [1e9, 4], -1, 0, 1, 2, 3, 1.5, null, true, false, [], {}, 'relu', 'none', 'standard', 'x',
  [1, 2, 3], JSON.parse('{"__proto__": {"polluted": 1}}'), 2 ** 53, 1e308, '1', [[1]], { k: 1 }];

/** Rewrites one random spot of a JSON value in place (set, delete, add, nudge); returns the root. */
function mutateJson(root: unknown, rng: Rng): unknown {
  const pick = () => JSON.parse(JSON.stringify(POOL[rng.int(POOL.length)]));
  // Walk down a random path.
  let parent: Record<string, unknown> | unknown[] | null = null;
  let key: string | number = '';
  let v = root;
  for (let depth = 0; depth < 4 && v !== null && typeof v === 'object' && rng.uniform() < 0.7; depth++) {
    const keys = Array.isArray(v) ? v.map((_, i) => i) : Object.keys(v as object);
    if (keys.length === 0) break;
    parent = v as Record<string, unknown>;
    key = keys[rng.int(keys.length)]!;
    v = (parent as Record<string | number, unknown>)[key];
  }
  const op = rng.int(5);
  if (parent === null) {
    if (op === 0 || v === null || typeof v !== 'object') return pick();
    Object.defineProperty(v, ['__proto__', 'x', 'dims', 'k', 'stage2', 'constructor'][rng.int(6)]!, { value: pick(), enumerable: true, configurable: true, writable: true });
    return root;
  }
  const p = parent as Record<string | number, unknown>;
  if (op === 0 && !Array.isArray(parent)) delete p[key];
  else if (op === 1 && typeof v === 'number') p[key] = [v + 1, v - 1, v * 1000, -v, v + 0.5][rng.int(5)];
  else if (op === 2 && Array.isArray(v)) { if (rng.uniform() < 0.5) v.pop(); else v.push(v[0] ?? 1); }
  else if (op === 3 && !Array.isArray(parent)) Object.defineProperty(parent, ['__proto__', 'x', 'k', 'dims'][rng.int(4)]!, { value: pick(), enumerable: true, configurable: true, writable: true });
  else p[key] = pick();
  return root;
}

/** A structured mutant of a random seed (null when the seed does not decode). */
export function structuredMutant(seeds: Uint8Array[], rng: Rng): Uint8Array | null {
  let c: SafetensorsContent;
  try { c = decodeSafetensors(seeds[rng.int(seeds.length)]!, 'seed'); } catch { return null; }
  const meta: Record<string, string> = Object.create(null);
  for (const k of Object.keys(c.metadata)) meta[k] = c.metadata[k]!;
  const tensors: Record<string, NamedTensor> = Object.create(null);
  for (const k of Object.keys(c.tensors)) tensors[k] = c.tensors[k]!;
  const names = Object.keys(tensors);
  const op = rng.int(10);
  if (op < 6) {
    const keys = Object.keys(meta);
    const k = keys[rng.int(keys.length)]!;
    let parsed: unknown;
    try { parsed = JSON.parse(meta[k]!); } catch { parsed = meta[k]; }
    meta[k] = rng.uniform() < 0.1 ? String(POOL[rng.int(POOL.length)]) : JSON.stringify(mutateJson(parsed, rng)) ?? 'null';
  } else if (op === 6) {
    delete meta[Object.keys(meta)[rng.int(Object.keys(meta).length)]!];
  } else if (op === 7 && names.length) { // rename a tensor, maybe onto a dangerous name
    const from = names[rng.int(names.length)]!;
    const to = ['__proto__', 'constructor', names[rng.int(names.length)]!, `${from}x`][rng.int(4)]!;
    const t = tensors[from]!;
    delete tensors[from];
    tensors[to] = t;
  } else if (op === 8 && names.length) { // reshape a tensor keeping its data, or drop it
    const n = names[rng.int(names.length)]!;
    const t = tensors[n]!;
    if (rng.uniform() < 0.3) delete tensors[n];
    else tensors[n] = { shape: rng.uniform() < 0.5 ? [t.data.length] : [...t.shape].reverse(), data: t.data };
  } else { // a tensor added
    tensors[['__proto__', 'extra', 'encoder.9.weight'][rng.int(3)]!] = { shape: [2], data: new Float32Array([1, 2]) };
  }
  try { return encodeSafetensors(tensors, meta); } catch { return null; }
}
