import { describe, expect, it } from 'vitest';
import {
  COMMAND_STATES,
  type CommandOutcome,
  type CommandState,
  type QueuedCommand,
} from '../../../../shared/domain/command';
import { commandResult, failureReason, unknownReason } from '../../../../shared/domain/result';

const ID = '1b4e28ba-2fa1-4d3b-a3f5-ef19b5a7633b';

function command(state: CommandState, outcome: CommandOutcome | null = null): QueuedCommand {
  return {
    id: ID,
    seq: 1,
    serverId: 's',
    kind: 'health_check_request',
    request: { type: 'health_check_request', request_id: ID },
    state,
    createdAt: 1,
    updatedAt: 1,
    sentAt: null,
    settledAt: null,
    attempts: 1,
    expiresAt: null,
    outcome,
    summary: 'health check',
    retryOf: null,
  };
}

describe('commandResult: the one mapping from queue states to results', () => {
  it('gives every state a status', () => {
    const statuses = COMMAND_STATES.map((s) => [s, commandResult(command(s), null, 'r').status]);
    expect(Object.fromEntries(statuses)).toEqual({
      queued: 'queued',
      // Handed to the connection: it may have reached the server and run.
      sending: 'unknown',
      succeeded: 'failed',
      failed: 'failed',
      timed_out: 'unknown',
      expired: 'failed',
      cancelled: 'failed',
    });
  });

  it('is done with the reply that settled it', () => {
    const reply = { success: false };
    expect(commandResult(command('failed'), reply, 'r')).toMatchObject({ status: 'done', reply });
  });

  it("says why: the caller's reason for sending, the recorded one for timed out", () => {
    expect(commandResult(command('sending'), null, 'no reply within --wait 1 s')).toMatchObject({
      status: 'unknown',
      reason: 'no reply within --wait 1 s',
    });
    const lost = command('timed_out', { kind: 'unknown', reason: 'connection lost' });
    expect(commandResult(lost, null, 'r')).toMatchObject({ reason: 'connection lost' });
    expect(unknownReason(command('timed_out'))).toBe('no reply in time');
  });

  it('names the cause of a failure from the outcome', () => {
    const reply = {
      kind: 'reply',
      success: false,
      error: null,
      detail: 'agent 1b4e28ba failed',
      agentId: null,
    } as const;
    expect(failureReason(command('failed', reply))).toBe('agent 1b4e28ba failed');
    expect(failureReason(command('failed', { ...reply, error: 'Agent not found' }))).toBe('Agent not found');
    expect(failureReason(command('failed', { kind: 'send_error', message: 'too large' }))).toBe('too large');
    expect(failureReason(command('expired', { kind: 'expired', expiresAt: 5 }))).toMatch(/never sent/);
    expect(
      failureReason(command('cancelled', { kind: 'cancelled', reason: 'cancelled by the operator' })),
    ).toBe('cancelled by the operator');
    expect(commandResult(command('expired', { kind: 'expired', expiresAt: 5 }), null, 'r')).toMatchObject({
      status: 'failed',
      error: 'expired before it could be sent (it was never sent)',
    });
  });
});
