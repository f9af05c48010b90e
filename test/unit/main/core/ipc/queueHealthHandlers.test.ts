/**
 * The queue view's channels on a real core whose data dir was damaged by hand: the quarantine
 * and the repair notices are listed, discarded and dismissed, and a window that attaches is
 * told about them at once (the repair happened before any window could hear of it).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ClientContext } from '../../../../../main/core/ipc';
import { invokeChannel } from '../../../../../main/core/ipc';
import { createConsoleHandlers, type ConsoleHandlers } from '../../../../../main/core/ipc/consoleHandlers';
import { openConsoleCore, type ConsoleCore } from '../../../../../main/core/services/consoleCore';
import type { QueueHealth } from '../../../../../shared/domain/quarantine';
import type { ConsoleEventEnvelope } from '../../../../../shared/ipc';
import { useTempDir } from '../../../../helpers/useTempDir';
import { waitUntil } from '../../../../helpers/wait';
import { controlCommand, openQueue } from '../queue/queueTestKit';
import { dbPath, withRawDb } from '../queue/corruptKit';

const temp = useTempDir('descartes-qhealth-');
let core: ConsoleCore | null = null;
let handlers: ConsoleHandlers | null = null;

afterEach(async () => {
  handlers?.dispose();
  await core?.dispose();
  core = null;
  handlers = null;
});

function clientCollecting(): ClientContext & { events: ConsoleEventEnvelope[] } {
  const events: ConsoleEventEnvelope[] = [];
  return { id: 'w1', events, push: (batch) => events.push(...batch), onClose: () => undefined };
}

/** A data dir whose database was moved aside once, and then had one row damaged. */
async function damagedDataDir(): Promise<{ dir: string; bad: string; good: string }> {
  const dir = join(temp.path, 'data');
  mkdirSync(dir);
  writeFileSync(dbPath(dir), randomBytes(4096));
  const q = openQueue(dir);
  const bad = (await q.enqueue('s1', controlCommand())).id;
  const good = (await q.enqueue('s1', controlCommand())).id;
  q.close();
  withRawDb(dir, (db) => db.run("UPDATE commands SET kind = 'nonsense' WHERE id = ?", [bad]));
  return { dir, bad, good };
}

describe('queue health over IPC', () => {
  it('lists, discards and dismisses; a new window is told at once', async () => {
    const { dir, bad, good } = await damagedDataDir();
    core = openConsoleCore({ dataDir: dir });
    handlers = createConsoleHandlers(core, {
      info: { version: 'test', host: 'browser', embeddedServer: null },
    });
    const client = clientCollecting();

    const health = await invokeChannel(handlers, 'queueHealth', {}, client);
    expect(health.ok).toBe(true);
    const value = (health as { value: QueueHealth }).value;
    expect(value.quarantined).toMatchObject([
      { entry: 1, id: bad, reason: 'kind: "nonsense" is not a request type' },
    ]);
    expect(value.notices).toHaveLength(1);
    expect(value.notices[0]?.message).toMatch(/could not be used: it does not start with the SQLite header/);
    expect(core.queue.list().map((c) => c.id)).toEqual([good]);

    // Attaching (the first call above) pushed one notification about both.
    await waitUntil(() => (client.events.some((e) => e.name === 'notification') ? true : undefined), {
      timeoutMs: 2000,
    });
    const notification = client.events.find((e) => e.name === 'notification');
    expect(notification?.payload).toMatchObject({
      level: 'warning',
      title: 'The command database was moved aside',
    });
    expect((notification?.payload as { body: string }).body).toContain(
      '1 stored command(s) could not be read and are kept in quarantine, never sent. See the Queue view.',
    );

    expect(await invokeChannel(handlers, 'discardQuarantined', { entry: 1 }, client)).toMatchObject({
      ok: true,
      value: { entry: 1, id: bad },
    });
    expect(await invokeChannel(handlers, 'discardQuarantined', { entry: 1 }, client)).toMatchObject({
      ok: false,
      error: { code: 'not_found' },
    });
    expect(await invokeChannel(handlers, 'discardQuarantined', { entry: 0 }, client)).toMatchObject({
      ok: false,
      error: { code: 'invalid_input' },
    });
    const noticeId = value.notices[0]?.id ?? 0;
    expect(await invokeChannel(handlers, 'dismissQueueNotice', { id: noticeId }, client)).toEqual({
      ok: true,
      value: null,
    });
    expect(await invokeChannel(handlers, 'dismissQueueNotice', { id: noticeId }, client)).toMatchObject({
      ok: false,
      error: { code: 'not_found', message: `No queue notice ${noticeId}; it has already been dismissed.` },
    });
    expect(await invokeChannel(handlers, 'queueHealth', {}, client)).toEqual({
      ok: true,
      value: { quarantined: [], notices: [] },
    });
  });
});
