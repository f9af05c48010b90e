import type { ServerProfile, ServerSecurity } from '../shared/domain/server';
import type { ServerRegistry } from './core/services/serverRegistry';
import { parseTcpEndpoint } from './core/transport/endpoints';
import { startEmbeddedServer, type EmbeddedServer, type EmbeddedServerOptions } from './embeddedServer';

/** Name of the profile the console creates for its own local server. */
export const EMBEDDED_PROFILE_NAME = 'Local agent server';

export interface EmbeddedDefault {
  readonly server: EmbeddedServer;
  readonly profile: ServerProfile;
  /** True when the profile was created now (first run). */
  readonly created: boolean;
}

/**
 * The "works out of the box" rule shared by every host:
 * - no server configured → start the embedded server and add it as "Local agent server";
 * - an embedded profile exists → start the server again, on the same port when it is free,
 *   else on another free pair (and the profile's endpoint is updated);
 * - only other servers configured → nothing (returns null).
 *
 * The server admits only the console's key and the profile pins the server's key (from its
 * ready line), so there is nothing to set up. An embedded profile saved by a version without
 * encryption (plain) is switched to the pinned key here.
 * @throws Error when the server cannot start; ProfileError when the profile cannot be saved
 */
export async function ensureEmbeddedServer(
  registry: ServerRegistry,
  options: Omit<EmbeddedServerOptions, 'preferredPort'> & {
    /** First port tried when there is no embedded profile yet; default 5555. */
    defaultPort?: number;
  },
): Promise<EmbeddedDefault | null> {
  const profiles = registry.list();
  const existing = profiles.find((p) => p.embedded) ?? null;
  if (existing === null && profiles.length > 0) return null;
  const { defaultPort, ...serverOptions } = options;
  const preferredPort = existing === null ? defaultPort : parseTcpEndpoint(existing.endpoint)?.port;
  const server = await startEmbeddedServer({
    ...serverOptions,
    ...(preferredPort === undefined ? {} : { preferredPort }),
  });
  const security: ServerSecurity = { mode: 'curve', serverKey: server.publicKey };
  try {
    if (existing === null) {
      const profile = registry.add(
        { name: EMBEDDED_PROFILE_NAME, endpoint: server.endpoint, security },
        true,
      );
      return { server, profile, created: true };
    }
    const pinned = existing.security.mode === 'curve' && existing.security.serverKey === server.publicKey;
    if (existing.endpoint === server.endpoint && pinned) return { server, profile: existing, created: false };
    const profile = registry.update(existing.id, {
      name: existing.name,
      endpoint: server.endpoint,
      heartbeatIntervalMs: existing.heartbeatIntervalMs,
      security,
    });
    return { server, profile, created: false };
  } catch (e) {
    await server.stop();
    throw e;
  }
}
