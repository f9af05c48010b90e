/** What the operator reads after issuing a command: the `CommandResult` with a next step. */
import type { CommandResult } from '../../../shared/domain/result';
import { assertNever } from '../../../shared/domain/command';
import { cleanReason, describeRefusal, sentence } from './errors';
import { capitalize, formatTime } from './format';

export type Tone = 'ok' | 'info' | 'warn' | 'error';

export interface OutcomeView {
  readonly tone: Tone;
  /** A few words: "Done", "Queued", "Outcome unknown", "Not sent", "Refused". */
  readonly title: string;
  /** What happened and what to do next. */
  readonly detail: string;
  readonly commandId: string;
}

/** The fields every reply of a mutating command has. */
export interface ReplyLike {
  readonly success: boolean;
  readonly error?: string | null;
  /** Batch replies: how many agents succeeded and failed. */
  readonly successful?: number | bigint;
  readonly failed?: number | bigint;
  /** Control replies: `{"pending": "pause" | "resume"}` while the agent has not confirmed. */
  readonly data?: unknown;
}

/** The pause or resume a reply says is still waiting for the agent (docs/PROTOCOL.md §4.1), or null. */
export function pendingRequestOf(data: unknown): 'pause' | 'resume' | null {
  if (typeof data !== 'object' || data === null || !('pending' in data)) return null;
  return data.pending === 'pause' || data.pending === 'resume' ? data.pending : null;
}

/** Describes a command result; `what` names the command, e.g. "pause agent 1b4e28ba". */
export function describeOutcome(what: string, result: CommandResult<ReplyLike>): OutcomeView {
  const commandId = result.command.id;
  switch (result.status) {
    case 'done': {
      const { successful, failed } = result.reply;
      if (
        !result.reply.success &&
        successful !== undefined &&
        failed !== undefined &&
        Number(successful) > 0
      ) {
        // A batch where some agents failed is not a refusal: say how it split.
        return {
          tone: 'warn',
          title: 'Partly done',
          detail: `${what}: ${Number(successful)} succeeded, ${Number(failed)} failed. Read each failure below; "Retry failed only" runs it again for those.`,
          commandId,
        };
      }
      const pending = result.reply.success ? pendingRequestOf(result.reply.data) : null;
      if (pending !== null) {
        // A cooperative agent has been asked and not answered yet: it is not paused (resumed) yet.
        const now = pending === 'pause' ? 'still running' : 'still paused';
        return {
          tone: 'info',
          title: `${pending === 'pause' ? 'Pause' : 'Resume'} requested — waiting for the agent to confirm`,
          detail: `The server asked for ${what}; the agent is ${now} until it confirms.${
            pending === 'pause' ? ' A forced pause (SIGSTOP) stops it at once.' : ''
          }`,
          commandId,
        };
      }
      return result.reply.success
        ? { tone: 'ok', title: 'Done', detail: `The server ran ${what}.`, commandId }
        : {
            tone: 'error',
            title: 'Refused',
            detail: describeRefusal(`The server refused ${what}`, result.reply.error),
            commandId,
          };
    }
    case 'queued': {
      const expiry = result.command.expiresAt;
      return {
        tone: 'info',
        title: 'Queued',
        detail: `The server is not reachable: ${what} is saved and will be delivered once when it is back${
          expiry === null ? '' : `, unless it expires at ${formatTime(expiry)}`
        }. Cancel it in the queue panel (q) if it is no longer wanted.`,
        commandId,
      };
    }
    case 'unknown':
      return {
        tone: 'warn',
        title: 'Outcome unknown',
        detail: `${capitalize(what)} was sent but no reply came (${cleanReason(result.reason) || 'no reason known'}); the server may have run it. Check the agent's status, then retry or cancel it in the queue panel.`,
        commandId,
      };
    case 'failed':
      return {
        tone: 'error',
        title: 'Not sent',
        detail: sentence(
          `${capitalize(what)} could not be sent`,
          result.error,
          'Fix the cause and issue it again.',
        ),
        commandId,
      };
    default:
      return assertNever(result);
  }
}
