import { describe, expect, it } from 'vitest';
import { controlCommand, enqueueOn, manualClock, ok, refused, useQueueDir } from './queueTestKit';

const queue = useQueueDir('descartes-group-');

describe('sendNext (a whole window marked sending in one transaction)', () => {
  it('takes the oldest queued commands up to the window, in order, and counts an attempt each', async () => {
    const q = queue();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await q.enqueue('s1', controlCommand())).id);
    const sent = q.sendNext('s1', 3);
    expect(sent.map((c) => c.id)).toEqual(ids.slice(0, 3));
    expect(sent.every((c) => c.state === 'sending' && c.attempts === 1 && c.sentAt !== null)).toBe(true);
    // The window is full: nothing more until one settles.
    expect(q.sendNext('s1', 3)).toEqual([]);
    q.settle(ids[0] as string, ok);
    expect(q.sendNext('s1', 3).map((c) => c.id)).toEqual([ids[3]]);
  });

  it('is durable: a reopened queue sees the window as sending', async () => {
    const q = queue();
    for (let i = 0; i < 3; i++) await q.enqueue('s1', controlCommand());
    q.sendNext('s1', 2);
    q.close();
    const again = queue();
    expect(again.list('s1', ['sending'])).toHaveLength(2);
    expect(again.list('s1', ['queued'])).toHaveLength(1);
  });

  it('never hands out an expired command, even deep in a long queue', async () => {
    const clock = manualClock();
    const q = queue({ now: clock.now });
    for (let i = 0; i < 50; i++) await q.enqueue('s1', controlCommand());
    const soon = await q.enqueue('s1', controlCommand(), { expiresAt: clock.now() + 1000 });
    clock.advance(2000);
    const sent = q.sendNext('s1', 100);
    expect(sent).toHaveLength(50);
    expect(sent.map((c) => c.id)).not.toContain(soon.id);
    expect(q.get(soon.id)?.state).toBe('expired');
  });

  it('still expires a command added with an earlier deadline after a later one, never sent', async () => {
    const clock = manualClock();
    const q = queue({ now: clock.now });
    const late = await q.enqueue('s1', controlCommand(), { expiresAt: clock.now() + 10_000 });
    const early = await q.enqueue('s1', controlCommand(), { expiresAt: clock.now() + 1000 });
    clock.advance(2000);
    expect(q.sendNext('s1', 10).map((c) => c.id)).toEqual([late.id]);
    expect(q.get(early.id)).toMatchObject({
      state: 'expired',
      attempts: 0,
      sentAt: null,
      outcome: { kind: 'expired', expiresAt: early.expiresAt },
    });
  });
});

describe('settleAndSendNext with window 0 (group commit of replies)', () => {
  it('settles each command by its own outcome and skips ones that ended meanwhile', async () => {
    const q = queue();
    const [a, b, c] = await enqueueOn(q, 's1', 's1', 's1');
    q.sendNext('s1', 3);
    q.markTimedOut(c.id);
    q.cancel(c.id);
    const { settled } = q.settleAndSendNext(
      's1',
      [
        { id: a.id, outcome: ok },
        { id: b.id, outcome: refused },
        { id: c.id, outcome: ok },
      ],
      0,
    );
    expect(settled.map((x) => [x.id, x.state])).toEqual([
      [a.id, 'succeeded'],
      [b.id, 'failed'],
    ]);
    expect(q.get(c.id)?.state).toBe('cancelled');
    expect(q.pendingCount('s1')).toBe(0);
  });
});
