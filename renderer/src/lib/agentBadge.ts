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

interface Look {
  readonly label: string;
  readonly tone: AgentBadge['tone'];
  readonly icon: string;
}

/**
 * Each wire status and the badges it may show: the status's own, and those the agent's details
 * refine it into. An agent whose status is completed, failed or terminated has ended.
 */
const LOOKS_BY_STATUS: Record<AgentStatus, Partial<Record<AgentBadgeKind, Look>>> = {
  idle: { idle: { label: 'idle', tone: 'info', icon: '○' } },
  initializing: { initializing: { label: 'initializing', tone: 'info', icon: '◌' } },
  running: {
    running: { label: 'running', tone: 'ok', icon: '▶' },
    pause_requested: { label: 'pause requested', tone: 'warn', icon: '…' },
  },
  thinking: { thinking: { label: 'thinking', tone: 'ok', icon: '◆' } },
  paused: {
    paused: { label: 'paused', tone: 'warn', icon: '‖' },
    resume_requested: { label: 'resume requested', tone: 'info', icon: '…' },
  },
  completed: { completed: { label: 'completed', tone: 'ok', icon: '✓' } },
  terminated: {
    terminated: { label: 'terminated', tone: 'muted', icon: '■' },
    terminated_by_operator: { label: 'terminated by operator', tone: 'muted', icon: '■' },
    ended_by_signal: { label: 'ended by signal', tone: 'error', icon: '⚡' },
  },
  failed: {
    failed: { label: 'failed', tone: 'error', icon: '✕' },
    lost: { label: 'lost with its server', tone: 'error', icon: '⚠' },
  },
};

const ENDED_STATUSES: ReadonlySet<AgentStatus> = new Set(['completed', 'failed', 'terminated']);

/** Each kind's look and the status it refines, from the table above. */
const BY_KIND = new Map(
  Object.entries(LOOKS_BY_STATUS).flatMap(([status, looks]) =>
    Object.entries(looks).map(([kind, look]) => [kind, { ...look, status: status as AgentStatus }] as const),
  ),
);

function lookOf(kind: AgentBadgeKind): Look & { readonly status: AgentStatus; readonly ended: boolean } {
  const look = BY_KIND.get(kind);
  // The table is checked complete by the unit tests; this guards a table edit that drops a kind.
  if (look === undefined) throw new Error(`no badge look for ${kind}: add it to LOOKS_BY_STATUS`);
  return { ...look, ended: ENDED_STATUSES.has(look.status) };
}

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
    case 'shutdown':
      return 'terminated';
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
      return details?.endReason === 'shutdown'
        ? 'The agent was stopped when its server shut down.'
        : 'The agent was terminated.';
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
 * Every badge made so far, by kind and description: equal badges are one object, so a table
 * re-rendered on every status batch skips the badges that did not change (their prop is the
 * same object). The descriptions vary only by pause mode, exit code and signal name; the signal
 * name comes from a server, so the map is also capped.
 */
const madeBadges = new Map<string, AgentBadge>();
const MADE_BADGES_MAX = 1000;

/**
 * The badge for one agent. `details` is null when the server gave none (a Rust peer, or not
 * loaded yet); the badge then says only what the status says. Pure (equal badges are the same
 * frozen object); never throws.
 */
export function agentBadge(input: AgentStateInput, details: AgentDetails | null): AgentBadge {
  const kind = kindOf(input, details);
  const description = describe(kind, input, details);
  const key = `${kind}\n${description}`;
  let badge = madeBadges.get(key);
  if (badge === undefined) {
    const { label, tone, icon, ended } = lookOf(kind);
    badge = Object.freeze({ kind, label, tone, icon, ended, description });
    if (madeBadges.size >= MADE_BADGES_MAX) madeBadges.clear();
    madeBadges.set(key, badge);
  }
  return badge;
}

/** The badge of one kind in general terms, with the status it refines, for a legend of every state. */
export function badgeForKind(kind: AgentBadgeKind): AgentBadge & { readonly status: AgentStatus } {
  const look = lookOf(kind);
  return { kind, ...look, description: describe(kind, { status: look.status }, null) };
}
