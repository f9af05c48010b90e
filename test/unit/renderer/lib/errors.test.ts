import { describe, expect, it } from 'vitest';
import type { IpcErrorCode } from '../../../../shared/ipc';
import {
  cleanReason,
  describeError,
  describeRefusal,
  nextStepFor,
  sentence,
} from '../../../../renderer/src/lib/errors';

/** No lead, clause or advice said twice in a row, and one sentence-ending period per sentence. */
function expectSaidOnce(text: string): void {
  expect(text).not.toMatch(/\b([a-z][a-z ]{6,}): \1\b/i);
  expect(text).not.toMatch(/\.\./);
  expect(text).not.toMatch(/\n|\s{2}/);
  expect(text).not.toMatch(/[{}]|\bat \S+:\d+/);
}

describe('describeError', () => {
  // Each IpcResult code with a message as main words it (main/core/ipc/ipcFailure.ts): the lead
  // first, main's reason after it, and one next step: main's own when it gives one, else ours.
  const table: readonly { code: IpcErrorCode; message: string; expected: string }[] = [
    {
      code: 'invalid_input',
      message: 'config.task: task is required: say what the agent should do',
      expected:
        'Could not spawn "n": config.task: task is required: say what the agent should do. Correct the named field and try again.',
    },
    {
      code: 'forbidden',
      message: 'This window may not call the console API',
      expected: `Could not spawn "n": This window may not call the console API. ${nextStepFor('forbidden')}`,
    },
    {
      code: 'not_found',
      message: 'No server 7c1e. Refresh the server list; it may have been removed.',
      expected: 'Could not spawn "n": No server 7c1e. Refresh the server list; it may have been removed.',
    },
    {
      code: 'offline',
      message:
        'Server build farm is offline. Nothing was sent: check that the server is running and reachable, then try again once it shows online.',
      expected:
        'Could not spawn "n": Server build farm is offline. Nothing was sent: check that the server is running and reachable, then try again once it shows online.',
    },
    {
      code: 'timeout',
      message:
        "No reply within 30 s. The server may or may not have done it: check the agent's state before trying again.",
      expected:
        'Could not spawn "n": No reply within 30 s. The server may or may not have done it: check the agent\'s state before trying again.',
    },
    {
      code: 'queue_full',
      message: 'The queue of build farm holds 10000 commands, its limit',
      expected: `Could not spawn "n": The queue of build farm holds 10000 commands, its limit. ${nextStepFor('queue_full')}`,
    },
    {
      code: 'unsupported',
      message: 'This server does not support custom actions; upgrade the server to use this feature.',
      expected:
        'Could not spawn "n": This server does not support custom actions; upgrade the server to use this feature.',
    },
    {
      code: 'conflict',
      message: 'The command is succeeded and can no longer be cancelled.',
      expected: `Could not spawn "n": The command is succeeded and can no longer be cancelled. ${nextStepFor('conflict')}`,
    },
    {
      code: 'storage',
      message: 'The disk holding /data is full; the command was not saved.',
      expected: `Could not spawn "n": The disk holding /data is full; the command was not saved. ${nextStepFor('storage')}`,
    },
    {
      code: 'internal',
      message:
        "Unexpected error: TypeError: Cannot read properties of undefined (reading 'id')\n    at f (main.js:10:5)\n    at g (main.js:20:7)",
      expected: `Could not spawn "n": Unexpected error: TypeError: Cannot read properties of undefined (reading 'id'). ${nextStepFor('internal')}`,
    },
  ];

  it.each(table)('$code: lead, reason, one next step', ({ code, message, expected }) => {
    const text = describeError('Could not spawn "n"', { code, message });
    expect(text).toBe(expected);
    expectSaidOnce(text);
  });

  it('covers every code with its own next step', () => {
    const codes = new Set(table.map((row) => row.code));
    expect(codes.size).toBe(10);
    expect(new Set([...codes].map(nextStepFor)).size).toBe(10);
  });

  it('does not repeat a lead the message already starts with', () => {
    expect(
      describeError('Could not load the queue', {
        code: 'storage',
        message: 'Could not load the queue: the file is locked.',
      }),
    ).toBe(`Could not load the queue: the file is locked. ${nextStepFor('storage')}`);
  });
});

