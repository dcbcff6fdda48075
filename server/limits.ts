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

/** The upload-rate check's period bounds, in ms, and how many checks fall in one grace period. */
const RATE_CHECK_MS = { min: 50, max: 1000 };
const RATE_CHECKS_PER_GRACE = 4;

export const DEFAULT_LIMITS: Limits = {
  maxBodyBytes: 64 * 1024 * 1024,
  requestTimeoutMs: 60_000,
  maxConcurrent: 64,
  maxPerClient: 16,
  // 16 KiB/s: a 1 MB sample on the slowest mobile link still passes; a trickle of a few bytes a second does not.
  minUploadBytesPerSec: 16 * 1024,
  uploadGraceMs: 5_000,
};

/** One client may hold this share of the slots by default: a single busy client cannot starve the rest. */
const CLIENT_SHARE = 4;

/** Fills in defaults; maxPerClient defaults to a quarter of maxConcurrent (at least 1). */
export function resolveLimits(l: Partial<Limits> | undefined): Limits {
  const given = l ?? {};
  const out: Limits = { ...DEFAULT_LIMITS, ...given };
  if (given.maxPerClient === undefined) out.maxPerClient = Math.max(1, Math.ceil(out.maxConcurrent / CLIENT_SHARE));
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
  // The rate check needs a clock of its own: a client that sends nothing never wakes a read. It
  // runs a few times per grace period, within RATE_CHECK_MS bounds (often enough to catch a stall
  // soon after the grace ends, rarely enough to cost nothing).
  const minRate = opts.minBytesPerSec ?? 0;
  const grace = opts.graceMs ?? 0;
  const rateTimer = minRate > 0
    ? setInterval(() => {
      const s = (Date.now() - t0) / 1000;
      if (s * 1000 >= grace && total / s < minRate) {
        stop!(new ApiError(408, 'upload_too_slow', `the body arrived at ${Math.round(total / s)} bytes/s, below the minimum of ${minRate} bytes/s`, { connection: 'close' }));
      }
    }, Math.min(RATE_CHECK_MS.max, Math.max(RATE_CHECK_MS.min, grace / RATE_CHECKS_PER_GRACE)))
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

// Retry-After from what the server sees: the smoothed duration of recent guarded requests (a slot
// frees about that often per slot), stretched by the share of recent requests refused — under
// sustained overload clients are told to back off longer instead of hammering every second.
/** The duration estimate before any request has finished: a slot is assumed to free within a second. */
const INITIAL_DURATION_MS = 1000;
/** Weight of the newest request's duration in the moving average (recent load matters most). */
const DURATION_WEIGHT = 0.2;
/** Weight of the newest outcome in the moving share of refused requests. */
const REFUSED_WEIGHT = 0.1;
/** All requests refused stretches Retry-After to 1 + this many times the typical duration. */
const REFUSED_STRETCH = 4;
/** Retry-After bounds, in seconds: at least 1 (the header's unit), at most 2 minutes (a client told
 *  to wait longer would rather give up). */
const RETRY_AFTER_MIN_S = 1;
const RETRY_AFTER_MAX_S = 120;

/** The guard's slots: in flight globally and per client, and the load estimate behind Retry-After. */
class Slots {
  active = 0;
  readonly perClient = new Map<string, number>();
  private waiters: (() => void)[] = [];
  private ewmaMs = INITIAL_DURATION_MS;
  private refusedEwma = 0;

  constructor(private readonly limits: Limits) {}

  retryAfter(): string {
    const s = (this.ewmaMs / 1000) * (1 + REFUSED_STRETCH * this.refusedEwma);
    return String(Math.min(RETRY_AFTER_MAX_S, Math.max(RETRY_AFTER_MIN_S, Math.ceil(s))));
  }

  /** Why a request of client `key` is refused now (null: it may run), counted in the refused share. */
  refusal(key: string | null): { code: string; message: string } | null {
    const { maxConcurrent, maxPerClient } = this.limits;
    let r: { code: string; message: string } | null = null;
    if (this.active >= maxConcurrent) {
      r = { code: 'too_many_requests', message: `the server is handling ${this.active} requests (limit ${maxConcurrent}); retry later` };
    } else if (key !== null && (this.perClient.get(key) ?? 0) >= maxPerClient) {
      r = { code: 'too_many_requests_from_client', message: `this client already has ${maxPerClient} requests in flight (the per-client share of ${maxConcurrent}); retry when one has finished` };
    }
    this.refusedEwma = (1 - REFUSED_WEIGHT) * this.refusedEwma + REFUSED_WEIGHT * (r ? 1 : 0);
    return r;
  }

  /** Takes a slot for client `key`; the returned release frees it once, however often it is called. */
  acquire(key: string | null): () => void {
    this.active++;
    if (key !== null) this.perClient.set(key, (this.perClient.get(key) ?? 0) + 1);
    let released = false;
    const t0 = Date.now();
    return () => {
      if (released) return;
      released = true;
      this.ewmaMs = (1 - DURATION_WEIGHT) * this.ewmaMs + DURATION_WEIGHT * (Date.now() - t0);
      this.active--;
      if (key !== null) {
        const n = (this.perClient.get(key) ?? 1) - 1;
        if (n <= 0) this.perClient.delete(key);
        else this.perClient.set(key, n);
      }
      if (this.active === 0) {
        const w = this.waiters;
        this.waiters = [];
        w.forEach((f) => f());
      }
    };
  }

  idle(): Promise<void> {
    return this.active === 0 ? Promise.resolve() : new Promise((r) => this.waiters.push(r));
  }
}

/**
 * The request's abort signal (client gone or deadline passed), registered for requestSignal; the
 * promise resolves at the deadline. `stop` clears the timer and the client listener.
 */
function requestDeadline(c: Context, timeoutMs: number) {
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
      ac.abort(new RequestAborted('timeout', `the request did not finish within ${timeoutMs} ms`));
      resolve('timeout');
    }, timeoutMs);
  });
  return {
    timedOut,
    /** Whether the body was still arriving when the deadline passed. */
    wasUploading: () => uploadingAtTimeout,
    clearTimer: () => clearTimeout(timer),
    stop: () => {
      clearTimeout(timer);
      raw.removeEventListener('abort', onClientGone);
    },
  };
}

