import { afterEach, describe, expect, it } from 'vitest';
import { LineStore } from '../../../../server/lineStore';
import { QueryFailedError, QueryPool, QueryRefusedError } from '../../../../server/query/queryPool';
import { requiredLiteral } from '../../../../server/query/requiredLiteral';
import type { ScanJob } from '../../../../server/query/scanSegments';
import { RegexTimeoutError } from '../../../../server/regexFilter';

const pools: QueryPool[] = [];
function pool(concurrency: number, maxWaiting: number, maxWaitMs?: number): QueryPool {
  const p = new QueryPool({ concurrency, maxWaiting, ...(maxWaitMs === undefined ? {} : { maxWaitMs }) });
  pools.push(p);
  return p;
}

afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

function storeOf(lines: string[], stream: 'stdout' | 'stderr' = 'stdout'): LineStore {
  const store = new LineStore({ maxLines: 1_000_000, maxBytes: 1e9, maxLineBytes: 65_536 });
  store.append(stream, Buffer.from(lines.map((l) => `${l}\n`).join('')));
  return store;
}

function job(store: LineStore, re: RegExp, offset = 0, limit = 100, mask = 3): ScanJob {
  return {
    segments: store.snapshot().views,
    mask,
    source: re.source,
    flags: re.flags,
    literal: requiredLiteral(re.source, re.flags),
    offset,
    limit,
  };
}

/** Lines on which `^(a+)+$` backtracks for far longer than any budget here. */
const EVIL = Array.from({ length: 20 }, () => `${'a'.repeat(40)}b`);

describe('QueryPool', () => {
  it('scans in a worker thread: total and the positions of offset … offset + limit - 1', async () => {
    const lines = Array.from({ length: 1000 }, (_v, i) => `${i % 10 === 0 ? 'ERROR' : 'info'} ${i}`);
    const store = storeOf(lines);
    const snapshot = store.snapshot();
    const found = await pool(1, 0).scan(
      {
        segments: snapshot.views,
        mask: 3,
        source: '^ERROR',
        flags: '',
        literal: 'ERROR',
        offset: 5,
        limit: 3,
      },
      5000,
    );
    expect(found.total).toBe(100);
    expect(snapshot.lines(found.hits)).toEqual(['ERROR 50', 'ERROR 60', 'ERROR 70']);
    const stderrOnly = await pools[0]?.scan(job(store, /ERROR/, 0, 10, 2), 5000);
    expect(stderrOnly?.total).toBe(0);
  });

  it('stops a scan over budget with RegexTimeoutError, and the next scan works', async () => {
    const p = pool(1, 0);
    const evil = storeOf(EVIL);
    await expect(p.scan(job(evil, /^(a+)+$/), 150)).rejects.toThrow(RegexTimeoutError);
    await expect(p.scan(job(evil, /^(a+)+$/), 150)).rejects.toThrow(/time budget of 150 ms/);
    const found = await p.scan(job(evil, /b$/), 5000);
    expect(found.total).toBe(EVIL.length);
  });

  it('leaves the event loop free while a worker backtracks', async () => {
    const p = pool(1, 0);
    let ticks = 0;
    const timer = setInterval(() => {
      ticks++;
    }, 10);
    try {
      await expect(p.scan(job(storeOf(EVIL), /^(a+)+$/), 500)).rejects.toThrow(RegexTimeoutError);
    } finally {
      clearInterval(timer);
    }
    // A scan on this thread would have run the whole budget without one tick.
    expect(ticks).toBeGreaterThan(0);
  });

  it('runs at most `concurrency` scans, queues `maxWaiting` more and refuses the rest', async () => {
    const p = pool(2, 2);
    const evil = storeOf(EVIL);
    const outcomes = Array.from({ length: 6 }, () =>
      p.scan(job(evil, /^(a+)+$/), 300).then(
        () => 'done',
        (e: unknown) => (e instanceof Error ? e.name : 'unknown'),
      ),
    );
    expect(p.running).toBe(2);
    expect(p.queued).toBe(2);
    const results = await Promise.all(outcomes);
    expect(results).toEqual([
      'RegexTimeoutError',
      'RegexTimeoutError',
      'RegexTimeoutError',
      'RegexTimeoutError',
      'QueryRefusedError',
      'QueryRefusedError',
    ]);
    expect(p.running).toBe(0);
    expect(p.queued).toBe(0);
  });

  it('refuses with a message that names the limits', async () => {
    const p = pool(1, 0);
    const running = p.scan(job(storeOf(EVIL), /^(a+)+$/), 200).catch(() => undefined);
    const refused = p.scan(job(storeOf(['x']), /x/), 200);
    await expect(refused).rejects.toThrow(QueryRefusedError);
    await expect(refused).rejects.toThrow(/server busy: .*max_concurrent_queries and max_waiting_queries/);
    await running;
  });

  it('refuses a scan that waited longer than maxWaitMs for a worker, and still runs the next one', async () => {
    const p = pool(1, 4, 150);
    const running = p.scan(job(storeOf(EVIL), /^(a+)+$/), 1000).catch((e: unknown) => e);
    const waited = p.scan(job(storeOf(['x']), /x/), 1000);
    await expect(waited).rejects.toThrow(QueryRefusedError);
    await expect(waited).rejects.toThrow(
      /no query worker came free within 150 ms \(1 regex output queries running at a time, max_concurrent_queries\)/,
    );
    expect(p.queued).toBe(0);
    expect(await running).toBeInstanceOf(RegexTimeoutError);
    await expect(p.scan(job(storeOf(['x']), /x/), 1000)).resolves.toMatchObject({ total: 1 });
  });

  it('close fails running and waiting scans and refuses new ones', async () => {
    const p = pool(1, 1);
    const evil = storeOf(EVIL);
    const running = expect(p.scan(job(evil, /^(a+)+$/), 60_000)).rejects.toThrow(QueryFailedError);
    const waiting = expect(p.scan(job(evil, /^(a+)+$/), 60_000)).rejects.toThrow(/shutting down/);
    await p.close();
    await running;
    await waiting;
    await expect(p.scan(job(evil, /b/), 1000)).rejects.toThrow(QueryFailedError);
  });
});
