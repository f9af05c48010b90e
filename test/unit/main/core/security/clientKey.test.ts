import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { curveKeyFingerprint, isCurveKey } from '../../../../../shared/domain/curveKey';
import { curvePublicKeyOf, KeyFileError } from '../../../../../shared/node/curveKeyPair';
import { CLIENT_KEY_FILE, clientAllowName, loadClientKey } from '../../../../../main/core/security/clientKey';
import { useTempDir } from '../../../../helpers/useTempDir';

const posix = process.platform !== 'win32';
const temp = useTempDir('descartes-client-key-');

describe('loadClientKey', () => {
  it('creates one key pair per data dir: file 0600, a new data dir 0700', () => {
    const dataDir = join(temp.path, 'fresh', 'data');
    const key = loadClientKey(dataDir);
    expect(key.path).toBe(join(dataDir, CLIENT_KEY_FILE));
    expect(isCurveKey(key.keyPair.publicKey)).toBe(true);
    expect(curvePublicKeyOf(key.keyPair.secretKey)).toBe(key.keyPair.publicKey);
    if (posix) {
      expect(statSync(key.path).mode & 0o777).toBe(0o600);
      expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    }
    expect(key.info).toEqual({
      publicKey: key.keyPair.publicKey,
      fingerprint: curveKeyFingerprint(key.keyPair.publicKey),
      allowCommand: `npm run server -- allow '${key.keyPair.publicKey}' --name ${clientAllowName(key.keyPair.publicKey)}`,
    });
    // The public view never carries the secret.
    expect(JSON.stringify(key.info)).not.toContain(key.keyPair.secretKey);
  });

  it('reuses the pair on the next start', () => {
    const first = loadClientKey(temp.path);
    const before = readFileSync(first.path, 'utf8');
    const second = loadClientKey(temp.path);
    expect(second.keyPair).toEqual(first.keyPair);
    expect(readFileSync(first.path, 'utf8')).toBe(before);
  });

  it('refuses a corrupt file and leaves it untouched', () => {
    mkdirSync(temp.path, { recursive: true });
    const path = join(temp.path, CLIENT_KEY_FILE);
    const corrupt = 'public-key = "not a key"\nsecret-key = "neither"\n';
    writeFileSync(path, corrupt, { mode: 0o600 });
    expect(() => loadClientKey(temp.path)).toThrow(KeyFileError);
    expect(() => loadClientKey(temp.path)).toThrow(/public-key must be 40 characters/);
    expect(readFileSync(path, 'utf8')).toBe(corrupt);
  });

  it.runIf(posix)('refuses a key file other users can read, naming the fix', () => {
    const key = loadClientKey(temp.path);
    chmodSync(key.path, 0o644);
    expect(() => loadClientKey(temp.path)).toThrow(/can be read by other users .*chmod 600/);
  });
});
