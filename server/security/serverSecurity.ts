import type * as zmq from 'zeromq';
import { curveKeyFingerprint } from '../../shared/domain/curveKey';
import type { CurveKeyPair } from '../../shared/node/curveKeyPair';
import type { Stats } from '../stats';
import { AuthorizedClientsWatcher } from './authorizedClients';
import { registerZapPolicy, type ZapRegistration, type ZapRequest } from './zapAuthenticator';

/**
 * How a server secures its sockets:
 * - `curve`: CurveZMQ on the ROUTER and the PUB socket with `keyPair`; only the client keys in
 *   `<stateDir>/authorized_clients` are admitted (re-read while running);
 * - `none`: plain ZMTP, what Rust descartes 1.0.0 peers speak (`--insecure`).
 * Both set a ZAP domain, which makes libzmq refuse unversioned ZMTP/1.0 peers (and with them
 * HTTP-shaped bytes a web page can send), which it would otherwise accept with no handshake.
 */
export type SecurityOptions =
  | { readonly mode: 'curve'; readonly keyPair: CurveKeyPair; readonly stateDir: string }
  | { readonly mode: 'none' };

/** Socket options that put a server socket under the security in force. */
export interface ServerSocketSecurity {
  readonly zapDomain: string;
  readonly zapEnforceDomain: boolean;
  readonly curveServer?: boolean;
  readonly curveSecretKey?: string;
}

/** Most refusal lines logged per minute and kind; a flood of strangers must not flood the log. */
const LOG_LINES_PER_MINUTE = 20;

/** How long a peer has to complete its ZMTP handshake on a server socket, ms. */
export const HANDSHAKE_TIMEOUT_MS = 5000;

/**
 * The security of one running server: its ZAP policy, the socket options for its sockets, the
 * live allow list, and the account of refused handshakes (counted in `stats` as
 * `handshakes_refused`, logged to stderr with the peer's address and key fingerprint, never a
 * secret).
 */
export class ServerSecurity {
  /** Per kind of refusal, so that noisy plain peers cannot hide a stranger key's attempts. */
  private readonly budget = { key: { logged: 0, suppressed: 0 }, other: { logged: 0, suppressed: 0 } };
  private windowStart = Date.now();
  private readonly revokeListeners: (() => void)[] = [];

  private constructor(
    readonly mode: 'curve' | 'none',
    /** The server's public key (Z85); null in plain mode. */
    readonly publicKey: string | null,
    private readonly secretKey: string | null,
    private readonly registration: ZapRegistration,
    private readonly clients: AuthorizedClientsWatcher | null,
    private readonly stats: Stats,
    private readonly log: (line: string) => void,
  ) {}

  /**
   * Loads the allow list (curve) and registers the ZAP policy; bind sockets only after this.
   * @throws AuthorizedClientsError when the allow list is malformed (naming the line)
   */
  static async start(
    options: SecurityOptions,
    stats: Stats,
    log: (line: string) => void,
  ): Promise<ServerSecurity> {
    let clients: AuthorizedClientsWatcher | null = null;
    let security: ServerSecurity | null = null;
    if (options.mode === 'curve') {
      clients = new AuthorizedClientsWatcher(options.stateDir, ({ clients: n, removed, error }) => {
        log(
          error === null
            ? `allowed clients reloaded: ${n} key${n === 1 ? '' : 's'}${removed > 0 ? `, ${removed} revoked` : ''}`
            : `${error}; refusing every client until the file is fixed`,
        );
        if (removed > 0) security?.revoked();
      });
    }
    let registration: ZapRegistration;
    try {
      registration = await registerZapPolicy((request) => security?.admit(request) ?? false);
    } catch (error) {
      clients?.close();
      throw error;
    }
    security = new ServerSecurity(
      options.mode,
      options.mode === 'curve' ? options.keyPair.publicKey : null,
      options.mode === 'curve' ? options.keyPair.secretKey : null,
      registration,
      clients,
      stats,
      log,
    );
    return security;
  }

