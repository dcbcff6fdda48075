// The Node entry: serves createApp() with @hono/node-server and shuts down gracefully. On SIGINT
// or SIGTERM it stops accepting connections, lets in-flight requests (and a running training job,
// up to the grace period) finish, ends open event streams, then exits.
//
// Computations run on worker threads (WorkerEngine) unless a test injects a pipeline double or a
// ready backend, so the event loop only parses, routes and streams. The socket level keeps slow
// clients from holding connections: headers must arrive within HEADERS_TIMEOUT_MS and a whole
// request within the app's request timeout, checked every second (Node's default is every 30 s).
import { serve } from '@hono/node-server';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp, SHUTDOWN_GRACE_MS, type AppOptions, type HemaclustApp } from './app.js';
import { fsAssets } from './assets-fs.js';
import { WorkerEngine } from './engine-worker.js';

/** Time a client has to send its request line and headers (a slowloris sends them byte by byte). */
const HEADERS_TIMEOUT_MS = 10_000;
/** The port when none is given: a common unprivileged HTTP port. */
const DEFAULT_PORT = 8080;
/** Node's socket timeout is this much longer than the app's request timeout, so the app answers
 *  first (408/503) when it can. */
const REQUEST_TIMEOUT_MARGIN_MS = 1_000;
/** How often Node checks connections against those timeouts. */
const CONNECTION_CHECK_MS = 1_000;
/** Idle keep-alive sockets live longer than clients' own idle timers (undici: 4 s), so a client never
 *  writes a request onto a socket the server is closing at that moment (ECONNRESET under load with
 *  Node's 5 s default). Shutdown closes idle sockets itself, so a long timeout does not delay it. */
const KEEP_ALIVE_MS = 65_000;
/** During shutdown: how often sockets that just went idle are closed, and when the remaining ones
 *  are closed regardless (a client that never reads its response must not hold the process). */
const IDLE_SWEEP_MS = 20;
const FORCE_CLOSE_MS = 2_000;

export interface StartOptions extends AppOptions {
  port?: number;
  host?: string;
  /** How long shutdown waits for in-flight work (default 30 s). */
  graceMs?: number;
  /** Install SIGINT/SIGTERM handlers (default true for the CLI; tests pass false). */
  handleSignals?: boolean;
}

export interface RunningServer {
  app: HemaclustApp;
  server: Server;
  url: string;
  port: number;
  /** Graceful stop; resolves when every connection is closed. */
  close(): Promise<void>;
}

export async function startServer(opts: StartOptions = {}): Promise<RunningServer> {
  const inThread = opts.pipeline !== undefined || typeof opts.backend === 'object';
  const engine = opts.engine ?? (inThread ? undefined : new WorkerEngine({ backend: opts.backend as Exclude<typeof opts.backend, object>, trainOptions: opts.trainOptions, log: opts.log ?? ((l) => console.error(l)) }));
  const app = createApp({ assets: fsAssets(), ...opts, engine });
  const host = opts.host ?? '127.0.0.1';
  const requestTimeout = app.limits.requestTimeoutMs + REQUEST_TIMEOUT_MARGIN_MS;
  const { server, port } = await new Promise<{ server: Server; port: number }>((resolve, reject) => {
    const s = serve({
      fetch: app.fetch, port: opts.port ?? DEFAULT_PORT, hostname: host,
      serverOptions: { headersTimeout: Math.min(HEADERS_TIMEOUT_MS, requestTimeout), requestTimeout, connectionsCheckingInterval: CONNECTION_CHECK_MS },
    }, (info: AddressInfo) => resolve({ server: s as Server, port: info.port })) as Server;
    s.once('error', reject);
  });
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= (async () => {
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeIdleConnections();
      await app.shutdown({ graceMs: opts.graceMs ?? SHUTDOWN_GRACE_MS });
      // Sockets whose last response just went out become idle now: close them as they do.
      const sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
      const force = setTimeout(() => server.closeAllConnections(), FORCE_CLOSE_MS);
      await closed;
      clearInterval(sweep);
      clearTimeout(force);
    })());
  if (opts.handleSignals ?? true) {
    const onSignal = (sig: string) => {
      console.error(`hemaclust serve: ${sig}: finishing in-flight requests…`);
      close().then(
        () => process.exit(0),
        (e) => {
          console.error(`hemaclust serve: shutdown failed: ${(e as Error).message}`);
          process.exit(1);
        },
      );
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }
  return { app, server, url, port, close };
}
