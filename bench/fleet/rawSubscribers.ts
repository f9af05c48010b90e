/**
 * Raw baseline of the fleet bench's status stream, in its own process so its CPU is its own:
 * one bare zeromq.js SUB socket per server, subscribed to `status.`, each frame split at its
 * NUL and decoded with our codec (docs/PROTOCOL.md §2). Nothing else: no gap tracking, no
 * listeners, no batching.
 *
 * `node --import tsx bench/fleet/rawSubscribers.ts --endpoints '["tcp://…", …]'` prints
 * `{"event":"ready","pid":…}`, then answers JSON lines on stdin:
 * - `{"op":"start"}` → `{"event":"started"}`: starts a measurement window;
 * - `{"op":"stop"}` → `{"event":"stopped","cpuMs":…,"ms":…,"received":…,"rssBytes":…}`: CPU time
 *   (user + system) this process used and updates it decoded during the window.
 */
import { createInterface } from 'node:readline';
import * as zmq from 'zeromq';
import { decodeMessage } from '../../shared/protocol';

const i = process.argv.indexOf('--endpoints');
const endpoints = JSON.parse(i === -1 ? '[]' : (process.argv[i + 1] ?? '[]')) as string[];
let received = 0;
let decodeErrors = 0;

async function receive(endpoint: string): Promise<void> {
  const sock = new zmq.Subscriber({ receiveHighWaterMark: 100_000, linger: 0 });
  sock.connect(endpoint);
  sock.subscribe('status.');
  for await (const [frame] of sock) {
    if (!frame) continue;
    const zero = frame.indexOf(0);
    try {
      if (decodeMessage(frame.subarray(zero + 1)).type === 'status_update') received++;
    } catch {
      decodeErrors++;
    }
  }
}
for (const e of endpoints) void receive(e);

const say = (line: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify(line)}\n`);
};
say({ event: 'ready', pid: process.pid });

let cpuAt = process.cpuUsage();
let startedAt = performance.now();
let receivedAt = 0;
const lines = createInterface({ input: process.stdin });
lines.on('close', () => process.exit(0));
for await (const line of lines) {
  const cmd = JSON.parse(line) as { op?: unknown };
  if (cmd.op === 'start') {
    cpuAt = process.cpuUsage();
    startedAt = performance.now();
    receivedAt = received;
    say({ event: 'started' });
  } else if (cmd.op === 'stop') {
    const cpu = process.cpuUsage(cpuAt);
    say({
      event: 'stopped',
      cpuMs: (cpu.user + cpu.system) / 1000,
      ms: performance.now() - startedAt,
      received: received - receivedAt,
      decodeErrors,
      rssBytes: process.memoryUsage.rss(),
    });
  }
}
