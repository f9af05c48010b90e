/**
 * kill -9 of the process that owns the queue during a burst of 2,000 enqueues against a real
 * server, then restart: every enqueue that had resolved is delivered exactly once, checked
 * against the server's exec log (its record of what it executed).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_FIXTURE_DIR } from '../../helpers/agents';
import { PortAllocator } from '../../helpers/ports';
import { printServerLogsOnFailure } from '../../helpers/serverHarness';
import type { ServerProcess } from '../../helpers/serverProcess';
import { createTempDir, type TempDir } from '../../helpers/tempDir';
import { waitUntil } from '../../helpers/wait';
import {
  openTestCore,
  readExecLog,
  securityOf,
  seedClientKey,
  startNodeServer,
  waitServerOnline,
} from './clientKit';
import { serverKeyOf } from '../transport/curveKit';

const FIXTURE = fileURLToPath(new URL('./fixtures/coreOwner.ts', import.meta.url));
const BURST = 2000;
/** Resolved enqueues to wait for before the kill, per trial (spread over the burst). */
const KILL_AFTER = [1, 120, 300, 500, 700, 900, 1100, 1350, 1600, 1850];
const ports = new PortAllocator(30900, 31199);

let temp: TempDir;
let server: ServerProcess;
let agentId: string;
const children: ChildProcess[] = [];

printServerLogsOnFailure();

beforeAll(async () => {
  temp = await createTempDir('descartes-client-crash-');
  server = await startNodeServer(await ports.next(), await ports.next(), join(temp.path, 'srv'));
  const core = openTestCore({ dataDir: join(temp.path, 'setup') });
  try {
    const profile = core.registry.add({ name: 'crash', endpoint: server.bind, security: securityOf(server) });
    await waitServerOnline(core.registry, profile.id);
    const spawned = await core.service.spawnAgent(profile.id, {
      name: 'crash-target',
      model_backend: 'node',
      task: `${AGENT_FIXTURE_DIR}action-agent.js`,
    });
    if (spawned.status !== 'done' || spawned.reply.agent_info == null)
      throw new Error(`spawn: ${JSON.stringify(spawned)}`);
    agentId = spawned.reply.agent_info.id;
  } finally {
    await core.dispose();
  }
});

afterEach(() => {
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

afterAll(async () => {
  await server.stop();
  await temp.remove();
});

describe('kill -9 of the queue owner during a burst of 2,000 enqueues', () => {
  it(`delivers every resolved enqueue exactly once, over ${KILL_AFTER.length} trials`, async () => {
    const execLog = join(temp.path, 'srv', 'exec.log');
    const everStored = new Set<string>();
    let midBurst = 0;
    for (const [trial, killAfter] of KILL_AFTER.entries()) {
      const dir = seedClientKey(join(temp.path, `trial-${trial}`));
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', FIXTURE, 'burst', dir, server.bind, serverKeyOf(server), agentId, String(BURST)],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      children.push(child);
      const exited = once(child, 'exit');
      const printed: string[] = [];
      let partial = '';
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        partial += chunk;
        const lines = partial.split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) if (line !== 'done') printed.push(line);
        if (printed.length >= killAfter) child.kill('SIGKILL');
      });
      const [code, signal] = (await exited) as [number | null, NodeJS.Signals | null];
      expect(signal, `trial ${trial}: exited ${String(code)}; stderr: ${stderr}`).toBe('SIGKILL');
      if (!child.stdout.readableEnded) await once(child.stdout, 'end');
      expect(printed.length, `trial ${trial}`).toBeGreaterThanOrEqual(killAfter);
      if (printed.length < BURST) midBurst++;

      // Restart the owner: it reconnects, resends what was on the wire (same request_id) and
      // sends the rest, with a wide window.
      const core = openTestCore({ dataDir: dir, window: 256 });
      try {
        const profile = core.registry.list()[0];
        if (profile === undefined) throw new Error(`trial ${trial}: no profile persisted`);
        await waitUntil(() => (core.queue.pendingCount(profile.id) === 0 ? true : undefined), {
          timeoutMs: 60_000,
          intervalMs: 20,
          what: `trial ${trial}: the queue to drain`,
        });
        const stored = core.queue.list(profile.id, undefined, 10_000);
        for (const c of stored) everStored.add(c.id);
        const ids = stored.map((c) => c.id);
        // Everything printed is stored, in order; at most one more (committed, killed before printing).
        expect(ids.slice(0, printed.length), `trial ${trial}`).toEqual(printed);
        expect(ids.length - printed.length, `trial ${trial}`).toBeLessThanOrEqual(1);
        expect(
          stored.filter((c) => c.state !== 'succeeded').map((c) => [c.id, c.state, c.outcome]),
          `trial ${trial}`,
        ).toEqual([]);

        const counts = new Map<string, number>();
        for (const e of readExecLog(execLog)) counts.set(e.request_id, (counts.get(e.request_id) ?? 0) + 1);
        const wrong = ids.filter((id) => counts.get(id) !== 1).map((id) => [id, counts.get(id) ?? 0]);
        expect(wrong, `trial ${trial}: request_ids not executed exactly once`).toEqual([]);
      } finally {
        await core.dispose();
      }
    }
    // Nothing in the exec log that was never enqueued (the spawn of the target agent aside).
    const strangers = readExecLog(execLog).filter(
      (e) => e.type !== 'spawn_request' && !everStored.has(e.request_id),
    );
    expect(strangers).toEqual([]);
    expect(midBurst, 'most kills should land in the middle of the burst').toBeGreaterThanOrEqual(
      KILL_AFTER.length - 2,
    );
  }, 150_000);
});
