import { describe, expect, it } from 'vitest';
import type { CommandQueue } from '../../../../../main/core/queue/commandQueue';
import type { CommandChange } from '../../../../../shared/domain/command';
import {
  CommandNotFoundError,
  DuplicateCommandError,
  InvalidCommandError,
  InvalidTransitionError,
  QueueClosedError,
  QueueFullError,
} from '../../../../../main/core/queue/queueErrors';
import {
  changesTo,
  controlCommand,
  enqueueOn,
  manualClock,
  ok,
  queuedIds,
  refused,
  send,
  spawnRequest,
  useQueueDir,
} from './queueTestKit';

const queue = useQueueDir('descartes-queue-');

describe('enqueue', () => {
  it('stores the command as queued with its request_id as id and a summary', async () => {
    const q = queue();
    const request = spawnRequest('builder');
    const command = await q.enqueue('s1', request);
    expect(command).toMatchObject({
      id: request.request_id,
      serverId: 's1',
      kind: 'spawn_request',
      state: 'queued',
      attempts: 0,
      sentAt: null,
      settledAt: null,
      outcome: null,
      expiresAt: null,
      retryOf: null,
    });
    expect(command.summary).toBe('spawn agent "builder" (shell)');
    expect(q.get(request.request_id)?.request).toMatchObject({
      type: 'spawn_request',
      request_id: request.request_id,
    });
    expect(q.pendingCount('s1')).toBe(1);
    expect(q.pendingCount('s2')).toBe(0);
  });

  it('refuses the command after maxPending with a QueueFullError that names server, limit and remedy', async () => {
    const q = queue({ maxPending: 3 });
    for (let i = 0; i < 3; i++) await q.enqueue('alpha', controlCommand());
    const error: unknown = await q.enqueue('alpha', controlCommand()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QueueFullError);
    const message = (error as QueueFullError).message;
    expect(message).toContain('"alpha"');
    expect(message).toContain('limit is 3');
    expect(message).toMatch(/cancel queued commands|raise the maxPending/);
    expect(q.pendingCount('alpha')).toBe(3);
    // Another server has its own limit.
    await expect(q.enqueue('beta', controlCommand())).resolves.toMatchObject({ state: 'queued' });
    // Ended commands free their slot.
    const [first] = q.sendNext('alpha', 1);
    if (first === undefined) throw new Error('expected a command');
    q.settle(first.id, ok);
    await expect(q.enqueue('alpha', controlCommand())).resolves.toMatchObject({ state: 'queued' });
  });

  it('round-trips u64 values above 2^53 and nested JSON through the store', async () => {
    const q = queue();
    const big = 2n ** 60n + 7n;
    const request = { ...spawnRequest(), timeout_secs: big };
    const action = {
      type: 'custom_action_request' as const,
      request_id: controlCommand().request_id,
      agent_id: controlCommand().agent_id,
      action: 'echo',
      params: { b: [1, 2.5, 'x', null, true], a: { nested: big } },
      timeout_secs: 5,
    };
    await q.enqueue('s1', request);
    await q.enqueue('s1', action);
    q.close();
    const again = queue();
    expect(again.get(request.request_id)?.request).toMatchObject({ timeout_secs: big });
    expect(again.get(action.request_id)?.request).toMatchObject({ params: action.params });
  });

  it('defaults to a limit of 1000 pending commands per server', async () => {
    const q = queue();
    for (let i = 0; i < 1000; i++) await q.enqueue('s1', controlCommand());
    await expect(q.enqueue('s1', controlCommand())).rejects.toThrow(/limit is 1000/);
  }, 30_000);

  it('rejects bad input with errors naming what was wrong', async () => {
    const q = queue();
    await expect(q.enqueue('', controlCommand())).rejects.toThrow(InvalidCommandError);
    await expect(q.enqueue('s1', { ...controlCommand(), request_id: 'abc' })).rejects.toThrow(
      /request_id.*"abc"/,
    );
    await expect(
      q.enqueue('s1', { ...controlCommand(), request_id: '6F9619FF-8B86-4011-B42D-00C04FC964FF' }),
    ).rejects.toThrow(/lowercase/);
    const reply = { type: 'command_response', request_id: 'x' } as unknown as Parameters<
      CommandQueue['enqueue']
    >[1];
    await expect(q.enqueue('s1', reply)).rejects.toThrow(/Only request messages.*command_response/);
    await expect(q.enqueue('s1', controlCommand(), { expiresAt: Date.now() - 1 })).rejects.toThrow(
      /not in the future/,
    );
    // What the wire codec refuses is refused at enqueue, naming the field, and nothing is stored.
    await expect(q.enqueue('s1', { ...controlCommand(), agent_id: 'not-a-uuid' })).rejects.toThrow(
      /control_command cannot be encoded: .*agent_id/,
    );
    expect(q.list()).toEqual([]);
    const request = controlCommand();
    await q.enqueue('s1', request);
    await expect(q.enqueue('s2', request)).rejects.toThrow(DuplicateCommandError);
    expect(q.list().map((c) => c.id)).toEqual([request.request_id]);
    // A failed insert leaves the store usable.
    const next = await q.enqueue('s2', controlCommand());
    expect(q.list().map((c) => c.id)).toEqual([request.request_id, next.id]);
  });
});

