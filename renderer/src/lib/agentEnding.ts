/**
 * How an agent ended, in words, from its details (shared/domain/agentDetails.ts): the one
 * wording for the agent's facts panel and the agents tables.
 */
import type { AgentDetails } from '../../../shared/domain/agentDetails';

/** E.g. "failed with exit code 3", "ended by SIGKILL (not sent from a console)"; null while it runs or when unknown. */
export function endingText(details: AgentDetails | null | undefined): string | null {
  if (!details || details.endReason === null) return null;
  switch (details.endReason) {
    case 'completed':
      return 'completed (exit code 0)';
    case 'failed':
      return details.exitCode === null ? 'failed' : `failed with exit code ${details.exitCode}`;
    case 'operator':
      return `stopped by an operator${
        details.signal
          ? ` (${details.signal})`
          : details.exitCode === null
            ? ''
            : ` (exit code ${details.exitCode})`
      }`;
    case 'shutdown':
      return 'stopped when its server shut down';
    case 'signal':
      return `ended by ${details.signal ?? 'a signal'} (not sent from a console)`;
    case 'lost':
      return 'lost when the server stopped';
    default: {
      const never: never = details.endReason;
      return String(never);
    }
  }
}
