// The OpenAPI 3.1 description of the service, written by hand (small enough to read whole), and
// /docs: a self-contained page that renders it. No Swagger UI is bundled — the service must work
// with no outside network, and a 50-line renderer shows what a user needs.
import type { Limits } from './limits.js';

const err = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
const NAME_RULE = "letters, digits, '.', '_', '-'; 1-64 characters, starting with a letter or digit; no '..'";
const modelParam = { name: 'model', in: 'query', required: false, description: `Model name (default: the server's default model; ${NAME_RULE}).`, schema: { $ref: '#/components/schemas/ModelName' } };
/** Responses every endpoint that computes can give (the guard in limits.ts and the shutdown check). */
const GUARDED = {
  408: err('the body arrived too slowly (below the minimum upload rate) or not within the request timeout; the connection is closed'),
  413: err('body too large'),
  429: err('all slots busy, or this client has its share of them in flight (Retry-After)'),
  503: err('did not finish within the request timeout, the demo model is still training, or the server is shutting down (Retry-After)'),
};
const INTERNAL = { 500: err('internal error') };

const sampleBody = {
  required: true,
  description: 'One sample: an FCS 3.x file, an NPY array (cells × features, or cells × channels × points) or CSV/TSV text. The format is sniffed from magic bytes, then content type.',
  content: {
    'application/octet-stream': { schema: { type: 'string', format: 'binary' } },
    'text/csv': { schema: { type: 'string' } },
    'multipart/form-data': { schema: { type: 'object', description: 'exactly one file part (any field name), e.g. curl -F file=@sample.fcs', properties: { file: { type: 'string', format: 'binary' } } } },
  },
};

const COMPONENTS = {
  securitySchemes: {
    bearer: { type: 'http', scheme: 'bearer' },
    apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' },
  },
  schemas: {
    Error: { type: 'object', required: ['error', 'detail'], properties: { error: { type: 'string', description: 'machine-readable code' }, detail: { type: 'string' } } },
    ModelName: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$', description: "no '..', '/', '\\\\' or NUL" },
    Shares: { type: 'object', required: ['plt_pct', 'retic_pct', 'clump_pct'], properties: { plt_pct: { type: 'number' }, retic_pct: { type: 'number' }, clump_pct: { type: 'number' } } },
    Summary: {
      type: 'object',
      properties: {
        id: { type: 'string' },
        cells: { type: 'integer' },
        counts: { type: 'object', properties: { platelet: { type: 'integer' }, rbc: { type: 'integer' }, reticulocyte: { type: 'integer' }, clumped_rbc: { type: 'integer' } } },
        percentages: { $ref: '#/components/schemas/Shares' },
      },
    },
    Job: {
      type: 'object',
      properties: {
        id: { type: 'string' }, kind: { const: 'train' }, status: { enum: ['queued', 'running', 'succeeded', 'failed'] }, model: { type: 'string' },
        createdAt: { type: 'string' }, startedAt: { type: ['string', 'null'] }, finishedAt: { type: ['string', 'null'] },
        progress: { type: ['object', 'null'] }, error: { type: ['string', 'null'] }, result: { type: ['object', 'null'] },
      },
    },
  },
};

/** Liveness and this document. */
const META_PATHS = {
  '/health': { get: { summary: 'Liveness and configuration', responses: { 200: { description: '{ status, version, backend, models, demo, inFlight, clients, jobs, limits }' } } } },
  '/openapi.json': { get: { summary: 'This document', responses: { 200: { description: 'OpenAPI 3.1', content: { 'application/json': {} } } } } },
  '/docs': { get: { summary: 'A page rendering this document', responses: { 200: { description: 'HTML', content: { 'text/html': {} } } } } },
};

