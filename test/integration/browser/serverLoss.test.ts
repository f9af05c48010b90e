import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ServerStatus } from '../../../shared/domain/server';
import { createConsoleHandlers } from '../../../main/core/ipc/consoleHandlers';
import { invokeChannel } from '../../../main/core/ipc/invokeChannel';
import { openConsoleCore, type ConsoleCore } from '../../../main/core/services/consoleCore';
import { EmbeddedServerKeeper } from '../../../main/embeddedServerKeeper';
import { createTempDir } from '../../helpers/tempDir';
import { useCleanups } from '../../helpers/useCleanups';
import { waitUntil } from '../../helpers/wait';
import { isPortFree } from '../../helpers/ports';

/**
 * Losing the embedded server (docs/ARCHITECTURE.md §4.1): a real console core, a real embedded
 * agent server process (`node --import tsx server/cli.ts`), `kill -9` and the Restart channel.
 * Health checks are 5 s apart (the default), so "offline with the exit as its reason" can only
 * come from the process's exit, not from missed checks.
 */
const cleanups = useCleanups();
const CLIENT = { id: 'loss-test', push: () => undefined, onClose: () => undefined };

interface Rig {
  core: ConsoleCore;
  keeper: EmbeddedServerKeeper;
  serverId: string;
  restart(serverId?: string): ReturnType<typeof invokeChannel>;
}

/** The first free pair from `first` (my range 28650–28699). */
async function freePair(first: number): Promise<number> {
  for (let p = first; p < 28699; p += 2) if ((await isPortFree(p)) && (await isPortFree(p + 1))) return p;
  throw new Error('no free port pair in 28650-28699');
}

async function startRig(port: number): Promise<Rig> {
  const dir = await createTempDir('descartes-loss-');
  cleanups.push(() => dir.remove());
  const core = openConsoleCore({ dataDir: dir.path, requestTimeoutMs: 10_000 });
  const keeper = new EmbeddedServerKeeper(core.registry, {
    dataDir: dir.path,
    clientPublicKey: core.clientKey.info.publicKey,
    defaultPort: port,
  });
  // Newest first: the core closes before the server stops.
  cleanups.push(() => keeper.stop());
  const started = await keeper.start();
  if (started === null) throw new Error('no embedded server was started');
  const handlers = createConsoleHandlers(core, {
    info: { version: '0', host: 'browser', embeddedServer: null },
    embeddedServer: keeper,
  });
  cleanups.push(async () => {
    handlers.dispose();
    await core.dispose(0);
  });
  const serverId = started.profile.id;
  await waitFor(core, serverId, (s) => s.state === 'online', 'online');
  return {
    core,
    keeper,
    serverId,
    restart: (id = serverId) => invokeChannel(handlers, 'restartEmbeddedServer', { serverId: id }, CLIENT),
  };
}

const waitFor = (core: ConsoleCore, serverId: string, test: (s: ServerStatus) => boolean, what: string) =>
  waitUntil(
    () => {
      const s = core.registry.status(serverId);
      return test(s) ? s : undefined;
    },
    { timeoutMs: 20_000, intervalMs: 20, what },
  );

describe('losing the embedded server', () => {
  it('goes offline at once with the exit as reason; Restart brings it back and delivers what was queued once', async () => {
    const rig = await startRig(await freePair(28650));
    const { core, keeper, serverId } = rig;
    const first = keeper.server;
    if (first === null) throw new Error('not running');
    const seen: ServerStatus[] = [];
    core.registry.onStatus((s) => {
      if (s.serverId === serverId) seen.push(s);
    });

    // Restart is refused while it runs, and for any other server.
    const busy = await rig.restart();
    expect(busy).toMatchObject({ ok: false, error: { code: 'conflict' } });
    expect(!busy.ok && busy.error.message).toContain(`is running (pid ${first.pid})`);
    const other = await rig.restart(randomUUID());
    expect(other).toMatchObject({ ok: false, error: { code: 'not_found' } });

    process.kill(first.pid, 'SIGKILL');
    const lost = await waitFor(core, serverId, (s) => s.state === 'offline', 'offline');
    expect(lost.lastError).toBe('the embedded server exited (signal SIGKILL)');
    expect(lost.lastHeardAt).not.toBeNull();
    expect(keeper.phase).toBe('exited');

    // A command issued while it is down waits in the queue.
    const issued = await core.service.controlAgent(serverId, randomUUID(), 'stop');
    expect(issued.status).toBe('queued');

    // While it is down the console keeps retrying, and says offline all along.
    await waitFor(core, serverId, (s) => s.retrying, 'a reconnect attempt');
    const restarted = await rig.restart();
    expect(restarted).toEqual({ ok: true, value: null });
    const second = keeper.server;
    expect(second?.endpoint).toBe(first.endpoint);
    expect(second?.publicKey).toBe(first.publicKey);
    expect(second?.pid).not.toBe(first.pid);
    await waitFor(core, serverId, (s) => s.state === 'online', 'online after the restart');

    // Never reported as connecting on the way down and back.
    const states = seen.map((s) => s.state);
    expect(states).not.toContain('connecting');
    expect(states).toContain('offline');

    // The queued command reached the new process exactly once: it answered (unknown agent), and
    // the server counted one such request and no replay.
    const settled = await waitUntil(
      () => {
        const c = core.queue.get(issued.command.id);
        return c !== null && c.state !== 'queued' && c.state !== 'sending' ? c : undefined;
      },
      { timeoutMs: 20_000, what: 'the queued command to be delivered' },
    );
    expect(settled.state).toBe('failed');
    expect(settled.attempts).toBe(1);
    const health = await core.service.healthCheck(serverId);
    expect(health.metadata?.['stat.unknown_agent']).toBe('1');
    expect(health.metadata?.['stat.replays']).toBe('0');
  }, 90_000);

  it('says what to do when its ports were taken while it was down', async () => {
    const rig = await startRig(await freePair(28670));
    const first = rig.keeper.server;
    if (first === null) throw new Error('not running');
    process.kill(first.pid, 'SIGKILL');
    await waitFor(rig.core, rig.serverId, (s) => s.state === 'offline', 'offline');
    const port = Number(first.endpoint.split(':').at(-1));
    const { occupyPort } = await import('../../helpers/ports');
    const squatter = await occupyPort(port);
    try {
      const refused = await rig.restart();
      expect(refused.ok).toBe(false);
      expect(!refused.ok && refused.error.message).toBe(
        `The local agent server did not start again: port ${port} or ${port + 1} on 127.0.0.1 is taken by another program; stop it (or edit the server's endpoint) and try again`,
      );
      expect(rig.keeper.phase).toBe('exited');
    } finally {
      await squatter.release();
    }
    // Once the port is free, Restart works.
    expect(await rig.restart()).toEqual({ ok: true, value: null });
    await waitFor(rig.core, rig.serverId, (s) => s.state === 'online', 'online after the restart');
  }, 90_000);
});
