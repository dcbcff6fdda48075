// The load test's observer, in a process of its own so its measurements carry no delay from the
// 200 clients' event loop. It polls /health every 100 ms from the start; a stdin line
// 'follow <events path>' makes it follow a job's SSE stream (events reported before it subscribed
// are replayed by the server and not counted as late); a line 'stop' makes it print one JSON line
// with what it saw and exit.
//   tsx bench/load/observer.ts URL
import { followJob, healthPoller, type Stop } from './clients.js';

const url = process.argv[2]!;
const stop: Stop = { stopped: false };
const health = { latencies: [] as number[], errors: 0 };
const lateness: number[] = [];
let end = 'not followed';
let endedAt = NaN;
let follow: Promise<unknown> = Promise.resolve();
const t0 = performance.now();
const poll = healthPoller(url, 100, stop, health);
process.stdin.setEncoding('utf8');
process.stdin.on('data', async (d: string) => {
  const f = /follow (\S+)/.exec(d);
  if (f) {
    end = 'running';
    follow = followJob(url, f[1]!, lateness, Date.now()).then(
      (e) => ((end = e), (endedAt = (performance.now() - t0) / 1000)),
      (e: Error) => ((end = `failed: ${e.message}`), (endedAt = (performance.now() - t0) / 1000)),
    );
  }
  if (!d.includes('stop')) return;
  stop.stopped = true;
  await poll;
  await Promise.race([follow, new Promise((r) => setTimeout(r, 100))]);
  process.stdout.write(JSON.stringify({ health, lateness, end, endedAt }) + '\n');
  process.exit(0);
});
process.stdout.write('OBSERVING\n');
