/**
 * Counters of what the server has seen, shown in `health_check_response.metadata` as
 * `stat.<name>` (decimal strings) and by the built-in `stats` custom action (JSON numbers).
 *
 * The names, final list:
 * - `requests`: requests decoded and dispatched (replays included).
 * - `replays`: requests answered from the dedupe cache or journal without running again.
 * - `decode_errors`: frames that could not be decoded as a protocol message.
 * - `unknown_tags`: frames whose tag is not a descartes 1.0.0 message type.
 * - `not_requests`: well-formed messages that are not requests (a reply or event sent to us).
 * - `bad_request_ids`: requests refused for a `request_id` longer than 128 bytes
 *   (`MAX_REQUEST_ID_BYTES`); they never run and are not remembered.
 * - `oversized`: messages whose frames add up to more than 10 MiB. A single frame above 10 MiB
 *   never reaches us: libzmq (`maxMessageSize`) drops the peer's connection instead, which only
 *   shows as `disconnects`.
 * - `disconnects`: command-socket peers that disconnected (normal closes and libzmq drops).
 * - `unknown_agent`: requests naming an agent this server does not know.
 * - `bad_regex`: output queries with an invalid or disallowed filter.
 * - `regex_timeouts`: output queries whose filter ran past the time budget (`query_budget_ms`).
 * - `queries_refused`: regex output queries refused because `max_concurrent_queries` ran and
 *   `max_waiting_queries` already waited.
 * - `output_lines_dropped`: stored output lines dropped to stay within an agent's
 *   `line_store.max_lines` / `max_bytes` or the server's `line_store.total_bytes`.
 * - `spawned`: agents started.
 * - `spawn_failures`: spawn requests that failed (unknown backend, missing executable, limit…).
 * - `action_timeouts`: forwarded custom actions the agent did not answer in time.
 * - `internal_errors`: unexpected exceptions caught while handling a request.
 * - `pub_dropped`: events dropped because the PUB send queue was full.
 * - `handshakes_refused`: peers refused during the ZMTP handshake on either socket: a client
 *   key not in `authorized_clients`, a plain peer at a CURVE server (or the reverse). Peers
 *   that are not ZMTP 3 at all (ZMTP/1.0, HTTP) are dropped by libzmq before any handshake
 *   and only show as `disconnects`.
 */
export const STAT_NAMES = [
  'requests',
  'replays',
  'decode_errors',
  'unknown_tags',
  'not_requests',
  'bad_request_ids',
  'oversized',
  'disconnects',
  'unknown_agent',
  'bad_regex',
  'regex_timeouts',
  'queries_refused',
  'output_lines_dropped',
  'spawned',
  'spawn_failures',
  'action_timeouts',
  'internal_errors',
  'pub_dropped',
  'handshakes_refused',
] as const;

export type StatName = (typeof STAT_NAMES)[number];

/**
 * Gauges: values read when shown (they go up and down), listed with the counters.
 * - `output_bytes_held`: UTF-8 bytes of agent output the line stores hold now (what
 *   `line_store.total_bytes` bounds).
 */
export const GAUGE_NAMES = ['output_bytes_held'] as const;

export type GaugeName = (typeof GAUGE_NAMES)[number];

/** A snapshot of every counter and gauge. */
export type StatsSnapshot = Record<StatName | GaugeName, number>;

/** Monotonic counters (never reset while the server runs) and gauges. */
export class Stats {
  private readonly counters: Record<StatName, number>;
  private readonly gauges = new Map<GaugeName, () => number>();

  constructor() {
    const counters: Partial<Record<StatName, number>> = {};
    for (const name of STAT_NAMES) counters[name] = 0;
    this.counters = counters as Record<StatName, number>;
  }

  /** Makes gauge `name` read `read()` whenever it is shown (0 until set). */
  gauge(name: GaugeName, read: () => number): void {
    this.gauges.set(name, read);
  }

  private gaugeValue(name: GaugeName): number {
    return this.gauges.get(name)?.() ?? 0;
  }

  /** Adds `by` (default 1) to a counter. */
  increment(name: StatName, by = 1): void {
    this.counters[name] += by;
  }

  /** Current value of one counter. */
  get(name: StatName): number {
    return this.counters[name];
  }

  /** A copy of every counter and the gauges' current values. */
  snapshot(): StatsSnapshot {
    const out = { ...this.counters } as StatsSnapshot;
    for (const name of GAUGE_NAMES) out[name] = this.gaugeValue(name);
    return out;
  }

  /** The counters and gauges as `stat.<name>` → decimal string, for health metadata. */
  toMetadata(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const name of STAT_NAMES) out[`stat.${name}`] = String(this.counters[name]);
    for (const name of GAUGE_NAMES) out[`stat.${name}`] = String(this.gaugeValue(name));
    return out;
  }
}
