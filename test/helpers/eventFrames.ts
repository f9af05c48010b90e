/**
 * Events as an agent server's PUB socket sends them (`<topic>\0<msgpack>`), for tests that
 * publish to the console's event subscriber by hand.
 */
import { encodeMessage, type JsonValue, type LogStream, type StatusUpdate } from '../../shared/protocol';

const TIME = { secs_since_epoch: 1_764_000_000, nanos_since_epoch: 0 };

/** A heartbeat `status_update` of `agentId` on its `status.` topic. */
export function statusEventFrame(agentId: string, message: string, data: JsonValue = null): Buffer {
  const update: StatusUpdate = {
    type: 'status_update',
    agent_id: agentId,
    update_type: 'heartbeat',
    status: null,
    message,
    data,
    timestamp: TIME,
  };
  return Buffer.concat([Buffer.from(`status.${agentId}\0`), Buffer.from(encodeMessage(update))]);
}

/** A stdout `log_stream` chunk of `agentId` on its own topic. */
export function logEventFrame(agentId: string, sequence: number, data: Uint8Array): Buffer {
  const chunk: LogStream = {
    type: 'log_stream',
    agent_id: agentId,
    stream_type: 'stdout',
    data,
    timestamp: TIME,
    sequence,
  };
  return Buffer.concat([Buffer.from(`${agentId}\0`), Buffer.from(encodeMessage(chunk))]);
}