describe('sending: FIFO and the in-flight window', () => {
  it('hands out the oldest queued commands, never more than the window minus those sending', async () => {
    const q = queue();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await q.enqueue('s1', controlCommand())).id);
    await q.enqueue('other', controlCommand());

    expect(q.sendNext('s1', 1).map((c) => c.id)).toEqual([ids[0]]);
    expect(q.sendNext('s1', 2).map((c) => c.id)).toEqual([ids[1]]);
    expect(q.sendNext('s1', 2)).toEqual([]);
    q.settle(ids[0] ?? '', ok);
    expect(q.sendNext('s1', 2).map((c) => c.id)).toEqual([ids[2]]);
    expect(q.sendNext('s1', 10).map((c) => c.id)).toEqual(ids.slice(3));
    expect(q.pendingCount('other')).toBe(1);
    expect(() => q.sendNext('s1', 0)).toThrow(RangeError);
  });

  it('sending counts attempts and records sentAt; invalid transitions are rejected', async () => {
    const clock = manualClock();
    const q = queue({ now: clock.now });
    const a = await q.enqueue('s1', controlCommand());
    clock.advance(5);
    const sending = send(q, a.id);
    expect(sending).toMatchObject({ state: 'sending', attempts: 1, sentAt: clock.now() });
    expect(q.sendNext('s1', 10)).toEqual([]);
    expect(() => q.cancel(a.id)).toThrow(/already on its way/);
    const failed = q.settle(a.id, refused);
    expect(failed).toMatchObject({ state: 'failed', outcome: refused, settledAt: clock.now() });
    expect(() => q.settle(a.id, ok)).toThrow(InvalidTransitionError);
    expect(() => q.markTimedOut(a.id)).toThrow(InvalidTransitionError);
    expect(() => q.settle('6f9619ff-8b86-4011-b42d-00c04fc964ff', ok)).toThrow(CommandNotFoundError);
  });

  it('a timed-out command has an unknown outcome, and a late reply can still settle it', async () => {
    const q = queue();
    const a = await q.enqueue('s1', controlCommand());
    send(q, a.id);
    const timedOut = q.markTimedOut(a.id);
    expect(timedOut.state).toBe('timed_out');
    expect(timedOut.outcome).toEqual({ kind: 'unknown', reason: 'no reply within the timeout' });
    expect(q.pendingCount('s1')).toBe(0);
    expect(q.settle(a.id, ok).state).toBe('succeeded');
  });
});

