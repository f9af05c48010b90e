import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateCurveKeyPair } from '../../../../shared/node/curveKeyPair';
import {
  allowClient,
  AuthorizedClientsWatcher,
  parseAuthorizedClients,
  readAuthorizedClients,
  revokeClient,
  type AllowListChange,
} from '../../../../server/security/authorizedClients';
import { useTempDir } from '../../../helpers/useTempDir';

const tmp = useTempDir('descartes-allow-');

describe('authorized_clients', () => {
  it('parses keys with names, comments and blank lines; a # inside a key is part of it', () => {
    const withHash = 'rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]#f7';
    const plain = generateCurveKeyPair().publicKey;
    const third = generateCurveKeyPair().publicKey;
    const text = `# consoles\n\n${withHash} alice\n  ${plain}\n${third} bob # laptop in room 4\n`;
    expect(parseAuthorizedClients(text, 'F')).toEqual([
      { publicKey: withHash, name: 'alice' },
      { publicKey: plain, name: '-' },
      { publicKey: third, name: 'bob' },
    ]);
  });

  it('names the line of a malformed key or name', () => {
    const key = generateCurveKeyPair().publicKey;
    expect(() => parseAuthorizedClients(`${key} ok\nnot-a-key x\n`, 'F')).toThrow(
      'F line 2: the key must be 40 characters of Z85 text',
    );
    expect(() => parseAuthorizedClients(`${key} two words\n`, 'F')).toThrow('F line 1: the name "two words"');
  });

  it('allow adds once, refuses a taken name and a bad key; revoke by name or key keeps the rest', () => {
    const a = generateCurveKeyPair().publicKey;
    const b = generateCurveKeyPair().publicKey;
    expect(allowClient(tmp.path, a, 'alice').added).toBe(true);
    expect(allowClient(tmp.path, ` ${a} `, 'other').added).toBe(false);
    expect(() => allowClient(tmp.path, b, 'alice')).toThrow('already allowed as "alice"');
    expect(() => allowClient(tmp.path, 'xyz', 'bob')).toThrow('the client key must be 40 characters');
    expect(() => allowClient(tmp.path, b, 'bad name')).toThrow('the name "bad name"');
    allowClient(tmp.path, b, 'bob');
    expect(readAuthorizedClients(tmp.path).map((c) => c.name)).toEqual(['alice', 'bob']);
    expect(revokeClient(tmp.path, 'alice')).toEqual([{ publicKey: a, name: 'alice' }]);
    expect(revokeClient(tmp.path, b)).toEqual([{ publicKey: b, name: 'bob' }]);
    expect(revokeClient(tmp.path, 'nobody')).toEqual([]);
    expect(readFileSync(join(tmp.path, 'authorized_clients'), 'utf8')).toMatch(/^# Consoles allowed/);
  });

  it('a watcher sees additions and revocations, and refuses everyone while the file is malformed', () => {
    const a = generateCurveKeyPair().publicKey;
    const b = generateCurveKeyPair().publicKey;
    allowClient(tmp.path, a, 'alice');
    const changes: AllowListChange[] = [];
    const watcher = new AuthorizedClientsWatcher(tmp.path, (c) => changes.push(c), 60_000);
    try {
      expect(watcher.allows(a)).toBe(true);
      expect(watcher.allows(b)).toBe(false);
      allowClient(tmp.path, b, 'bob');
      watcher.poll();
      expect(watcher.allows(b)).toBe(true);
      revokeClient(tmp.path, 'alice');
      watcher.poll();
      expect(watcher.allows(a)).toBe(false);
      const path = join(tmp.path, 'authorized_clients');
      const good = readFileSync(path, 'utf8');
      writeFileSync(path, `${good}oops\n`);
      watcher.poll();
      expect(watcher.allows(b)).toBe(false);
      writeFileSync(path, good);
      watcher.poll();
      expect(watcher.allows(b)).toBe(true);
      expect(changes.map((c) => [c.clients, c.removed, c.error === null])).toEqual([
        [2, 0, true],
        [1, 1, true],
        [0, 1, false],
        [1, 0, true],
      ]);
      expect(changes[2]?.error).toMatch(/line \d+: the key must be/);
    } finally {
      watcher.close();
    }
  });
});
