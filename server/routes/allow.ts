// 405 for a known path asked with a method it does not serve (a 404 would say the path does not
// exist). Registered after a path's real handlers, so it only answers what they do not.
import type { Hono } from 'hono';
import { errorResponse } from '../errors.js';

export function allowOnly(app: Hono, path: string, methods: readonly string[]): void {
  const allow = methods.includes('GET') ? [...methods, 'HEAD'] : [...methods];
  app.all(path, (c) => errorResponse(c, 405, 'method_not_allowed', `${c.req.method} is not allowed on ${c.req.path}; it takes ${allow.join(', ')}`, { allow: allow.join(', ') }));
}
