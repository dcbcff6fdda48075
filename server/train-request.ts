// The body of POST /v1/train, in one of two shapes (both documented in openapi.ts):
//
// 1. multipart/form-data: a field `name` (the model to create), optional `seed`, a field
//    `references` holding JSON `{ "<sample id>": { "plt_pct": …, "retic_pct": …, "clump_pct": … } }`,
//    and one or more file fields `samples` (FCS/NPY/CSV); a sample's id is its file name without
//    the extension.
// 2. application/json: `{ "name", "seed"?, "references": {…as above…},
//    "samples": [{ "id", "data": "<base64 of the FCS/NPY/CSV file>", "filename"? }] }`.
//
// Every sample must have a reference and the same number of features.
import { ApiError } from './errors.js';
import { checkModelName } from './names.js';
import { decodeSample, sampleId } from './samples.js';
import type { SampleInput, Shares } from './engine.js';

export interface TrainRequest {
  name: string;
  seed?: number;
  samples: SampleInput[];
  references: Map<string, Shares>;
}

const MAX_SAMPLES = 256;

function bad(detail: string): never {
  throw new ApiError(400, 'bad_train_request', detail);
}

function parseReferences(raw: unknown): Map<string, Shares> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) bad('`references` must be an object mapping sample ids to { plt_pct, retic_pct, clump_pct }');
  const out = new Map<string, Shares>();
  for (const [id, v] of Object.entries(raw as Record<string, unknown>)) {
    const r = v as Record<string, unknown>;
    const shares = {} as Shares;
    for (const k of ['plt_pct', 'retic_pct', 'clump_pct'] as const) {
      const x = r?.[k];
      if (typeof x !== 'number' || !Number.isFinite(x) || x < 0 || x > 100) bad(`references["${id}"].${k} must be a percentage in [0, 100] (got ${JSON.stringify(x)})`);
      shares[k] = x;
    }
    out.set(id, shares);
  }
  return out;
}

function parseSeed(v: unknown): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n)) bad(`seed must be an integer (got ${JSON.stringify(v)})`);
  return n;
}

function base64ToBytes(s: string, what: string): Uint8Array {
  let bin: string;
  try {
    bin = atob(s);
  } catch {
    bad(`${what} is not valid base64`);
  }
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export async function parseTrainRequest(body: Uint8Array, contentType: string): Promise<TrainRequest> {
  const ct = contentType.toLowerCase();
  let name: unknown;
  let seed: unknown;
  let refsRaw: unknown;
  const samples: SampleInput[] = [];
  if (ct.startsWith('multipart/form-data')) {
    let form: FormData;
    try {
      form = await new Response(body as Uint8Array<ArrayBuffer>, { headers: { 'content-type': contentType } }).formData();
    } catch (e) {
      bad(`the multipart body cannot be parsed: ${(e as Error).message}`);
    }
    name = form.get('name');
    seed = form.get('seed');
    const refs = form.get('references');
    if (typeof refs !== 'string') bad('the multipart field `references` (JSON text) is required');
    try {
      refsRaw = JSON.parse(refs);
    } catch (e) {
      bad(`the field \`references\` is not valid JSON: ${(e as Error).message}`);
    }
    const files = form.getAll('samples');
    if (files.length > MAX_SAMPLES) bad(`at most ${MAX_SAMPLES} samples per job (got ${files.length})`);
    for (const f of files) {
      if (typeof f === 'string') bad('each `samples` field must be a file');
      const id = sampleId(null, f.name);
      samples.push(decodeSample(new Uint8Array(await f.arrayBuffer()), { id, contentType: f.type, filename: f.name }));
    }
  } else if (ct.startsWith('application/json')) {
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(new TextDecoder().decode(body)) as Record<string, unknown>;
    } catch (e) {
      bad(`the JSON body cannot be parsed: ${(e as Error).message}`);
    }
    if (typeof json !== 'object' || json === null) bad('the JSON body must be an object');
    name = json.name;
    seed = json.seed;
    refsRaw = json.references;
    const list = json.samples;
    if (!Array.isArray(list)) bad('`samples` must be an array of { id, data (base64), filename? }');
    if (list.length > MAX_SAMPLES) bad(`at most ${MAX_SAMPLES} samples per job (got ${list.length})`);
    for (const [i, s] of list.entries()) {
      const e = s as Record<string, unknown>;
      if (typeof e?.id !== 'string' || typeof e.data !== 'string') bad(`samples[${i}] (sample ${i + 1}) must have string fields id and data (base64)`);
      const filename = typeof e.filename === 'string' ? e.filename : null;
      const id = sampleId(e.id, filename);
      samples.push(decodeSample(base64ToBytes(e.data, `samples[${i}].data (sample ${i + 1})`), { id, filename }));
    }
  } else {
    throw new ApiError(415, 'unsupported_media_type', `POST /v1/train takes multipart/form-data or application/json (got '${contentType || 'none'}')`);
  }
  if (typeof name !== 'string') bad('`name` (the model to create) is required');
  const modelName = checkModelName(name);
  const references = parseReferences(refsRaw);
  if (samples.length === 0) bad('at least one sample is required');
  const ids = new Set<string>();
  for (const s of samples) {
    if (ids.has(s.id)) bad(`sample id '${s.id}' appears twice`);
    ids.add(s.id);
    if (!references.has(s.id)) bad(`sample '${s.id}' has no entry in references`);
    if (s.cols !== samples[0]!.cols) bad(`sample '${s.id}' has ${s.cols} features but '${samples[0]!.id}' has ${samples[0]!.cols}`);
  }
  return { name: modelName, seed: parseSeed(seed), samples: samples.map(({ id, rows, cols, data }) => ({ id, rows, cols, data })), references };
}
