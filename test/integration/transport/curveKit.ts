/**
 * CURVE pieces shared by the client-side integration tests: how this test process reaches a
 * harness server (its public key with the key pair the harness allows), and a console data
 * dir whose client key is that allowed pair.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ServerSecurity } from '../../../shared/domain/server';
import type { CurveKeyPair } from '../../../shared/node/curveKeyPair';
import { CLIENT_KEY_FILE } from '../../../main/core/security/clientKey';
import type { CurveClient } from '../../../main/core/transport/curveClient';
import type { ServerProcess } from '../../helpers/serverProcess';
import { TEST_CLIENT_KEYS } from '../../helpers/testKeys';

/** The public key `server` printed in its ready line. @throws Error for an `--insecure` server */
export function serverKeyOf(server: ServerProcess): string {
  const key = server.ready?.public_key;
  if (key === null || key === undefined) throw new Error(`server ${server.bind} reported no public key`);
  return key;
}

/** CURVE settings for a Connection to `server`, with `keyPair` (default: the allowed test pair). */
export function curveOf(server: ServerProcess, keyPair: CurveKeyPair = TEST_CLIENT_KEYS): CurveClient {
  return { serverKey: serverKeyOf(server), keyPair };
}

/** A profile's security for `server`: its pinned key, or plain for an `--insecure` one. */
export function securityOf(server: ServerProcess): ServerSecurity {
  const key = server.ready?.public_key ?? null;
  return key === null ? { mode: 'plain' } : { mode: 'curve', serverKey: key };
}

/**
 * Makes `dataDir` a console data dir whose client key is `keyPair` (default: the pair harness
 * servers allow), written in the key file format the console reads. Call before opening a
 * console core or running ctl on it.
 */
export function seedClientKey(dataDir: string, keyPair: CurveKeyPair = TEST_CLIENT_KEYS): string {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, CLIENT_KEY_FILE);
  writeFileSync(
    path,
    `# test console key\npublic-key = "${keyPair.publicKey}"\nsecret-key = "${keyPair.secretKey}"\n`,
    { mode: 0o600 },
  );
  // writeFileSync keeps the mode of an existing file.
  chmodSync(path, 0o600);
  return dataDir;
}
