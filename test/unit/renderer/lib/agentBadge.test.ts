import { agentDetails } from '../fakeApi';
import { describe, expect, it } from 'vitest';
import type { AgentDetails, AgentEndReason } from '../../../../shared/domain/agentDetails';
import { AGENT_STATUSES, type AgentStatus } from '../../../../shared/protocol/types';
import {
  AGENT_BADGE_KINDS,
  agentBadge,
  badgeForKind,
  type AgentBadgeKind,
} from '../../../../renderer/src/lib/agentBadge';

describe('agentBadge', () => {
  // Without details every status is its own badge: nothing is made up.
  const withoutDetails: [AgentStatus, AgentBadgeKind, string, boolean][] = [
    ['idle', 'idle', 'idle', false],
    ['initializing', 'initializing', 'initializing', false],
    ['running', 'running', 'running', false],
    ['thinking', 'thinking', 'thinking', false],
    ['paused', 'paused', 'paused', false],
    ['completed', 'completed', 'completed', true],
    ['failed', 'failed', 'failed', true],
    ['terminated', 'terminated', 'terminated', true],
  ];
  it.each(withoutDetails)('status %s without details → %s', (status, kind, label, ended) => {
    expect(agentBadge({ status }, null)).toMatchObject({ kind, label, ended });
  });
  it('gives equal badges as one frozen object, so an unchanged badge is not re-rendered', () => {
    const a = agentBadge({ status: 'running' }, null);
    expect(agentBadge({ status: 'running', pauseMode: null }, null)).toBe(a);
    expect(Object.isFrozen(a)).toBe(true);
    expect(agentBadge({ status: 'paused', pauseMode: 'forced' }, null)).not.toBe(
      agentBadge({ status: 'paused', pauseMode: 'cooperative' }, null),
    );
  });

  it('covers every protocol status', () => {
    expect(withoutDetails.map(([s]) => s).sort()).toEqual([...AGENT_STATUSES].sort());
  });

  const pending: [AgentStatus, 'pause' | 'resume', AgentBadgeKind][] = [
    ['running', 'pause', 'pause_requested'],
    ['paused', 'resume', 'resume_requested'],
    // A request that does not fit the status changes nothing.
    ['running', 'resume', 'running'],
    ['paused', 'pause', 'paused'],
  ];
  it.each(pending)('status %s with %s pending → %s', (status, request, kind) => {
    expect(agentBadge({ status }, agentDetails({ pendingRequest: request })).kind).toBe(kind);
  });
  it('a pause request waiting for the agent never reads "paused"', () => {
    const badge = agentBadge({ status: 'running' }, agentDetails({ pendingRequest: 'pause' }));
    expect(badge.label).toBe('pause requested');
    expect(badge.description).toContain('waiting for the agent to confirm');
  });

  const endings: [AgentStatus, AgentEndReason, AgentBadgeKind, string][] = [
    ['completed', 'completed', 'completed', 'completed'],
    ['failed', 'failed', 'failed', 'failed'],
    ['terminated', 'operator', 'terminated_by_operator', 'terminated by operator'],
    ['terminated', 'signal', 'ended_by_signal', 'ended by signal'],
    // Our server reports a lost agent as failed on the wire (Rust peers know no other status).
    ['failed', 'lost', 'lost', 'lost with its server'],
  ];
  it.each(endings)('status %s ended for reason %s → %s', (status, endReason, kind, label) => {
    const badge = agentBadge({ status }, agentDetails({ endReason, endedAtMs: 2_000 }));
    expect(badge).toMatchObject({ kind, label, ended: true });
  });

  it('gives every kind its own word and shape-and-tone pair, so colour is never the only cue', () => {
    const samples: [AgentStatus, Partial<AgentDetails> | null][] = [
      ...withoutDetails.map(([s]): [AgentStatus, null] => [s, null]),
      ['running', { pendingRequest: 'pause' }],
      ['paused', { pendingRequest: 'resume' }],
      ['terminated', { endReason: 'operator' }],
      ['terminated', { endReason: 'signal' }],
      ['failed', { endReason: 'lost' }],
    ];
    const badges = samples.map(([status, over]) => agentBadge({ status }, over ? agentDetails(over) : null));
    expect(badges.map((b) => b.kind).sort()).toEqual([...AGENT_BADGE_KINDS].sort());
    expect(new Set(badges.map((b) => b.label)).size).toBe(badges.length);
    for (const b of badges) expect(b.icon, b.kind).not.toBe('');
  });

  it('the legend: every kind has a look, under the wire status it refines', () => {
    const statusOf = Object.fromEntries(AGENT_BADGE_KINDS.map((k) => [k, badgeForKind(k).status]));
    expect(statusOf).toEqual({
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
    });
    for (const kind of AGENT_BADGE_KINDS) {
      const legend = badgeForKind(kind);
      expect(legend.kind).toBe(kind);
      expect(legend.ended, kind).toBe(['completed', 'failed', 'terminated'].includes(statusOf[kind] ?? ''));
    }
  });

  it('says the exit code, the signal and the pause mode in the description', () => {
    expect(
      agentBadge({ status: 'failed' }, agentDetails({ endReason: 'failed', exitCode: 3 })).description,
    ).toContain('exit code 3');
    expect(
      agentBadge({ status: 'terminated' }, agentDetails({ endReason: 'signal', signal: 'SIGKILL' }))
        .description,
    ).toContain('SIGKILL');
    expect(agentBadge({ status: 'paused', pauseMode: 'forced' }, null).description).toContain('SIGSTOP');
  });
});
