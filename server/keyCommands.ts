import { clientKeyName, curveKeyFingerprint } from '../shared/domain/curveKey';
import { loadOrCreateKeyPair } from '../shared/node/curveKeyPair';
import type { ParsedArgs } from './args';
import {
  allowClient,
  authorizedClientsPath,
  readAuthorizedClients,
  revokeClient,
} from './security/authorizedClients';
import { defaultStateDir, serverKeyPath } from './stateDir';

/** What a key subcommand printed and how it ended. */
export interface KeyCommandResult {
  /** For stdout: what scripts read (the key, the list). */
  readonly stdout: string;
  /** For stderr: notes for the person at the terminal. */
  readonly stderr: string;
  readonly exitCode: 0 | 1;
}

type KeyCommand = Exclude<ParsedArgs, { kind: 'run' } | { kind: 'help' }>;

/**
 * Runs `key`, `allow`, `revoke` or `clients` against a state dir (default: the platform's).
 * A running server on the same state dir re-reads the allow list within a second.
 * @throws KeyFileError / AuthorizedClientsError naming the file (and line) that is unusable
 */
export function runKeyCommand(command: KeyCommand, env: NodeJS.ProcessEnv = process.env): KeyCommandResult {
  const stateDir = command.stateDir ?? defaultStateDir(env);
  switch (command.kind) {
    case 'key': {
      const { keyPair, created } = loadOrCreateKeyPair(serverKeyPath(stateDir), 'server');
      return {
        stdout: `${keyPair.publicKey}\n`,
        stderr:
          (created ? `made a new key pair in ${serverKeyPath(stateDir)}\n` : '') +
          `server public key, fingerprint ${curveKeyFingerprint(keyPair.publicKey)}: pin it in the console's server form\n`,
        exitCode: 0,
      };
    }
    case 'allow': {
      const name = command.name ?? defaultName(command.key);
      const { client, added } = allowClient(stateDir, command.key, name);
      const fp = curveKeyFingerprint(client.publicKey);
      return {
        stdout: '',
        stderr: added
          ? `allowed ${fp} as "${client.name}" in ${authorizedClientsPath(stateDir)}; a running server applies it within a second\n`
          : `${fp} is already allowed as "${client.name}"\n`,
        exitCode: 0,
      };
    }
    case 'revoke': {
      const removed = revokeClient(stateDir, command.target);
      if (removed.length === 0) {
        return {
          stdout: '',
          stderr: `no allowed client has the key or name "${command.target}" (see: npm run server -- clients)\n`,
          exitCode: 1,
        };
      }
      return {
        stdout: '',
        stderr: removed
          .map(
            (c) =>
              `revoked ${curveKeyFingerprint(c.publicKey)} "${c.name}"; a running server drops its connections and refuses it within a second\n`,
          )
          .join(''),
        exitCode: 0,
      };
    }
    case 'clients': {
      const clients = readAuthorizedClients(stateDir);
      return {
        stdout: clients.map((c) => `${c.publicKey} ${c.name} ${curveKeyFingerprint(c.publicKey)}\n`).join(''),
        stderr: clients.length === 0 ? `no client is allowed yet (${authorizedClientsPath(stateDir)})\n` : '',
        exitCode: 0,
      };
    }
  }
}

/** `client-<8 hex>` (see `clientKeyName`); any name will do for a key `allowClient` then refuses. */
function defaultName(keyText: string): string {
  try {
    return clientKeyName(keyText.trim(), 'client');
  } catch {
    // allowClient refuses the key with the precise reason.
    return 'client';
  }
}
