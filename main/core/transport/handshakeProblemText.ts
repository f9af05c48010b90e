import { allowCommand, curveKeyFingerprint } from '../../../shared/domain/curveKey';
import type { HandshakeProblem } from '../../../shared/domain/server';
import { clientAllowName } from '../security/clientKey';

/** What a message about a refused handshake can name. */
export interface HandshakeContext {
  /** The server's command endpoint, e.g. `tcp://10.0.0.5:5555`. */
  readonly endpoint: string;
  /** The pinned server key, when the profile is encrypted. */
  readonly serverKey: string | null;
  /** This console's public key, when the profile is encrypted (for the `allow` line). */
  readonly clientPublicKey: string | null;
}

/**
 * One or two sentences for the operator: why the server at `ctx.endpoint` refused the
 * handshake and what to do about it. Shown as a server's last error, in request failures and
 * by "Test connection"; it never contains a secret.
 */
export function handshakeProblemText(problem: HandshakeProblem, ctx: HandshakeContext): string {
  switch (problem) {
    case 'key_not_allowed':
      return (
        `the server at ${ctx.endpoint} refused this console's key` +
        (ctx.clientPublicKey === null
          ? ''
          : `; run on the server: ${allowCommand(ctx.clientPublicKey, clientAllowName(ctx.clientPublicKey))}`)
      );
    case 'server_key_mismatch':
      return (
        `the server at ${ctx.endpoint} did not prove it holds the pinned server key` +
        (ctx.serverKey === null ? '' : ` (fingerprint ${safeFingerprint(ctx.serverKey)})`) +
        '; check the key with `npm run server -- key` on the server (another program may be answering at this address)'
      );
    case 'server_is_plain':
      return (
        `the server at ${ctx.endpoint} is not encrypted (started with --insecure, or a Rust descartes 1.0.0 server); ` +
        'restart it without --insecure, or make this profile "not encrypted" if you accept that'
      );
    case 'server_is_encrypted':
      return (
        `the server at ${ctx.endpoint} requires encryption; pin its public key ` +
        '(run `npm run server -- key` on the server) in this profile'
      );
    default: {
      const never: never = problem;
      return never;
    }
  }
}

function safeFingerprint(key: string): string {
  try {
    return curveKeyFingerprint(key);
  } catch {
    return 'invalid key';
  }
}
