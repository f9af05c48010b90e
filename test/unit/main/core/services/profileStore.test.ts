import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateCurveKeyPair } from '../../../../../shared/node/curveKeyPair';
import { ProfileError, ProfileStore } from '../../../../../main/core/services/profileStore';
import { useTempDir } from '../../../../helpers/useTempDir';

const temp = useTempDir('descartes-profiles-');
const serverKey = generateCurveKeyPair().publicKey;

const file = (): string => join(temp.path, 'servers.json');
const onDisk = (): { version: number; servers: Record<string, unknown>[] } =>
  JSON.parse(readFileSync(file(), 'utf8')) as { version: number; servers: Record<string, unknown>[] };

/** What version 1 (before encryption) wrote. */
const VERSION_1 = {
  version: 1,
  servers: [
    {
      id: '2f1e6f0e-9d43-4a3c-9a57-8d0f1c0b6a11',
      embedded: true,
      name: 'Local agent server',
      endpoint: 'tcp://127.0.0.1:5555',
      heartbeatIntervalMs: null,
    },
    {
      id: '7d3c1a52-1111-4c2e-8b1a-3a2b1c0d9e8f',
      embedded: false,
      name: 'Lab',
      endpoint: 'tcp://10.0.0.5:5555',
      heartbeatIntervalMs: 2000,
    },
  ],
};

describe('ProfileStore: security', () => {
  it('saves and reloads a pinned key and a plain choice', () => {
    const store = new ProfileStore(temp.path);
    const curve = store.add({
      name: 'A',
      endpoint: 'tcp://127.0.0.1:1',
      security: { mode: 'curve', serverKey },
    });
    const plain = store.add({ name: 'B', endpoint: 'tcp://127.0.0.1:2', security: { mode: 'plain' } });
    expect(onDisk().version).toBe(2);
    const again = new ProfileStore(temp.path);
    expect(again.get(curve.id)?.security).toEqual({ mode: 'curve', serverKey });
    expect(again.get(plain.id)?.security).toEqual({ mode: 'plain' });
  });

  it('refuses a malformed key or missing security, naming what is wrong', () => {
    const store = new ProfileStore(temp.path);
    const add = (security: unknown): unknown =>
      store.add({ name: 'A', endpoint: 'tcp://127.0.0.1:1', security } as Parameters<ProfileStore['add']>[0]);
    expect(() => add({ mode: 'curve', serverKey: 'short' })).toThrow(
      /server key must be 40 characters of Z85 text/,
    );
    expect(() => add({ mode: 'curve', serverKey: `${serverKey.slice(0, 39)}~` })).toThrow(
      /server key has '~' at position 40/,
    );
    expect(() => add(undefined)).toThrow(/server security is required/);
    expect(() => add({ mode: 'tls' })).toThrow(/mode must be 'curve' or 'plain'/);
    expect(() => add(undefined)).toThrow(ProfileError);
    expect(store.list()).toEqual([]);
  });

  it('trims a pasted key', () => {
    const store = new ProfileStore(temp.path);
    const p = store.add({
      name: 'A',
      endpoint: 'tcp://127.0.0.1:1',
      security: { mode: 'curve', serverKey: `  ${serverKey}\n` },
    });
    expect(p.security).toEqual({ mode: 'curve', serverKey });
  });

  it('reads a version 1 file as plain (what it was), losing nothing, and writes version 2 at the next change', () => {
    writeFileSync(file(), JSON.stringify(VERSION_1, null, 2));
    const store = new ProfileStore(temp.path);
    expect(store.list()).toEqual(VERSION_1.servers.map((s) => ({ ...s, security: { mode: 'plain' } })));
    // Reading changes nothing on disk: an older console can still open it until something is edited.
    expect(onDisk().version).toBe(1);
    const lab = VERSION_1.servers[1];
    if (lab === undefined) throw new Error('fixture');
    store.update(lab.id, {
      name: lab.name,
      endpoint: lab.endpoint,
      heartbeatIntervalMs: 2000,
      security: { mode: 'curve', serverKey },
    });
    const saved = onDisk();
    expect(saved.version).toBe(2);
    expect(saved.servers).toEqual([
      { ...VERSION_1.servers[0], security: { mode: 'plain' } },
      { ...lab, security: { mode: 'curve', serverKey } },
    ]);
  });

  it('refuses a version 2 entry without security, a bad key on disk and a newer version, leaving the file as it is', () => {
    const cases = [
      { version: 2, servers: [{ ...VERSION_1.servers[1] }] },
      { version: 2, servers: [{ ...VERSION_1.servers[1], security: { mode: 'curve', serverKey: 'x' } }] },
      { version: 3, servers: [] },
    ];
    const messages = [
      /servers\[0\]\.security is missing/,
      /servers\[0\]: server key must be 40/,
      /version 3 was written by a newer console/,
    ];
    cases.forEach((content, i) => {
      const text = JSON.stringify(content);
      writeFileSync(file(), text);
      let error: unknown = null;
      try {
        new ProfileStore(temp.path);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ProfileError);
      expect((error as ProfileError).code).toBe('corrupt');
      expect((error as ProfileError).message).toMatch(messages[i] ?? /never/);
      expect(readFileSync(file(), 'utf8')).toBe(text);
    });
  });
});
