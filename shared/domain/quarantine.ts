/**
 * What the command queue found it could not read, and what it repaired: commands set aside in
 * quarantine (kept, never sent, never dropped silently) and notices about a database file it
 * moved aside. Plain data only, so it crosses IPC unchanged.
 */

/**
 * A stored value as found, for inspection: text and numbers as they are; bytes as their length
 * and their first bytes in hex (a request can be megabytes); an integer beyond 2^53 as text.
 */
export type RawValue =
  | string
  | number
  | null
  | { readonly bytes: number; readonly hexPrefix: string }
  | { readonly integer: string };

/** One command the queue could not read and set aside. */
export interface QuarantinedCommand {
  /** Its number in the quarantine: what `ctl queue discard` and the Discard button take. */
  readonly entry: number;
  /** Why it could not be read, e.g. `state: "sendin" is not a command state`. */
  readonly reason: string;
  /** When it was set aside, ms since the epoch. */
  readonly quarantinedAt: number;
  /** The stored request id when it is readable text, else null. */
  readonly id: string | null;
  /** The stored server id when it is readable text, else null. */
  readonly serverId: string | null;
  /** The stored one-line summary when readable, else null. */
  readonly summary: string | null;
  /** The stored state as found (it may be no valid state at all), or null. */
  readonly state: string | null;
  /** When it was issued (ms since the epoch) when readable, else null. */
  readonly createdAt: number | null;
  /** How often it had been handed to the connection: above 0 means it may have reached the server. */
  readonly attempts: number | null;
  /** Every stored column, by name, as found. */
  readonly raw: Readonly<Record<string, RawValue>>;
}

/** Something the queue repaired at start that the operator must learn about. Kept until dismissed. */
export interface QueueNotice {
  /** Its number: what dismissing takes. */
  readonly id: number;
  /** When the queue wrote it, ms since the epoch. */
  readonly createdAt: number;
  /** What happened and what was kept, for the operator. */
  readonly message: string;
  /** Where the unreadable database file was moved, when the notice is about one. */
  readonly movedTo: string | null;
}

/** The quarantine and the notices, as the queue view shows them. */
export interface QueueHealth {
  readonly quarantined: QuarantinedCommand[];
  readonly notices: QueueNotice[];
}
