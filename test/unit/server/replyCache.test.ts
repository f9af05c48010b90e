import { describe, expect, it } from 'vitest';
import type { CommandResponse } from '../../../shared/protocol';
import { ReplyCache } from '../../../server/replyCache';

const reply = (id: string): CommandResponse => ({
  type: 'command_response',
  request_id: id,
  agent_id: '00000000-0000-0000-0000-000000000000',
  success: true,
  status: null,
  data: null,
  error: null,
});

describe('ReplyCache', () => {
  it('hands a running entry to a duplicate, then the settled reply', async () => {
    const cache = new ReplyCache();
    let settle: (r: CommandResponse) => void = () => undefined;
    const running = new Promise<CommandResponse>((resolve) => {
      settle = resolve;
    });
    cache.begin('r1', 'control_command', running);
    const entry = cache.get('r1');
    expect(entry?.state).toBe('running');
    settle(reply('r1'));
    await running;
    await Promise.resolve();
    expect(cache.get('r1')).toEqual({ state: 'done', type: 'control_command', reply: reply('r1') });
  });

  it('forgets a request whose run rejected', async () => {
    const cache = new ReplyCache();
    const failing = Promise.reject(new Error('boom'));
    cache.begin('r1', 'spawn_request', failing);
    await failing.catch(() => undefined);
    await Promise.resolve();
    expect(cache.get('r1')).toBeUndefined();
  });

  it('keeps the newest minEntries whatever their age, and young entries beyond that', () => {
    let now = 0;
    const cache = new ReplyCache({ ttlMs: 1000, minEntries: 3, maxEntries: 100, now: () => now });
    for (let i = 0; i < 5; i++)
      cache.restore(`r${i}`, { state: 'done', type: 'control_command', reply: reply(`r${i}`) });
    expect(cache.size).toBe(5); // all young
    now = 5000;
    expect(cache.get('r0')).toBeUndefined(); // old and beyond the newest 3
    expect(cache.size).toBe(3);
    expect(cache.get('r4')?.state).toBe('done');
  });

  it('never holds more than maxEntries', () => {
    const cache = new ReplyCache({ ttlMs: 1e9, minEntries: 2, maxEntries: 4 });
    for (let i = 0; i < 10; i++) cache.restore(`r${i}`, { state: 'unknown', type: 'spawn_request' });
    expect(cache.size).toBe(4);
    expect(cache.get('r5')).toBeUndefined();
    expect(cache.get('r9')).toEqual({ state: 'unknown', type: 'spawn_request' });
  });
});
