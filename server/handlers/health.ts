import { hostname } from 'node:os';

/** Read once: os.hostname() is a syscall, and health checks come every few seconds from every console. */
const HOSTNAME = hostname();
import type { HealthCheckRequest, HealthCheckResponse } from '../../shared/protocol';
import { PROTOCOL_VERSION } from '../../shared/protocol';
import type { HandlerContext } from './context';

/** What this server supports beyond the Rust 1.0.0 server (PROTOCOL.md §4). */
export const CAPABILITIES = 'custom_action,batch,output_query,dedupe,status_stream';

/**
 * Health reply. Metadata (all strings): `server_id`, `pub_endpoint`, `capabilities`,
 * `version`, `hostname`, `platform`, `max_agents`, `heartbeat_ms`, `security` (`curve` or
 * `none`), and every counter as
 * `stat.<name>` (see `Stats`).
 */
export function runHealth(ctx: HandlerContext, req: HealthCheckRequest): HealthCheckResponse {
  return {
    type: 'health_check_response',
    request_id: req.request_id,
    healthy: true,
    protocol_version: PROTOCOL_VERSION,
    uptime_secs: Math.floor((Date.now() - ctx.startedAtMs) / 1000),
    active_agents: ctx.supervisor.activeCount,
    metadata: {
      server_id: ctx.serverId,
      pub_endpoint: ctx.pubEndpoint,
      capabilities: CAPABILITIES,
      version: ctx.version,
      hostname: HOSTNAME,
      platform: process.platform,
      max_agents: String(ctx.config.maxAgents),
      heartbeat_ms: String(ctx.config.heartbeatMs),
      security: ctx.security,
      ...ctx.stats.toMetadata(),
    },
  };
}
