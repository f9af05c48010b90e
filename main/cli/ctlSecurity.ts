/**
 * How ctl secures its connection to `--server`: the key given with `--server-key`, else the
 * key the console's profile for that endpoint pins, else plain ZMTP (said once on stderr).
 * The client key is always the console's own (`<data dir>/client.key`), so a server that
 * allowed the console allows ctl too.
 */
import { curveKeyFingerprint } from '../../shared/domain/curveKey';
import type { ServerProfile, ServerSecurity } from '../../shared/domain/server';
import { loadClientKey } from '../core/security/clientKey';
import { ProfileError } from '../core/services/profileStore';
import type { CurveClient } from '../core/transport/curveClient';
import type { CtlOptions } from './ctlArgs';
import type { CtlIo } from './ctlRequests';

/**
 * The security for `options.server`, given the console's profile for it (or null).
 * `--queue` uses the profile's own setting, so `--server-key` must agree with it there: the
 * profile is the console's record of that server, and ctl never re-pins it behind the
 * operator's back. A direct command has nothing stored, so `--server-key` simply wins.
 * @throws ProfileError('invalid') when `--queue` and `--server-key` disagree with the profile
 */
export function ctlSecurity(options: CtlOptions, profile: ServerProfile | null): ServerSecurity {
  if (options.serverKey === null) return profile?.security ?? { mode: 'plain' };
  if (options.queue && profile !== null) {
    const pinned = profile.security;
    if (pinned.mode !== 'curve' || pinned.serverKey !== options.serverKey) {
      throw new ProfileError(
        'invalid',
        `the console's profile for ${profile.endpoint} ${
          pinned.mode === 'curve'
            ? `pins another server key (${curveKeyFingerprint(pinned.serverKey)})`
            : 'is not encrypted'
        } than --server-key (${curveKeyFingerprint(options.serverKey)}); edit the profile in the console, or leave out --server-key to use it as it is`,
      );
    }
  }
  return { mode: 'curve', serverKey: options.serverKey };
}

/** Says on stderr, once per run, that ctl talks to `--server` without encryption. */
export function warnIfPlain(security: ServerSecurity, options: CtlOptions, io: CtlIo): void {
  if (security.mode !== 'plain') return;
  io.err(
    `ctl: talking to ${options.server} without encryption (no --server-key, and no encrypted profile for it); ` +
      'pin the server key with --server-key KEY (on the server: npm run server -- key)\n',
  );
}

/**
 * What a socket needs for `security`: the pinned server key with the console's key pair, or
 * null for plain (after {@link warnIfPlain}).
 * @throws KeyFileError when the console's key file exists but cannot be used
 */
export function ctlCurve(security: ServerSecurity, options: CtlOptions, io: CtlIo): CurveClient | null {
  warnIfPlain(security, options, io);
  if (security.mode === 'plain') return null;
  return { serverKey: security.serverKey, keyPair: loadClientKey(options.dataDir).keyPair };
}
