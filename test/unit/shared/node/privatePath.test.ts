import { chmodSync, mkdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  generateCurveKeyPair,
  KeyFileError,
  loadOrCreateKeyPair,
} from '../../../../shared/node/curveKeyPair';
import { checkPrivateFile, ensurePrivateDir, UnsafePathError } from '../../../../shared/node/privatePath';
import { allowClient, readAuthorizedClients } from '../../../../server/security/authorizedClients';
import { useTempDir } from '../../../helpers/useTempDir';

const tmp = useTempDir('descartes-private-');

describe.skipIf(process.platform === 'win32')('private dirs and files (POSIX)', () => {
  it('makes a new dir 0700 and tightens an existing wide one of ours', () => {
    const fresh = join(tmp.path, 'a', 'b');
    ensurePrivateDir(fresh);
    expect(statSync(fresh).mode & 0o777).toBe(0o700);
    const wide = join(tmp.path, 'wide');
    mkdirSync(wide, { mode: 0o777 });
    chmodSync(wide, 0o777);
    ensurePrivateDir(wide);
    expect(statSync(wide).mode & 0o777).toBe(0o700);
  });

  it('refuses a symlinked dir and a symlinked or writable-by-others file', () => {
    const real = join(tmp.path, 'real');
    mkdirSync(real);
    const link = join(tmp.path, 'link');
    symlinkSync(real, link);
    expect(() => {
      ensurePrivateDir(link);
    }).toThrow(UnsafePathError);

    const target = join(tmp.path, 'target');
    writeFileSync(target, 'x', { mode: 0o600 });
    const fileLink = join(tmp.path, 'file-link');
    symlinkSync(target, fileLink);
    expect(() => checkPrivateFile(fileLink, false)).toThrow('is not a regular file (a symlink?)');

    chmodSync(target, 0o620);
    expect(() => checkPrivateFile(target, false)).toThrow('can be changed by other users (mode 0620)');
    chmodSync(target, 0o640);
    expect(checkPrivateFile(target, false)).toBe(true);
    expect(() => checkPrivateFile(target, true)).toThrow('can be read by other users (mode 0640)');
    expect(checkPrivateFile(join(tmp.path, 'absent'), true)).toBe(false);
  });

  it('a planted key file symlink or a group-writable allow list is refused, not trusted', () => {
    const state = join(tmp.path, 'state');
    mkdirSync(state, { mode: 0o700 });
    const planted = join(tmp.path, 'attacker.key');
    const pair = generateCurveKeyPair();
    writeFileSync(planted, `public-key = "${pair.publicKey}"\nsecret-key = "${pair.secretKey}"\n`, {
      mode: 0o600,
    });
    symlinkSync(planted, join(state, 'server.key'));
    expect(() => loadOrCreateKeyPair(join(state, 'server.key'), 'server')).toThrow(KeyFileError);

    allowClient(state, generateCurveKeyPair().publicKey, 'alice');
    chmodSync(join(state, 'authorized_clients'), 0o664);
    expect(() => readAuthorizedClients(state)).toThrow('can be changed by other users');
  });
});
