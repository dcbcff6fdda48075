// Request limits, as middleware factories that resolve their options once.
//
// - Body size: Content-Length is checked up front and the stream is counted while read, so a
//   client that lies about (or omits) its length still cannot push more than maxBodyBytes (413).
// - Concurrency: at most maxConcurrent guarded requests at once (429 above), and at most
//   maxPerClient of them from one client address, so a few clients cannot take every slot.
// - Time: every guarded request carries an AbortSignal (`requestSignal(c)`) that fires when the
//   request runs past requestTimeoutMs or when its client goes away. Whatever the request waits
//   on — its body, a place in the compute queue — gives up on that signal, so the slot is freed
//   on every path: success, error, timeout and client abort. A computation already running on a
//   worker is not interrupted; its slot is held until it ends (it is bounded), so timed-out work
//   still counts against the limit and cannot pile up behind the server's back.
// - Upload rate: after uploadGraceMs, a body arriving slower than minUploadBytesPerSec is cut off
//   with 408, so a slow client (slowloris) holds a slot for seconds, not for the whole timeout.
import type { Context, MiddlewareHandler } from 'hono';
import { ApiError, errorResponse } from './errors.js';

export interface Limits {
  /** Largest accepted request body in bytes (413 above). */
  maxBodyBytes: number;
  /** Longest a guarded request may take before the server answers 408 (body still arriving) or 503. */
  requestTimeoutMs: number;
  /** Guarded requests in flight at once (429 above). */
  maxConcurrent: number;
  /** Guarded requests in flight at once from one client address (429 above). */
  maxPerClient: number;
  /** Slowest accepted upload, averaged from the request's start, once uploadGraceMs has passed (408 below). */
  minUploadBytesPerSec: number;
  /** How long an upload may run before its rate is checked. */
  uploadGraceMs: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxBodyBytes: 64 * 1024 * 1024,
  requestTimeoutMs: 60_000,
  maxConcurrent: 64,
  maxPerClient: 16,
  // 16 KiB/s: a 1 MB sample on the slowest mobile link still passes; a trickle of a few bytes a second does not.
  minUploadBytesPerSec: 16 * 1024,
  uploadGraceMs: 5_000,
};

/** Fills in defaults; maxPerClient defaults to a quarter of maxConcurrent (at least 1). */
export function resolveLimits(l: Partial<Limits> | undefined): Limits {
  const given = l ?? {};
  const out: Limits = { ...DEFAULT_LIMITS, ...given };
  if (given.maxPerClient === undefined) out.maxPerClient = Math.max(1, Math.ceil(out.maxConcurrent / 4));
  for (const [k, v] of Object.entries(out)) {
    if (!Number.isFinite(v) || v <= 0) throw new Error(`limits.${k} must be a positive number (got ${v})`);
  }
  out.maxPerClient = Math.min(out.maxPerClient, out.maxConcurrent);
  return out;
}

/** Why a guarded request's signal fired. */
export class RequestAborted extends Error {
  constructor(readonly why: 'timeout' | 'client_closed', detail: string) {
    super(detail);
    this.name = 'RequestAborted';
  }
}

const SIGNAL = new WeakMap<Request, AbortSignal>();
/** Requests whose body is being read now: a timeout then answers 408 (the client is slow), else 503 (the server is). */
const UPLOADING = new WeakSet<Request>();

/** The signal of a guarded request (fires on timeout or client abort); the raw request's own signal otherwise. */
export function requestSignal(c: Context): AbortSignal {
  return SIGNAL.get(c.req.raw) ?? c.req.raw.signal;
}

export interface ReadBodyOptions {
  max: number;
  signal?: AbortSignal;
  /** Minimum average rate (bytes/s) once graceMs has passed; 0 = no check. */
  minBytesPerSec?: number;
  graceMs?: number;
}

