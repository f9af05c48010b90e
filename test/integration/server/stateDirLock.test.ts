/**
 * Two agent servers starting at once on a state dir whose `server.lock` was left by a killed
 * server: exactly one may own the directory. The server's lock used to delete a stale lock it
 * had read a moment before, which could be the other server's fresh lock: both then ran on one
 * dedupe journal. Real processes, real files, started within microseconds of each other.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCK_FILE } from '../../../server/dedupeJournal';
import { createTempDir, type TempDir } from '../../helpers/tempDir';

const FIXTURE = fileURLToPath(new URL('./fixtures/stateDirContender.ts', import.meta.url));
/** Rounds of the race; each is a fresh state dir with a stale lock in it. */
const ROUNDS = 150;

interface Contender {
  readonly child: ChildProcess;
  next(): Promise<string>;
}

let temp: TempDir;
let contenders: Contender[] = [];
let deadPid = 0;

function startContender(): Contender {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })[Symbol.asyncIterator]();
  return {
    child,
    next: async () => {
      const line = await lines.next();
      if (line.done === true) throw new Error('a contender exited');
      return line.value;
    },
  };
}

beforeAll(async () => {
  temp = await createTempDir('descartes-statelock-');
  const gone = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await once(gone, 'exit');
  deadPid = gone.pid ?? 0;
  contenders = [startContender(), startContender()];
});

afterAll(async () => {
  for (const { child } of contenders) {
    child.kill('SIGKILL');
    if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
  }
  await temp.remove();
});

describe('server.lock recovery', () => {
  it('two servers recovering the same stale lock at once: exactly one owns the state dir', async () => {
    const badRounds: string[][] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const dir = join(temp.path, `r${round}`);
      mkdirSync(dir, { mode: 0o700 });
      writeFileSync(join(dir, LOCK_FILE), `${deadPid}\n`);
      // Far enough ahead for both to have read the line, close enough to keep the spin short.
      const startAt = Date.now() + 30;
      for (const { child } of contenders) child.stdin?.write(`${dir} ${startAt}\n`);
      const results = await Promise.all(contenders.map((c) => c.next()));
      const won = results.filter((r) => r === 'won').length;
      const refusedCleanly = results.every(
        (r) => r === 'won' || /^lost .*is in use by another server/.test(r),
      );
      if (won !== 1 || !refusedCleanly) badRounds.push([`round ${round}`, ...results]);
    }
    expect(badRounds).toEqual([]);
  }, 120_000);
});
