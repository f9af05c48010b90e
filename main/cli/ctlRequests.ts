/** Turns a parsed ctl command into the protocol request it sends. */
import type { ReplyMessage, RequestMessage } from '../../shared/protocol';
import type { CtlCommand } from './ctlArgs';

/** Where ctl writes: stdout gets the one JSON document, stderr the error line. */
export interface CtlIo {
  out(text: string): void;
  err(text: string): void;
}

/** The commands that map to one protocol request. */
export type RequestCtlCommand = Extract<
  CtlCommand,
  { kind: 'health' | 'list' | 'query' | 'spawn' | 'control' | 'action' | 'batch' }
>;

/** The request for `command`, with `requestId` as its `request_id`. */
export function requestFor(command: RequestCtlCommand, requestId: string): RequestMessage {
  switch (command.kind) {
    case 'health':
      return { type: 'health_check_request', request_id: requestId };
    case 'list':
      return {
        type: 'list_agents_request',
        request_id: requestId,
        filter_status: command.status,
        limit: command.limit,
      };
    case 'query':
      return {
        type: 'output_query_request',
        request_id: requestId,
        agent_id: command.agentId,
        stream: command.stream,
        filter: command.filter,
        limit: command.limit,
        offset: command.offset,
      };
    case 'spawn':
      return {
        type: 'spawn_request',
        request_id: requestId,
        config: { ...command.config, agents: null },
        timeout_secs: command.timeoutSecs,
        metadata: command.metadata,
      };
    case 'control':
      return {
        type: 'control_command',
        request_id: requestId,
        agent_id: command.agentId,
        command_type: command.commandType,
        payload: command.payload,
      };
    case 'action':
      return {
        type: 'custom_action_request',
        request_id: requestId,
        agent_id: command.agentId,
        action: command.action,
        params: command.params,
        timeout_secs: command.timeoutSecs,
      };
    case 'batch':
      return {
        type: 'batch_control_command',
        request_id: requestId,
        agent_ids: [...command.agentIds],
        command_type: command.commandType,
        payload: command.payload,
        fail_fast: command.failFast,
      };
    default: {
      const never: never = command;
      return never;
    }
  }
}

/** Whether a reply reports success (`healthy` for a health check). */
export function replySucceeded(reply: ReplyMessage): boolean {
  return reply.type === 'health_check_response' ? reply.healthy : reply.success;
}
