// POST /v1/classify?model=N: one sample (FCS | NPY | CSV body, or a multipart form with one file)
// → its summary, and on request per-cell probabilities (JSON or NPY) and the 2-D map.
import { Hono, type Context } from 'hono';
import { encodeNpy } from '../../bindings/io/npy.js';
import { ApiError } from '../errors.js';
import { readRequestBody, requestSignal } from '../limits.js';
import { checkModelName } from '../names.js';
import { decodeSample, sampleId } from '../samples.js';
import { CLASS_NAMES, type ClassifyResult } from '../engine.js';
import type { Services } from '../services.js';
import { allowOnly } from './allow.js';

const round6 = (v: number) => Math.round(v * 1e6) / 1e6;

/** The uploaded file: the body itself, or the first file part of a multipart form (`curl -F file=@x.fcs`). */
async function uploadedFile(c: Context, body: Uint8Array): Promise<{ bytes: Uint8Array; contentType: string | null; filename: string | null }> {
  const ct = c.req.header('content-type') ?? null;
  const filename = c.req.query('filename') ?? null;
  if (!ct || !ct.toLowerCase().startsWith('multipart/form-data')) return { bytes: body, contentType: ct, filename };
  let form: FormData;
  try {
    form = await new Response(body as Uint8Array<ArrayBuffer>, { headers: { 'content-type': ct } }).formData();
  } catch (e) {
    throw new ApiError(400, 'bad_multipart', `the multipart body cannot be parsed: ${(e as Error).message}`);
  }
  const files = [...form.values()].filter((v): v is File => typeof v !== 'string');
  if (files.length !== 1) throw new ApiError(400, 'bad_multipart', `send exactly one file part (got ${files.length}); e.g. curl -F file=@sample.fcs`);
  const f = files[0]!;
  return { bytes: new Uint8Array(await f.arrayBuffer()), contentType: f.type || null, filename: filename ?? (f.name || null) };
}

/** JSON with every non-ASCII character as a \u escape: a header value must be bytes below 256
 *  (sample ids and quality flags may hold any character), and it parses back to the same object. */
export function asciiJson(v: unknown): string {
  return JSON.stringify(v).replace(/[\u007f-\uffff]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function respond(c: Context, model: string, result: ClassifyResult, cells: string | undefined, embedding: boolean): Response {
  const body = { model, summary: result.summary };
  if (cells === 'npy') {
    return c.body(encodeNpy([result.summary.cells, CLASS_NAMES.length], result.probabilities) as Uint8Array<ArrayBuffer>, 200, {
      'content-type': 'application/octet-stream',
      'x-hemaclust-summary': asciiJson(body),
      'x-hemaclust-classes': CLASS_NAMES.join(','),
    });
  }
  if (cells !== 'json' && !embedding) return c.json(body);
  const k = CLASS_NAMES.length;
  const rows = result.summary.cells;
  const e = result.embedding2d;
  return c.json({
    ...body,
    classes: CLASS_NAMES,
    ...(cells === 'json' ? { probabilities: Array.from({ length: rows }, (_, i) => Array.from(result.probabilities.subarray(i * k, i * k + k), round6)) } : {}),
    ...(embedding && e ? { embedding2d: Array.from({ length: rows }, (_, i) => [round6(e[2 * i]!), round6(e[2 * i + 1]!)]) } : {}),
  });
}

export function classifyRoutes(s: Services): Hono {
  const app = new Hono();
  app.post('/v1/classify', s.guard.middleware, async (c) => {
    const cells = c.req.query('cells');
    if (cells !== undefined && cells !== 'npy' && cells !== 'json') throw new ApiError(400, 'bad_query', `cells must be 'npy' or 'json' (got '${cells}')`);
    const embedding = ['1', 'true'].includes(c.req.query('embedding') ?? '');
    const name = checkModelName(c.req.query('model') ?? (await s.models.defaultName()));
    const file = await uploadedFile(c, await readRequestBody(c, s.limits));
    const id = sampleId(c.req.query('id'), file.filename);
    const sample = decodeSample(file.bytes, { id, contentType: file.contentType, filename: file.filename });
    const meta = await s.models.ensure(name);
    if (sample.cols !== meta.features) {
      throw new ApiError(422, 'feature_mismatch', `the sample has ${sample.cols} features per cell but model '${name}' expects ${meta.features}`);
    }
    // The sample's data moves to the compute thread: the upload is not kept beyond this call.
    const result = await s.engine.classify(name, { id: sample.id, rows: sample.rows, cols: sample.cols, data: sample.data }, requestSignal(c));
    return respond(c, name, result, cells, embedding);
  });
  allowOnly(app, '/v1/classify', ['POST']);
  return app;
}
