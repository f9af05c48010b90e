import { mount } from '@vue/test-utils';
import { describe, expect, it } from 'vitest';
import AgentProcessFacts from '../../../../renderer/src/components/AgentProcessFacts.vue';
import type { AgentDetails } from '../../../../shared/domain/agentDetails';
import { agentDetails } from '../fakeApi';

const START = 1_700_000_000_000;

function facts(props: {
  details: AgentDetails | null;
  ended: boolean;
  now?: number;
}): Record<string, string> {
  const wrapper = mount(AgentProcessFacts, { props: { startedAt: START, now: START + 125_000, ...props } });
  return Object.fromEntries(
    wrapper.findAll('[data-testid]').map((el) => [el.attributes('data-testid') ?? '', el.text()]),
  );
}

describe('AgentProcessFacts', () => {
  it('a live agent: uptime from the list alone, PID from its details', () => {
    expect(facts({ details: null, ended: false })).toEqual({ 'agent-uptime': 'Uptime 2 min 5 s' });
    expect(facts({ details: agentDetails(), ended: false })).toEqual({
      'agent-uptime': 'Uptime 2 min 5 s',
      'agent-pid': 'PID 4242',
    });
  });

  it('an ended agent without details: nothing it cannot know', () => {
    expect(facts({ details: null, ended: true })).toEqual({});
  });

  it('an ended agent: how long it ran, and its exit code, signal, or that it was lost', () => {
    const ended = { endedAtMs: START + 61_000 };
    expect(
      facts({ details: agentDetails({ ...ended, exitCode: 3, endReason: 'failed' }), ended: true }),
    ).toEqual({
      'agent-uptime': 'Ran for 1 min 1 s',
      'agent-pid': 'PID 4242',
      'agent-exit': 'Exit code 3',
    });
    expect(
      facts({ details: agentDetails({ ...ended, signal: 'SIGKILL', endReason: 'operator' }), ended: true })[
        'agent-exit'
      ],
    ).toBe('Ended by SIGKILL');
    expect(facts({ details: agentDetails({ ...ended, pid: null, endReason: 'lost' }), ended: true })).toEqual(
      {
        'agent-uptime': 'Ran for 1 min 1 s',
        'agent-exit': 'Exit code none (lost with its server)',
      },
    );
  });
});
