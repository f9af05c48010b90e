import { hostname } from 'node:os';
import type { HealthCheckRequest, HealthCheckResponse } from '../../shared/protocol';
import { PROTOCOL_VERSION } from '../../shared/protocol';
import { AGENT_DETAILS_CAPABILITY } from '../../shared/domain/agentDetails';
import { LINE_NUMBERS_CAPABILITY } from '../../shared/domain/numberedOutput';
import { enabledBackends } from '../backends';
import type { HandlerContext } from './context';

/** Read once: os.hostname() is a syscall, and health checks come every few seconds from every console. */
const HOSTNAME = hostname();

/**
 * What this server supports beyond the Rust 1.0.0 server (docs/PROTOCOL.md §4.7), with `dedupe` only
 * when its reply cache is durable: a console resends unanswered commands only to such a server.
 */
export function capabilities(durableReplies: boolean): string {
  return [
    'custom_action',
    'batch',
    'output_query',
    ...(durableReplies ? ['dedupe'] : []),
    'status_stream',
    LINE_NUMBERS_CAPABILITY,
    AGENT_DETAILS_CAPABILITY,
  ].join(',');
}

/**
 * Health reply. Metadata (all strings): `server_id`, `pub_endpoint`, `capabilities`,
 * `version`, `hostname`, `platform`, `max_agents`, `heartbeat_ms`, `security` (`curve` or
 * `none`), `backends` (the enabled backends, comma-separated), `dedupe_epoch` (with a durable
 * reply cache only), and every counter as `stat.<name>` (see `Stats`).
 */
export function runHealth(ctx: HandlerContext, req: HealthCheckRequest): HealthCheckResponse {
  const epoch = ctx.dedupeEpoch();
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
      capabilities: capabilities(epoch !== null),
      ...(epoch === null ? {} : { dedupe_epoch: epoch }),
      backends: enabledBackends(ctx.config).join(','),
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
