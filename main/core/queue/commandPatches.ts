/**
 * The patches `CommandQueue` writes for each transition (see `CommandPatch`): every patch sets
 * all mutable fields, which is what lets one write cover a held-back sending mark
 * (writeBehindLog.ts).
 */
import type {
  CommandOutcome,
  CommandState,
  QueuedCommand,
  SettleOutcome,
} from '../../../shared/domain/command';
import type { CommandPatch } from './commandStore';

/** The patch that leaves every field as it is (spread, then override what changes). */
export function keepPatch(command: QueuedCommand): CommandPatch {
  return {
    state: command.state,
    updatedAt: command.updatedAt,
    sentAt: command.sentAt,
    settledAt: command.settledAt,
    attempts: command.attempts,
    expiresAt: command.expiresAt,
    outcome: command.outcome,
  };
}

/** The patch that hands `command` to the connection: one more attempt, sent at `now` (ms). */
export function sendingPatch(command: QueuedCommand, now: number): CommandPatch {
  return {
    state: 'sending',
    updatedAt: now,
    sentAt: now,
    settledAt: null,
    attempts: command.attempts + 1,
    expiresAt: command.expiresAt,
    outcome: null,
  };
}

/** The patch that settles `command` with `outcome`: succeeded for a successful reply, else failed. */
export function settlePatch(command: QueuedCommand, outcome: SettleOutcome, now: number): CommandPatch {
  return endPatch(
    command,
    outcome.kind === 'reply' && outcome.success ? 'succeeded' : 'failed',
    outcome,
    now,
  );
}

/** The patch that ends `command` at `now` (ms) in `state` with `outcome`; the rest is kept. */
export function endPatch(
  command: QueuedCommand,
  state: CommandState,
  outcome: CommandOutcome,
  now: number,
): CommandPatch {
  return { ...keepPatch(command), state, updatedAt: now, settledAt: now, outcome };
}
