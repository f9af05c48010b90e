/**
 * The one rule for which controls apply to an agent in which state, and why not when they do
 * not. AgentControls, the keyboard shortcuts and the batch panel all ask here, so a button, a
 * key and a batch never disagree. A control for an agent whose server is offline still applies:
 * it is queued and delivered when the server is back (docs/ARCHITECTURE.md §3.1).
 */
import type { AgentDetails } from '../../../shared/domain/agentDetails';
import type { AgentStatus, PauseMode } from '../../../shared/protocol/types';
import { agentBadge } from './agentBadge';

/** The controls an operator issues to one agent. */
export const AGENT_CONTROLS = ['pause', 'resume', 'stop', 'kill', 'signal', 'write_stdin'] as const;
export type AgentControl = (typeof AGENT_CONTROLS)[number];

/** What the rule knows about the agent. */
export interface ControlSubject {
  /** Null when the agent is not in the server's list (yet): commands still go by id. */
  readonly status: AgentStatus | null;
  readonly pauseMode?: PauseMode | null;
  readonly details?: AgentDetails | null;
  /** False when the agent's server is not online: the command is queued. Default true. */
  readonly serverOnline?: boolean;
}

/** The verdict. */
export interface ControlAvailability {
  readonly enabled: boolean;
  /**
   * Why the control is off ("Resume: the agent is not paused"), or, when it is on, a note the
   * operator should read first ("queued until the server is back"); null when nothing to say.
   */
  readonly why: string | null;
}

const LABELS: Record<AgentControl, string> = {
  pause: 'Pause',
  resume: 'Resume',
  stop: 'Stop',
  kill: 'Kill',
  signal: 'Signal',
  write_stdin: 'Write to stdin',
};

/** One sentence for every control, so a list of reasons can show it once. */
export const QUEUED_NOTE = 'The server is offline: a command is queued until the server is back';

/** Why `command` does not apply to an agent in a live (not ended) state, or null when it does. */
function liveRefusal(command: AgentControl, status: AgentStatus, pending: string | null): string | null {
  const label = LABELS[command];
  switch (command) {
    case 'pause':
      if (status === 'paused') return `${label}: the agent is already paused`;
      // While a cooperative pause waits for the agent, Pause stays: a forced one (SIGSTOP) is
      // the way out when the agent never confirms.
      return null;
    case 'resume':
      if (status !== 'paused') return `${label}: the agent is not paused`;
      if (pending === 'resume')
        return `${label}: a resume is already requested — waiting for the agent to confirm`;
      return null;
    case 'stop':
    case 'kill':
    case 'signal':
    case 'write_stdin':
      return null;
  }
}

/**
 * Whether `command` applies to the agent described by `subject`, and why not. Ended agents
 * (completed, failed, terminated, lost) take no control; Pause only while not paused, Resume
 * only while paused. Pure; never throws.
 */
export function controlAvailability(command: AgentControl, subject: ControlSubject): ControlAvailability {
  const online = subject.serverOnline ?? true;
  const note = online ? null : QUEUED_NOTE;
  if (subject.status === null) return { enabled: true, why: note };
  const details = subject.details ?? null;
  const badge = agentBadge({ status: subject.status, pauseMode: subject.pauseMode ?? null }, details);
  if (badge.ended) return { enabled: false, why: `The agent has ended (${badge.label}); nothing to control` };
  const refusal = liveRefusal(command, subject.status, details?.pendingRequest ?? null);
  return refusal === null ? { enabled: true, why: note } : { enabled: false, why: refusal };
}
