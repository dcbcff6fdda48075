// The Node entry: serves createApp() with @hono/node-server and shuts down gracefully. On SIGINT
// or SIGTERM it stops accepting connections, lets in-flight requests (and a running training job,
// up to the grace period) finish, ends open event streams, then exits.
import { serve } from '@hono/node-server';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp, type AppOptions, type HemaclustApp } from './app.js';
import { fsAssets } from './assets-fs.js';

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
  const app = createApp({ assets: fsAssets(), ...opts });
  const host = opts.host ?? '127.0.0.1';
  const { server, port } = await new Promise<{ server: Server; port: number }>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: opts.port ?? 8080, hostname: host }, (info: AddressInfo) => resolve({ server: s as Server, port: info.port })) as Server;
    s.once('error', reject);
  });
  // Idle keep-alive sockets live longer than clients' own idle timers (undici: 4 s), so a client never
  // writes a request onto a socket the server is closing at that moment (ECONNRESET under load with
  // Node's 5 s default). Shutdown closes idle sockets itself, so a long timeout does not delay it.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= (async () => {
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeIdleConnections();
      await app.shutdown({ graceMs: opts.graceMs ?? 30_000 });
      // Sockets whose last response just went out become idle now: close them as they do.
      const sweep = setInterval(() => server.closeIdleConnections(), 20);
      const force = setTimeout(() => server.closeAllConnections(), 2_000);
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