/** The model store. */
const MODEL_PATHS = {
  '/v1/models': {
    get: { summary: 'List stored models', responses: { 200: { description: '{ default, demo, models: [{ name, bytes, modifiedAt }] }' } } },
    post: {
      summary: 'Upload a model (validated by loading it)',
      security: [{ bearer: [] }, { apiKey: [] }],
      parameters: [{ name: 'name', in: 'query', required: true, description: `Model name (${NAME_RULE}).`, schema: { $ref: '#/components/schemas/ModelName' } }],
      requestBody: { required: true, content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } },
      responses: { 201: { description: '{ name, bytes, meta }' }, 400: err('bad name, empty body or not a model'), 401: err('no or wrong API key'), 403: err('writes disabled (no key configured)'), ...GUARDED, ...INTERNAL },
    },
  },
  '/v1/models/{name}': {
    get: {
      summary: "A model's bytes",
      parameters: [{ name: 'name', in: 'path', required: true, description: `Model name (${NAME_RULE}).`, schema: { $ref: '#/components/schemas/ModelName' } }],
      responses: { 200: { description: 'the model file', content: { 'application/octet-stream': {} } }, 400: err('bad model name'), 404: err('no such model') },
    },
  },
};

const CLASSIFY_PATHS = {
  '/v1/classify': {
    post: {
      summary: 'Classify the cells of one sample',
      parameters: [
        modelParam,
        { name: 'cells', in: 'query', required: false, schema: { enum: ['json', 'npy'] }, description: 'Also return per-cell probabilities (cells × 4, classes platelet, rbc, reticulocyte, clumped_rbc): as JSON arrays, or as a float32 NPY body with the summary in the x-hemaclust-summary header.' },
        { name: 'embedding', in: 'query', required: false, schema: { enum: ['0', '1'] }, description: 'Also return the 2-D latent map (JSON).' },
        { name: 'id', in: 'query', required: false, schema: { type: 'string' }, description: 'Sample id to echo in the summary.' },
        { name: 'filename', in: 'query', required: false, schema: { type: 'string' }, description: 'Original file name (helps tell CSV from TSV).' },
      ],
      requestBody: sampleBody,
      responses: {
        200: { description: '{ model, summary } (+ classes, probabilities, embedding2d when asked)', content: { 'application/json': {}, 'application/octet-stream': {} } },
        400: err('malformed sample (the detail names the byte, line or event, counting from 1), bad multipart or bad query'), 404: err('no such model'), 415: err('unknown format'),
        422: err('feature count does not match the model'), ...GUARDED, ...INTERNAL,
      },
    },
  },
};

const TRAIN_PATHS = {
  '/v1/train': {
    post: {
      summary: 'Start a training job',
      description: 'multipart/form-data: `name`, optional `seed`, `references` (JSON {id: Shares}) and file fields `samples` (id = file name without extension). Or application/json: { name, seed?, references, samples: [{ id, data: base64, filename? }] }.',
      security: [{ bearer: [] }, { apiKey: [] }],
      requestBody: {
        required: true,
        content: {
          'multipart/form-data': { schema: { type: 'object', required: ['name', 'references', 'samples'], properties: { name: { type: 'string' }, seed: { type: 'integer' }, references: { type: 'string' }, samples: { type: 'array', items: { type: 'string', format: 'binary' } } } } },
          'application/json': {
            schema: {
              type: 'object', required: ['name', 'references', 'samples'],
              properties: {
                name: { $ref: '#/components/schemas/ModelName' }, seed: { type: 'integer' },
                references: { type: 'object', additionalProperties: { $ref: '#/components/schemas/Shares' } },
                samples: { type: 'array', items: { type: 'object', required: ['id', 'data'], properties: { id: { type: 'string' }, data: { type: 'string', contentEncoding: 'base64' }, filename: { type: 'string' } } } },
              },
            },
          },
        },
      },
      responses: { 202: { description: '{ job, links } and a Location header' }, 400: err('bad cohort'), 401: err('no or wrong API key'), 403: err('writes disabled'), 415: err('wrong content type'), ...GUARDED, 429: err('all slots busy, this client has its share in flight, or the training queue is full (Retry-After)'), ...INTERNAL },
    },
  },
};

