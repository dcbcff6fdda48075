// API-key check for write endpoints. The key is accepted as `authorization: Bearer <key>` or
// `x-api-key: <key>`. Comparison is constant-time in the key's content: both sides are hashed
// (SHA-256, Web Crypto, so this runs on any runtime) and the digests compared with no early exit,
// so neither the position of the first differing byte nor the key's length leaks through timing.
import type { MiddlewareHandler } from 'hono';
import { errorResponse } from './errors.js';

const enc = new TextEncoder();

async function digest(s: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', enc.encode(s)));
}

/** Constant-time equality of two strings (via fixed-length digests). */
export async function constantTimeEqual(a: string, b: string): Promise<boolean> {
  const [x, y] = await Promise.all([digest(a), digest(b)]);
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x[i]! ^ y[i]!;
  return diff === 0;
}

/** The key a request presents, or null. */
export function presentedKey(headers: Headers): string | null {
  const auth = headers.get('authorization');
  if (auth) {
    const m = /^Bearer\s+(.+)$/i.exec(auth.trim());
    if (m) return m[1]!.trim();
  }
  const x = headers.get('x-api-key');
  return x ? x.trim() : null;
}

/** Middleware: 401 without a valid key; 403 when the server has no key (writes disabled). */
export function requireApiKey(apiKey: string | null | undefined): MiddlewareHandler {
  const configured = apiKey && apiKey.length > 0 ? apiKey : null;
  return async (c, next) => {
    if (!configured) {
      return errorResponse(c, 403, 'writes_disabled', 'this server was started without an API key, so write endpoints are disabled (start it with --api-key or HEMACLUST_API_KEY)');
    }
    const key = presentedKey(c.req.raw.headers);
    if (key === null) {
      return errorResponse(c, 401, 'unauthorized', 'an API key is required: send `authorization: Bearer <key>` or `x-api-key: <key>`', { 'www-authenticate': 'Bearer realm="hemaclust"' });
    }
    if (!(await constantTimeEqual(key, configured))) {
      return errorResponse(c, 401, 'unauthorized', 'the API key is not valid', { 'www-authenticate': 'Bearer realm="hemaclust", error="invalid_token"' });
    }
    await next();
  };
}
