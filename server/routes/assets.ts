// GET /, /browser/*, /build/*.wasm and the page's other files, from the AssetSource (mounted last:
// it answers every GET no other route took).
import { Hono } from 'hono';
import { ApiError } from '../errors.js';
import type { Services } from '../services.js';

export function assetRoutes(s: Services): Hono {
  const app = new Hono();
  app.get('*', async (c) => {
    if (!s.assets) throw new ApiError(404, 'not_found', `no route for GET ${c.req.path} (this server serves no page)`);
    const a = await s.assets.get(c.req.path === '/' ? '/index.html' : c.req.path);
    if (!a) throw new ApiError(404, 'not_found', `no file ${c.req.path}`);
    return c.body(a.body as Uint8Array<ArrayBuffer>, 200, { 'content-type': a.type, 'cache-control': 'no-cache' });
  });
  return app;
}
