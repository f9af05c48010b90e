/**
 * The merged live log of several agents, possibly on several servers: one tail subscription per
 * agent (`tailLogs`), their lines interleaved in arrival order, each tagged with its agent (a
 * name prefix and a colour). The filter is the single-agent viewer's (lib/regexFilter.ts, the
 * server's own reading); a gap in one agent's tail is filled from its backfill as the output
 * viewer does; memory is bounded (oldest lines dropped, counted for a visible note).
 */
import { defineStore } from 'pinia';
import { computed, onScopeDispose, ref, shallowRef, triggerRef } from 'vue';
import type { ConsoleEvents } from '../../../shared/ipc';
import type { OutputStream } from '../../../shared/protocol/types';
import { getApi } from '../api';
import { describeError } from '../lib/errors';
import { plural, shortId } from '../lib/format';
import { FrameBatcher } from '../lib/frameBatcher';
import { LineSplitter } from '../lib/outputPager';
import { planRefill, REFILL_PROBE, type TailLine } from '../lib/planRefill';
import { useRegexFilter } from '../composables/useRegexFilter';
import { LIST_LIMIT } from './agents';
import { knownAgentName } from './agentNames';
import { fleetKey, type AgentRef } from './fleet';
import { PAUSE_BUFFER_LINES } from './output';
import { useServersStore } from './servers';

/** Lines kept (all agents together); beyond this the oldest go, and the view says how many. */
export const MERGED_LOG_MAX_LINES = 100_000;
/** Most agents one merged log tails at once (one subscription each). */
export const MERGED_LOG_MAX_AGENTS = 32;
/**
 * Agent colours as [light theme, dark theme], each chosen for contrast on that theme's sunken
 * background (styles.css). Agents beyond these share one; their name prefix tells them apart.
 */
const AGENT_COLOURS: readonly (readonly [string, string])[] = [
  ['#1d4ed8', '#7cc4ff'],
  ['#b45309', '#ffb86b'],
  ['#15803d', '#8be28b'],
  ['#be185d', '#ff8fc8'],
  ['#7c3aed', '#d0b0ff'],
  ['#0f766e', '#5fe0d0'],
  ['#854d0e', '#f2d45c'],
  ['#b91c1c', '#ff9e94'],
];
/** Distinct colours (see {@link agentColour}). */
export const MERGED_LOG_COLOURS = AGENT_COLOURS.length;

/** The CSS colour of colour index `i`: `light-dark()` picks by the theme's color-scheme. */
export function agentColour(i: number): string {
  const [light, dark] = AGENT_COLOURS[i % MERGED_LOG_COLOURS] ?? ['currentColor', 'currentColor'];
  return `light-dark(${light}, ${dark})`;
}
/** One tailed agent. */
export interface MergedSource {
  readonly key: string;
  readonly serverId: string;
  readonly agentId: string;
  readonly name: string;
  readonly serverName: string;
  /** 0 … {@link MERGED_LOG_COLOURS} - 1. */
  readonly colour: number;
  tailId: string | null;
  /** Why its tail is off, with a next step; null while live. */
  error: string | null;
  /** Gaps in its tail filled from the server's store so far. */
  gaps: number;
}

/** A line as the merged log holds it. `gap` lines are the log's own notes about one agent. */
export interface MergedLine {
  /** Arrival order across all agents (never reused). */
  readonly seq: number;
  /** Index into `sources`. */
  readonly source: number;
  readonly stream: 'stdout' | 'stderr' | 'gap';
  readonly text: string;
  /**
   * Sequence of the chunk that completed the line, which places it before or after a loss in
   * its tail; -1 for the log's notes and for lines reloaded from the server's store.
   */
  readonly chunk: number;
}

type Pending = Omit<MergedLine, 'seq'>;

/** Sequence of the log's own notes and of reloaded lines (before any later loss). */
const NOT_LIVE = -1;

