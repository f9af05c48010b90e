import { describe, expect, it } from 'vitest';
import {
  CACHE_LOST_REASON,
  RESEND_WINDOW_MS,
  RESEND_WINDOW_PASSED_REASON,
} from '../../../../../main/core/queue/resendPolicy';
import { createTempDir } from '../../../../helpers/tempDir';
import { withRawDb } from './corruptKit';
import { controlCommand, enqueueOn, manualClock, openQueue, send, useQueueDir } from './queueTestKit';

const queue = useQueueDir('descartes-resend-');

describe('resend policy: only what the server can still answer from its cache is resent', () => {
  it('records the first dedupe epoch, ignores the same one, and on a new one marks what was sent as never to be resent', async () => {
    const clock = manualClock();
    const q = queue({ now: clock.now });
    const [old, recent, inFlight, waiting, other] = await enqueueOn(q, 's1', 's1', 's1', 's1', 's2');
    send(q, old.id);
    q.markTimedOut(old.id);
    clock.advance(RESEND_WINDOW_MS + 1);
    send(q, recent.id);
    q.markTimedOut(recent.id);
    send(q, inFlight.id);
    send(q, other.id);

    expect(q.noteDedupeEpoch('s1', 'epoch-a')).toEqual([]); // first contact: just recorded
    expect(q.noteDedupeEpoch('s1', 'epoch-a')).toEqual([]);
    expect(q.mayResend(q.get(recent.id) ?? recent)).toBe(true);

    const changed = q.noteDedupeEpoch('s1', 'epoch-b');
    const lost = { kind: 'unknown', reason: CACHE_LOST_REASON, resend: false };
    expect(changed.map((c) => [c.id, c.state])).toEqual([
      [inFlight.id, 'timed_out'],
      [recent.id, 'timed_out'],
    ]);
    expect(q.get(inFlight.id)?.outcome).toEqual(lost);
    expect(q.get(recent.id)?.outcome).toEqual(lost);
    expect(q.mayResend(q.get(recent.id) ?? recent)).toBe(false);
    // Past the window already: never resent anyway, left as it was.
    expect(q.get(old.id)?.outcome).toEqual({ kind: 'unknown', reason: 'no reply within the timeout' });
    // Never sent, or another server's: untouched.
    expect(q.get(waiting.id)?.state).toBe('queued');
    expect(q.get(other.id)?.state).toBe('sending');
    expect(q.pendingCount('s1')).toBe(1);
    expect(q.noteDedupeEpoch('s1', 'epoch-b')).toEqual([]);
  });

  it('keeps the recorded epoch across a console restart', async () => {
    const first = queue();
    const c = await first.enqueue('s1', controlCommand());
    first.noteDedupeEpoch('s1', 'epoch-a');
    send(first, c.id);
    first.close();
    const second = queue();
    expect(second.noteDedupeEpoch('s1', 'epoch-a')).toEqual([]);
    expect(second.noteDedupeEpoch('s1', 'epoch-b').map((x) => x.id)).toEqual([c.id]);
  });

  it('a recorded epoch that cannot be read counts as changed instead of stopping the queue', async () => {
    const dir = await createTempDir('descartes-epoch-row-');
    try {
      let q = openQueue(dir.path);
      const c = await q.enqueue('s1', controlCommand());
      q.noteDedupeEpoch('s1', 'epoch-a');
      send(q, c.id);
      q.close();
      withRawDb(dir.path, (db) =>
        db.run("UPDATE server_epochs SET dedupe_epoch = x'00ff' WHERE server_id = 's1'"),
      );
      q = openQueue(dir.path);
      try {
        expect(q.noteDedupeEpoch('s1', 'epoch-a').map((x) => [x.id, x.state])).toEqual([[c.id, 'timed_out']]);
        expect(q.noteDedupeEpoch('s1', 'epoch-a')).toEqual([]);
      } finally {
        q.close();
      }
    } finally {
      await dir.remove();
    }
  });

  it('after a reconnect, resends (requeues) only commands last sent within the window', async () => {
    const clock = manualClock();
    const q = queue({ now: clock.now });
    const [stale, fresh] = await enqueueOn(q, 's1', 's1');
    send(q, stale.id);
    clock.advance(RESEND_WINDOW_MS);
    send(q, fresh.id);
    clock.advance(1);
    const recovered = q.recoverAfterRestart('s1', { dedupe: true });
    expect(recovered.map((c) => [c.id, c.state])).toEqual([
      [stale.id, 'timed_out'],
      [fresh.id, 'queued'],
    ]);
    expect(q.get(stale.id)?.outcome).toEqual({
      kind: 'unknown',
      reason: RESEND_WINDOW_PASSED_REASON,
      resend: false,
    });
  });
});
