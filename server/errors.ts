// Structured API errors: every failure answers `{ error, detail }` with a fitting status, so a
// client can branch on the short machine-readable `error` and show `detail` to a person.
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    detail: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
    this.name = 'ApiError';
  }
}

export interface ErrorBody {
  error: string;
  detail: string;
}

export function errorResponse(c: Context, status: ContentfulStatusCode, code: string, detail: string, headers: Record<string, string> = {}): Response {
  for (const [k, v] of Object.entries(headers)) c.header(k, v);
  return c.json({ error: code, detail } satisfies ErrorBody, status);
}