describe('expiry', () => {
  it('expires every due queued command on every server; one already sending stays sending', async () => {
    const clock = manualClock();
    const q = queue({ now: clock.now });
    const sent = await q.enqueue('s1', controlCommand(), { expiresAt: clock.now() + 10 });
    const waiting = await q.enqueue('s1', controlCommand(), { expiresAt: clock.now() + 10 });
    const other = await q.enqueue('s2', controlCommand(), { expiresAt: clock.now() + 10 });
    send(q, sent.id);
    const expired = changesTo(q, 'expired', 2);
    clock.advance(10);
    expect((await expired).map((c) => c.id).sort()).toEqual([waiting.id, other.id].sort());
    expect(q.get(sent.id)?.state).toBe('sending');

    // Between two wake-ups of the timer, the send path expires what is due itself.
    const third = await q.enqueue('s1', controlCommand(), { expiresAt: clock.now() + 10 });
    clock.advance(10);
    expect(q.sendNext('s1', 10)).toEqual([]);
    expect(q.get(third.id)?.state).toBe('expired');
  });
});

describe('cancel and retry', () => {
  it('cancels queued and timed-out commands only', async () => {
    const q = queue();
    const [a, b] = await enqueueOn(q, 's1', 's1');
    expect(q.cancel(a.id)).toMatchObject({ state: 'cancelled', outcome: { kind: 'cancelled' } });
    expect(queuedIds(q, 's1')).toEqual([b.id]);
    send(q, b.id);
    q.markTimedOut(b.id);
    expect(q.cancel(b.id, 'gave up').outcome).toEqual({ kind: 'cancelled', reason: 'gave up' });
    expect(() => q.cancel(a.id)).toThrow(/already ended/);
  });

  it('retries a timed-out command with the same request_id at the end of the FIFO', async () => {
    const q = queue();
    const [a, b] = await enqueueOn(q, 's1', 's1');
    send(q, a.id);
    q.markTimedOut(a.id);
    const retried = q.retry(a.id);
    expect(retried).toMatchObject({ id: a.id, state: 'queued', attempts: 1, outcome: null, settledAt: null });
    expect(retried.seq).toBeGreaterThan(b.seq);
    expect(retried.request.request_id).toBe(a.id);
    expect(queuedIds(q, 's1')).toEqual([b.id, a.id]);
    expect(send(q, b.id).state).toBe('sending');
    expect(send(q, a.id).attempts).toBe(2);
  });

  it('retries a failed or never-sent command as a new command with a fresh request_id', async () => {
    const q = queue();
    const a = await q.enqueue('s1', controlCommand('stop'));
    send(q, a.id);
    q.settle(a.id, refused);
    const again = q.retry(a.id);
    expect(again.id).not.toBe(a.id);
    expect(again.request.request_id).toBe(again.id);
    expect(again).toMatchObject({ state: 'queued', attempts: 0, retryOf: a.id, kind: 'control_command' });
    expect(again.request).toMatchObject({
      command_type: 'stop',
      agent_id: (a.request as { agent_id: string }).agent_id,
    });
    expect(q.get(a.id)?.state).toBe('failed');

    const c = await q.enqueue('s1', controlCommand());
    q.cancel(c.id);
    expect(q.retry(c.id).id).not.toBe(c.id);
  });

  it('refuses to retry pending or succeeded commands, and respects the limit', async () => {
    const q = queue({ maxPending: 1 });
    const a = await q.enqueue('s1', controlCommand());
    expect(() => q.retry(a.id)).toThrow(/still pending/);
    send(q, a.id);
    q.settle(a.id, ok);
    expect(() => q.retry(a.id)).toThrow(/succeeded/);
    const b = await q.enqueue('s1', controlCommand());
    send(q, b.id);
    q.markTimedOut(b.id);
    await q.enqueue('s1', controlCommand());
    expect(() => q.retry(b.id)).toThrow(QueueFullError);
    expect(q.get(b.id)?.state).toBe('timed_out');
  });
});