/** Concurrency limits, per-client share, request deadline and abort propagation for the endpoints that compute. */
export function createGuard(limits: Limits, gopts: GuardOptions = {}): Guard {
  const clientKey = gopts.clientKey ?? peerAddress;
  const slots = new Slots(limits);

  const middleware: MiddlewareHandler = async (c, next) => {
    const key = clientKey(c);
    const refused = slots.refusal(key);
    if (refused) return errorResponse(c, 429, refused.code, refused.message, { 'retry-after': slots.retryAfter() });
    const release = slots.acquire(key);
    const deadline = requestDeadline(c, limits.requestTimeoutMs);
    const cleanup = () => {
      deadline.stop();
      release();
    };
    const work = next();
    let outcome: 'done' | 'timeout';
    try {
      outcome = await Promise.race([work.then(() => 'done' as const), deadline.timedOut]);
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
    deadline.clearTimer();
    work.then(cleanup, cleanup);
    if (deadline.wasUploading()) {
      return errorResponse(c, 408, 'request_timeout', `the request body did not arrive within ${limits.requestTimeoutMs} ms`, { connection: 'close' });
    }
    return errorResponse(c, 503, 'timeout', `the request did not finish within ${limits.requestTimeoutMs} ms`, { 'retry-after': slots.retryAfter() });
  };
  return {
    middleware,
    inFlight: () => slots.active,
    clients: () => slots.perClient.size,
    idle: () => slots.idle(),
  };
}
