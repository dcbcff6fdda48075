// GET /v1/models, GET /v1/models/:name, POST /v1/models?name=N (API key; validated by loading it).
import { Hono } from 'hono';
import { ApiError } from '../errors.js';
import { readRequestBody } from '../limits.js';
import { checkModelName } from '../names.js';
import type { Services } from '../services.js';
import { allowOnly } from './allow.js';

export function modelRoutes(s: Services): Hono {
  const app = new Hono();
  app.get('/v1/models', async (c) => {
    const list = await (await s.models.getStore()).list();
    const def = await s.models.defaultName().catch(() => null);
    return c.json({ default: def, demo: s.models.demoState, models: list });
  });
  app.post('/v1/models', s.auth, s.guard.middleware, async (c) => {
    const name = checkModelName(c.req.query('name'));
    const bytes = await readRequestBody(c, s.limits);
    if (bytes.length === 0) throw new ApiError(400, 'empty_body', 'the request body is empty: send the model file');
    const meta = await s.models.add(name, bytes, `uploaded model '${name}'`);
    return c.json({ name, bytes: bytes.byteLength, meta }, 201);
  });
  app.get('/v1/models/:name', async (c) => {
    const name = checkModelName(c.req.param('name'));
    const bytes = await (await s.models.getStore()).get(name);
    if (!bytes) throw new ApiError(404, 'model_not_found', `no model named '${name}'`);
    return c.body(bytes as Uint8Array<ArrayBuffer>, 200, { 'content-type': 'application/octet-stream', 'content-disposition': `attachment; filename="${name}.safetensors"` });
  });
  allowOnly(app, '/v1/models', ['GET', 'POST']);
  allowOnly(app, '/v1/models/:name', ['GET']);
  return app;
}
