import type { HealthCheckResponse } from '../../../shared/protocol';

/** What the console knows of a server from its last health reply. */
export interface ServerInfo {
  /** `metadata.server_id`, or null for servers that do not say. */
  serverId: string | null;
  protocolVersion: string;
  /** Where the server publishes events, as advertised (may hold a wildcard host). */
  advertisedPubEndpoint: string | null;
  capabilities: ReadonlySet<string>;
  /**
   * True for a server that advertises no capabilities: a Rust descartes 1.0.0 server. The
   * client then never resends by itself and sends batches and actions as control commands.
   */
  legacy: boolean;
  uptimeSecs: number | null;
  activeAgents: number | null;
  metadata: Readonly<Record<string, string>>;
  /**
   * The backends a spawn may use (`metadata.backends`, docs/PROTOCOL.md §4.7), in the server's
   * order; `<program>-cli` stands for any such name. Null when the server does not say (Rust 1.0.0).
   */
  backends: readonly string[] | null;
}

/** Reads a health reply into {@link ServerInfo}. Never throws: missing fields become null. */
export function serverInfoFromHealth(reply: HealthCheckResponse): ServerInfo {
  const metadata = reply.metadata ?? {};
  const caps = metadata.capabilities;
  const capabilities = new Set(commaList(caps ?? ''));
  const num = (v: number | bigint | null | undefined): number | null => (v == null ? null : Number(v));
  return {
    serverId: metadata.server_id ?? null,
    protocolVersion: reply.protocol_version,
    advertisedPubEndpoint: metadata.pub_endpoint ?? null,
    capabilities,
    legacy: caps === undefined,
    uptimeSecs: num(reply.uptime_secs),
    activeAgents: num(reply.active_agents),
    metadata,
    backends: metadata.backends === undefined ? null : commaList(metadata.backends),
  };
}

/** The non-empty, trimmed items of a comma list. */
function commaList(text: string): string[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}