describe('history and listing', () => {
  it('lists ended commands newest first and pages with a cursor', async () => {
    const clock = manualClock();
    const q = queue({ now: clock.now });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const c = await q.enqueue(i % 2 === 0 ? 'even' : 'odd', controlCommand());
      ids.push(c.id);
    }
    for (const id of ids) {
      clock.advance(1);
      q.cancel(id);
    }
    const page1 = q.history({ limit: 2 });
    expect(page1.map((c) => c.id)).toEqual([ids[4], ids[3]]);
    const last = page1[1];
    if (last?.settledAt == null) throw new Error('expected a settled command');
    const page2 = q.history({ limit: 10, before: { settledAt: last.settledAt, seq: last.seq } });
    expect(page2.map((c) => c.id)).toEqual([ids[2], ids[1], ids[0]]);
    expect(q.history({ serverId: 'odd' }).map((c) => c.id)).toEqual([ids[3], ids[1]]);
    expect(() => q.history({ limit: 0 })).toThrow(RangeError);
  });

  it('lists by server and state in issue order', async () => {
    const q = queue();
    const [a, b, c] = await enqueueOn(q, 's1', 's2', 's1');
    q.cancel(c.id);
    expect(q.list().map((x) => x.id)).toEqual([a.id, b.id, c.id]);
    expect(q.list('s1').map((x) => x.id)).toEqual([a.id, c.id]);
    expect(q.list('s1', ['queued']).map((x) => x.id)).toEqual([a.id]);
    expect(q.list(undefined, ['cancelled', 'queued']).map((x) => x.id)).toEqual([a.id, b.id, c.id]);
    expect(q.list(undefined, [])).toEqual([]);
    expect(q.serversWithPending().sort()).toEqual(['s1', 's2']);
  });
});

describe('change events and closing', () => {
  it('announces each change after it is stored; unsubscribe stops them; a throwing listener is contained', async () => {
    const errors: unknown[] = [];
    const q = queue({ onListenerError: (e) => errors.push(e) });
    const seen: CommandChange[] = [];
    const stop = q.onChange((change) => seen.push(change));
    q.onChange(() => {
      throw new Error('listener bug');
    });
    const a = await q.enqueue('s1', controlCommand());
    send(q, a.id);
    expect(seen.map((c) => [c.type, c.command.state, c.type === 'updated' ? c.previous : null])).toEqual([
      ['enqueued', 'queued', null],
      ['updated', 'sending', 'queued'],
    ]);
    expect(errors).toHaveLength(2);
    stop();
    q.settle(a.id, ok);
    expect(seen).toHaveLength(2);
  });

  it('the expiry timer never holds the process open', async () => {
    // Active resources are what keeps Node's event loop alive; an unref'd timer is not one.
    const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    const q = queue();
    await q.enqueue('s1', controlCommand(), { expiresAt: Date.now() + 3_600_000 });
    expect(timers()).toBe(before);
    q.close();
  });

  it('refuses every operation after close', async () => {
    const q = queue();
    const a = await q.enqueue('s1', controlCommand());
    q.close();
    await expect(q.enqueue('s1', controlCommand())).rejects.toThrow(QueueClosedError);
    expect(() => q.cancel(a.id)).toThrow(QueueClosedError);
    expect(() => q.history()).toThrow(/closed/);
    q.close();
  });
});

describe('expiry on a timer, online or not', () => {
  it('expires a command for a server that never connects, which frees its slot for a new one', async () => {
    const q = queue({ maxPending: 1 });
    const expired = changesTo(q, 'expired', 1);
    const doomed = await q.enqueue('offline', controlCommand(), { expiresAt: Date.now() + 50 });
    await expect(q.enqueue('offline', controlCommand())).rejects.toThrow(QueueFullError);
    // Nothing is ever sent to 'offline': only the queue's own timer can expire it.
    expect((await expired).map((c) => c.id)).toEqual([doomed.id]);
    expect(q.get(doomed.id)).toMatchObject({
      state: 'expired',
      attempts: 0,
      outcome: { kind: 'expired', expiresAt: doomed.expiresAt },
    });
    expect(q.pendingCount('offline')).toBe(0);
    await expect(q.enqueue('offline', controlCommand())).resolves.toMatchObject({ state: 'queued' });
  });
});
