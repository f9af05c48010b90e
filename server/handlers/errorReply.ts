import type { ReplyMessage, RequestMessage } from '../../shared/protocol';
import { NIL_UUID, PROTOCOL_VERSION, REPLY_TYPE } from '../../shared/protocol';

/**
 * A failure reply of the type that answers `requestType`.
 *
 * Two reply types have no `error` field: `health_check_response` then says `healthy: false`
 * and carries the text in `metadata.error`; `batch_control_response` carries it as one
 * failed result with the nil UUID as agent_id.
 */
export function errorReply(
  requestType: RequestMessage['type'],
  requestId: string,
  error: string,
  serverId: string,
  agentId: string = NIL_UUID,
): ReplyMessage {
  const replyType = REPLY_TYPE[requestType];
  switch (replyType) {
    case 'spawn_response':
      return {
        type: replyType,
        request_id: requestId,
        success: false,
        agent_info: null,
        error,
        server_id: serverId,
      };
    case 'command_response':
      return {
        type: replyType,
        request_id: requestId,
        agent_id: agentId,
        success: false,
        status: null,
        data: null,
        error,
      };
    case 'list_agents_response':
      return { type: replyType, request_id: requestId, success: false, agents: [], error };
    case 'health_check_response':
      return {
        type: replyType,
        request_id: requestId,
        healthy: false,
        protocol_version: PROTOCOL_VERSION,
        uptime_secs: null,
        active_agents: null,
        metadata: { error, server_id: serverId },
      };
    case 'batch_control_response':
      return {
        type: replyType,
        request_id: requestId,
        success: false,
        results: [{ agent_id: NIL_UUID, success: false, status: null, error }],
        successful: 0,
        failed: 1,
      };
    case 'output_query_response':
      return {
        type: replyType,
        request_id: requestId,
        agent_id: agentId,
        success: false,
        lines: [],
        total_lines: null,
        has_more: false,
        error,
      };
    default: {
      const never: never = replyType;
      return never;
    }
  }
}
