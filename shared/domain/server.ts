/**
 * Server profiles: the agent servers the console knows, persisted in the app-data directory.
 */

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
}

/** What an operator provides to add or edit a server. */
export interface ServerProfileInput {
  readonly name: string;
  readonly endpoint: string;
  readonly heartbeatIntervalMs?: number | null;
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
  /** A Rust descartes 1.0.0 server (no capabilities): batches and actions are sent as control commands, nothing is resent. */
  readonly legacy: boolean;
  readonly activeAgents: number | null;
  /** Where its events are subscribed, or null. */
  readonly pubEndpoint: string | null;
  /** Queued + sending commands. */
  readonly pendingCommands: number;
  /** When the next reconnect happens, ms since the epoch, while offline. */
  readonly nextAttemptAt: number | null;
}
