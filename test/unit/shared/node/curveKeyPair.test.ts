import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as zmq from 'zeromq';
import { describe, expect, it } from 'vitest';
import {
  curvePublicKeyOf,
  generateCurveKeyPair,
  KeyFileError,
  loadOrCreateKeyPair,
} from '../../../../shared/node/curveKeyPair';
import { useTempDir } from '../../../helpers/useTempDir';

const tmp = useTempDir('descartes-keys-');

describe('curve key pairs', () => {
  it('derives the public key libzmq derives', () => {
    for (let i = 0; i < 10; i++) {
      const pair = zmq.curveKeyPair();
      expect(curvePublicKeyOf(pair.secretKey)).toBe(pair.publicKey);
    }
    const ours = generateCurveKeyPair();
    expect(curvePublicKeyOf(ours.secretKey)).toBe(ours.publicKey);
  });

  it('creates the file 0600 in a new 0700 directory once, then reads the same pair', () => {
    const path = join(tmp.path, 'state', 'server.key');
    const first = loadOrCreateKeyPair(path, 'server');
    expect(first.created).toBe(true);
    if (process.platform !== 'win32') {
      expect(statSync(path).mode & 0o777).toBe(0o600);
      expect(statSync(join(tmp.path, 'state')).mode & 0o777).toBe(0o700);
    }
    const second = loadOrCreateKeyPair(path, 'server');
    expect(second).toEqual({ keyPair: first.keyPair, created: false });
    expect(readFileSync(path, 'utf8')).toContain('Keep this file secret');
  });

  it.skipIf(process.platform === 'win32')('refuses a key file other users can read, naming the fix', () => {
    const path = join(tmp.path, 'client.key');
    loadOrCreateKeyPair(path, 'console');
    chmodSync(path, 0o644);
    expect(() => loadOrCreateKeyPair(path, 'console')).toThrow(`run: chmod 600 '${path}'`);
  });

  it('refuses a corrupt or mismatched file and leaves it as it was', () => {
    const path = join(tmp.path, 'server.key');
    const a = generateCurveKeyPair();
    const b = generateCurveKeyPair();
    const cases: [string, RegExp][] = [
      ['garbage\n', /line 1 is not/],
      [`public-key = "${a.publicKey}"\n`, /lacks a secret-key line/],
      [`public-key = "${a.publicKey}"\nsecret-key = "short"\n`, /secret-key must be 40 characters/],
      [`public-key = "${a.publicKey}"\nsecret-key = "${b.secretKey}"\n`, /does not belong to the secret key/],
    ];
    for (const [text, message] of cases) {
      writeFileSync(path, text, { mode: 0o600 });
      expect(() => loadOrCreateKeyPair(path, 'server')).toThrow(KeyFileError);
      expect(() => loadOrCreateKeyPair(path, 'server')).toThrow(message);
      expect(readFileSync(path, 'utf8')).toBe(text);
    }
  });
});
