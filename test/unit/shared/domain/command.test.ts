import { describe, expect, it } from 'vitest';
import { COMMAND_STATES, describeState, outcomeFromReply } from '../../../../shared/domain/command';
import {
  NIL_UUID,
  type BatchAgentResult,
  type BatchControlResponse,
} from '../../../../shared/protocol/types';

const AGENT = '1b4e28ba-2fa1-4d3b-a3f5-ef19b5a7633b';

/** A batch reply that did not succeed, with its per-agent results and counts. */
function failedBatch(results: BatchAgentResult[], successful: number, failed: number): BatchControlResponse {
  return { type: 'batch_control_response', request_id: 'r', success: false, results, successful, failed };
}

describe('outcomeFromReply', () => {
  it('keeps success, the error (absent → null), a one-line detail and the agent', () => {
    expect(
      outcomeFromReply({
        type: 'command_response',
        request_id: 'r',
        agent_id: AGENT,
        success: false,
        status: 'paused',
        data: null,
      }),
    ).toEqual({
      kind: 'reply',
      success: false,
      error: null,
      detail: 'agent 1b4e28ba paused',
      agentId: AGENT,
    });
    expect(outcomeFromReply(failedBatch([], 1, 2))).toEqual({
      kind: 'reply',
      success: false,
      error: null,
      detail: '1 succeeded, 2 failed',
      agentId: null,
    });
    expect(
      outcomeFromReply(
        failedBatch(
          [
            { agent_id: AGENT, success: true, status: 'terminated', error: null },
            {
              agent_id: '2c5f39cb-3ab2-4e4c-b4a6-f02ac6b8744c',
              success: false,
              status: null,
              error: 'agent is not running',
            },
          ],
          1,
          1,
        ),
      ),
    ).toEqual({
      kind: 'reply',
      success: false,
      error: 'agent 2c5f39cb: agent is not running',
      detail: '1 succeeded, 1 failed',
      agentId: null,
    });
    // Refused as a whole (one result under the nil id): the server's reason, no agent named.
    expect(
      outcomeFromReply(
        failedBatch([{ agent_id: NIL_UUID, success: false, status: null, error: 'request_id reused' }], 0, 1),
      ),
    ).toEqual({
      kind: 'reply',
      success: false,
      error: 'request_id reused',
      detail: 'not run',
      agentId: null,
    });
    expect(
      outcomeFromReply({
        type: 'health_check_response',
        request_id: 'r',
        healthy: true,
        protocol_version: '1.0.0',
        uptime_secs: 1,
        active_agents: 0,
        metadata: null,
      }),
    ).toEqual({ kind: 'reply', success: true, error: null, detail: 'protocol 1.0.0', agentId: null });
    expect(
      outcomeFromReply({
        type: 'list_agents_response',
        request_id: 'r',
        success: false,
        agents: [],
        error: 'busy',
      }),
    ).toMatchObject({ success: false, error: 'busy', detail: '0 agent(s)' });
  });
});

describe('describeState', () => {
  it('labels every state; timed out reads as an unknown outcome', () => {
    expect(COMMAND_STATES.map(describeState)).toEqual([
      'queued',
      'sending',
      'succeeded',
      'failed',
      'outcome unknown',
      'expired (not sent)',
      'cancelled',
    ]);
  });
});
