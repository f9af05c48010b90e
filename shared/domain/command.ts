/**
 * The command lifecycle (docs/ARCHITECTURE.md §3.2): types shared by the main process (queue,
 * dispatcher, services) and the renderer (queue and history views). Plain data only, so it
 * crosses IPC unchanged.
 */
import { NIL_UUID, type ReplyMessage, type RequestMessage } from '../protocol/types';

/**
 * Where a command is in its life.
 *
 * - `queued`: durable, waiting for its server to be online and for a free slot in the window.
 * - `sending`: handed to the connection; no reply yet.
 * - `succeeded` / `failed`: the server answered (or, for `failed`, the send itself failed).
 * - `timed_out`: sent, but no reply within the timeout or the connection/process went away:
 *   the outcome is **unknown**, not failed. Can be retried (same `request_id`) or cancelled.
 * - `expired`: its `expiresAt` passed while it was still queued; it was never sent.
 * - `cancelled`: the operator withdrew it while queued or after it timed out.
 */
export type CommandState =
  'queued' | 'sending' | 'succeeded' | 'failed' | 'timed_out' | 'expired' | 'cancelled';

export const COMMAND_STATES: readonly CommandState[] = [
  'queued',
  'sending',
  'succeeded',
  'failed',
  'timed_out',
  'expired',
  'cancelled',
];

/** The protocol request types that go through the queue (mutating ones, in practice). */
export type CommandKind = RequestMessage['type'];

/**
 * What is known about how a command ended. `null` on a command that has not ended.
 *
 * - `reply`: the server answered; `success` mirrors the reply's `success`/`healthy`.
 * - `send_error`: the command could not be sent or its reply was unusable (a local error).
 * - `unknown`: sent but never answered (timeout, connection lost, console restarted).
 * - `expired`: not sent before its deadline.
 * - `cancelled`: withdrawn by the operator.
 */
export type CommandOutcome =
  | {
      kind: 'reply';
      success: boolean;
      /** The reply's `error` text, or null. */
      error: string | null;
      /** One line for the history view, e.g. "agent 1b4e… running". */
      detail: string;
      /** The agent the reply is about (a spawned agent's id), when there is one. */
      agentId: string | null;
    }
  | { kind: 'send_error'; message: string }
  | {
      kind: 'unknown';
      reason: string;
      /**
       * false: never resent automatically, because a resend could run it twice (the server
       * lost its reply cache, or too much time passed). Absent: the dispatcher decides.
       */
      resend?: false;
    }
  | { kind: 'expired'; expiresAt: number }
  | { kind: 'cancelled'; reason: string };

/** The outcomes `settle` accepts: the ones that end a command as succeeded or failed. */
export type SettleOutcome = Extract<CommandOutcome, { kind: 'reply' } | { kind: 'send_error' }>;

/** One command as stored by the queue. Times are milliseconds since the Unix epoch. */
export interface QueuedCommand {
  /** The `request_id`: UUID v4 text, made once and kept on every resend. */
  readonly id: string;
  /** Issue order across the whole queue; FIFO per server follows it. */
  readonly seq: number;
  readonly serverId: string;
  readonly kind: CommandKind;
  /** The protocol message, with `request.request_id === id`. */
  readonly request: RequestMessage;
  readonly state: CommandState;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** When it was last handed to the connection; null if never sent. */
  readonly sentAt: number | null;
  /** When it reached a final or outcome-unknown state; null while queued or sending. */
  readonly settledAt: number | null;
  /** How many times it was handed to the connection. */
  readonly attempts: number;
  /** Not sent after this time (ms since epoch); null = no deadline. */
  readonly expiresAt: number | null;
  readonly outcome: CommandOutcome | null;
  /** A human one-line description of what the command does. */
  readonly summary: string;
  /** The id of the command this one retries with a fresh `request_id`, or null. */
  readonly retryOf: string | null;
}

/** Commands that still occupy a slot: they count toward the per-server limit and the window. */
export function isPending(state: CommandState): boolean {
  switch (state) {
    case 'queued':
    case 'sending':
      return true;
    case 'succeeded':
    case 'failed':
    case 'timed_out':
    case 'expired':
    case 'cancelled':
      return false;
    default:
      return assertNever(state);
  }
}

/** Ended commands an operator may retry (docs/ARCHITECTURE.md §3.5); succeeded ones are issued anew. */
export function canRetry(state: CommandState): boolean {
  return state === 'failed' || state === 'timed_out' || state === 'expired' || state === 'cancelled';
}

/**
 * Whether a retryable command's outcome is unknown: it was sent and never answered (`timed_out`,
 * or `expired` / `cancelled` after it had been sent). Such a command may already have run, so a
 * retry resends the same `request_id` and may run it twice on a server without a reply cache.
 */
export function isOutcomeUnknown(command: Pick<QueuedCommand, 'state' | 'attempts'>): boolean {
  return (
    command.state === 'timed_out' ||
    (canRetry(command.state) && command.state !== 'failed' && command.attempts > 0)
  );
}

