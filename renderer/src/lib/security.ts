/**
 * What the console tells an operator about transport security: the words for each Test
 * connection outcome and each handshake problem, and the short label of a profile's security.
 * One place, so the server form and the server cards say the same thing about the same problem.
 */
import { assertNever } from '../../../shared/domain/command';
import { CurveKeyError, curveKeyFingerprint } from '../../../shared/domain/curveKey';
import type { ConnectionTestResult, HandshakeProblem, ServerSecurity } from '../../../shared/domain/server';

export type Tone = 'ok' | 'info' | 'warn' | 'error';

/** The command an operator runs on a server's machine to print its public key. */
export const SERVER_KEY_COMMAND = 'npm run server -- key';

/** Which security mode a result suggests the form switch to, if any. */
export type SuggestedMode = 'curve' | 'plain' | null;

/** How one Test connection result or handshake problem is shown. */
export interface SecurityNotice {
  readonly tone: Tone;
  /**
   * A symbol beside the title, so the outcome does not rest on colour alone (the title says it
   * in words too); screen readers skip it.
   */
  readonly icon: string;
  readonly title: string;
  /** What it means and what to do next. */
  readonly advice: string;
  /** Show this console's public key and the `allow` line to run on the server. */
  readonly showClientKey: boolean;
  /** A mode the form can offer to switch to (the operator still has to confirm plain). */
  readonly suggest: SuggestedMode;
  /** A command to run on the server's machine, shown as code (e.g. to print its key). */
  readonly serverCommand: string | null;
}

const ICON: Record<Tone, string> = { ok: '✓', info: 'ℹ', warn: '⚠', error: '✕' };

function notice(
  tone: Tone,
  title: string,
  advice: string,
  extra: Partial<Pick<SecurityNotice, 'showClientKey' | 'suggest' | 'serverCommand'>> = {},
): SecurityNotice {
  return {
    tone,
    icon: ICON[tone],
    title,
    advice,
    showClientKey: false,
    suggest: null,
    serverCommand: null,
    ...extra,
  };
}

/** The security a server reports (`curve`, `none`…) in words; null when it did not say. */
export function describeServerSecurity(reported: string | null): string | null {
  if (reported === null) return null;
  if (reported === 'curve') return 'encrypted (CurveZMQ)';
  if (reported === 'none' || reported === 'plain' || reported === 'null') return 'not encrypted (plain ZMTP)';
  return reported;
}

/**
 * The words for a handshake problem. Used on server cards (a live connection) and, through
 * {@link describeTestResult}, for Test connection.
 */
export function describeHandshakeProblem(problem: HandshakeProblem): SecurityNotice {
  switch (problem) {
    case 'key_not_allowed':
      return notice(
        'error',
        "This console's key is not allowed",
        'The server is encrypted and proved its key, but it does not admit this console. Run the line below on the server’s machine (a running server picks it up within 2 s, no restart needed).',
        { showClientKey: true },
      );
    case 'server_key_mismatch':
      return notice(
        'error',
        'Server key mismatch',
        'The server could not prove it holds the pinned key, so nothing was sent. Run the command below on the server’s machine and compare: if the key changed, paste the new one into this profile; if it did not, something else is answering at this address.',
        { serverCommand: SERVER_KEY_COMMAND },
      );
    case 'server_is_plain':
      return notice(
        'warn',
        'Server is not encrypted',
        'The server speaks plain ZMTP: it runs with --insecure or is a Rust descartes 1.0.0 peer. Prefer restarting it without --insecure and pinning its key. Switch this profile to plain only if you trust every network between this console and the server.',
        { suggest: 'plain' },
      );
    case 'server_is_encrypted':
      return notice(
        'warn',
        'Server requires encryption',
        'The server only accepts CurveZMQ, and this profile is plain. Choose “Encrypted” and pin the server’s public key, which the command below prints on its machine.',
        { suggest: 'curve', serverCommand: SERVER_KEY_COMMAND },
      );
    default:
      return assertNever(problem);
  }
}

/**
 * The words for a Test connection result. Only `ok` is ever shown as success.
 * @param tested the security the test used (an `ok` over plain still warns)
 */
export function describeTestResult(result: ConnectionTestResult, tested: ServerSecurity): SecurityNotice {
  const outcome = result.outcome;
  switch (outcome) {
    case 'ok': {
      const who = result.remoteServerId === null ? 'The server' : `Server “${result.remoteServerId}”`;
      const reported = describeServerSecurity(result.serverSecurity);
      const security = reported === null ? '' : ` It reports: ${reported}.`;
      if (tested.mode === 'plain') {
        return notice(
          'warn',
          'Connected — not encrypted',
          `${who} answered in ${result.elapsedMs} ms.${security} Commands and output travel in clear text and the server does not know who sent them.`,
        );
      }
      return notice('ok', 'Connected', `${who} answered in ${result.elapsedMs} ms.${security}`);
    }
    case 'unreachable':
      return notice(
        'error',
        'Unreachable',
        'Nothing accepted a connection at this address. Check the host and port, that the server is running, and any firewall in between.',
      );
    case 'no_reply':
      return notice(
        'error',
        'No reply',
        'A connection was made but no health reply came back. Is this a descartes server’s command port (not its event port)?',
      );
    case 'key_not_allowed':
    case 'server_key_mismatch':
    case 'server_is_plain':
    case 'server_is_encrypted':
      return describeHandshakeProblem(outcome);
    default:
      return assertNever(outcome);
  }
}

/** A profile's security as a card shows it. */
export type SecurityLabel =
  { readonly encrypted: true; readonly fingerprint: string } | { readonly encrypted: false };

/**
 * Encrypted with the pinned key's short fingerprint, or not encrypted. A stored key that does
 * not parse (it should not happen: main validates on save) still reads "encrypted", with the
 * fingerprint saying the key is invalid rather than hiding it.
 */
export function securityLabel(security: ServerSecurity): SecurityLabel {
  if (security.mode === 'plain') return { encrypted: false };
  try {
    return { encrypted: true, fingerprint: curveKeyFingerprint(security.serverKey) };
  } catch (e) {
    if (e instanceof CurveKeyError) return { encrypted: true, fingerprint: 'invalid key' };
    throw e;
  }
}
