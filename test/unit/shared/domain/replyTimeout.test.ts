import { describe, expect, it } from 'vitest';
import { REPLY_MARGIN_MS, replyTimeoutMs } from '../../../../shared/domain/replyTimeout';

const AGENT = '3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b';

describe('replyTimeoutMs', () => {
  it('waits past the server-side timeout of a custom action, with or without timeout_secs', () => {
    const action = {
      type: 'custom_action_request',
      request_id: 'r',
      agent_id: AGENT,
      action: 'x',
      params: {},
    } as const;
    expect(replyTimeoutMs({ ...action, timeout_secs: 7 }, 30_000)).toBe(7000 + REPLY_MARGIN_MS);
    // The server's own default (action_timeout_secs) is 30 s too: its clear reply must win.
    expect(replyTimeoutMs({ ...action, timeout_secs: null }, 30_000)).toBe(30_000 + REPLY_MARGIN_MS);
    // A shorter reply timeout chosen by the operator (ctl --reply-timeout 0.5) is kept.
    expect(replyTimeoutMs({ ...action, timeout_secs: null }, 500)).toBe(500);
  });

  it('gives a spawn its own timeout, a batch twice the default, the rest the default', () => {
    const spawn = {
      type: 'spawn_request',
      request_id: 'r',
      config: { name: 'a', model_backend: 'shell', task: 't', environment: {} },
    } as const;
    expect(replyTimeoutMs({ ...spawn, timeout_secs: 2 }, 30_000)).toBe(2000 + REPLY_MARGIN_MS);
    expect(replyTimeoutMs(spawn, 30_000)).toBe(30_000);
    expect(
      replyTimeoutMs(
        {
          type: 'batch_control_command',
          request_id: 'r',
          agent_ids: [],
          command_type: 'stop',
          fail_fast: false,
        },
        1000,
      ),
    ).toBe(2000);
    expect(replyTimeoutMs({ type: 'health_check_request', request_id: 'r' }, 1000)).toBe(1000);
  });
});
