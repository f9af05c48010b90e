/// <reference types="mocha" />
/**
 * A damaged queue in the console: the data dir's database was no database (moved aside at an
 * earlier start) and one stored command was damaged since. The console starts anyway, the
 * queue view explains the moved file and lists the unreadable command under "Quarantined" with
 * the reason, and Discard / Dismiss remove them for good (still gone after a restart).
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { $, $$ } from '@wdio/globals';
import { ProfileStore } from '../../../main/core/services/profileStore';
import { createTempDir, type TempDir } from '../../helpers/tempDir';
import { dbPath, withRawDb } from '../../unit/main/core/queue/corruptKit';
import { CommandQueue } from '../../../main/core/queue/commandQueue';
import { SqliteCommandStore } from '../../../main/core/queue/sqliteCommandStore';
import { startConsoleApp, type ConsoleApp } from '../helpers/consoleApp';
import { openConsole, shotBothThemes, tid, UI_WAIT_MS, waitFor } from '../helpers/ui';

/** This spec's ports (a fixed range of its own): the console, and a server that never answers. */
const CONSOLE_PORT = 24230;
const EMBEDDED_PORT = 24232;
const DEAD_ENDPOINT = 'tcp://127.0.0.1:24234';

async function openQueueView(): Promise<void> {
  if (!(await $(tid('queue-view')).isExisting())) await $(tid('nav-queue')).click();
  await $(tid('queue-view')).waitForDisplayed({ timeout: UI_WAIT_MS, timeoutMsg: 'the queue view' });
}

describe('quarantine: the console opens a damaged queue and explains it', function () {
  let dir: TempDir;
  let dataDir: string;
  let app: ConsoleApp | null = null;
  let damaged = '';
  let kept = '';

  before(async function () {
    dir = await createTempDir('descartes-e2e-quarantine-');
    dataDir = join(dir.path, 'data');
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    writeFileSync(dbPath(dataDir), randomBytes(8192));
    // A configured server, so no embedded one starts; nothing listens there.
    const profile = new ProfileStore(dataDir).add({
      name: 'lab',
      endpoint: DEAD_ENDPOINT,
      security: { mode: 'plain' },
    });
    const queue = new CommandQueue(SqliteCommandStore.open(dataDir));
    const spawn = {
      type: 'spawn_request' as const,
      request_id: randomUUID(),
      config: { name: 'nightly', model_backend: 'shell', task: 'echo hi', environment: {} },
      timeout_secs: null,
      metadata: null,
    };
    damaged = (await queue.enqueue(profile.id, spawn)).id;
    const stop = {
      type: 'control_command' as const,
      request_id: randomUUID(),
      agent_id: randomUUID(),
      command_type: 'stop' as const,
    };
    kept = (await queue.enqueue(profile.id, stop)).id;
    queue.close();
    withRawDb(dataDir, (db) => db.run("UPDATE commands SET state = 'sendin' WHERE id = ?", [damaged]));
    app = await startConsoleApp({ dataDir, port: CONSOLE_PORT, embeddedPort: EMBEDDED_PORT });
    await openConsole(app.url);
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') console.error(app?.diagnostics());
  });

  after(async function () {
    await app?.stop();
    if (process.env.E2E_KEEP !== '1') await dir.remove();
  });

  it('shows the notice about the moved file and the quarantined command, light and dark', async function () {
    await openQueueView();
    await $(tid('queue-notice')).waitForDisplayed({ timeout: UI_WAIT_MS, timeoutMsg: 'the notice' });
    const message = await $(tid('queue-notice-message')).getText();
    assert.match(
      message,
      /could not be used: it does not start with the SQLite header\. It was moved to .*commands\.sqlite\.corrupt-/,
    );
    const item = $(`${tid('quarantine-item')}[data-entry="1"]`);
    await item.waitForDisplayed({ timeout: UI_WAIT_MS, timeoutMsg: 'the quarantined command' });
    assert.equal(await item.$(tid('quarantine-reason')).getText(), 'state: "sendin" is not a command state');
    assert.equal(await item.$(tid('quarantine-id')).getText(), damaged);
    const pending = await $$(tid('queue-item')).map((el) => el.getAttribute('data-command-id'));
    assert.deepEqual(pending, [kept]);
    await shotBothThemes('quarantine');
  });

  it('discards the command and dismisses the notice for good', async function () {
    await $(tid('quarantine-discard')).click();
    await $(tid('quarantine-discard-yes')).click();
    await $(tid('quarantine-panel')).waitForExist({ reverse: true, timeout: UI_WAIT_MS });
    await $(tid('queue-notice-dismiss')).click();
    await $(tid('queue-notice')).waitForExist({ reverse: true, timeout: UI_WAIT_MS });

    await app?.stop();
    app = await startConsoleApp({ dataDir, port: CONSOLE_PORT, embeddedPort: EMBEDDED_PORT });
    await openConsole(app.url);
    await openQueueView();
    await waitFor(
      async () => (await $$(tid('queue-item')).length) === 1,
      'the pending command after a restart',
    );
    assert.equal(await $(tid('quarantine-panel')).isExisting(), false);
    assert.equal(await $(tid('queue-notice')).isExisting(), false);
  });
});
