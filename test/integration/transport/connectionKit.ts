/**
 * Connection pieces shared by the transport integration tests: a started Connection with the
 * fast test timings, closed after the test, and a wait for one of its states.
 */
import {
  Connection,
  type ConnectionOptions,
  type ConnectionState,
} from '../../../main/core/transport/connection';
import { waitUntil } from '../../helpers/wait';

/**
 * Starts a Connection to `endpoint` with a `heartbeatIntervalMs` heartbeat and 100–400 ms
 * reconnects (overridden by `opts`), and pushes it on `open` for the test's afterEach to close.
 */
export function startConnection(
  open: { close(): unknown }[],
  endpoint: string,
  heartbeatIntervalMs: number,
  opts: Partial<ConnectionOptions> = {},
): Connection {
  const c = new Connection({
    endpoint,
    heartbeatIntervalMs,
    reconnectInitialMs: 100,
    reconnectMaxMs: 400,
    ...opts,
  });
  open.push(c);
  c.start();
  return c;
}

/** Resolves once `c` is in `state`; fails after `timeoutMs`. */
export const waitForState = (c: Connection, state: ConnectionState, timeoutMs: number): Promise<true> =>
  waitUntil(() => (c.snapshot().state === state ? true : undefined), { timeoutMs, what: `state ${state}` });