  /** Options to give each server socket (ROUTER and PUB) before it binds. */
  socketOptions(): ServerSocketSecurity {
    const zap = { zapDomain: this.registration.domain, zapEnforceDomain: true };
    return this.secretKey === null ? zap : { ...zap, curveServer: true, curveSecretKey: this.secretKey };
  }

  /** Counts and logs the handshakes `socket` refuses; `what` names it in the log ("command socket"). */
  watch(socket: zmq.Socket, what: string): void {
    socket.events.on('handshake:error:protocol', (event) => {
      this.stats.increment('handshakes_refused');
      const code = event.error.code;
      this.note(
        code === 'ERR_ZMTP_MECHANISM_MISMATCH'
          ? this.mode === 'curve'
            ? `refused a peer that does not speak CURVE on the ${what} ${event.address}: this server admits only CURVE clients`
            : `refused a peer that asked for encryption or a password on the ${what} ${event.address}: this server runs plain ZMTP (--insecure)`
          : code === 'ERR_ZMTP_CRYPTOGRAPHIC'
            ? `refused a CURVE peer on the ${what} ${event.address}: its handshake does not decrypt with this server's key (it pinned another server key)`
            : `refused a peer on the ${what} ${event.address}: ZMTP protocol error (${code})`,
      );
    });
    socket.events.on('handshake:error:auth', () => {
      // Logged by the ZAP policy, which knows the peer's address and key.
      this.stats.increment('handshakes_refused');
    });
    socket.events.on('handshake:error:other', (event) => {
      this.stats.increment('handshakes_refused');
      this.note(`a handshake on the ${what} ${event.address} failed: ${event.error.message}`);
    });
  }

  /**
   * Calls `listener` when keys were taken off the allow list. ZAP judges a peer only when it
   * connects, so the server must then drop its connections (every peer re-handshakes and the
   * revoked ones are refused).
   */
  onRevoke(listener: () => void): void {
    this.revokeListeners.push(listener);
  }

  /** Number of client keys admitted now (0 in plain mode). */
  get allowedClients(): number {
    return this.clients?.size ?? 0;
  }

  /** Stops watching the allow list and leaves the ZAP handler. Idempotent. */
  async close(): Promise<void> {
    this.clients?.close();
    await this.registration.release();
  }

  private revoked(): void {
    for (const listener of this.revokeListeners) listener();
  }

  private admit(request: ZapRequest): boolean {
    if (this.mode === 'none') {
      if (request.mechanism === 'NULL') return true;
      this.note(
        `refused a ${request.mechanism} handshake from ${request.address}: this server runs plain ZMTP`,
      );
      return false;
    }
    if (
      request.mechanism === 'CURVE' &&
      request.clientKey !== null &&
      this.clients?.allows(request.clientKey)
    ) {
      return true;
    }
    const who =
      request.clientKey === null
        ? `a ${request.mechanism} peer`
        : `client key ${curveKeyFingerprint(request.clientKey)}`;
    this.note(
      `refused ${who} from ${request.address || 'an unknown address'}: not in authorized_clients (run \`npm run server -- allow <key>\` to admit it)`,
      'key',
    );
    return false;
  }

  private note(line: string, kind: 'key' | 'other' = 'other'): void {
    const now = Date.now();
    if (now - this.windowStart >= 60_000) {
      const suppressed = this.budget.key.suppressed + this.budget.other.suppressed;
      if (suppressed > 0) this.log(`… and ${suppressed} more refused handshakes in the last minute`);
      this.windowStart = now;
      for (const b of [this.budget.key, this.budget.other]) {
        b.logged = 0;
        b.suppressed = 0;
      }
    }
    const bucket = this.budget[kind];
    if (bucket.logged >= LOG_LINES_PER_MINUTE) {
      bucket.suppressed++;
      return;
    }
    bucket.logged++;
    this.log(line);
  }
}
