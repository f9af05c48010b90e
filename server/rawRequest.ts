import { decodeMulti } from '@msgpack/msgpack';

/** Every descartes 1.0.0 message tag. */
export const MESSAGE_TAGS = [
  'spawn_request',
  'spawn_response',
  'control_command',
  'command_response',
  'status_update',
  'list_agents_request',
  'list_agents_response',
  'health_check_request',
  'health_check_response',
  'custom_action_request',
  'batch_control_command',
  'batch_control_response',
  'output_query_request',
  'output_query_response',
  'log_stream',
] as const;

/** What can still be read from a frame the codec rejected. */
export interface RawPeek {
  /** The tag (array element 0 or map key `type`) when it is a string. */
  readonly tag: string | null;
  /** The request id (array element 1 or map key `request_id`) when it is a string. */
  readonly requestId: string | null;
}

/**
 * Reads the tag and request id of an undecodable frame with a lenient msgpack decode, so the
 * server can still answer it with an error. Never throws.
 */
export function peekRawRequest(bytes: Uint8Array): RawPeek {
  let value: unknown;
  try {
    for (const first of decodeMulti(bytes)) {
      value = first;
      break;
    }
  } catch {
    return { tag: null, requestId: null };
  }
  let tag: unknown;
  let requestId: unknown;
  if (Array.isArray(value)) {
    tag = value[0];
    requestId = value[1];
  } else if (value instanceof Map) {
    tag = value.get('type');
    requestId = value.get('request_id');
  } else if (typeof value === 'object' && value !== null) {
    const obj = value as Record<string, unknown>;
    tag = obj.type;
    requestId = obj.request_id;
  }
  return {
    tag: typeof tag === 'string' ? tag : null,
    requestId: typeof requestId === 'string' ? requestId : null,
  };
}
