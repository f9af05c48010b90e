import { describe, expect, it } from 'vitest';
import type { ClientContext, ConsoleHandlers, HandlerTable } from '../../../../../main/core/ipc';
import { invokeChannel } from '../../../../../main/core/ipc';
import { IpcFailure } from '../../../../../main/core/ipc/ipcFailure';
import {
  CommandNotFoundError,
  DiskFullError,
  InvalidTransitionError,
  QuarantineEntryNotFoundError,
  QueueFullError,
  StoreFailureError,
} from '../../../../../main/core/queue/queueErrors';
import { UnsupportedError } from '../../../../../main/core/services/agentControlService';
import { ProfileError } from '../../../../../main/core/services/profileStore';
import { RequestError } from '../../../../../main/core/transport/requestError';
import { CHANNEL_NAMES, type IpcErrorCode } from '../../../../../shared/ipc';

const AGENT = '1b4e28ba-2fa1-41d2-883f-0016d3cca427';

/** A handler table whose every channel runs `impl` (the table under test is invokeChannel's dispatch). */
function handlersWith(
  impl: (name: string, input: unknown) => unknown,
): ConsoleHandlers & { attached: string[] } {
  const attached: string[] = [];
  const table = Object.fromEntries(
    CHANNEL_NAMES.map((name) => [name, (input: unknown) => impl(name, input)]),
  ) as unknown as HandlerTable;
  return {
    table,
    attached,
    attach: (client) => {
      if (!attached.includes(client.id)) attached.push(client.id);
    },
    clientCount: () => attached.length,
    subscriptionCount: () => 0,
    dispose: () => undefined,
  };
}

const client: ClientContext = { id: 'c1', push: () => undefined, onClose: () => undefined };

describe('invokeChannel', () => {
  it('rejects an unknown channel without calling anything', async () => {
    let called = false;
    const h = handlersWith(() => {
      called = true;
      return null;
    });
    const r = await invokeChannel(h, 'dropDatabase', {}, client);
    expect(r).toEqual({
      ok: false,
      error: { code: 'invalid_input', message: expect.stringContaining('"dropDatabase"') as unknown },
    });
    expect(called).toBe(false);
    // Inherited object keys are not channels either.
    const proto = await invokeChannel(h, 'constructor', undefined, client);
    expect(proto.ok).toBe(false);
  });

  it('names the bad field and does not call the handler', async () => {
    let called = false;
    const h = handlersWith(() => {
      called = true;
      return null;
    });
    const r = await invokeChannel(
      h,
      'controlAgent',
      { serverId: 's', agentId: 'not-a-uuid', command: 'pause' },
      client,
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe('invalid_input');
    expect(r.error.message).toContain('agentId');
    expect(r.error.message).toContain('controlAgent');

    const extra = await invokeChannel(h, 'health', { serverId: 's', sneaky: 1 }, client);
    expect(!extra.ok && extra.error.message).toContain('sneaky');
    const missing = await invokeChannel(
      h,
      'spawnAgent',
      { serverId: 's', config: { model_backend: 'x', task: 't' } },
      client,
    );
    expect(!missing.ok && missing.error.message).toContain('config.name');
    expect(called).toBe(false);
  });

  it('passes the parsed input and wraps the value', async () => {
    const seen: unknown[] = [];
    const h = handlersWith((name, input) => {
      seen.push([name, input]);
      return { echoed: input };
    });
    const input = { serverId: 's1', agentId: AGENT, command: 'pause', payload: { force: true } };
    const r = await invokeChannel(h, 'controlAgent', input, client);
    expect(r).toEqual({ ok: true, value: { echoed: input } });
    expect(seen).toEqual([['controlAgent', input]]);
    expect(h.attached).toEqual(['c1']);
    const none = await invokeChannel(h, 'listServers', undefined, client);
    expect(none.ok).toBe(true);
  });

  const cases: [string, () => unknown, IpcErrorCode, string?][] = [
    [
      'ProfileError not_found',
      () => new ProfileError('not_found', 'no server with id x'),
      'not_found',
      'Refresh',
    ],
    [
      'ProfileError invalid',
      () => new ProfileError('invalid', 'server name must be 1 to 100'),
      'invalid_input',
    ],
    ['ProfileError duplicate', () => new ProfileError('duplicate', 'already configured'), 'conflict'],
    [
      'RequestError offline',
      () => new RequestError('offline', 'server is offline'),
      'offline',
      'Nothing was sent',
    ],
    [
      'RequestError timeout',
      () => new RequestError('timeout', 'no reply in 30 s'),
      'timeout',
      'may or may not',
    ],
    ['RequestError connection_lost', () => new RequestError('connection_lost', 'reset'), 'timeout'],
    ['QueueFullError', () => new QueueFullError('s1', 2, 2), 'queue_full', 'cancel queued commands'],
    ['UnsupportedError', () => new UnsupportedError('a 1.0.0 server'), 'unsupported'],
    ['InvalidTransitionError', () => new InvalidTransitionError(AGENT, 'sending', 'cancel'), 'conflict'],
    ['CommandNotFoundError', () => new CommandNotFoundError(AGENT), 'not_found'],
    // The disk, not a bug: never "copy this into a bug report".
    [
      'DiskFullError',
      () => new DiskFullError('The disk is full: the command was not queued'),
      'storage',
      'not queued',
    ],
    ['StoreFailureError', () => new StoreFailureError('could not make it durable'), 'storage', 'durable'],
    [
      'QuarantineEntryNotFoundError',
      () => new QuarantineEntryNotFoundError(4),
      'not_found',
      'entry number 4',
    ],
    ['IpcFailure', () => new IpcFailure('forbidden', 'nope'), 'forbidden', 'nope'],
    ['a plain Error', () => new Error('boom'), 'internal', 'boom'],
    ['a thrown string', () => 'weird', 'internal', 'weird'],
  ];
  it.each(cases)('maps %s', async (_label, make, code, fragment) => {
    const h = handlersWith(() => {
      throw make();
    });
    const r = await invokeChannel(h, 'health', { serverId: 's1' }, client);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe(code);
    if (fragment !== undefined) expect(r.error.message).toContain(fragment);
  });

  it('maps an async rejection the same way and never rejects itself', async () => {
    const h = handlersWith(() => Promise.reject(new RequestError('offline', 'gone')));
    await expect(invokeChannel(h, 'health', { serverId: 's1' }, client)).resolves.toMatchObject({
      ok: false,
      error: { code: 'offline' },
    });
  });
});
