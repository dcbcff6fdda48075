// Training jobs: an in-memory registry that runs one job at a time (training saturates the
// backend; a second one in parallel would only slow both), keeps each job's progress events for
// replay, and lets any number of listeners (SSE streams) follow a job live.
export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed';

export interface JobEvent {
  /** 1-based sequence number, used as the SSE id so a client can resume with Last-Event-ID. */
  seq: number;
  type: 'status' | 'progress' | 'done' | 'error';
  at: string;
  data: Record<string, unknown>;
}

export interface JobView {
  id: string;
  kind: 'train';
  status: JobStatus;
  model: string;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /** The last progress event's data, if any. */
  progress: Record<string, unknown> | null;
  error: string | null;
  result: Record<string, unknown> | null;
}

/** `report` takes a progress report and, optionally, when it was made (ms since the epoch; default
 *  now): a report made on a worker thread keeps its own time, so a listener can tell how late it is. */
export type JobWork = (report: (data: Record<string, unknown>, at?: number) => void, signal: AbortSignal) => Promise<Record<string, unknown>>;

interface Job {
  view: JobView;
  events: JobEvent[];
  listeners: Set<(e: JobEvent) => void>;
  work: JobWork;
  abort: AbortController;
}

const MAX_EVENTS = 2000; // progress events kept per job (older ones dropped, the last kept)
const MAX_FINISHED = 100; // finished jobs remembered
/** Training jobs waiting behind the running one by default: each holds its cohort in memory, and a
 *  client that queues more is told to retry (429) rather than let memory grow. */
const DEFAULT_MAX_QUEUED = 8;

export class JobRegistry {
  private readonly jobs = new Map<string, Job>();
  private readonly queue: Job[] = [];
  private running: Job | null = null;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly maxQueued = DEFAULT_MAX_QUEUED) {}

  /** Queues a job, or returns null when the queue is full. */
  submit(model: string, work: JobWork): JobView | null {
    if (this.queue.length >= this.maxQueued) return null;
    const id = crypto.randomUUID();
    const job: Job = {
      view: { id, kind: 'train', status: 'queued', model, createdAt: new Date().toISOString(), startedAt: null, finishedAt: null, progress: null, error: null, result: null },
      events: [],
      listeners: new Set(),
      work,
      abort: new AbortController(),
    };
    this.jobs.set(id, job);
    this.emit(job, 'status', { status: 'queued' });
    this.queue.push(job);
    this.prune();
    queueMicrotask(() => this.pump());
    return { ...job.view };
  }

  get(id: string): JobView | null {
    const j = this.jobs.get(id);
    return j ? { ...j.view } : null;
  }

  /** Events after `afterSeq`, and a subscription for the ones to come (null once the job is over). */
  follow(id: string, afterSeq: number, listener: (e: JobEvent) => void): { past: JobEvent[]; unsubscribe: () => void } | null {
    const j = this.jobs.get(id);
    if (!j) return null;
    const past = j.events.filter((e) => e.seq > afterSeq);
    const over = j.view.status === 'succeeded' || j.view.status === 'failed';
    if (!over) j.listeners.add(listener);
    return { past, unsubscribe: () => j.listeners.delete(listener) };
  }

  /** Jobs running and waiting now. */
  counts(): { running: number; queued: number } {
    return { running: this.running ? 1 : 0, queued: this.queue.length };
  }

  /** True when nothing runs or waits. */
  isIdle(): boolean {
    return this.running === null && this.queue.length === 0;
  }

  /** Resolves when the running and queued jobs have finished. */
  idle(): Promise<void> {
    return this.isIdle() ? Promise.resolve() : new Promise((r) => this.idleWaiters.push(r));
  }

  /** Asks running and queued jobs to stop (they fail with 'cancelled' at their next check). */
  cancelAll(): void {
    for (const j of [...this.queue, ...(this.running ? [this.running] : [])]) j.abort.abort(new Error('server shutting down'));
  }

  private emit(job: Job, type: JobEvent['type'], data: Record<string, unknown>, at = Date.now()): void {
    const prev = job.events[job.events.length - 1];
    const e: JobEvent = { seq: (prev?.seq ?? 0) + 1, type, at: new Date(at).toISOString(), data };
    job.events.push(e);
    if (job.events.length > MAX_EVENTS) job.events.splice(1, job.events.length - MAX_EVENTS);
    for (const l of job.listeners) l(e);
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    const job = this.queue.shift();
    if (!job) {
      const w = this.idleWaiters;
      this.idleWaiters = [];
      w.forEach((f) => f());
      return;
    }
    this.running = job;
    job.view.status = 'running';
    job.view.startedAt = new Date().toISOString();
    this.emit(job, 'status', { status: 'running' });
    try {
      if (job.abort.signal.aborted) throw job.abort.signal.reason;
      const result = await job.work((data, at) => {
        job.view.progress = data;
        this.emit(job, 'progress', data, at);
      }, job.abort.signal);
      job.view.status = 'succeeded';
      job.view.result = result;
      job.view.finishedAt = new Date().toISOString();
      this.emit(job, 'done', { status: 'succeeded', result });
    } catch (e) {
      job.view.status = 'failed';
      job.view.error = (e as Error)?.message ?? String(e);
      job.view.finishedAt = new Date().toISOString();
      this.emit(job, 'error', { status: 'failed', error: job.view.error });
    } finally {
      job.listeners.clear();
      this.running = null;
      this.pump();
    }
  }

  private prune(): void {
    const finished = [...this.jobs.values()].filter((j) => j.view.finishedAt !== null);
    for (const j of finished.slice(0, Math.max(0, finished.length - MAX_FINISHED))) this.jobs.delete(j.view.id);
  }
}
