// POST /v1/train (API key) starts a training job; GET /v1/jobs/:id is its state and
// GET /v1/jobs/:id/events its progress as Server-Sent Events (past events first, after Last-Event-ID).
import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { ApiError } from '../errors.js';
import { readRequestBody } from '../limits.js';
import { parseTrainRequest } from '../train-request.js';
import type { JobEvent } from '../jobs.js';
import type { Services } from '../services.js';
import { allowOnly } from './allow.js';

/** Retry-After (s) when the training queue is full: a training job takes minutes, so a client
 *  retrying sooner would only find the queue still full. */
const QUEUE_FULL_RETRY_AFTER_S = 30;

export function jobRoutes(s: Services): Hono {
  const app = new Hono();
  app.post('/v1/train', s.auth, s.guard.middleware, async (c) => {
    const bytes = await readRequestBody(c, s.limits);
    const req = await parseTrainRequest(bytes, c.req.header('content-type') ?? '');
    const view = s.jobs.submit(req.name, async (report, signal) => {
      try {
        return await s.models.train(req.name, req.samples, req.references, req.seed, report, signal);
      } finally {
        req.samples.length = 0; // uploaded samples are dropped as soon as training is done
      }
    });
    if (!view) throw new ApiError(429, 'too_many_jobs', 'the training queue is full; retry later', { 'retry-after': String(QUEUE_FULL_RETRY_AFTER_S) });
    c.header('location', `/v1/jobs/${view.id}`);
    return c.json({ job: view, links: { self: `/v1/jobs/${view.id}`, events: `/v1/jobs/${view.id}/events` } }, 202);
  });
  app.get('/v1/jobs/:id', (c) => {
    const view = s.jobs.get(c.req.param('id'));
    if (!view) throw new ApiError(404, 'job_not_found', `no job '${c.req.param('id')}'`);
    return c.json(view);
  });
  app.get('/v1/jobs/:id/events', (c) => {
    const id = c.req.param('id');
    if (!s.jobs.get(id)) throw new ApiError(404, 'job_not_found', `no job '${id}'`);
    const after = Number(c.req.header('last-event-id') ?? '0') || 0;
    return streamSSE(c, async (stream) => {
      const pending: JobEvent[] = [];
      let wake: (() => void) | null = null;
      let ended = false;
      const end = () => {
        ended = true;
        wake?.();
      };
      const sub = s.jobs.follow(id, after, (e) => {
        pending.push(e);
        wake?.();
      });
      if (!sub) return;
      s.streams.add(end);
      stream.onAbort(end);
      pending.unshift(...sub.past);
      try {
        for (;;) {
          while (pending.length > 0) {
            const e = pending.shift()!;
            await stream.writeSSE({ id: String(e.seq), event: e.type, data: JSON.stringify({ ...e.data, at: e.at }) });
            if (e.type === 'done' || e.type === 'error') return;
          }
          if (ended) return;
          await new Promise<void>((r) => (wake = r));
          wake = null;
        }
      } finally {
        sub.unsubscribe();
        s.streams.delete(end);
      }
    });
  });
  allowOnly(app, '/v1/train', ['POST']);
  allowOnly(app, '/v1/jobs/:id', ['GET']);
  allowOnly(app, '/v1/jobs/:id/events', ['GET']);
  return app;
}
