// The kinds of client the load test runs against one server on 127.0.0.1 (bench/load/run.ts). Each
// loop stops by itself at a deadline or when told; every socket it opens is closed.
import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';

export interface Stop {
  stopped: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One HTTP request over `agent` from `localAddress`; resolves to the status and body text. */
export function httpRequest(url: string, o: { method: string; path: string; body?: Uint8Array; headers?: Record<string, string>; agent?: Agent; localAddress?: string }): Promise<{ status: number; text: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const r = request({ host: u.hostname, port: u.port, method: o.method, path: o.path, headers: o.headers, agent: o.agent, localAddress: o.localAddress }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', reject);
    });
    r.on('error', reject);
    r.end(o.body);
  });
}

export interface WellBehavedStats {
  latencies: number[];
  errors: Map<string, number>;
  sent: number;
}

/** A client that classifies one body after another from its own address, on a keep-alive socket. */
export async function wellBehavedClient(url: string, id: number, bodies: Uint8Array[], cells: number, keepGoing: () => boolean, stats: WellBehavedStats): Promise<void> {
  const localAddress = `127.0.1.${(id % 250) + 1}`;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    while (keepGoing()) {
      const n = stats.sent++;
      const t0 = performance.now();
      try {
        const r = await httpRequest(url, { method: 'POST', path: `/v1/classify?id=c${id}-${n}`, body: bodies[n % bodies.length], headers: { 'content-type': 'application/octet-stream' }, agent, localAddress });
        const j = r.status === 200 ? (JSON.parse(r.text) as { summary?: { cells: number } }) : null;
        if (j?.summary?.cells !== cells) stats.errors.set(`HTTP ${r.status}`, (stats.errors.get(`HTTP ${r.status}`) ?? 0) + 1);
        else stats.latencies.push(performance.now() - t0);
      } catch (e) {
        const k = `${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
        stats.errors.set(k, (stats.errors.get(k) ?? 0) + 1);
      }
    }
  } finally {
    agent.destroy();
  }
}

export interface SlowStats {
  /** Connections the server cut off, by how: a status line (408…) or 'closed' without a response. */
  endings: Map<string, number>;
  /** How long each cut-off connection was held, ms. */
  held: number[];
}

/**
 * A slowloris from its own address: it opens a connection and either trickles the request headers
 * (`mode` 'headers') or sends complete headers announcing a 256 KiB body and trickles the body
 * (`mode` 'body'), one byte every 500 ms; when the server closes the connection it opens another.
 */
export async function slowClient(url: string, id: number, mode: 'headers' | 'body', stop: Stop, stats: SlowStats): Promise<void> {
  const u = new URL(url);
  const localAddress = `127.0.2.${(id % 250) + 1}`;
  while (!stop.stopped) {
    const t0 = performance.now();
    const ending = await new Promise<string>((resolve) => {
      const s: Socket = connect({ host: u.hostname, port: Number(u.port), localAddress });
      let text = '';
      const head = `POST /v1/classify HTTP/1.1\r\nhost: ${u.host}\r\ncontent-type: application/octet-stream\r\ncontent-length: 262144\r\n\r\n`;
      let i = 0;
      if (mode === 'body') s.write(head);
      const tick = setInterval(() => {
        if (stop.stopped) s.destroy();
        else if (s.writable) s.write(mode === 'headers' ? head[i++ % head.length]! : '\0');
      }, 500);
      s.on('data', (d) => (text += d.toString()));
      s.on('error', () => undefined);
      s.on('close', () => {
        clearInterval(tick);
        resolve(text ? text.split('\r\n')[0]!.replace(/^HTTP\/1\.1 /, '') : 'closed');
      });
    });
    if (stop.stopped) break;
    stats.held.push(performance.now() - t0);
    stats.endings.set(`${mode}: ${ending}`, (stats.endings.get(`${mode}: ${ending}`) ?? 0) + 1);
    await sleep(50);
  }
}

/** Polls /health every `everyMs` until stopped, recording each answer's latency. */
export async function healthPoller(url: string, everyMs: number, stop: Stop, out: { latencies: number[]; errors: number }): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    while (!stop.stopped) {
      const t0 = performance.now();
      try {
        const r = await httpRequest(url, { method: 'GET', path: '/health', agent });
        if (r.status === 200) out.latencies.push(performance.now() - t0);
        else out.errors++;
      } catch {
        out.errors++;
      }
      await sleep(everyMs);
    }
  } finally {
    agent.destroy();
  }
}

/** Follows a job's SSE stream to its end, recording for each progress event reported after `since`
 *  how late it arrived (arrival − the time the pipeline reported it, carried as `at`). Resolves to
 *  the final event type. */
export function followJob(url: string, path: string, lateness: number[], since = 0): Promise<string> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const r = request({ host: u.hostname, port: u.port, path, headers: { accept: 'text/event-stream' } }, (res) => {
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        const now = Date.now();
        buf += d;
        let k: number;
        while ((k = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, k);
          buf = buf.slice(k + 2);
          const ev = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          const at = data ? Date.parse((JSON.parse(data) as { at: string }).at) : NaN;
          if (ev === 'progress' && at >= since) lateness.push(now - at);
          if (ev === 'done' || ev === 'error') {
            res.destroy();
            resolve(ev === 'error' ? `error: ${data}` : ev);
          }
        }
      });
      res.on('end', () => resolve('ended'));
    });
    r.on('error', reject);
    r.end();
  });
}
