/**
 * What the console knows about one agent beyond the protocol's positional `AgentInfo` (which
 * Rust peers decode field by field, so it cannot grow): its process, how it ended, and a pause
 * or resume it asked for but the agent has not confirmed. Our server answers it through the
 * `agent_details` custom action (docs/PROTOCOL.md); a server without that capability gives none,
 * and the console then shows only what `AgentInfo` says.
 */

/**
 * Why an agent is no longer running:
 * - `completed`: it exited with code 0;
 * - `failed`: it exited with another code, or could not be kept running;
 * - `operator`: it ended after an operator's stop, kill or terminate signal;
 * - `shutdown`: its server stopped it while shutting down (nobody asked for this agent);
 * - `signal`: a signal nobody at the console sent ended it;
 * - `lost`: it was running when its server stopped; the restarted server lists it as `failed`
 *   on the wire (Rust peers know no other status) and the console says "lost when the server
 *   stopped".
 */
export const AGENT_END_REASONS = ['completed', 'failed', 'operator', 'shutdown', 'signal', 'lost'] as const;
export type AgentEndReason = (typeof AGENT_END_REASONS)[number];

/** The health capability of a server that answers the `agent_details` action (docs/PROTOCOL.md §4.7). */
export const AGENT_DETAILS_CAPABILITY = 'agent_details';

/** A pause or resume a cooperative agent was asked for and has not acknowledged yet. */
export type PendingRequest = 'pause' | 'resume';

/** One agent's process facts. Plain data: crosses IPC unchanged. */
export interface AgentDetails {
  readonly agentId: string;
  /** OS process id while it runs and after it ended; null when it never started or is unknown. */
  readonly pid: number | null;
  /** ms since the epoch. */
  readonly startedAtMs: number;
  /** ms since the epoch; null while it runs. */
  readonly endedAtMs: number | null;
  /** Exit code; null while it runs, when a signal ended it, or when it was lost. */
  readonly exitCode: number | null;
  /** The signal that ended it (e.g. `SIGTERM`), or null. */
  readonly signal: string | null;
  /** Null while it runs (or is paused). */
  readonly endReason: AgentEndReason | null;
  /** Null when nothing is waiting for the agent's acknowledgement. */
  readonly pendingRequest: PendingRequest | null;
}

/** Most agents one `agentDetails` request asks about (the server refuses more). */
export const MAX_DETAILS_AGENTS = 1000;

function intOrNull(v: unknown): number | null {
  return typeof v === 'number' && Number.isSafeInteger(v) ? v : typeof v === 'bigint' ? Number(v) : null;
}

function oneOf<T extends string>(v: unknown, allowed: readonly T[]): T | null {
  return typeof v === 'string' && (allowed as readonly string[]).includes(v) ? (v as T) : null;
}

/**
 * Reads the `agent_details` action's result (`{"agents": [{agent_id, pid, started_at_ms, …}]}`,
 * docs/PROTOCOL.md §4.2) into {@link AgentDetails}; entries without an `agent_id` string or a
 * start time are left out, unknown end reasons read as null.
 * @throws Error when the result is not an object with an `agents` array
 */
export function agentDetailsFromWire(result: unknown): AgentDetails[] {
  const agents =
    typeof result === 'object' && result !== null ? (result as Record<string, unknown>).agents : undefined;
  if (!Array.isArray(agents)) {
    // JSON.stringify(undefined) is undefined at run time, whatever its declared type says.
    const shown = (JSON.stringify(result) as string | undefined) ?? 'nothing';
    throw new Error(`agent_details answered without an "agents" array: ${shown.slice(0, 200)}`);
  }
  const out: AgentDetails[] = [];
  for (const entry of agents as unknown[]) {
    if (typeof entry !== 'object' || entry === null) continue;
    const e = entry as Record<string, unknown>;
    const startedAtMs = intOrNull(e.started_at_ms);
    if (typeof e.agent_id !== 'string' || startedAtMs === null) continue;
    out.push({
      agentId: e.agent_id,
      pid: intOrNull(e.pid),
      startedAtMs,
      endedAtMs: intOrNull(e.ended_at_ms),
      exitCode: intOrNull(e.exit_code),
      signal: typeof e.signal === 'string' ? e.signal : null,
      endReason: oneOf(e.end_reason, AGENT_END_REASONS),
      pendingRequest: oneOf(e.pending_request, ['pause', 'resume'] as const),
    });
  }
  return out;
}
