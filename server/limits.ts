// Request limits, as middleware factories that resolve their options once:
// - body size: Content-Length is checked up front and the stream is counted while read, so a
//   client that lies about (or omits) its length still cannot push more than maxBodyBytes (413);
// - concurrency: at most maxConcurrent guarded requests at once, others get 429 + Retry-After;
// - time: a guarded request that runs past requestTimeoutMs is answered 503 + Retry-After. Its slot
//   is held until the work really ends, so timed-out work still counts against the concurrency
//   limit and cannot pile up behind the server's back.
import type { MiddlewareHandler } from 'hono';
import { ApiError, errorResponse } from './errors.js';

export interface Limits {
  /** Largest accepted request body in bytes (413 above). */
  maxBodyBytes: number;
  /** Longest a guarded request may take before the server answers 503. */
  requestTimeoutMs: number;
  /** Guarded requests in flight at once (429 above). */
  maxConcurrent: number;
}

export const DEFAULT_LIMITS: Limits = { maxBodyBytes: 64 * 1024 * 1024, requestTimeoutMs: 60_000, maxConcurrent: 64 };

export function resolveLimits(l: Partial<Limits> | undefined): Limits {
  const out = { ...DEFAULT_LIMITS, ...(l ?? {}) };
  for (const [k, v] of Object.entries(out)) {
    if (!Number.isFinite(v) || v <= 0) throw new Error(`limits.${k} must be a positive number (got ${v})`);
  }
  return out;
}

/** Reads a request body into memory, refusing (413) more than `max` bytes. */
export async function readBody(req: Request, max: number): Promise<Uint8Array> {
  const declared = req.headers.get('content-length');
  if (declared !== null && Number(declared) > max) {
    throw new ApiError(413, 'body_too_large', `the request body (${declared} bytes) exceeds the limit of ${max} bytes`);
  }
  if (!req.body) return new Uint8Array(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel().catch(() => {});
      throw new ApiError(413, 'body_too_large', `the request body exceeds the limit of ${max} bytes`);
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.byteLength;
  }
  return out;
}

export interface Guard {
  middleware: MiddlewareHandler;
  /** Guarded requests in flight now (including timed-out work still running). */
  inFlight(): number;
  /** Resolves once nothing guarded is in flight. */
  idle(): Promise<void>;
}

/** Concurrency limit + request timeout for the endpoints that compute. */
export function createGuard(limits: Limits): Guard {
  let active = 0;
  let waiters: (() => void)[] = [];
  const release = () => {
    active--;
    if (active === 0) {
      const w = waiters;
      waiters = [];
      w.forEach((f) => f());
    }
  };
  const retryAfter = String(Math.max(1, Math.ceil(limits.requestTimeoutMs / 10_000)));
  const middleware: MiddlewareHandler = async (c, next) => {
    if (active >= limits.maxConcurrent) {
      return errorResponse(c, 429, 'too_many_requests', `the server is handling ${active} requests (limit ${limits.maxConcurrent}); retry later`, { 'retry-after': '1' });
    }
    active++;
    const work = next();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), limits.requestTimeoutMs);
    });
    let outcome: 'done' | 'timeout';
    try {
      outcome = await Promise.race([work.then(() => 'done' as const), timedOut]);
    } catch (e) {
      clearTimeout(timer);
      release();
      throw e;
    }
    clearTimeout(timer);
    if (outcome === 'done') {
      release();
      return;
    }
    work.then(release, release);
    return errorResponse(c, 503, 'timeout', `the request did not finish within ${limits.requestTimeoutMs} ms`, { 'retry-after': retryAfter });
  };
  return {
    middleware,
    inFlight: () => active,
    idle: () => (active === 0 ? Promise.resolve() : new Promise((r) => waiters.push(r))),
  };
}
