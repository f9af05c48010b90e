import { describe, expect, it } from 'vitest';
import { describeOutcome } from '../../../../renderer/src/lib/commandOutcome';
import { describeError } from '../../../../renderer/src/lib/errors';
import { FakeApi } from '../fakeApi';

const fake = new FakeApi();
const request = {
  type: 'control_command' as const,
  request_id: '00000000-0000-4000-8000-00000000aaaa',
  agent_id: 'x',
  command_type: 'pause' as const,
};

describe('describeOutcome', () => {
  it('reports a batch where some agents failed as partly done, not as a refusal', () => {
    const done = fake.makeCommand('s', request, 'failed');
    const partly = describeOutcome('stop 4 agent(s)', {
      status: 'done',
      command: done,
      reply: { success: false, successful: 3, failed: 1 },
    });
    expect(partly).toMatchObject({ tone: 'warn', title: 'Partly done' });
    expect(partly.detail).toContain('3 succeeded, 1 failed');
    // Every agent failing is still a refusal.
    const none = describeOutcome('stop 2 agent(s)', {
      status: 'done',
      command: done,
      reply: { success: false, successful: 0, failed: 2, error: null },
    });
    expect(none.title).toBe('Refused');
  });

  it('gives each status a tone and a next step', () => {
    const done = fake.makeCommand('s', request, 'succeeded');
    expect(
      describeOutcome('pause agent x', { status: 'done', command: done, reply: { success: true } }).tone,
    ).toBe('ok');
    const refused = describeOutcome('pause agent x', {
      status: 'done',
      command: done,
      reply: { success: false, error: 'Agent not found: x' },
    });
    expect(refused).toMatchObject({ tone: 'error', title: 'Refused' });
    expect(refused.detail).toContain('Agent not found: x');
    const queued = describeOutcome('pause agent x', {
      status: 'queued',
      command: fake.makeCommand('s', request, 'queued', { expiresAt: Date.now() + 60_000 }),
    });
    expect(queued.detail).toMatch(/delivered once.*expires at.*queue panel/);
    const unknown = describeOutcome('pause agent x', {
      status: 'unknown',
      command: done,
      reason: 'no reply in 30 s',
    });
    expect(unknown).toMatchObject({ tone: 'warn', title: 'Outcome unknown' });
    expect(unknown.detail).toContain('may have run');
    expect(
      describeOutcome('pause agent x', { status: 'failed', command: done, error: 'too large' }).detail,
    ).toContain('too large');
  });

  it('a pause (resume) the agent has not confirmed reads as requested, never as done', () => {
    const done = fake.makeCommand('s', request, 'succeeded');
    const pause = describeOutcome('pause agent x', {
      status: 'done',
      command: done,
      reply: { success: true, data: { pending: 'pause' } },
    });
    expect(pause).toMatchObject({
      tone: 'info',
      title: 'Pause requested — waiting for the agent to confirm',
    });
    expect(pause.detail).toContain('still running until it confirms');
    expect(`${pause.title} ${pause.detail}`).not.toMatch(/\bpaused\b/);
    const resume = describeOutcome('resume agent x', {
      status: 'done',
      command: done,
      reply: { success: true, data: { pending: 'resume' } },
    });
    expect(resume.title).toBe('Resume requested — waiting for the agent to confirm');
    // Other data, or a refusal, keeps the usual outcome.
    for (const data of [null, { pending: 'stop' }, 'pending']) {
      expect(
        describeOutcome('pause agent x', { status: 'done', command: done, reply: { success: true, data } })
          .title,
      ).toBe('Done');
    }
    expect(
      describeOutcome('pause agent x', {
        status: 'done',
        command: done,
        reply: { success: false, error: 'no', data: { pending: 'pause' } },
      }).title,
    ).toBe('Refused');
  });

  it('describeError adds context and a next step to the IpcError message', () => {
    expect(
      describeError('Could not pause agent 1', { code: 'offline', message: 'Server build is offline' }),
    ).toBe(
      'Could not pause agent 1: Server build is offline. Check that the server is running and reachable; the console reconnects by itself.',
    );
  });

  it('words each status once: the server reason after the lead, cleaned, with one next step', () => {
    const done = fake.makeCommand('s', request, 'failed');
    const cases = [
      {
        result: {
          status: 'done' as const,
          command: done,
          reply: { success: false, error: '{"error":"Agent not found: x"}' },
        },
        detail:
          'The server refused pause "nightly": Agent not found: x. Refresh the agent list: the agent may have ended or been removed, or the server restarted.',
      },
      {
        result: {
          status: 'failed' as const,
          command: done,
          error: 'Error: too large\n    at encode (codec.js:1:1)',
        },
        detail: 'Pause "nightly" could not be sent: too large. Fix the cause and issue it again.',
      },
      {
        result: { status: 'unknown' as const, command: done, reason: 'no reply in 30 s.' },
        detail:
          'Pause "nightly" was sent but no reply came (no reply in 30 s); the server may have run it. Check the agent\'s status, then retry or cancel it in the queue panel.',
      },
    ];
    for (const { result, detail } of cases)
      expect(describeOutcome('pause "nightly"', result).detail).toBe(detail);
  });
});
