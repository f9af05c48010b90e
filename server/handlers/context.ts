import type { ServerConfig } from '../config';
import type { QueryPool } from '../query/queryPool';
import type { Stats } from '../stats';
import type { Supervisor } from '../supervisor';

/** What request handlers need from the server. */
export interface HandlerContext {
  readonly supervisor: Supervisor;
  readonly stats: Stats;
  /** Worker threads that run regex output queries (bounded, under a time budget). */
  readonly queries: QueryPool;
  readonly config: ServerConfig;
  readonly serverId: string;
  /** The PUB endpoint clients can connect to (never a wildcard host). */
  readonly pubEndpoint: string;
  /** When the server started, ms since the epoch. */
  readonly startedAtMs: number;
  /** Our package version. */
  readonly version: string;
  /** Transport security in force: `curve` or `none` (`--insecure`). */
  readonly security: 'curve' | 'none';
  /**
   * The durable reply cache's current epoch, read at each health check (it can change while
   * running), or null when replies are not journaled: the server then does not advertise
   * `dedupe`.
   */
  readonly dedupeEpoch: () => string | null;
}
