import type { ServerRegistry } from './core/services/serverRegistry';
import { EmbeddedRestartError, type EmbeddedServerControl } from './core/services/embeddedServerControl';
import { parseTcpEndpoint } from './core/transport/endpoints';
import { ensureEmbeddedServer, type EmbeddedDefault } from './embeddedDefault';
import {
  serverExitText,
  startEmbeddedServer,
  type EmbeddedServer,
  type EmbeddedServerOptions,
  type ServerExit,
} from './embeddedServer';

/** Where the embedded server is in its life, as the keeper sees it. */
export type EmbeddedServerPhase = 'idle' | 'starting' | 'running' | 'exited' | 'stopped';

/** The phase, with the running server exactly while it runs. */
type Life =
  | { readonly phase: 'running'; readonly server: EmbeddedServer }
  | { readonly phase: Exclude<EmbeddedServerPhase, 'running'> };

export type EmbeddedServerKeeperOptions = Omit<EmbeddedServerOptions, 'preferredPort' | 'exactPort'> & {
  /** First port tried when there is no embedded profile yet; default 5555. */
  readonly defaultPort?: number;
};

/** Exit codes that mean SIGKILL where only a code is reported (Electron: 9; shells: 128 + 9). */
const KILLED_CODES: readonly (number | null)[] = [9, 137];

/**
 * The reason the console shows when the embedded server's process ends on its own: how it
 * ended, plus the last line it wrote on stderr when it ended by itself (an error code or a
 * host-reported failure). A killed process wrote nothing about its death: its last line would be
 * some earlier, unrelated diagnostic.
 */
export function embeddedExitReason(exit: ServerExit & { readonly stderr: string }): string {
  const byItself =
    exit.error !== undefined ||
    (exit.signal === null && exit.code !== 0 && !KILLED_CODES.includes(exit.code));
  const last = byItself ? (exit.stderr.trim().split('\n').at(-1)?.trim() ?? '') : '';
  return `the embedded server exited (${serverExitText(exit)})${last === '' ? '' : `: ${last}`}`;
}

/**
 * Owns the console's embedded agent server for every host (browser host and Electron): starts
 * it ({@link ensureEmbeddedServer}'s rule), takes its connection offline the moment its process
 * ends on its own (no waiting for missed health checks), and starts it again on request with the
 * same ports, keys, allow list and state dir, then reconnects at once. Queued commands are kept
 * by the queue and delivered once the server answers.
 */
export class EmbeddedServerKeeper implements EmbeddedServerControl {
  private life: Life = { phase: 'idle' };

  constructor(
    private readonly registry: ServerRegistry,
    private readonly options: EmbeddedServerKeeperOptions,
  ) {}

  /** The running server, or null while it is not running. */
  get server(): EmbeddedServer | null {
    return this.life.phase === 'running' ? this.life.server : null;
  }

  get phase(): EmbeddedServerPhase {
    return this.life.phase;
  }

  get profileId(): string | null {
    return this.registry.list().find((p) => p.embedded)?.id ?? null;
  }

  /**
   * The first start, by {@link ensureEmbeddedServer}'s rule (which may move to another free
   * port pair and update the profile). Returns null when other servers are configured and no
   * embedded one. A failed start leaves the keeper `exited`: Restart may try again.
   * @throws Error when the server cannot start; ProfileError when the profile cannot be saved
   */
  async start(): Promise<EmbeddedDefault | null> {
    const { defaultPort, onUnexpectedExit: _report, ...serverOptions } = this.options;
    this.life = { phase: 'starting' };
    try {
      const started = await ensureEmbeddedServer(this.registry, {
        ...serverOptions,
        ...(defaultPort === undefined ? {} : { defaultPort }),
        onUnexpectedExit: this.onExit,
      });
      this.life = started === null ? { phase: 'idle' } : { phase: 'running', server: started.server };
      return started;
    } catch (e) {
      this.life = { phase: 'exited' };
      throw e;
    }
  }

  async restart(): Promise<void> {
    const life = this.life;
    if (life.phase === 'starting')
      throw new EmbeddedRestartError(
        'busy',
        'The local agent server is already starting; wait for it to come online.',
      );
    if (life.phase === 'stopped')
      throw new EmbeddedRestartError(
        'busy',
        'The console is closing; start it again to restart the local agent server.',
      );
    if (life.phase === 'running') {
      throw new EmbeddedRestartError(
        'busy',
        `The local agent server is running (pid ${life.server.pid}); there is nothing to restart. If it does not answer, end that process and press Restart again.`,
      );
    }
    const profile = this.registry.list().find((p) => p.embedded);
    const port = profile === undefined ? undefined : parseTcpEndpoint(profile.endpoint)?.port;
    if (profile === undefined || port === undefined) {
      throw new EmbeddedRestartError('failed', 'This console has no local agent server to restart.');
    }
    const { defaultPort: _first, onUnexpectedExit: _report, ...serverOptions } = this.options;
    this.life = { phase: 'starting' };
    let server: EmbeddedServer;
    try {
      server = await startEmbeddedServer({
        ...serverOptions,
        preferredPort: port,
        exactPort: true,
        onUnexpectedExit: this.onExit,
      });
    } catch (e) {
      this.life = { phase: 'exited' };
      throw new EmbeddedRestartError(
        'failed',
        `The local agent server did not start again: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
    this.life = { phase: 'running', server };
    const pinned = profile.security.mode === 'curve' && profile.security.serverKey === server.publicKey;
    if (pinned) {
      this.registry.retryNow(profile.id);
      return;
    }
    // Its state dir was replaced (a new key pair): pin the new key, as at start.
    this.registry.update(profile.id, {
      name: profile.name,
      endpoint: profile.endpoint,
      heartbeatIntervalMs: profile.heartbeatIntervalMs,
      security: { mode: 'curve', serverKey: server.publicKey },
    });
  }

  /** Stops the server for good (the console is closing). Idempotent. */
  async stop(timeoutMs?: number): Promise<void> {
    const running = this.server;
    this.life = { phase: 'stopped' };
    await running?.stop(timeoutMs);
  }

  private readonly onExit = (exit: ServerExit & { readonly stderr: string }): void => {
    if (this.life.phase !== 'stopped') this.life = { phase: 'exited' };
    const id = this.profileId;
    if (id !== null && this.registry.has(id)) this.registry.markLost(id, embeddedExitReason(exit));
    this.options.onUnexpectedExit?.(exit);
  };
}
