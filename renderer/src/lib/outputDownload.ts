/**
 * Pages through an output query to build a download: 10,000 lines a query (the protocol's
 * largest page), each page turned into one Blob part, so 1,000,000 lines are 100 parts and
 * never one giant string; between pages the event loop runs (the page stays responsive) and
 * the caller sees progress and may cancel.
 */
import type { PageSource } from './outputPager';

/** Lines per query (docs/PROTOCOL.md §4.4: larger limits are cut to this). */
export const DOWNLOAD_PAGE_LINES = 10_000;

/** Progress of a download: lines fetched of those counted at the start. */
export interface DownloadProgress {
  readonly done: number;
  readonly total: number;
}

export type CollectResult =
  | { readonly ok: true; readonly parts: Blob[]; readonly lines: number }
  | { readonly ok: false; readonly cancelled: boolean; readonly message: string };

/**
 * Counts the lines of `source`, then fetches them page by page into Blob parts (one line per
 * `\n`-terminated row). Lines that arrive meanwhile are not chased: the file holds the lines
 * counted at the start. Never rejects: a failed query or `signal` aborting gives `ok: false`
 * with a sentence saying so.
 */
export async function collectOutput(
  source: PageSource,
  onProgress: (progress: DownloadProgress) => void,
  signal: AbortSignal,
  pageLines = DOWNLOAD_PAGE_LINES,
): Promise<CollectResult> {
  const cancelled = (): CollectResult => ({
    ok: false,
    cancelled: true,
    message: 'Download cancelled; nothing was saved.',
  });
  // A function, not the property: the compiler would narrow `signal.aborted` across awaits.
  const aborted = (): boolean => signal.aborted;
  const count = await source.count();
  if (aborted()) return cancelled();
  if (!count.ok) return { ok: false, cancelled: false, message: count.message };
  const total = count.value;
  const parts: Blob[] = [];
  let done = 0;
  onProgress({ done, total });
  while (done < total) {
    const page = await source.page(done, Math.min(pageLines, total - done));
    if (aborted()) return cancelled();
    if (!page.ok) {
      return {
        ok: false,
        cancelled: false,
        message: `${page.message} (after ${done} of ${total} lines; nothing was saved)`,
      };
    }
    if (page.value.length === 0) break; // older lines were dropped meanwhile: the rest is gone
    parts.push(new Blob([page.value.map((row) => `${row.text}\n`).join('')], { type: 'text/plain' }));
    done += page.value.length;
    onProgress({ done, total });
  }
  return { ok: true, parts, lines: done };
}