/** Training jobs, polled or streamed. */
const JOB_PATHS = {
  '/v1/jobs/{id}': { get: { summary: "A job's state", parameters: [{ name: 'id', in: 'path', required: true, description: 'Job id (from POST /v1/train).', schema: { type: 'string' } }], responses: { 200: { description: 'the job', content: { 'application/json': { schema: { $ref: '#/components/schemas/Job' } } } }, 404: err('no such job') } } },
  '/v1/jobs/{id}/events': {
    get: {
      summary: "A job's progress as Server-Sent Events",
      description: 'Events `status`, `progress` (stage, epoch, of, losses, message), and a final `done` or `error`; past events are replayed first (after Last-Event-ID when sent).',
      parameters: [{ name: 'id', in: 'path', required: true, description: 'Job id (from POST /v1/train).', schema: { type: 'string' } }],
      responses: { 200: { description: 'event stream', content: { 'text/event-stream': {} } }, 404: err('no such job') },
    },
  },
};

export function openApiDocument(limits: Limits): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'hemaclust',
      version: '1.0.0',
      description: `Deep-clustering blood-cell classification. Limits: bodies up to ${limits.maxBodyBytes} bytes (413 above), ${limits.maxConcurrent} concurrent compute requests and ${limits.maxPerClient} per client address (429 + Retry-After above), uploads at ${limits.minUploadBytesPerSec} bytes/s or faster once ${limits.uploadGraceMs} ms have passed (408 below), ${limits.requestTimeoutMs} ms per request (503 + Retry-After). A path asked with a method it does not take answers 405 with an Allow header. Write endpoints need an API key.`,
    },
    servers: [{ url: '/' }],
    components: COMPONENTS,
    paths: { ...META_PATHS, ...MODEL_PATHS, ...CLASSIFY_PATHS, ...TRAIN_PATHS, ...JOB_PATHS },
  };
}

/** A page that renders /openapi.json: every path and method, parameters, bodies and responses. */
export function docsPage(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>hemaclust API</title>
<meta name="viewport" content="width=device-width,initial-scale=1">
<style>
body{font:15px/1.45 system-ui,sans-serif;max-width:960px;margin:2rem auto;padding:0 1rem;color:#1d2330}
h1{font-size:1.5rem}.op{border:1px solid #d5dae3;border-radius:6px;margin:1rem 0;padding:.6rem .9rem}
.m{display:inline-block;min-width:4.2rem;font-weight:700;text-transform:uppercase}.get{color:#0b6e4f}.post{color:#9a3b00}
code{background:#f3f5f8;padding:0 .25rem;border-radius:3px}table{border-collapse:collapse;margin:.3rem 0}td,th{border-bottom:1px solid #eee;padding:.15rem .6rem;text-align:left;vertical-align:top}
.lock{color:#9a3b00;font-size:.85rem}
</style></head><body>
<h1>hemaclust API</h1><p id="desc"></p><p><a href="/openapi.json">openapi.json</a> · <a href="/">the app</a></p><div id="ops">loading…</div>
<script type="module">
const doc = await (await fetch('/openapi.json')).json();
const esc = (s) => String(s ?? '').replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
document.getElementById('desc').textContent = doc.info.description;
let html = '';
for (const [path, ops] of Object.entries(doc.paths)) for (const [method, op] of Object.entries(ops)) {
  html += '<div class="op"><div><span class="m ' + method + '">' + method + '</span><code>' + esc(path) + '</code> — ' + esc(op.summary) + (op.security ? ' <span class="lock">(API key)</span>' : '') + '</div>';
  if (op.description) html += '<p>' + esc(op.description) + '</p>';
  if (op.parameters) html += '<table><tr><th>parameter</th><th>in</th><th>description</th></tr>' + op.parameters.map((p) => '<tr><td><code>' + esc(p.name) + '</code>' + (p.required ? ' *' : '') + '</td><td>' + esc(p.in) + '</td><td>' + esc(p.description ?? JSON.stringify(p.schema)) + '</td></tr>').join('') + '</table>';
  if (op.requestBody) html += '<p>body: ' + Object.keys(op.requestBody.content).map((t) => '<code>' + esc(t) + '</code>').join(', ') + (op.requestBody.description ? ' — ' + esc(op.requestBody.description) : '') + '</p>';
  html += '<table><tr><th>status</th><th>meaning</th></tr>' + Object.entries(op.responses).map(([s, r]) => '<tr><td>' + s + '</td><td>' + esc(r.description) + '</td></tr>').join('') + '</table></div>';
}
document.getElementById('ops').innerHTML = html;
</script></body></html>`;
}
