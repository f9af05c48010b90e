import type { RequestMessage } from '../../../shared/protocol';

/**
 * Extra wait over a request's server-side timeout, so the server's own "timed out" reply
 * (which says what happened) arrives before the console gives up and calls the outcome unknown.
 */
export const REPLY_MARGIN_MS = 5000;

/** How long a server gives a custom action sent without `timeout_secs` (docs/PROTOCOL.md §4.2: 30 s). */
export const SERVER_ACTION_DEFAULT_MS = 30_000;

/**
 * How long the console waits for the reply to `request`, in ms (docs/PROTOCOL.md §5.2): a spawn or
 * custom action with `timeout_secs` waits that plus {@link REPLY_MARGIN_MS}; a custom action
 * without one waits the default, plus the margin when the default reaches the server's own 30 s
 * (else the two would race and the server's clear "timed out" reply could lose; a shorter
 * default the operator chose is kept as is); a batch waits twice the default; everything else
 * the default.
 * @param defaultTimeoutMs the console's default reply timeout, ms (30 000 unless configured)
 */
export function replyTimeoutMs(request: RequestMessage, defaultTimeoutMs: number): number {
  switch (request.type) {
    case 'spawn_request':
    case 'custom_action_request': {
      const secs = request.timeout_secs;
      if (secs !== null && secs !== undefined) return Number(secs) * 1000 + REPLY_MARGIN_MS;
      const racesServer =
        request.type === 'custom_action_request' && defaultTimeoutMs >= SERVER_ACTION_DEFAULT_MS;
      return racesServer ? defaultTimeoutMs + REPLY_MARGIN_MS : defaultTimeoutMs;
    }
    case 'batch_control_command':
      return defaultTimeoutMs * 2;
    case 'control_command':
    case 'list_agents_request':
    case 'health_check_request':
    case 'output_query_request':
      return defaultTimeoutMs;
    default: {
      const never: never = request;
      return never;
    }
  }
}
