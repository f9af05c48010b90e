import type { CommandResponse, ControlCommand } from '../../shared/protocol';

/**
 * The reply a Rust-like server gives a control command (or a custom action) it carried out:
 * success, status `running`, no data. Used by the tests' Rust-like router and by the bench's
 * raw echo router.
 */
export function runningReply(req: Pick<ControlCommand, 'request_id' | 'agent_id'>): CommandResponse {
  return {
    type: 'command_response',
    request_id: req.request_id,
    agent_id: req.agent_id,
    success: true,
    status: 'running',
    data: null,
    error: null,
  };
}