describe('cleanReason', () => {
  const cases: readonly { what: string; input: string | null; reads: string }[] = [
    {
      what: 'a doubled lead',
      input: 'invalid regex: invalid regex: nothing to repeat',
      reads: 'invalid regex: nothing to repeat',
    },
    {
      what: 'a lead doubled in other case',
      input: 'Invalid regex: invalid regex: x',
      reads: 'Invalid regex: x',
    },
    {
      what: 'a JSON error document',
      input: '{"error":"Agent not found: 1b4e28ba"}',
      reads: 'Agent not found: 1b4e28ba',
    },
    {
      what: 'a nested JSON message',
      input: '{"message":"{\\"reason\\":\\"disk full\\"}"}',
      reads: 'disk full',
    },
    { what: 'JSON with no text', input: '{"code":17}', reads: 'the reply carried no readable reason' },
    {
      what: 'stack text',
      input: 'Error: boom\n    at run (server.js:1:2)\n    at next (server.js:3:4)',
      reads: 'boom',
    },
    {
      what: 'an exception class name',
      input: 'RangeError: offset out of range',
      reads: 'offset out of range',
    },
    { what: 'a trailing period', input: 'agent limit reached.', reads: 'agent limit reached' },
    { what: 'nothing', input: null, reads: '' },
    { what: 'blank', input: '   ', reads: '' },
  ];
  it.each(cases)('$what', ({ input, reads }) => {
    expect(cleanReason(input)).toBe(reads);
  });
});

describe('describeRefusal', () => {
  // The common refusals of our agent server (server/handlers, server/backends.ts): the
  // server's reason after a human lead, then advice for that reason.
  it.each([
    ['Agent not found: 1b4e28ba-2fa1-41d2-883f-0016d3cca427', /Refresh the agent list/],
    [
      "unknown backend 'bash' (enabled: claude, opencode, shell)",
      /Pick one of the server's enabled backends/,
    ],
    ["backend 'claude' is disabled in this server's config (enabled: shell)", /enabled backends/],
    ["backend 'gemini-cli': executable 'gemini' not found", /Install that program/],
    ['agent limit reached: 64 agents are running (max_agents)', /raise max_agents/],
    ['invalid regex: /(/: Unterminated group', /Fix or clear the filter/],
    ['unknown action deploy', /List the actions/],
    ['environment: LD_PRELOAD may not be set by a spawn request', /environment variable/],
    ['agent 1b4e has already exited (completed): cannot pause', /current state/],
    ['something else went wrong', /Check the agent's state and try again/],
  ])('%s', (reason, advice) => {
    const text = describeRefusal('The server refused pause "nightly"', reason);
    expect(text.startsWith(`The server refused pause "nightly": ${reason}.`)).toBe(true);
    expect(text).toMatch(advice);
    expectSaidOnce(text);
  });

  it('says so when the server gave no reason', () => {
    expect(describeRefusal('The server refused stop "a"', null)).toBe(
      'The server refused stop "a": no reason given. Check the agent\'s state and try again.',
    );
  });
});

describe('sentence', () => {
  it('leaves out the next step when the reason already gives advice', () => {
    expect(sentence('Could not x', 'it failed; try again later', 'Do y.')).toBe(
      'Could not x: it failed; try again later.',
    );
    expect(sentence('Could not x', 'it failed', 'Do y.')).toBe('Could not x: it failed. Do y.');
    expect(sentence('Could not x.', '', 'Do y.')).toBe('Could not x. Do y.');
  });
});
