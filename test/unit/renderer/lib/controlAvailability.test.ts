import { describe, expect, it } from 'vitest';
import { agentDetails } from '../fakeApi';
import { AGENT_STATUSES, type AgentStatus } from '../../../../shared/protocol/types';
import {
  AGENT_CONTROLS,
  QUEUED_NOTE,
  controlAvailability,
  type AgentControl,
} from '../../../../renderer/src/lib/controlAvailability';

const Y = true;
const N = false;

/** Status → whether each control applies, in the order of AGENT_CONTROLS. */
const TABLE: Record<AgentStatus, Record<AgentControl, boolean>> = {
  idle: { pause: Y, resume: N, stop: Y, kill: Y, signal: Y, write_stdin: Y },
  initializing: { pause: Y, resume: N, stop: Y, kill: Y, signal: Y, write_stdin: Y },
  running: { pause: Y, resume: N, stop: Y, kill: Y, signal: Y, write_stdin: Y },
  thinking: { pause: Y, resume: N, stop: Y, kill: Y, signal: Y, write_stdin: Y },
  paused: { pause: N, resume: Y, stop: Y, kill: Y, signal: Y, write_stdin: Y },
  completed: { pause: N, resume: N, stop: N, kill: N, signal: N, write_stdin: N },
  failed: { pause: N, resume: N, stop: N, kill: N, signal: N, write_stdin: N },
  terminated: { pause: N, resume: N, stop: N, kill: N, signal: N, write_stdin: N },
};

const cases = AGENT_STATUSES.flatMap((status) =>
  AGENT_CONTROLS.map((command): [AgentStatus, AgentControl, boolean] => [
    status,
    command,
    TABLE[status][command],
  ]),
);

describe('controlAvailability', () => {
  it.each(cases)('%s: %s enabled=%s', (status, command, enabled) => {
    const verdict = controlAvailability(command, { status });
    expect(verdict.enabled).toBe(enabled);
    // Off always says why; on says nothing while the server is online.
    if (enabled) expect(verdict.why).toBeNull();
    else expect(verdict.why).toMatch(/\S/);
  });

  it('names the reason the way the operator reads it', () => {
    expect(controlAvailability('resume', { status: 'running' }).why).toBe('Resume: the agent is not paused');
    expect(controlAvailability('pause', { status: 'paused' }).why).toBe('Pause: the agent is already paused');
    expect(controlAvailability('kill', { status: 'completed' }).why).toBe(
      'The agent has ended (completed); nothing to control',
    );
    expect(
      controlAvailability('stop', { status: 'failed', details: agentDetails({ endReason: 'lost' }) }).why,
    ).toBe('The agent has ended (lost with its server); nothing to control');
  });

  it('keeps Pause while a pause waits (a forced one is the way out); refuses a second resume', () => {
    const pausing = { status: 'running' as const, details: agentDetails({ pendingRequest: 'pause' }) };
    expect(controlAvailability('pause', pausing)).toEqual({ enabled: true, why: null });
    expect(controlAvailability('kill', pausing).enabled).toBe(true);
    const resuming = { status: 'paused' as const, details: agentDetails({ pendingRequest: 'resume' }) };
    expect(controlAvailability('resume', resuming).enabled).toBe(false);
    expect(controlAvailability('stop', resuming).enabled).toBe(true);
  });

  it.each(AGENT_CONTROLS)(
    '%s on a live agent of an offline server is allowed and says it is queued',
    (command) => {
      const status = command === 'resume' ? 'paused' : 'running';
      expect(controlAvailability(command, { status, serverOnline: false })).toEqual({
        enabled: true,
        why: QUEUED_NOTE,
      });
      // Ended is ended, online or not.
      expect(controlAvailability(command, { status: 'completed', serverOnline: false }).enabled).toBe(false);
    },
  );

  it.each(AGENT_CONTROLS)('%s on an agent not in the list (yet) is allowed: commands go by id', (command) => {
    expect(controlAvailability(command, { status: null })).toEqual({ enabled: true, why: null });
  });
});