/**
 * Every state change the queue performs. `timed_out → queued` is a retry with the same
 * `request_id`; `sending → queued` is a resend after a reconnect or restart (dedupe servers);
 * `timed_out → succeeded | failed` is a late reply (or a deduplicated resend) resolving an
 * unknown outcome.
 */
export function canTransition(from: CommandState, to: CommandState): boolean {
  switch (from) {
    case 'queued':
      return to === 'sending' || to === 'expired' || to === 'cancelled';
    case 'sending':
      return to === 'succeeded' || to === 'failed' || to === 'timed_out' || to === 'queued';
    case 'timed_out':
      return to === 'succeeded' || to === 'failed' || to === 'queued' || to === 'cancelled';
    case 'expired':
    case 'cancelled':
      // Only when the command was sent before and its outcome is unknown (see CommandQueue.retry).
      return to === 'queued';
    case 'succeeded':
    case 'failed':
      return false;
    default:
      return assertNever(from);
  }
}

/** What the UI calls each state; a missing state fails to compile. */
const STATE_LABELS: Readonly<Record<CommandState, string>> = {
  queued: 'queued',
  sending: 'sending',
  succeeded: 'succeeded',
  failed: 'failed',
  timed_out: 'outcome unknown',
  expired: 'expired (not sent)',
  cancelled: 'cancelled',
};

/** A short label for a state, as the UI shows it. */
export function describeState(state: CommandState): string {
  return STATE_LABELS[state];
}

const shortId = (id: string): string => id.slice(0, 8);

/** One human line for what a request does, e.g. `pause agent 1b4e28ba`. */
export function summarizeRequest(request: RequestMessage): string {
  switch (request.type) {
    case 'spawn_request':
      return `spawn agent "${request.config.name}" (${request.config.model_backend})`;
    case 'control_command':
      return `${request.command_type} agent ${shortId(request.agent_id)}`;
    case 'custom_action_request':
      return `action "${request.action}" on agent ${shortId(request.agent_id)}`;
    case 'batch_control_command':
      return `${request.command_type} ${request.agent_ids.length} agent(s)${request.fail_fast ? ' (fail fast)' : ''}`;
    case 'list_agents_request':
      return 'list agents';
    case 'health_check_request':
      return 'health check';
    case 'output_query_request':
      return `query ${request.stream} of agent ${shortId(request.agent_id)}`;
    default:
      return assertNever(request);
  }
}

/** The `detail` of a batch the server refused as a whole: no agent was touched. */
export const BATCH_NOT_RUN = 'not run';

/** Turns a server's reply into the outcome stored with the command. */
export function outcomeFromReply(reply: ReplyMessage): SettleOutcome {
  switch (reply.type) {
    case 'spawn_response': {
      const agent = reply.agent_info ?? null;
      const detail = agent ? `agent ${agent.id} ${agent.status}` : reply.success ? 'spawned' : 'not spawned';
      return replyOutcome(reply.success, reply.error, detail, agent ? agent.id : null);
    }
    case 'command_response': {
      const detail = `agent ${shortId(reply.agent_id)}${reply.status ? ` ${reply.status}` : ''}`;
      return replyOutcome(reply.success, reply.error, detail, reply.agent_id);
    }
    case 'batch_control_response': {
      const detail = `${String(reply.successful)} succeeded, ${String(reply.failed)} failed`;
      const failure = reply.success ? undefined : reply.results.find((r) => !r.success);
      // The server refused the batch as a whole (a bad request): its one result, under the nil
      // agent id, carries the reason, and no agent was touched.
      if (failure?.agent_id === NIL_UUID && reply.results.length === 1) {
        return replyOutcome(false, failure.error, BATCH_NOT_RUN, null);
      }
      // A batch reply has no error of its own: the first failed agent's reason stands for it.
      const error =
        failure === undefined
          ? null
          : `agent ${shortId(failure.agent_id)}: ${failure.error ?? 'no reason given'}`;
      return replyOutcome(reply.success, error, detail, null);
    }
    case 'list_agents_response':
      return replyOutcome(reply.success, reply.error, `${reply.agents.length} agent(s)`, null);
    case 'health_check_response':
      return replyOutcome(reply.healthy, null, `protocol ${reply.protocol_version}`, null);
    case 'output_query_response':
      return replyOutcome(reply.success, reply.error, `${reply.lines.length} line(s)`, reply.agent_id);
    default:
      return assertNever(reply);
  }
}

/** A `reply` outcome; an absent `error` is stored as null. */
function replyOutcome(
  success: boolean,
  error: string | null | undefined,
  detail: string,
  agentId: string | null,
): SettleOutcome {
  return { kind: 'reply', success, error: error ?? null, detail, agentId };
}

/** Compile-time exhaustiveness check that also fails loudly at run time. */
export function assertNever(value: never): never {
  throw new Error(`unexpected value: ${JSON.stringify(value)}`);
}

/** What `CommandQueue.onChange` listeners receive, after the change is on disk. */
export type CommandChange =
  | { readonly type: 'enqueued'; readonly command: QueuedCommand }
  | { readonly type: 'updated'; readonly command: QueuedCommand; readonly previous: CommandState };

/** UUID v4 as lowercase hyphenated text: the only `request_id` form the queue stores. */
export const UUID_V4_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
