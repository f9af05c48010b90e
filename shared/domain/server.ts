/**
 * Server profiles: the agent servers the console knows, persisted in the app-data directory.
 */

/**
 * How the console talks to a server:
 * - `curve`: CurveZMQ, encrypted and authenticated both ways. `serverKey` is the server's
 *   public key (Z85, 40 characters), pinned: a server that cannot prove it holds the matching
 *   secret key is refused.
 * - `plain`: no encryption, no authentication (ZMTP's NULL mechanism), what Rust descartes
 *   1.0.0 servers and our server's `--insecure` mode speak. Only ever by the operator's choice.
 */
export type ServerSecurity =
  { readonly mode: 'curve'; readonly serverKey: string } | { readonly mode: 'plain' };

/**
 * Why a handshake with a server failed, as far as the console can tell:
 * - `key_not_allowed`: the server does not admit our client key (run `allow` there);
 * - `server_key_mismatch`: the server is not the one whose key is pinned (or it cannot
 *   authenticate anyone right now);
 * - `server_is_plain`: we speak CURVE, the server plain ZMTP (`--insecure` or a Rust peer);
 * - `server_is_encrypted`: we speak plain ZMTP, the server requires CURVE: pin its key.
 */
export type HandshakeProblem =
  'key_not_allowed' | 'server_key_mismatch' | 'server_is_plain' | 'server_is_encrypted';

/** One agent server the console talks to. */
export interface ServerProfile {
  /** Stable id (UUID text); the queue files commands under it. */
  readonly id: string;
  /** A name for people, e.g. "build farm". */
  readonly name: string;
  /** Command endpoint, `tcp://host:port`. */
  readonly endpoint: string;
  /** Health check period in ms; default 5000. */
  readonly heartbeatIntervalMs: number | null;
  /** True for the local server the console starts itself when nothing is configured. */
  readonly embedded: boolean;
  /** Encrypted with a pinned server key, or plain by the operator's explicit choice. */
  readonly security: ServerSecurity;
}

/** What an operator provides to add or edit a server. */
export interface ServerProfileInput {
  readonly name: string;
  readonly endpoint: string;
  readonly heartbeatIntervalMs?: number | null;
  /** A pinned server key, or `{ mode: 'plain' }` chosen explicitly. */
  readonly security: ServerSecurity;
}

export type ConnectionStateName = 'connecting' | 'online' | 'degraded' | 'offline' | 'closed';

/** A server's live state, as the UI shows it. Plain data: crosses IPC unchanged. */
export interface ServerStatus {
  readonly serverId: string;
  readonly state: ConnectionStateName;
  /** When the server last answered, ms since the epoch; null if never. */
  readonly lastHeardAt: number | null;
  /** Why it is not online, for the operator. */
  readonly lastError: string | null;
  /** Server's own id from its health metadata. */
  readonly remoteServerId: string | null;
  readonly capabilities: readonly string[];
  /**
   * The backends a spawn may use, as the server advertises them (`<program>-cli` stands for any
   * such name); null or absent when it does not say (a Rust 1.0.0 server) or has not answered
   * yet. Optional so that statuses built before servers advertised backends stay valid.
   */
  readonly backends?: readonly string[] | null;
  /** A Rust descartes 1.0.0 server (no capabilities): batches and actions are sent as control commands, nothing is resent. */
  readonly legacy: boolean;
  readonly activeAgents: number | null;
  /** Where its events are subscribed, or null. */
  readonly pubEndpoint: string | null;
  /** Queued + sending commands. */
  readonly pendingCommands: number;
  /** When the next reconnect happens, ms since the epoch, while offline. */
  readonly nextAttemptAt: number | null;
  /** The last handshake failure since the server was last reached, or null. */
  readonly handshakeProblem: HandshakeProblem | null;
}

/**
 * What "Test connection" found for a server address and security setting:
 * - `ok`: reached and answered a health check (`serverSecurity` says what the server reports);
 * - `unreachable`: no TCP connection within the time allowed;
 * - `no_reply`: connected and handshaken, but no health reply (not a descartes server?);
 * - a {@link HandshakeProblem}.
 */
export type ConnectionTestOutcome = 'ok' | 'unreachable' | 'no_reply' | HandshakeProblem;

/** The answer of "Test connection". Plain data: crosses IPC unchanged. */
export interface ConnectionTestResult {
  readonly outcome: ConnectionTestOutcome;
  /** One or two sentences for the operator: what happened and what to do. */
  readonly message: string;
  /** The server's own id, when it answered. */
  readonly remoteServerId: string | null;
  /** What the server says it runs (`curve`, `none`), when it answered and says so. */
  readonly serverSecurity: string | null;
  /** How long the test took, ms. */
  readonly elapsedMs: number;
}

/** This console installation's client key, which servers must allow. */
export interface ClientKeyInfo {
  /** Z85, 40 characters. */
  readonly publicKey: string;
  /** Its short fingerprint (`curveKeyFingerprint` in `shared/domain/curveKey.ts`). */
  readonly fingerprint: string;
  /** The line to run on a server's machine to admit this console. */
  readonly allowCommand: string;
}
