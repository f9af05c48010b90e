import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync } from 'node:fs';
import { writeFreshTempFile } from '../../../shared/node/freshTempFile';
import { dirname, join } from 'node:path';
import { CurveKeyError, parseCurveKey } from '../../../shared/domain/curveKey';
import type { ServerProfile, ServerProfileInput, ServerSecurity } from '../../../shared/domain/server';
import { parseTcpEndpoint } from '../transport/endpoints';

/** A profile the operator gave that cannot be used; the message names the field. */
export class ProfileError extends Error {
  override readonly name = 'ProfileError';
  constructor(
    readonly code: 'invalid' | 'not_found' | 'duplicate' | 'corrupt',
    message: string,
  ) {
    super(message);
  }
}

/**
 * Version 2 added `security` to every profile. Version 1 files are read as they were meant
 * (every server plain: the console had no encryption then) and written as version 2 at the
 * next change. The number went up, rather than the field being optional, so that an older
 * console refuses a version 2 file instead of rewriting it without the pinned keys, which
 * would silently turn encrypted profiles into plain ones.
 */
const FILE_VERSION = 2;
const PLAIN: ServerSecurity = { mode: 'plain' };

/**
 * Server profiles in `<dataDir>/servers.json`, written atomically (temp file, fsync, rename),
 * so a crash leaves either the old or the new list, never half of one.
 */
export class ProfileStore {
  private readonly path: string;
  private profiles: ServerProfile[];

  /**
   * Loads the profiles of `dataDir` (none when the file does not exist yet).
   * @throws ProfileError('corrupt') when the file exists but is not a profile list; it is left untouched
   */
  constructor(dataDir: string) {
    this.path = join(dataDir, 'servers.json');
    this.profiles = this.load();
  }

  list(): readonly ServerProfile[] {
    return this.profiles;
  }

  get(id: string): ServerProfile | null {
    return this.profiles.find((p) => p.id === id) ?? null;
  }

  /**
   * Adds a profile and saves. @throws ProfileError('invalid' | 'duplicate')
   * @param embedded marks the console's own local server
   */
  add(input: ServerProfileInput, embedded = false, id: string = randomUUID()): ServerProfile {
    const profile: ServerProfile = { id, embedded, ...validateProfileInput(input) };
    if (this.profiles.some((p) => p.endpoint === profile.endpoint)) {
      throw new ProfileError('duplicate', `a server with endpoint ${profile.endpoint} is already configured`);
    }
    this.save([...this.profiles, profile]);
    return profile;
  }

  /** Changes a profile and saves. @throws ProfileError('not_found' | 'invalid' | 'duplicate') */
  update(id: string, input: ServerProfileInput): ServerProfile {
    const current = this.get(id);
    if (!current) throw new ProfileError('not_found', `no server with id ${id}`);
    const profile: ServerProfile = { ...current, ...validateProfileInput(input) };
    if (this.profiles.some((p) => p.id !== id && p.endpoint === profile.endpoint)) {
      throw new ProfileError('duplicate', `a server with endpoint ${profile.endpoint} is already configured`);
    }
    this.save(this.profiles.map((p) => (p.id === id ? profile : p)));
    return profile;
  }

  /** Removes a profile and saves. @throws ProfileError('not_found') */
  remove(id: string): void {
    if (!this.get(id)) throw new ProfileError('not_found', `no server with id ${id}`);
    this.save(this.profiles.filter((p) => p.id !== id));
  }

  private load(): ServerProfile[] {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    try {
      const parsed = JSON.parse(text) as { version?: unknown; servers?: unknown };
      const version = parsed.version;
      if ((version !== 1 && version !== FILE_VERSION) || !Array.isArray(parsed.servers)) {
        throw new Error(
          typeof version === 'number' && version > FILE_VERSION
            ? `version ${version} was written by a newer console; use that one`
            : `not a version 1 or ${FILE_VERSION} profile list`,
        );
      }
      return parsed.servers.map((raw: unknown, i) => {
        const r = raw as Partial<Record<keyof ServerProfile, unknown>>;
        if (typeof r.id !== 'string') throw new Error(`servers[${i}].id is missing`);
        if (version === FILE_VERSION && r.security === undefined)
          throw new Error(`servers[${i}].security is missing`);
        try {
          return {
            id: r.id,
            embedded: r.embedded === true,
            ...validateProfileInput({
              name: String(r.name),
              endpoint: String(r.endpoint),
              heartbeatIntervalMs: (r.heartbeatIntervalMs ?? null) as number | null,
              security: version === 1 ? PLAIN : (r.security as ServerSecurity),
            }),
          };
        } catch (e) {
          throw new Error(`servers[${i}]: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
        }
      });
    } catch (e) {
      throw new ProfileError(
        'corrupt',
        `${this.path} is not a valid server list (${e instanceof Error ? e.message : String(e)}); fix or remove it`,
      );
    }
  }

  private save(profiles: ServerProfile[]): void {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    // The pinned server keys decide whom the console trusts: the fresh file is this user's only.
    const tmp = writeFreshTempFile(
      this.path,
      JSON.stringify({ version: FILE_VERSION, servers: profiles }, null, 2),
    );
    renameSync(tmp, this.path);
    this.profiles = profiles;
  }
}

/**
 * Checks what an operator typed for a server.
 * @throws ProfileError('invalid') naming the field and what is expected
 */
export function validateProfileInput(input: ServerProfileInput): Omit<ServerProfile, 'id' | 'embedded'> {
  const name = input.name.trim();
  if (name.length === 0 || name.length > 100) {
    throw new ProfileError('invalid', `server name must be 1 to 100 characters, got ${name.length}`);
  }
  const endpoint = input.endpoint.trim();
  if (!parseTcpEndpoint(endpoint)) {
    throw new ProfileError(
      'invalid',
      `server endpoint must look like tcp://host:port (port 1-65535), got "${endpoint}"`,
    );
  }
  const hb = input.heartbeatIntervalMs ?? null;
  if (hb !== null && (!Number.isInteger(hb) || hb < 100 || hb > 600_000)) {
    throw new ProfileError('invalid', `heartbeat interval must be 100 to 600000 ms, got ${String(hb)}`);
  }
  return { name, endpoint, heartbeatIntervalMs: hb, security: validateSecurity(input.security) };
}

/**
 * Checks how a server is secured: a pinned key that is 40 Z85 characters, or plain. Plain is
 * never assumed: input without `security` is refused.
 * @throws ProfileError('invalid') saying what is wrong with the key
 */
export function validateSecurity(security: unknown): ServerSecurity {
  const s = security as Partial<Record<'mode' | 'serverKey', unknown>> | null | undefined;
  if (typeof s !== 'object' || s === null) {
    throw new ProfileError(
      'invalid',
      "server security is required: a pinned server key ({ mode: 'curve', serverKey }) or { mode: 'plain' }",
    );
  }
  if (s.mode === 'plain') return PLAIN;
  if (s.mode !== 'curve') {
    throw new ProfileError(
      'invalid',
      `server security mode must be 'curve' or 'plain', got ${JSON.stringify(s.mode)}`,
    );
  }
  if (typeof s.serverKey !== 'string')
    throw new ProfileError('invalid', 'an encrypted server needs its server key');
  try {
    return { mode: 'curve', serverKey: parseCurveKey(s.serverKey, 'server key') };
  } catch (e) {
    if (e instanceof CurveKeyError) throw new ProfileError('invalid', e.message);
    throw e;
  }
}
