import { describe, expect, it } from 'vitest';
import { collectOutput, type DownloadProgress } from '../../../../renderer/src/lib/outputDownload';
import type { PageSource } from '../../../../renderer/src/lib/outputPager';

/** `n` generated lines, recording the pages asked for. */
function source(n: number) {
  const asked: { offset: number; limit: number }[] = [];
  const src: PageSource = {
    count: () => Promise.resolve({ ok: true, value: n }),
    page: (offset, limit) => {
      asked.push({ offset, limit });
      const end = Math.min(n, offset + limit);
      return Promise.resolve({
        ok: true,
        value: Array.from({ length: Math.max(0, end - offset) }, (_, i) => ({ text: `line ${offset + i}` })),
      });
    },
  };
  return { src, asked };
}

describe('collectOutput', () => {
  it('pages 1,000,000 lines 10,000 at a time into 100 parts, reporting progress', async () => {
    const { src, asked } = source(1_000_000);
    const seen: DownloadProgress[] = [];
    const result = await collectOutput(src, (p) => seen.push(p), new AbortController().signal);
    if (!result.ok) throw new Error(result.message);
    expect(result.lines).toBe(1_000_000);
    expect(result.parts).toHaveLength(100);
    expect(asked.every((q) => q.limit === 10_000)).toBe(true);
    expect(seen[0]).toEqual({ done: 0, total: 1_000_000 });
    expect(seen.at(-1)).toEqual({ done: 1_000_000, total: 1_000_000 });
    const last = await (result.parts.at(-1) as Blob).text();
    expect(last.endsWith('line 999999\n')).toBe(true);
  });

  it('stops when cancelled and when a page fails, saying so', async () => {
    const { src } = source(50_000);
    const controller = new AbortController();
    const cancelled = await collectOutput(
      src,
      (p) => {
        if (p.done >= 20_000) controller.abort();
      },
      controller.signal,
    );
    expect(cancelled).toEqual({
      ok: false,
      cancelled: true,
      message: 'Download cancelled; nothing was saved.',
    });
    const failing: PageSource = {
      count: () => Promise.resolve({ ok: true, value: 5 }),
      page: () => Promise.resolve({ ok: false, message: 'Could not read the output: server offline.' }),
    };
    const failed = await collectOutput(failing, () => undefined, new AbortController().signal);
    expect(failed).toMatchObject({ ok: false, cancelled: false });
    expect(failed.ok ? '' : failed.message).toContain(
      'server offline. (after 0 of 5 lines; nothing was saved)',
    );
  });
});
