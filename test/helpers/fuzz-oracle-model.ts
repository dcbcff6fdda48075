// Independent reading of a hemaclust model file for differential fuzzing: the safetensors oracle,
// then the model rules bindings/models/model-file.ts documents, restated from the layout in
// serialize.ts (not from its code): the file checksum present, format hemaclust-model/1, an
// architecture of a known kind with exactly its fields in range, normalisation and classes
// consistent with it, and exactly the tensors that architecture implies (nn.Linear layout
// [out, in]), with those shapes. The value is every tensor by name, the kind and the classes.
import type { OracleResult } from './fuzz-harness.js';
import { parseJson, safetensorsOracle, type J, type StOracleValue } from './fuzz-oracle-safetensors.js';

export interface ModelOracleValue { kind: string; classes: string[] | null; tensors: StOracleValue['tensors'] }

const ACTS = ['identity', 'relu', 'sigmoid', 'tanh'];
const WIDTH = 2 ** 24, K = 2 ** 16;
const isInt = (v: J | undefined, lo: number, hi: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi;

export function modelOracle(b: Uint8Array): OracleResult {
  const st = safetensorsOracle(b);
  if (!st.ok) return st;
  const { tensors, metadata, fileChecksum } = st.value as StOracleValue;
  const no = (why: string): OracleResult => ({ ok: false, why });
  if (!fileChecksum) return no('no file checksum');
  if (metadata.get('format') !== 'hemaclust-model/1') return no('format');
  const json = (key: string): J | undefined | 'bad' => {
    const s = metadata.get(key);
    if (s === undefined) return undefined;
    if (s.length > 1 << 20) return 'bad';
    try { return parseJson(s); } catch { return 'bad'; }
  };
  const a = json('architecture');
  if (!(a instanceof Map)) return no('architecture');
  const kind = a.get('model');
  if (typeof kind !== 'string' || !['kmeans', 'dec', 'idec', 'vade', 'autoencoder'].includes(kind)) return no('kind');
  const fields = kind === 'kmeans' ? ['model', 'inputDim', 'k'] : ['model', 'inputDim', 'dims', 'hiddenActivation', 'embeddingActivation', 'loss', 'init', 'seed', ...(kind === 'autoencoder' ? [] : ['k']), ...(kind === 'dec' || kind === 'idec' ? ['alpha'] : [])];
  for (const key of a.keys()) if (!fields.includes(key)) return no(`field ${key}`);
  const inputDim = a.get('inputDim');
  if (!isInt(inputDim, 1, WIDTH)) return no('inputDim');
  const k = a.get('k');
  if (kind !== 'autoencoder' && !isInt(k, 1, K)) return no('k');
  const want = new Map<string, number[]>();
  if (kind === 'kmeans') want.set('cluster_centers', [k as number, inputDim]);
  else {
    const dims = a.get('dims');
    if (!Array.isArray(dims) || dims.length < 1 || dims.length > 16 || !dims.every((d) => isInt(d, 1, WIDTH))) return no('dims');
    for (const f of ['hiddenActivation', 'embeddingActivation']) if (!ACTS.includes(a.get(f) as string)) return no(f);
    if (!['mse', 'bce'].includes(a.get('loss') as string) || !['auto', 'glorot', 'he'].includes(a.get('init') as string)) return no('loss/init');
    if (!isInt(a.get('seed'), -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER)) return no('seed');
    let alpha = 1;
    if (kind === 'dec' || kind === 'idec') {
      const al = a.get('alpha');
      if (al !== undefined) { if (typeof al !== 'number' || !(al > 0) || al > 1e6) return no('alpha'); alpha = al; }
    }
    // Layer l maps width w[l] → w[l+1]; the decoder mirrors the encoder back to the input.
    const w = [inputDim, ...(dims as number[])];
    const L = w.length - 1;
    const lin = (name: string, i: number, o: number) => { want.set(`${name}.weight`, [o, i]); want.set(`${name}.bias`, [o]); };
    for (let l = 0; l < (kind === 'vade' ? L - 1 : L); l++) lin(`encoder.${l}`, w[l]!, w[l + 1]!);
    if (kind === 'vade') { lin('encoder_mu.0', w[L - 1]!, w[L]!); lin('encoder_logvar.0', w[L - 1]!, w[L]!); }
    for (let l = 0; l < L; l++) lin(`decoder.${l}`, w[L - l]!, w[L - l - 1]!);
    if (kind === 'dec' || kind === 'idec') want.set('cluster_centers', [k as number, w[L]!]);
    if (kind === 'vade') { want.set('gmm.pi_logits', [k as number]); want.set('gmm.mu', [k as number, w[L]!]); want.set('gmm.log_var', [k as number, w[L]!]); }
    const cfg = json('config');
    if (cfg === 'bad' || (cfg !== undefined && cfg !== null && !(cfg instanceof Map))) return no('config');
    // DEC/IDEC take alpha from the training config (default 1); it must match the architecture's.
    if ((kind === 'dec' || kind === 'idec') && ((cfg instanceof Map ? cfg.get('alpha') : undefined) ?? 1) !== alpha) return no('alpha vs config');
  }
  if (kind === 'kmeans') {
    const cfg = json('config');
    if (cfg === 'bad' || (cfg !== undefined && cfg !== null && !(cfg instanceof Map))) return no('config');
  }
  const nrm = json('normalization');
  if (nrm === 'bad') return no('normalization json');
  if (nrm !== undefined && nrm !== null) {
    if (!(nrm instanceof Map)) return no('normalization');
    const nk = nrm.get('kind');
    if (nk === 'standard') {
      const mean = nrm.get('mean'), std = nrm.get('std');
      const finite = (x: J) => typeof x === 'number' && Number.isFinite(x);
      if (!Array.isArray(mean) || mean.length !== inputDim || !mean.every(finite)) return no('mean');
      if (!Array.isArray(std) || std.length !== inputDim || !std.every((x) => finite(x) && (x as number) >= 0)) return no('std');
    } else if (nk !== 'none') return no('normalization kind');
  }
  const cl = json('classes');
  let classes: string[] | null = null;
  if (cl === 'bad') return no('classes json');
  if (cl !== undefined && cl !== null) {
    if (!Array.isArray(cl) || (kind === 'autoencoder' ? cl.length > K : cl.length !== k)) return no('classes');
    if (!cl.every((c) => typeof c === 'string' && c.length <= 256)) return no('class name');
    classes = cl as string[];
  }
  if (tensors.size !== want.size) return no('tensor set');
  for (const [name, shape] of want) {
    const t = tensors.get(name);
    if (!t || t.shape.join() !== shape.join()) return no(`tensor ${name}`);
  }
  return { ok: true, value: { kind, classes, tensors } satisfies ModelOracleValue };
}