/** Reads a request body into memory, refusing (413) more than `max` bytes, giving up on `signal`
 *  and (408) on a body that arrives too slowly. The reader is always released. */
export async function readBody(req: Request, o: ReadBodyOptions | number): Promise<Uint8Array> {
  const opts: ReadBodyOptions = typeof o === 'number' ? { max: o } : o;
  const { max, signal } = opts;
  const declared = req.headers.get('content-length');
  if (declared !== null && Number(declared) > max) {
    throw new ApiError(413, 'body_too_large', `the request body (${declared} bytes) exceeds the limit of ${max} bytes`);
  }
  if (!req.body) return new Uint8Array(0);
  signal?.throwIfAborted();
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  const t0 = Date.now();
  let stop: ((e: unknown) => void) | null = null;
  const stopped = new Promise<never>((_, reject) => (stop = reject));
  stopped.catch(() => undefined);
  const onAbort = () => stop!(signal!.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  // The rate check needs a clock of its own: a client that sends nothing never wakes a read.
  const minRate = opts.minBytesPerSec ?? 0;
  const grace = opts.graceMs ?? 0;
  const rateTimer = minRate > 0
    ? setInterval(() => {
      const s = (Date.now() - t0) / 1000;
      if (s * 1000 >= grace && total / s < minRate) {
        stop!(new ApiError(408, 'upload_too_slow', `the body arrived at ${Math.round(total / s)} bytes/s, below the minimum of ${minRate} bytes/s`, { connection: 'close' }));
      }
    }, Math.min(1000, Math.max(50, grace / 4)))
    : null;
  try {
    for (;;) {
      const { done, value } = await Promise.race([reader.read(), stopped]);
      if (done) break;
      total += value.byteLength;
      if (total > max) throw new ApiError(413, 'body_too_large', `the request body exceeds the limit of ${max} bytes`);
      chunks.push(value);
    }
  } catch (e) {
    await reader.cancel().catch(() => undefined);
    throw e;
  } finally {
    if (rateTimer) clearInterval(rateTimer);
    signal?.removeEventListener('abort', onAbort);
    try {
      reader.releaseLock();
    } catch {
      // a read still pending after cancel(): the lock goes with the stream
    }
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let off = 0;
  for (const ch of chunks) {
    out.set(ch, off);
    off += ch.byteLength;
  }
  return out;
}

/** Reads a guarded request's body under the limits: size cap, minimum rate, the request's deadline
 *  and its client's abort. */
export async function readRequestBody(c: Context, limits: Limits): Promise<Uint8Array> {
  const req = c.req.raw;
  UPLOADING.add(req);
  try {
    return await readBody(req, { max: limits.maxBodyBytes, signal: requestSignal(c), minBytesPerSec: limits.minUploadBytesPerSec, graceMs: limits.uploadGraceMs });
  } finally {
    UPLOADING.delete(req);
  }
}

export interface Guard {
  middleware: MiddlewareHandler;
  /** Guarded requests in flight now (including timed-out work still running). */
  inFlight(): number;
  /** Clients with guarded requests in flight now. */
  clients(): number;
  /** Resolves once nothing guarded is in flight. */
  idle(): Promise<void>;
}

export interface GuardOptions {
  /** The client's identity for the per-client share (default: the peer address Node reports; none
   *  under app.request() or a runtime that does not expose it, and then only the global cap applies). */
  clientKey?: (c: Context) => string | null;
}

/** The peer address @hono/node-server exposes as c.env.incoming. */
export function peerAddress(c: Context): string | null {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return env?.incoming?.socket?.remoteAddress ?? null;
}

/** Concurrency limits, per-client share, request deadline and abort propagation for the endpoints that compute. */
export function createGuard(limits: Limits, gopts: GuardOptions = {}): Guard {
  const clientKey = gopts.clientKey ?? peerAddress;
  let active = 0;
  const perClient = new Map<string, number>();
  let waiters: (() => void)[] = [];
  // Retry-After from what the server sees: the smoothed duration of recent guarded requests (a slot
  // frees about that often per slot), stretched by the share of recent requests refused — under
  // sustained overload clients are told to back off longer instead of hammering every second.
  let ewmaMs = 1000;
  let refusedEwma = 0;
  const retryAfter = () => {
    const s = (ewmaMs / 1000) * (1 + 4 * refusedEwma);
    return String(Math.min(120, Math.max(1, Math.ceil(s))));
  };
  const noteOutcome = (refused: boolean) => (refusedEwma = 0.9 * refusedEwma + 0.1 * (refused ? 1 : 0));

  const middleware: MiddlewareHandler = async (c, next) => {
    const key = clientKey(c);
    if (active >= limits.maxConcurrent) {
      noteOutcome(true);
      return errorResponse(c, 429, 'too_many_requests', `the server is handling ${active} requests (limit ${limits.maxConcurrent}); retry later`, { 'retry-after': retryAfter() });
    }
    if (key !== null && (perClient.get(key) ?? 0) >= limits.maxPerClient) {
      noteOutcome(true);
      return errorResponse(c, 429, 'too_many_requests_from_client', `this client already has ${limits.maxPerClient} requests in flight (the per-client share of ${limits.maxConcurrent}); retry when one has finished`, { 'retry-after': retryAfter() });
    }
    noteOutcome(false);
    active++;
    if (key !== null) perClient.set(key, (perClient.get(key) ?? 0) + 1);
    let released = false;
    const t0 = Date.now();
    const release = () => {
      if (released) return;
      released = true;
      ewmaMs = 0.8 * ewmaMs + 0.2 * (Date.now() - t0);
      active--;
      if (key !== null) {
        const n = (perClient.get(key) ?? 1) - 1;
        if (n <= 0) perClient.delete(key);
        else perClient.set(key, n);
      }
      if (active === 0) {
        const w = waiters;
        waiters = [];
        w.forEach((f) => f());
      }
    };
    const ac = new AbortController();
    const raw = c.req.raw.signal;
    const onClientGone = () => ac.abort(new RequestAborted('client_closed', 'the client closed the connection'));
    if (raw.aborted) onClientGone();
    else raw.addEventListener('abort', onClientGone, { once: true });
    SIGNAL.set(c.req.raw, ac.signal);
    let timer: ReturnType<typeof setTimeout> | undefined;
    let uploadingAtTimeout = false;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => {
        uploadingAtTimeout = UPLOADING.has(c.req.raw);
        ac.abort(new RequestAborted('timeout', `the request did not finish within ${limits.requestTimeoutMs} ms`));
        resolve('timeout');
      }, limits.requestTimeoutMs);
    });
    const cleanup = () => {
      clearTimeout(timer);
      raw.removeEventListener('abort', onClientGone);
      release();
    };
    const work = next();
    let outcome: 'done' | 'timeout';
    try {
      outcome = await Promise.race([work.then(() => 'done' as const), timedOut]);
    } catch (e) {
      cleanup();
      throw e;
    }
    if (outcome === 'done') {
      cleanup();
      return;
    }
    // Timed out: answer now; the slot is freed when the work has really let go (its body read and
    // queue wait give up on the signal at once; a running computation finishes first).
    clearTimeout(timer);
    work.then(cleanup, cleanup);
    if (uploadingAtTimeout) {
      return errorResponse(c, 408, 'request_timeout', `the request body did not arrive within ${limits.requestTimeoutMs} ms`, { connection: 'close' });
    }
    return errorResponse(c, 503, 'timeout', `the request did not finish within ${limits.requestTimeoutMs} ms`, { 'retry-after': retryAfter() });
  };
  return {
    middleware,
    inFlight: () => active,
    clients: () => perClient.size,
    idle: () => (active === 0 ? Promise.resolve() : new Promise((r) => waiters.push(r))),
  };
}
