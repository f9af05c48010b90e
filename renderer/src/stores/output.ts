/**
 * The output viewer of one agent: paged, bounded access to its lines through `queryOutput`
 * (see {@link OutputPager}) plus a live tail (`tailLogs`) with follow and pause.
 */
import { defineStore } from 'pinia';
import { computed, markRaw, onScopeDispose, ref, shallowRef, triggerRef } from 'vue';
import { parseDroppedLinesNotice } from '../../../shared/domain/droppedLines';
import type { ConsoleEvents } from '../../../shared/ipc';
import type { OutputStream } from '../../../shared/protocol/types';
import { getApi } from '../api';
import { describeError } from '../lib/errors';
import {
  LineSplitter,
  OutputPager,
  type FetchResult,
  type OutputRow,
  type PageSource,
} from '../lib/outputPager';
import { useRegexFilter } from '../composables/useRegexFilter';

/** Lines held while the tail is paused; beyond this the view re-counts on resume. */
export const PAUSE_BUFFER_LINES = 50_000;

export const useOutputStore = defineStore('output', () => {
  const serverId = ref<string | null>(null);
  const agentId = ref<string | null>(null);
  const stream = ref<OutputStream>('both');
  /** The filter as typed, in force (validated and sent), and refused (caught before sending). */
  const regexFilter = useRegexFilter();
  const { filterText, appliedFilter } = regexFilter;
  const following = ref(true);
  const paused = ref(false);
  const tailId = ref<string | null>(null);
  const tailError = ref<string | null>(null);
  /**
   * The pager changes inside (pages arrive, lines are appended) and calls `changed`, which
   * triggers this ref: whatever reads it, `lineAt` included, re-runs.
   */
  const pager = shallowRef<OutputPager | null>(null);
  let splitter = new LineSplitter();
  let held: OutputRow[] = [];
  let heldOverflow = false;
  let offs: (() => void)[] = [];

  const total = computed(() => pager.value?.total ?? 0);
  const counted = computed(() => pager.value?.counted ?? false);
  const loading = computed(() => (pager.value?.pending ?? 0) > 0);
  /** The server's error for the last query (e.g. a pattern it rejected), with a next step. */
  const serverError = computed(() => pager.value?.error ?? null);
  const heldCount = ref(0);
  /** Lines that arrived while not following (the "N new lines" pill); 0 while following. */
  const unseen = ref(0);
  /**
   * The original line number "show in context" asked for: the unfiltered view scrolls there
   * and marks it. Null when none.
   */
  const contextLine = ref<number | null>(null);
  /**
   * True when a filtered page came without original line numbers (a server without the
   * `output_line_numbers` capability): the viewer shows no numbers for filtered lines then.
   */
  const numbersMissing = ref(false);
  /**
   * Lines of the shown stream(s) the server dropped to stay within its output limits, older
   * than line 1 (the notice of its last successful reply; see `shared/domain/droppedLines`).
   */
  const droppedLines = ref(0);

  function query(
    offset: number,
    limit: number,
    asked: OutputStream = stream.value,
    filter: string = appliedFilter.value,
  ): Promise<FetchResult<{ lines: OutputRow[]; total: number }>> {
    const sid = serverId.value;
    const aid = agentId.value;
    if (sid === null || aid === null) return Promise.resolve({ ok: false, message: 'No agent is open.' });
    return getApi()
      .queryOutput({
        serverId: sid,
        agentId: aid,
        stream: asked,
        filter: filter === '' ? null : filter,
        limit,
        offset,
      })
      .then((result): FetchResult<{ lines: OutputRow[]; total: number }> => {
        if (!result.ok)
          return { ok: false, message: describeError('Could not read the output', result.error) };
        const reply = result.value;
        if (!reply.success) {
          return {
            ok: false,
            message: `The server rejected the query: ${reply.error ?? 'no reason given'}. ${filter === '' ? 'Try again.' : 'Change or clear the filter.'}`,
          };
        }
        // Only a reply for what is shown now may set the count (a stream switch re-counts).
        if (
          serverId.value === sid &&
          agentId.value === aid &&
          stream.value === asked &&
          appliedFilter.value === filter
        ) {
          droppedLines.value = parseDroppedLinesNotice(reply.error);
          if (limit > 0 && reply.lines.length > 0) numbersMissing.value = reply.line_numbers === undefined;
        }
        const numbers = reply.line_numbers;
        const streams = reply.streams;
        const one = asked === 'both' ? undefined : asked;
        const totalLines = reply.total_lines;
        return {
          ok: true,
          value: {
            lines: reply.lines.map((text, k) => {
              const number = numbers?.[k];
              const lineStream = streams?.[k] ?? one;
              return {
                text,
                ...(number === undefined ? {} : { number }),
                ...(lineStream === undefined ? {} : { stream: lineStream }),
              };
            }),
            total:
              totalLines === undefined || totalLines === null
                ? offset + reply.lines.length
                : Number(totalLines),
          },
        };
      });
  }

  const source: PageSource = {
    count: () => query(0, 0).then((r) => (r.ok ? { ok: true, value: r.value.total } : r)),
    page: (offset, limit) =>
      query(offset, limit).then((r) => (r.ok ? { ok: true, value: r.value.lines } : r)),
  };

  function changed(): void {
    triggerRef(pager);
  }

  function onLogs(payload: ConsoleEvents['logs']): void {
    if (payload.subscriptionId !== tailId.value || !pager.value) return;
    const lines: OutputRow[] = [];
    for (const chunk of payload.chunks) {
      const split = splitter.push(chunk.stream, chunk.text);
      if (stream.value !== 'both' && chunk.stream !== stream.value) continue;
      for (const text of split) {
        if (regexFilter.matches(text)) lines.push({ text, stream: chunk.stream });
      }
    }
    if (lines.length === 0) return;
    numberLive(lines);
    if (!following.value) unseen.value += lines.length;
    if (paused.value) {
      if (held.length + lines.length > PAUSE_BUFFER_LINES) heldOverflow = true;
      else held.push(...lines);
      heldCount.value = held.length;
      return;
    }
    pager.value.append(lines);
  }

  /**
   * Numbers live lines in place. Unfiltered, they follow the last line's number (when that one
   * is known); filtered, only the server knows them (the pager refetches the page).
   */
  function numberLive(rows: OutputRow[]): void {
    const p = pager.value;
    if (regexFilter.regex() !== null || !p) return;
    const index = p.total + held.length;
    const last = p.rowAt(index - 1)?.number ?? (index === 0 ? droppedLines.value : undefined);
    if (last === undefined) return;
    rows.forEach((row, k) => {
      rows[k] = { ...row, number: last + k + 1 };
    });
  }

  function onBackfill(payload: ConsoleEvents['backfill']): void {
    if (payload.subscriptionId !== tailId.value || !pager.value) return;
    // Lines were lost between chunks: the server's store is the truth; count and page again.
    splitter = new LineSplitter();
    held = [];
    heldCount.value = 0;
    void pager.value.reset();
  }

  /** Opens an agent's output: counts its lines, shows the tail and starts the live tail. */
  async function open(sid: string, aid: string): Promise<void> {
    if (serverId.value === sid && agentId.value === aid && pager.value) return;
    await close();
    serverId.value = sid;
    agentId.value = aid;
    droppedLines.value = 0;
    following.value = true;
    unseen.value = 0;
    contextLine.value = null;
    numbersMissing.value = false;
    paused.value = false;
    if (offs.length === 0) {
      const api = getApi();
      offs = [api.on('logs', onLogs), api.on('backfill', onBackfill)];
    }
    pager.value = markRaw(new OutputPager(source, { pageSize: 500, maxPages: 40, onChange: changed }));
    const counting = pager.value.reset();
    const tail = await getApi().tailLogs({ serverId: sid, agentId: aid });
    if (agentId.value !== aid) {
      if (tail.ok) await getApi().unsubscribe({ subscriptionId: tail.value.subscriptionId });
      return;
    }
    if (tail.ok) {
      tailId.value = tail.value.subscriptionId;
      tailError.value = null;
    } else {
      tailError.value = describeError('Live output is off', tail.error);
    }
    await counting;
  }

  /** Stops the live tail and forgets the pages. */
  async function close(): Promise<void> {
    const sub = tailId.value;
    tailId.value = null;
    pager.value = null;
    serverId.value = null;
    agentId.value = null;
    held = [];
    heldCount.value = 0;
    droppedLines.value = 0;
    splitter = new LineSplitter();
    changed();
    if (sub !== null) await getApi().unsubscribe({ subscriptionId: sub });
  }

  /** Re-reads from the server with the current stream and filter. */
  function reload(): Promise<void> {
    held = [];
    heldCount.value = 0;
    return pager.value ? pager.value.reset() : Promise.resolve();
  }

  function setStream(next: OutputStream): Promise<void> {
    stream.value = next;
    return reload();
  }

  /**
   * Applies the typed filter. An invalid pattern is reported here and not sent (the previous
   * filter stays in force). Returns whether it was applied.
   */
  async function applyFilter(text: string = filterText.value): Promise<boolean> {
    if (!regexFilter.apply(text)) return false;
    await reload();
    return true;
  }

  /** Turns follow on (clearing the new-lines count) or off. */
  function setFollowing(on: boolean): void {
    following.value = on;
    if (on) {
      unseen.value = 0;
      contextLine.value = null;
    }
  }

  /**
   * "Show in context": opens the unfiltered view of the same stream around the line with
   * original number `number` (the viewer scrolls there and marks it; see `contextIndex`).
   */
  async function showInContext(number: number): Promise<void> {
    following.value = false;
    contextLine.value = number;
    await applyFilter('');
  }

  /**
   * Row index of {@link contextLine} in the unfiltered view (docs/PROTOCOL.md §4.4: offset
   * `n - 1 - dropped`), or null when there is none or it has been dropped since.
   */
  const contextIndex = computed(() => {
    const n = contextLine.value;
    if (n === null || appliedFilter.value !== '' || !counted.value) return null;
    const index = n - 1 - droppedLines.value;
    return index >= 0 && index < total.value ? index : null;
  });

  /** Pauses or resumes the live tail; lines that arrived while paused are shown on resume. */
  function setPaused(on: boolean): void {
    paused.value = on;
    if (on || !pager.value) return;
    if (heldOverflow) {
      heldOverflow = false;
      held = [];
      heldCount.value = 0;
      void pager.value.reset();
      return;
    }
    const lines = held;
    held = [];
    heldCount.value = 0;
    pager.value.append(lines);
  }

  /** Loads the pages covering lines `start … end - 1`. */
  function ensureRange(start: number, end: number): Promise<void> {
    return pager.value ? pager.value.ensureRange(start, end) : Promise.resolve();
  }

  function lineAt(index: number): string | undefined {
    return pager.value?.lineAt(index);
  }

  /** The row at `index` (text, original number and stream when known), or undefined while loading. */
  function rowAt(index: number): OutputRow | undefined {
    return pager.value?.rowAt(index);
  }

  /**
   * A page source for a download: the view as shown now (its stream and filter, fixed at this
   * call) or every stored line (both streams, no filter). Null when no agent is open.
   */
  function downloadSource(scope: 'view' | 'all'): PageSource | null {
    if (!pager.value) return null;
    const asked = scope === 'all' ? 'both' : stream.value;
    const filter = scope === 'all' ? '' : appliedFilter.value;
    return {
      count: () => query(0, 0, asked, filter).then((r) => (r.ok ? { ok: true, value: r.value.total } : r)),
      page: (offset, limit) =>
        query(offset, limit, asked, filter).then((r) => (r.ok ? { ok: true, value: r.value.lines } : r)),
    };
  }

  function dispose(): void {
    for (const off of offs) off();
    offs = [];
    void close();
  }
  onScopeDispose(dispose);

  return {
    serverId,
    agentId,
    stream,
    filterText,
    appliedFilter,
    filterError: regexFilter.filterError,
    serverError,
    following,
    paused,
    heldCount,
    unseen,
    contextLine,
    contextIndex,
    numbersMissing,
    droppedLines,
    tailId,
    tailError,
    total,
    counted,
    loading,
    open,
    close,
    reload,
    setStream,
    applyFilter,
    /** Live validation while typing (no request). */
    validateFilter: regexFilter.validate,
    setFollowing,
    showInContext,
    setPaused,
    ensureRange,
    lineAt,
    rowAt,
    downloadSource,
  };
});