export const useMergedLogStore = defineStore('mergedLog', () => {
  const sources = ref<MergedSource[]>([]);
  /** Every held line, oldest first (at most {@link MERGED_LOG_MAX_LINES}). */
  const lines = shallowRef<MergedLine[]>([]);
  /** The held lines the stream and filter keep, oldest first: what the view shows. */
  const shown = shallowRef<MergedLine[]>([]);
  const stream = ref<OutputStream>('both');
  const regexFilter = useRegexFilter();
  const { filterText } = regexFilter;
  const following = ref(true);
  const paused = ref(false);
  const heldCount = ref(0);
  /** Shown lines that arrived while not following (the "N new lines" pill); 0 while following. */
  const unseen = ref(0);
  /** Lines dropped to stay within the bound (oldest first), or while paused beyond its buffer. */
  const droppedCount = ref(0);
  /** When this log started tailing (ms since the epoch): it holds lines written from then on; null while closed. */
  const openedAt = ref<number | null>(null);
  /** Why the log could not open (bad input, or no agent could be tailed). */
  const error = ref<string | null>(null);
  let seq = 0;
  let held: Pending[] = [];
  let splitters: LineSplitter[] = [];
  let bySub = new Map<string, number>();
  let offs: (() => void)[] = [];
  let batcher = new FrameBatcher<Pending>(append);

  const total = computed(() => shown.value.length);

  function keeps(line: Pending): boolean {
    if (line.stream === 'gap') return true;
    if (stream.value !== 'both' && line.stream !== stream.value) return false;
    return regexFilter.matches(line.text);
  }

  /** Adds lines in arrival order, dropping the oldest beyond the bound. */
  function append(pending: Pending[]): void {
    if (pending.length === 0) return;
    if (paused.value) {
      held.push(...pending);
      if (held.length > PAUSE_BUFFER_LINES) {
        droppedCount.value += held.length - PAUSE_BUFFER_LINES;
        held = held.slice(-PAUSE_BUFFER_LINES);
      }
      heldCount.value = held.length;
      return;
    }
    const all = lines.value;
    const visible = shown.value;
    const shownBefore = visible.length;
    for (const p of pending) {
      const line: MergedLine = {
        seq: ++seq,
        source: p.source,
        stream: p.stream,
        text: p.text,
        chunk: p.chunk,
      };
      all.push(line);
      if (keeps(line)) visible.push(line);
    }
    if (!following.value) unseen.value += visible.length - shownBefore;
    if (all.length > MERGED_LOG_MAX_LINES) {
      // Drop a tenth more than needed, so the copy happens once per many appends, not per line.
      const drop = all.length - MERGED_LOG_MAX_LINES + Math.floor(MERGED_LOG_MAX_LINES / 10);
      const firstKept = all[drop]?.seq ?? seq + 1;
      droppedCount.value += drop;
      lines.value = all.slice(drop);
      let cut = 0;
      while (cut < visible.length && (visible[cut]?.seq ?? firstKept) < firstKept) cut++;
      shown.value = visible.slice(cut);
      return;
    }
    triggerRef(lines);
    triggerRef(shown);
  }

  function onLogs(payload: ConsoleEvents['logs']): void {
    const index = bySub.get(payload.subscriptionId);
    const splitter = index === undefined ? undefined : splitters[index];
    if (index === undefined || splitter === undefined) return;
    for (const chunk of payload.chunks) {
      for (const text of splitter.push(chunk.stream, chunk.text)) {
        batcher.push({ source: index, stream: chunk.stream, text, chunk: chunk.sequence });
      }
    }
  }

  /**
   * The lines of source `index` around a loss at chunk `lostFrom` (held lines included, oldest
   * first): the last {@link REFILL_PROBE} shown before it, and every one shown since.
   */
  function aroundLoss(index: number, lostFrom: number): { before: TailLine[]; after: TailLine[] } {
    const before: TailLine[] = [];
    const after: TailLine[] = [];
    // Newest first (held lines are newer than the shown ones), without copying 100,000 lines.
    for (const list of [held, lines.value]) {
      for (let i = list.length - 1; i >= 0 && before.length < REFILL_PROBE; i--) {
        const line = list[i];
        if (line === undefined || line.source !== index || line.stream === 'gap') continue;
        (line.chunk >= lostFrom ? after : before).push({ stream: line.stream, text: line.text });
      }
    }
    before.reverse();
    after.reverse();
    return { before, after };
  }

  /**
   * A loss in one agent's tail (its server's PUB dropped chunks, or the console fell behind):
   * its newest stored lines arrive, as in the output viewer. The stored lines the log does not
   * show yet (see lib/planRefill.ts) are added after a note naming the agent, since lines lost
   * among the other agents' cannot be put back where they were.
   */
  function onBackfill(payload: ConsoleEvents['backfill']): void {
    const index = bySub.get(payload.subscriptionId);
    const source = index === undefined ? undefined : sources.value[index];
    if (index === undefined || source === undefined) return;
    batcher.flush();
    // A line begun before the loss cannot be completed: its middle may be what was lost.
    splitters[index] = new LineSplitter();
    const { before, after } = aroundLoss(index, payload.lostFrom ?? Infinity);
    const stored = payload.lines.map((text, k) => ({ text, stream: payload.streams?.[k] ?? null }));
    const refill = planRefill(before, after, stored);
    if (refill.exact && refill.lines.length === 0) return; // the lost chunks held no whole line
    source.gaps++;
    const n = refill.lines.length;
    const note = refill.exact
      ? `${plural(n, 'line')} of ${source.name} lost in transit, reloaded from the server below`
      : `some output of ${source.name} was lost in transit; ${plural(n, 'stored line')} reloaded below may not be all of it — open ${source.name}'s output for its complete log`;
    append([
      { source: index, stream: 'gap', text: note, chunk: NOT_LIVE },
      // A server that does not say a stored line's stream: shown as stdout, the common case.
      ...refill.lines.map((l): Pending => ({
        source: index,
        stream: l.stream ?? 'stdout',
        text: l.text,
        chunk: NOT_LIVE,
      })),
    ]);
  }

  /** Names of `refs` from the tables already loaded, else one listing per server. */
  async function namesOf(refs: readonly AgentRef[]): Promise<Map<string, string>> {
    const names = new Map<string, string>();
    const missing = new Set<string>();
    for (const r of refs) {
      const name = knownAgentName(r.serverId, r.agentId);
      if (name === null) missing.add(r.serverId);
      else names.set(fleetKey(r.serverId, r.agentId), name);
    }
    await Promise.all(
      [...missing].map(async (serverId) => {
        const listed = await getApi().listAgents({ serverId, limit: LIST_LIMIT });
        if (!listed.ok) return;
        for (const info of listed.value) names.set(fleetKey(serverId, info.id), info.name);
      }),
    );
    return names;
  }

  /**
   * Tails `refs` (deduplicated, order kept: it sets the colours). Refuses none or more than
   * {@link MERGED_LOG_MAX_AGENTS} with a sentence in `error`. An agent whose tail cannot start
   * keeps its reason in its source's `error`; the others run.
   */
  async function open(refs: readonly AgentRef[]): Promise<void> {
    await close();
    const unique = [...new Map(refs.map((r) => [fleetKey(r.serverId, r.agentId), r])).values()];
    if (unique.length === 0) {
      error.value = 'No agents to show: select agents in a table, then choose "Merged log".';
      return;
    }
    if (unique.length > MERGED_LOG_MAX_AGENTS) {
      error.value = `${unique.length} agents selected; a merged log tails at most ${MERGED_LOG_MAX_AGENTS}. Select fewer agents.`;
      return;
    }
    if (offs.length === 0) {
      const api = getApi();
      offs = [api.on('logs', onLogs), api.on('backfill', onBackfill)];
    }
    const servers = useServersStore();
    const names = await namesOf(unique);
    const opened = unique.map((r, i): MergedSource => ({
      key: fleetKey(r.serverId, r.agentId),
      serverId: r.serverId,
      agentId: r.agentId,
      name: names.get(fleetKey(r.serverId, r.agentId)) ?? shortId(r.agentId),
      serverName: servers.byId.get(r.serverId)?.profile.name ?? shortId(r.serverId),
      colour: i % MERGED_LOG_COLOURS,
      tailId: null,
      error: null,
      gaps: 0,
    }));
    sources.value = opened;
    splitters = opened.map(() => new LineSplitter());
    const generation = sources.value;
    await Promise.all(
      unique.map(async (r, i) => {
        const tail = await getApi().tailLogs({ serverId: r.serverId, agentId: r.agentId });
        const source = sources.value[i];
        if (sources.value !== generation || source === undefined) {
          if (tail.ok) await getApi().unsubscribe({ subscriptionId: tail.value.subscriptionId });
          return;
        }
        if (tail.ok) {
          source.tailId = tail.value.subscriptionId;
          bySub.set(tail.value.subscriptionId, i);
        } else {
          source.error = describeError(`Live output of ${source.name} is off`, tail.error);
        }
      }),
    );
    // Lines are those written from now on (the tails are live): the view says so, since earlier
    // output is not shown. Lines that came while the tails started are shown too.
    if (sources.value === generation) openedAt.value = Date.now();
  }

  /** Stops every tail and forgets the lines. */
  async function close(): Promise<void> {
    const subs = [...bySub.keys()];
    batcher.dispose();
    batcher = new FrameBatcher<Pending>(append);
    bySub = new Map();
    splitters = [];
    sources.value = [];
    lines.value = [];
    shown.value = [];
    held = [];
    heldCount.value = 0;
    droppedCount.value = 0;
    openedAt.value = null;
    error.value = null;
    following.value = true;
    unseen.value = 0;
    paused.value = false;
    await Promise.all(subs.map((subscriptionId) => getApi().unsubscribe({ subscriptionId })));
  }

  function refilter(): void {
    shown.value = lines.value.filter(keeps);
  }

  /**
   * Applies the typed filter to the held lines and those to come. An invalid pattern is
   * reported in `filterError` (the previous filter stays in force). Returns whether applied.
   */
  function applyFilter(text: string = filterText.value): boolean {
    if (!regexFilter.apply(text)) return false;
    refilter();
    return true;
  }

  function setStream(next: OutputStream): void {
    stream.value = next;
    refilter();
  }

  /** Turns follow on (clearing the new-lines count) or off. */
  function setFollowing(on: boolean): void {
    following.value = on;
    if (on) unseen.value = 0;
  }

  /** Pauses or resumes the view; lines that arrived while paused are shown on resume. */
  function setPaused(on: boolean): void {
    if (on) batcher.flush();
    paused.value = on;
    if (on) return;
    const lines = held;
    held = [];
    heldCount.value = 0;
    append(lines);
  }

  function lineAt(index: number): MergedLine | undefined {
    return shown.value[index];
  }

  onScopeDispose(() => {
    for (const off of offs) off();
    offs = [];
    void close();
  });

  return {
    sources,
    openedAt,
    lines,
    shown,
    total,
    stream,
    filterText,
    appliedFilter: regexFilter.appliedFilter,
    filterError: regexFilter.filterError,
    following,
    paused,
    heldCount,
    unseen,
    droppedCount,
    error,
    open,
    close,
    applyFilter,
    /** Live validation while typing (the filter applies on Enter / Apply). */
    validateFilter: regexFilter.validate,
    setStream,
    setFollowing,
    setPaused,
    lineAt,
  };
});
