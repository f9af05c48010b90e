/**
 * `npm run ctl` as a child process on a data dir whose queue was damaged by hand: it still
 * lists, shows quarantined commands with the reason and any moved database in "notices", says
 * once on stderr what it repaired, and `queue discard` / `queue dismiss` remove entries.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { QueuedCommand } from '../../../shared/domain/command';
import type { QuarantinedCommand, QueueNotice } from '../../../shared/domain/quarantine';
import { ProfileStore } from '../../../main/core/services/profileStore';
import { useTempDir } from '../../helpers/useTempDir';
import { runCtlProcess, type CtlRun } from '../client/clientKit';
import { controlCommand, openQueue } from '../../unit/main/core/queue/queueTestKit';
import { dbPath, filesStartingWith, withRawDb } from '../../unit/main/core/queue/corruptKit';
import { DATABASE_FILE } from '../../../main/core/queue/sqliteCommandStore';

type Listed = {
  commands: (QueuedCommand & { server: string | null })[];
  quarantined: (QuarantinedCommand & { server: string | null })[];
  notices: QueueNotice[];
};

const temp = useTempDir('descartes-ctl-repair-');
let dataDir: string;

beforeEach(() => {
  dataDir = join(temp.path, 'data');
});

function ctl(...args: string[]): Promise<CtlRun> {
  return runCtlProcess(args, dataDir);
}

/** Three queued commands for a server with a profile; returns their ids. */
async function seed(): Promise<{ ids: string[]; endpoint: string }> {
  const endpoint = 'tcp://127.0.0.1:24201';
  const profile = new ProfileStore(dataDir).add({ name: 'lab', endpoint, security: { mode: 'plain' } });
  const q = openQueue(dataDir);
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) ids.push((await q.enqueue(profile.id, controlCommand())).id);
  q.close();
  return { ids, endpoint };
}

describe('ctl on a damaged queue', () => {
  it('lists around an unreadable row, shows it under "quarantined" with the reason, says so once, and discards it', async () => {
    const { ids, endpoint } = await seed();
    withRawDb(dataDir, (db) => db.run("UPDATE commands SET state = 'sent?' WHERE id = ?", [ids[1] ?? '']));

    const first = await ctl('queue', 'list');
    expect(first.code, first.stderr).toBe(0);
    const listed = first.json<Listed>();
    expect(listed.commands.map((c) => c.id)).toEqual([ids[0], ids[2]]);
    expect(listed.quarantined).toHaveLength(1);
    expect(listed.quarantined[0]).toMatchObject({
      entry: 1,
      id: ids[1],
      server: endpoint,
      state: 'sent?',
      reason: 'state: "sent?" is not a command state',
    });
    expect(listed.notices).toEqual([]);
    expect(first.stderr).toBe(
      `ctl: 1 stored command(s) could not be read and were put in quarantine (kept, never sent): ` +
        `entry 1 (${ids[1] ?? ''}): state: "sent?" is not a command state. ` +
        "See 'ctl queue list'; 'ctl queue discard <entry>' deletes one.\n",
    );

    // Said once: the next run finds it already in quarantine, and still lists it.
    const second = await ctl('queue', 'list', '--server', endpoint);
    expect(second.stderr).toBe('');
    expect(second.json<Listed>().quarantined.map((q) => q.entry)).toEqual([1]);

    const discard = await ctl('queue', 'discard', '1');
    expect(discard.code, discard.stderr).toBe(0);
    expect(discard.json<{ discarded: QuarantinedCommand }>().discarded).toMatchObject({
      entry: 1,
      id: ids[1],
    });
    const again = await ctl('queue', 'discard', '1');
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(
      'ctl: No quarantined command with entry number 1; it may have been discarded already.\n',
    );
    expect((await ctl('queue', 'list')).json<Listed>().quarantined).toEqual([]);
  });

  it('a file that is no database: moved aside, an empty queue listed, the notice on stderr and under "notices" until dismissed', async () => {
    await seed();
    writeFileSync(dbPath(dataDir), randomBytes(10_000));

    const run = await ctl('queue', 'list');
    expect(run.code, run.stderr).toBe(0);
    const [aside] = filesStartingWith(dataDir, `${DATABASE_FILE}.corrupt-`);
    const asidePath = join(dataDir, aside ?? '');
    const message =
      `The command database ${dbPath(dataDir)} could not be used: it does not start with the SQLite header. ` +
      `It was moved to ${asidePath} and a new, empty queue was started; commands queued before are not in it. ` +
      'The moved file is kept for inspection: delete it once you no longer need it.';
    expect(run.stderr).toBe(
      `ctl: ${message} (shown by 'ctl queue list' until 'ctl queue dismiss <notice>')\n`,
    );
    const listed = run.json<Listed>();
    expect(listed.commands).toEqual([]);
    expect(listed.notices).toMatchObject([{ id: 1, message, movedTo: asidePath }]);

    const later = await ctl('queue', 'list');
    expect(later.stderr).toBe('');
    expect(later.json<Listed>().notices).toHaveLength(1);
    const dismiss = await ctl('queue', 'dismiss', '1');
    expect(dismiss.code, dismiss.stderr).toBe(0);
    expect(dismiss.json<{ dismissed: number }>()).toEqual({ dismissed: 1 });
    const gone = await ctl('queue', 'dismiss', '1');
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/^ctl: No queue notice 1; it may have been dismissed already/);
    expect((await ctl('queue', 'list')).json<Listed>().notices).toEqual([]);
  });

  it('refuses a discard key that is neither an entry number nor a request id', async () => {
    const run = await ctl('queue', 'discard', 'banana');
    expect(run.code).toBe(2);
    expect(run.stderr).toBe("ctl: expected a quarantine entry number or a request id (UUID), got 'banana'\n");
  });
});
