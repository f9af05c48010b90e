/**
 * A child process hosting several scripted agent servers of the fleet bench
 * (`scriptedFleetServer.ts`), so the console process is measured alone.
 *
 * `node --import tsx bench/fleet/fleetServers.ts --first-port P --first-index I --count N`
 * binds server i (I ≤ i < I+N) on ROUTER port P+2(i−I) and PUB port P+2(i−I)+1, then prints
 * `{"event":"ready","endpoints":[…],"pid":…}`. It then takes JSON lines on stdin, answering each
 * with one line on stdout:
 * - `{"op":"publish","perSecond":R,"ms":M}`: R status updates per second in total over its
 *   servers (round robin) for M ms → `{"event":"published","sent":…,"dropped":…,"ms":…}`;
 * - `{"op":"down"}` / `{"op":"up"}`: close / rebind every server's sockets → `{"event":"down"|"up"}`.
 * It exits when stdin ends (the bench is gone) or on SIGTERM.
 */
import { createInterface } from 'node:readline';
import { ScriptedFleetServer } from './scriptedFleetServer';

function intArg(name: string): number {
  const i = process.argv.indexOf(name);
  const v = Number(i === -1 ? Number.NaN : process.argv[i + 1]);
  if (!Number.isInteger(v) || v < 0) {
    process.stderr.write(`fleetServers: ${name} must be a non-negative integer\n`);
    process.exit(2);
  }
  return v;
}

const firstPort = intArg('--first-port');
const firstIndex = intArg('--first-index');
const count = intArg('--count');
const servers = Array.from(
  { length: count },
  (_, k) => new ScriptedFleetServer(firstIndex + k, firstPort + 2 * k, firstPort + 2 * k + 1),
);
await Promise.all(servers.map((s) => s.up()));

const say = (line: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify(line)}\n`);
};
say({ event: 'ready', endpoints: servers.map((s) => s.endpoint), pid: process.pid });

/** Publishes `perSecond` updates per second for `ms`, paced by elapsed time on a 5 ms tick. */
function publish(perSecond: number, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const start = performance.now();
    const droppedBefore = servers.reduce((n, s) => n + s.dropped, 0);
    let sent = 0;
    let next = 0;
    const timer = setInterval(() => {
      const elapsed = Math.min(performance.now() - start, ms);
      const due = Math.floor((elapsed * perSecond) / 1000) - sent;
      for (let i = 0; i < due; i++) {
        servers[next]?.publishOne();
        next = (next + 1) % servers.length;
      }
      sent += Math.max(0, due);
      if (elapsed >= ms) {
        clearInterval(timer);
        const dropped = servers.reduce((n, s) => n + s.dropped, 0) - droppedBefore;
        say({ event: 'published', sent, dropped, ms: performance.now() - start });
        resolve();
      }
    }, 5);
  });
}

const stop = (): void => {
  for (const s of servers) s.down();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

const lines = createInterface({ input: process.stdin });
lines.on('close', stop);
for await (const line of lines) {
  const cmd = JSON.parse(line) as { op?: unknown; perSecond?: unknown; ms?: unknown };
  if (cmd.op === 'publish') {
    await publish(Number(cmd.perSecond), Number(cmd.ms));
  } else if (cmd.op === 'down') {
    for (const s of servers) s.down();
    say({ event: 'down' });
  } else if (cmd.op === 'up') {
    await Promise.all(servers.map((s) => s.up()));
    say({ event: 'up' });
  } else {
    say({ event: 'error', message: `unknown op ${JSON.stringify(cmd.op)}` });
  }
}
