import { PROTOCOL_VERSION, type HealthCheckResponse, type RequestMessage } from '../../shared/protocol';

/**
 * The health reply of a scripted server: healthy, 1.0.0, no agents. `metadata` null is what a
 * Rust 1.0.0 server sends (no capabilities); ours advertises them there.
 */
export function healthReply(
  req: Pick<RequestMessage, 'request_id'>,
  metadata: Record<string, string> | null = null,
): HealthCheckResponse {
  return {
    type: 'health_check_response',
    request_id: req.request_id,
    healthy: true,
    protocol_version: PROTOCOL_VERSION,
    uptime_secs: 1,
    active_agents: 0,
    metadata,
  };
}
