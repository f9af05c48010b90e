/**
 * The console's own CurveZMQ key pair: one per installation, in the data dir, shared by every
 * host (Electron, browser, ctl) so that a server admits "this console" once, whichever way the
 * operator talks to it.
 */
import { join } from 'node:path';
import { allowCommand, clientKeyName, curveKeyFingerprint } from '../../../shared/domain/curveKey';
import type { ClientKeyInfo } from '../../../shared/domain/server';
import { loadOrCreateKeyPair, type CurveKeyPair } from '../../../shared/node/curveKeyPair';

/** File name of the key pair inside the data dir. */
export const CLIENT_KEY_FILE = 'client.key';

/** The name an `allow` line gives this console on a server: `console-<8 hex>` (see `clientKeyName`). */
export function clientAllowName(publicKey: string): string {
  return clientKeyName(publicKey, 'console');
}

/** The key pair sockets use, and what the operator is shown of it. */
export interface ClientKey {
  /** Secret included: for sockets only, never for IPC or logs. */
  readonly keyPair: CurveKeyPair;
  /** Public parts only: safe to show and to send to the renderer. */
  readonly info: ClientKeyInfo;
  /** Where the pair is stored. */
  readonly path: string;
}

/**
 * Loads `<dataDir>/client.key`, creating it (0600, and `dataDir` 0700 when it does not exist
 * yet) on first use.
 * @throws KeyFileError when the file exists but is unreadable, malformed, readable by other
 *   users or inconsistent; the file is left as it is, so the operator can restore it (a new
 *   key would lock this console out of every server that allowed the old one)
 */
export function loadClientKey(dataDir: string): ClientKey {
  const path = join(dataDir, CLIENT_KEY_FILE);
  const { keyPair } = loadOrCreateKeyPair(path, 'console');
  return { keyPair, info: clientKeyInfo(keyPair.publicKey), path };
}

/** What the operator needs to admit a console with public key `publicKey` on a server. */
export function clientKeyInfo(publicKey: string): ClientKeyInfo {
  return {
    publicKey,
    fingerprint: curveKeyFingerprint(publicKey),
    allowCommand: allowCommand(publicKey, clientAllowName(publicKey)),
  };
}
