import { describe, expect, it } from 'vitest';
import { agentDetails } from '../fakeApi';
import { AGENT_STATUSES } from '../../../../shared/protocol/types';
import {
  controlAvailability,
  type AgentControl,
  type ControlSubject,
} from '../../../../renderer/src/lib/controlAvailability';
import { selectionApplicability } from '../../../../renderer/src/lib/selectionApplicability';

const COMMANDS: readonly AgentControl[] = ['pause', 'resume', 'stop', 'kill'];

/** What the toolbar computed before: every command asked for every subject. */
function oneByOne(subjects: readonly ControlSubject[]) {
  return Object.fromEntries(
    COMMANDS.map((command) => {
      let applies = 0;
      let why: string | null = null;
      for (const subject of subjects) {
        const verdict = controlAvailability(command, subject);
        if (verdict.enabled) applies++;
        else why ??= verdict.why;
      }
      return [command, { applies, why }];
    }),
  );
}

describe('selectionApplicability', () => {
  it('gives what asking every subject gives, counts and first reasons alike', () => {
    const shared = agentDetails();
    const subjects: ControlSubject[] = [];
    // A mix with many repeats (as a large selection has), in an order that puts different
    // refusals first for different commands.
    for (let i = 0; i < 400; i++) {
      const status = AGENT_STATUSES[(i * 7) % AGENT_STATUSES.length] ?? 'running';
      subjects.push({
        status,
        pauseMode: status === 'paused' ? (i % 2 === 0 ? 'forced' : 'cooperative') : null,
        details:
          i % 5 === 0
            ? shared
            : i % 11 === 0
              ? agentDetails({ pendingRequest: i % 2 === 0 ? 'pause' : 'resume' })
              : i % 13 === 0
                ? agentDetails({ endReason: 'lost' })
                : null,
        serverOnline: i % 3 !== 0,
      });
    }
    expect(selectionApplicability(COMMANDS, subjects)).toEqual(oneByOne(subjects));
    expect(selectionApplicability(COMMANDS, subjects.slice().reverse())).toEqual(
      oneByOne(subjects.slice().reverse()),
    );
  });

  it('counts nothing and gives no reason for an empty selection', () => {
    expect(selectionApplicability(COMMANDS, [])).toEqual({
      pause: { applies: 0, why: null },
      resume: { applies: 0, why: null },
      stop: { applies: 0, why: null },
      kill: { applies: 0, why: null },
    });
  });
});
