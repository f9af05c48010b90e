/**
 * The one rule for what an agent's state badge says: a word, a tone and a shape, so a state is
 * never told by colour alone. It reads the protocol's status and pause mode and, when the server
 * gave them, the agent's details (shared/domain/agentDetails.ts): how it ended and whether a
 * pause or resume is still waiting for the agent. Without details it says only what the status
 * says ("terminated", not "terminated by operator").
 */
import type { AgentDetails } from '../../../shared/domain/agentDetails';
import { assertNever } from '../../../shared/domain/command';
import type { AgentStatus, PauseMode } from '../../../shared/protocol/types';
import type { Tone } from './commandOutcome';

/** Every badge the console can show for an agent. */
export const AGENT_BADGE_KINDS = [
  'idle',
  'initializing',
  'running',
  'thinking',
  'paused',
  'pause_requested',
  'resume_requested',
  'completed',
  'terminated',
  'terminated_by_operator',
  'ended_by_signal',
  'failed',
  'lost',
] as const;
export type AgentBadgeKind = (typeof AGENT_BADGE_KINDS)[number];

/** What the badge shows. */
export interface AgentBadge {
  readonly kind: AgentBadgeKind;
  /** A few words, e.g. "pause requested". */
  readonly label: string;
  readonly tone: Tone | 'muted';
  /** A shape beside the word (text glyph), distinct per kind. */
  readonly icon: string;
  /** One sentence for the tooltip: what the state means. */
  readonly description: string;
  /** Whether the agent has ended (no control applies any more). */
  readonly ended: boolean;
}

/** The protocol fields the badge reads (an `AgentRow`, or an `AgentInfo`'s status and pause mode). */
export interface AgentStateInput {
  readonly status: AgentStatus;
  readonly pauseMode?: PauseMode | null;
}

type Look = Omit<AgentBadge, 'kind' | 'description'>;

const LOOKS: Record<AgentBadgeKind, Look> = {
  idle: { label: 'idle', tone: 'info', icon: '○', ended: false },
  initializing: { label: 'initializing', tone: 'info', icon: '◌', ended: false },
  running: { label: 'running', tone: 'ok', icon: '▶', ended: false },
  thinking: { label: 'thinking', tone: 'ok', icon: '◆', ended: false },
  paused: { label: 'paused', tone: 'warn', icon: '‖', ended: false },
  pause_requested: { label: 'pause requested', tone: 'warn', icon: '…', ended: false },
  resume_requested: { label: 'resume requested', tone: 'info', icon: '…', ended: false },
  completed: { label: 'completed', tone: 'ok', icon: '✓', ended: true },
  terminated: { label: 'terminated', tone: 'muted', icon: '■', ended: true },
  terminated_by_operator: { label: 'terminated by operator', tone: 'muted', icon: '■', ended: true },
  ended_by_signal: { label: 'ended by signal', tone: 'error', icon: '⚡', ended: true },
  failed: { label: 'failed', tone: 'error', icon: '✕', ended: true },
  lost: { label: 'lost with its server', tone: 'error', icon: '⚠', ended: true },
};

function kindOf(input: AgentStateInput, details: AgentDetails | null): AgentBadgeKind {
  const { status } = input;
  switch (status) {
    case 'idle':
    case 'initializing':
    case 'thinking':
      return status;
    case 'running':
      return details?.pendingRequest === 'pause' ? 'pause_requested' : 'running';
    case 'paused':
      return details?.pendingRequest === 'resume' ? 'resume_requested' : 'paused';
    case 'completed':
    case 'failed':
    case 'terminated':
      return endedKind(status, details);
    default:
      return assertNever(status);
  }
}

/** How an ended agent is named: the details' end reason wins over the wire status. */
function endedKind(
  status: 'completed' | 'failed' | 'terminated',
  details: AgentDetails | null,
): AgentBadgeKind {
  const reason = details?.endReason ?? null;
  switch (reason) {
    case null:
      return status;
    case 'completed':
      return 'completed';
    case 'failed':
      return 'failed';
    case 'operator':
      return 'terminated_by_operator';
    case 'signal':
      return 'ended_by_signal';
    case 'lost':
      return 'lost';
    default:
      return assertNever(reason);
  }
}

function describe(kind: AgentBadgeKind, input: AgentStateInput, details: AgentDetails | null): string {
  switch (kind) {
    case 'idle':
      return 'The agent is waiting for work.';
    case 'initializing':
      return 'The agent is starting.';
    case 'running':
      return 'The agent is running.';
    case 'thinking':
      return 'The agent is running and working on a step.';
    case 'paused':
      return input.pauseMode === 'forced'
        ? 'Paused by force (SIGSTOP): the process is stopped until it is resumed.'
        : input.pauseMode === 'cooperative'
          ? 'Paused: the agent confirmed the pause request.'
          : 'Paused: the agent confirmed a pause, or was stopped by force (SIGSTOP); Resume continues it.';
    case 'pause_requested':
      return 'Pause requested — waiting for the agent to confirm; it is still running.';
    case 'resume_requested':
      return 'Resume requested — waiting for the agent to confirm; it is still paused.';
    case 'completed':
      return details?.exitCode === 0 ? 'The agent finished (exit code 0).' : 'The agent finished.';
    case 'terminated':
      return 'The agent was terminated.';
    case 'terminated_by_operator':
      return 'An operator stopped or killed the agent.';
    case 'ended_by_signal':
      return `A signal nobody at the console sent ended the agent${details?.signal ? ` (${details.signal})` : ''}.`;
    case 'failed':
      return details?.exitCode !== null && details?.exitCode !== undefined
        ? `The agent failed (exit code ${details.exitCode}).`
        : 'The agent failed.';
    case 'lost':
      return 'The agent was running when its server stopped; it did not survive the restart.';
    default:
      return assertNever(kind);
  }
}

/**
 * The badge for one agent. `details` is null when the server gave none (a Rust peer, or not
 * loaded yet); the badge then says only what the status says. Pure; never throws.
 */
export function agentBadge(input: AgentStateInput, details: AgentDetails | null): AgentBadge {
  const kind = kindOf(input, details);
  return { kind, ...LOOKS[kind], description: describe(kind, input, details) };
}

/** The wire status each kind is shown for (the legend's examples). */
const STATUS_OF_KIND: Record<AgentBadgeKind, AgentStatus> = {
  idle: 'idle',
  initializing: 'initializing',
  running: 'running',
  thinking: 'thinking',
  paused: 'paused',
  pause_requested: 'running',
  resume_requested: 'paused',
  completed: 'completed',
  terminated: 'terminated',
  terminated_by_operator: 'terminated',
  ended_by_signal: 'terminated',
  failed: 'failed',
  lost: 'failed',
};

/** The badge of one kind in general terms, for a legend of every state. */
export function badgeForKind(kind: AgentBadgeKind): AgentBadge & { readonly status: AgentStatus } {
  const status = STATUS_OF_KIND[kind];
  return { kind, status, ...LOOKS[kind], description: describe(kind, { status }, null) };
}
