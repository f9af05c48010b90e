import type { AgentDetails } from '../../shared/domain/agentDetails';

/**
 * The facts of a running agent (PID 4321, started at `startedAtMs`), with `over` applied: what
 * the server's `agent_details` would say, for tests of its producers and consumers.
 */
export function runningDetails(
  agentId: string,
  startedAtMs: number,
  over: Partial<AgentDetails> = {},
): AgentDetails {
  return {
    agentId,
    pid: 4321,
    startedAtMs,
    endedAtMs: null,
    exitCode: null,
    signal: null,
    endReason: null,
    pendingRequest: null,
    ...over,
  };
}
