// GET /health, /openapi.json, /docs: what the server runs on and how to call it.
import { Hono } from 'hono';
import { openApiDocument, docsPage } from '../openapi.js';
import type { Services } from '../services.js';
import { allowOnly } from './allow.js';

export const API_VERSION = '1.0.0';

export function metaRoutes(s: Services): Hono {
  const app = new Hono();
  // Never waits on the engine (the computations are on other threads), so a health check stays
  // fast whatever the server is busy with.
  app.get('/health', async (c) => {
    const st = await s.models.getStore();
    return c.json({
      status: s.isClosing() ? 'shutting_down' : 'ok',
      version: API_VERSION,
      backend: s.engine.info() ?? { kind: s.backendKind, device: 'not yet created' },
      models: { store: st.where, count: (await st.list()).length },
      demo: { state: s.models.demoState, job: s.models.demoJob },
      inFlight: s.guard.inFlight(),
      clients: s.guard.clients(),
      jobs: s.jobs.counts(),
      limits: s.limits,
    });
  });
  app.get('/openapi.json', (c) => c.json(openApiDocument(s.limits)));
  app.get('/docs', (c) => c.html(docsPage()));
  for (const p of ['/health', '/openapi.json', '/docs']) allowOnly(app, p, ['GET']);
  return app;
}
