import { randomUUID } from 'node:crypto';
import type {
  BatchAgentResult,
  BatchControlCommand,
  BatchControlResponse,
  CommandResponse,
  ControlCommand,
  CustomActionRequest,
  JsonValue,
  ReplyFor,
  ReplyMessage,
  RequestMessage,
} from '../../../shared/protocol';
import { replyTimeoutMs } from '../../../shared/domain/replyTimeout';
import type { RequestOptions } from '../transport/connection';

/**
 * A Rust descartes 1.0.0 server (no `capabilities` in its health metadata) never answers a
 * `custom_action_request` or a `batch_control_command`. These translate them into the
 * `control_command`s it does answer (docs/PROTOCOL.md §5.4).
 */

/** `custom_action_request` → `control_command{custom_action}` with the same request_id. */
export function customActionAsControl(req: CustomActionRequest): ControlCommand {
  const payload: { [k: string]: JsonValue } = { action: req.action, params: req.params ?? null };
  if (req.timeout_secs !== null && req.timeout_secs !== undefined) payload.timeout_secs = req.timeout_secs;
  return {
    type: 'control_command',
    request_id: req.request_id,
    agent_id: req.agent_id,
    command_type: 'custom_action',
    payload,
  };
}

/**
 * Runs a batch as single control commands through `send` and builds the reply our server
 * would give: fail-fast runs in order and stops at the first failure; otherwise every agent
 * runs (one at a time: a Rust server handles one request at a time anyway). A repeated id is
 * acted on once. `send` rejections propagate: the batch's outcome is then unknown.
 */
export async function runBatchAsControls(
  batch: BatchControlCommand,
  send: (cmd: ControlCommand) => Promise<CommandResponse>,
): Promise<BatchControlResponse> {
  const results: BatchAgentResult[] = [];
  for (const agentId of new Set(batch.agent_ids)) {
    const reply = await send({
      type: 'control_command',
      request_id: randomUUID(),
      agent_id: agentId,
      command_type: batch.command_type,
      payload: batch.payload ?? null,
    });
    results.push({
      agent_id: agentId,
      success: reply.success,
      status: reply.status ?? null,
      error: reply.error ?? null,
    });
    if (batch.fail_fast && !reply.success) break;
  }
  const successful = results.filter((r) => r.success).length;
  const unique = new Set(batch.agent_ids).size;
  return {
    type: 'batch_control_response',
    request_id: batch.request_id,
    success: successful === unique,
    results,
    successful,
    failed: results.length - successful,
  };
}

/** What {@link sendTranslated} needs of a connection; `Connection` provides it. */
export interface RequestSender {
  request<M extends RequestMessage>(msg: M, options?: RequestOptions): Promise<ReplyFor[M['type']]>;
}

/**
 * Sends `request` with its reply timeout (`replyTimeoutMs` over `defaultTimeoutMs`, in ms),
 * translated for a Rust 1.0.0 server (`legacy`) where that server lacks the message: THE send
 * path of the dispatcher and of ctl's direct commands. A translated batch sends its control
 * commands one at a time, each with the default timeout.
 * @throws (rejects) whatever the connection rejects with (`RequestError`)
 */
export function sendTranslated(
  connection: RequestSender,
  request: RequestMessage,
  legacy: boolean,
  defaultTimeoutMs: number,
): Promise<ReplyMessage> {
  const timeoutMs = replyTimeoutMs(request, defaultTimeoutMs);
  if (legacy && request.type === 'custom_action_request') {
    return connection.request(customActionAsControl(request), { timeoutMs });
  }
  if (legacy && request.type === 'batch_control_command') {
    return runBatchAsControls(request, (cmd) => connection.request(cmd, { timeoutMs: defaultTimeoutMs }));
  }
  return connection.request(request, { timeoutMs });
}
