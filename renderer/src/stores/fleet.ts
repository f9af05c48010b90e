/**
 * The agents of every server in one table: each online server is listed and its status stream
 * subscribed, rows are keyed `serverId:agentId`, and the selection spans servers. A server that
 * is not online keeps its rows "as last known" (never shown as live); a batch on the selection
 * goes out as one `batch_control_command` per server. Filters and sort follow the per-server
 * table (stores/agents.ts), whose rules this store reuses.
 */
import { defineStore } from 'pinia';
import { computed, onScopeDispose, ref, shallowRef, triggerRef, watch, type WatchStopHandle } from 'vue';
import type { ConnectionStateName } from '../../../shared/domain/server';
import type { ConsoleEvents, ServerView } from '../../../shared/ipc';
import { NIL_UUID, type AgentStatus, type AgentInfo } from '../../../shared/protocol/types';
import { getApi } from '../api';
import { describeOutcome } from '../lib/commandOutcome';
import { describeError } from '../lib/errors';
import { FrameBatcher } from '../lib/frameBatcher';
import { useAgentTable } from '../composables/useAgentTable';
import {
  applyStatusUpdate,
  compareRows,
  filterAndSort,
  filterRows,
  LIST_LIMIT,
  patchStatus,
  rowFromInfo,
  type AgentRow,
  type SortDir,
  type SortKey,
} from './agents';
import { batchCells, type BatchCell } from './batch';
import type { Issued } from './commands';
import { useAgentDetailsStore } from './agentDetails';
import { useConfirmStore } from './confirm';
import { useServersStore } from './servers';

/** One agent of one server, as the all-servers table shows it. */
export interface FleetRow extends AgentRow {
  /** `serverId:agentId` (see {@link fleetKey}): unique across servers, the selection's id. */
  readonly id: string;
  readonly agentId: string;
  readonly serverId: string;
  serverName: string;
}

/** An agent named by its server: what the merged log and the routes take. */
export interface AgentRef {
  readonly serverId: string;
  readonly agentId: string;
}

export type FleetSortKey = SortKey | 'server';

/** Commands the fleet toolbar sends to the selection. */
export type FleetCommand = 'pause' | 'resume' | 'stop' | 'kill';

/** What the fleet knows of one server's listing. */
export interface FleetServer {
  readonly serverId: string;
  loading: boolean;
  /** Why its agents could not be listed or streamed, with a next step; null when fine. */
  error: string | null;
  subscriptionId: string | null;
  /** Its agents were listed at least once (so its rows are at least "last known"). */
  listed: boolean;
}

/** One server's part of the last fleet batch. */
export interface FleetBatchPart {
  readonly serverId: string;
  readonly serverName: string;
  readonly agentIds: readonly string[];
  /** Null while the batch is on its way. */
  readonly issued: Issued<unknown> | null;
}

/** The key of an agent's row: agent ids are UUIDs, so `:` never occurs inside one. */
export const fleetKey = (serverId: string, agentId: string): string => `${serverId}:${agentId}`;

/** The server and agent of a {@link fleetKey}, or null for a string that is not one. */
export function parseFleetKey(key: string): AgentRef | null {
  const at = key.indexOf(':');
  if (at <= 0 || at === key.length - 1) return null;
  return { serverId: key.slice(0, at), agentId: key.slice(at + 1) };
}

/** The row of `info` on server `serverId` (named `serverName`), updated at `now` (ms). */
export function fleetRowFromInfo(
  serverId: string,
  serverName: string,
  info: AgentInfo,
  now: number = Date.now(),
): FleetRow {
  return {
    ...rowFromInfo(info, now),
    id: fleetKey(serverId, info.id),
    agentId: info.id,
    serverId,
    serverName,
  };
}

/**
 * `rows` filtered by server (`''` = all), text and status, sorted by `key`. Sorting by server
 * orders by server name, then as by name (agent name, then key), all in direction `dir`: one
 * sort with one comparator, as this is the table's default order and runs on every keystroke.
 */
export function filterFleet(
  rows: Iterable<FleetRow>,
  server: string,
  text: string,
  status: AgentStatus | '',
  key: FleetSortKey,
  dir: SortDir,
): FleetRow[] {
  const onServer = server === '' ? rows : [...rows].filter((r) => r.serverId === server);
  if (key !== 'server') return filterAndSort(onServer, text, status, key, dir);
  const sign = dir === 'asc' ? 1 : -1;
  const byName = compareRows.name;
  return filterRows(onServer, text, status).sort(
    (a, b) => sign * (a.serverName.localeCompare(b.serverName) || byName(a, b)),
  );
}

/** Refs of `rows` grouped by server, in first-seen order (one batch per group). */
export function groupByServer<T extends AgentRef>(refs: readonly T[]): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const ref of refs) {
    const group = groups.get(ref.serverId);
    if (group) group.push(ref);
    else groups.set(ref.serverId, [ref]);
  }
  return groups;
}

export const useFleetStore = defineStore('fleet', () => {
  const servers = useServersStore();
  /** Shallow, patched in place and triggered once per applied batch (as stores/agents.ts). */
  const rows = shallowRef(new Map<string, FleetRow>());
  /** Per server: listing and subscription. Replaced (not mutated) so views re-render. */
  const sources = ref<Record<string, FleetServer>>({});
  const serverFilter = ref('');
  /** Filters (the server filter on top), sort and selection, as the per-server table has them. */
  const table = useAgentTable<FleetRow, FleetSortKey>(rows, 'server', (all, text, status, key, dir) =>
    filterFleet(all, serverFilter.value, text, status, key, dir),
  );
  const { selection } = table;
  /** Per-agent results of the last batch, and the name each was shown under. */
  const cells = shallowRef<BatchCell[]>([]);
  const parts = shallowRef<FleetBatchPart[]>([]);
  const batchCommand = ref<FleetCommand | null>(null);
  const batchRunning = ref(false);
  const batchError = ref<string | null>(null);
  let cellNames = new Map<string, string>();
  let batcher = new FrameBatcher<ConsoleEvents['status']>(applyStatus);
  let offs: (() => void)[] = [];
  let stopWatch: WatchStopHandle | null = null;
  const resyncTimers = new Map<string, ReturnType<typeof setTimeout>>();
  /** Each server's state when last synced, to notice it coming back online. */
  const lastState = new Map<string, ConnectionStateName>();

  /** serverId → its connection state, for every configured server. */
  const serverStates = computed(
    () => new Map(servers.servers.map((s) => [s.profile.id, s.status.state] as const)),
  );

  /** The selected rows that still exist, in table order of selection. */
  const selectedRows = computed(() => {
    const out: FleetRow[] = [];
    for (const key of selection.value.selected) {
      const row = rows.value.get(key);
      if (row) out.push(row);
    }
    return out;
  });
  const selectedIds = computed(() => selectedRows.value.map((r) => r.id));
  /** Servers whose rows are shown "as last known": listed once, not online now. */
  const staleServers = computed(() =>
    servers.servers.filter(
      (s) => s.status.state !== 'online' && sources.value[s.profile.id]?.listed === true,
    ),
  );
  /** Configured servers that are not online and were never listed: their agents are unknown. */
  const unlistedServers = computed(() =>
    servers.servers.filter(
      (s) => s.status.state !== 'online' && sources.value[s.profile.id]?.listed !== true,
    ),
  );

  /** True when `serverId` is online: only then are its rows live. */
  function isLive(serverId: string): boolean {
    return serverStates.value.get(serverId) === 'online';
  }

  /** Whether `serverId` is followed (a detach while a call was out ends that call's work). */
  function attached(serverId: string): boolean {
    return serverId in sources.value;
  }

  function setSource(serverId: string, patch: Partial<FleetServer>): void {
    const current: FleetServer = sources.value[serverId] ?? {
      serverId,
      loading: false,
      error: null,
      subscriptionId: null,
      listed: false,
    };
    sources.value = { ...sources.value, [serverId]: { ...current, ...patch } };
  }

  function applyStatus(payloads: ConsoleEvents['status'][]): void {
    const now = Date.now();
    for (const { serverId, updates } of payloads) {
      let unknown = false;
      for (const update of updates) {
        if (update.agent_id === NIL_UUID) continue; // server heartbeat
        const row = rows.value.get(fleetKey(serverId, update.agent_id));
        if (row) applyStatusUpdate(row, update, now);
        else if (update.update_type !== 'heartbeat') unknown = true;
      }
      if (unknown) scheduleResync(serverId);
    }
    triggerRef(rows);
  }

  function scheduleResync(serverId: string): void {
    if (resyncTimers.has(serverId)) return;
    resyncTimers.set(
      serverId,
      setTimeout(() => {
        resyncTimers.delete(serverId);
        void reload(serverId);
      }, 1000),
    );
  }

  function onStatus(payload: ConsoleEvents['status']): void {
    if (sources.value[payload.serverId]?.subscriptionId) batcher.push(payload);
  }

  function onResync(payload: ConsoleEvents['resync']): void {
    if (sources.value[payload.serverId]) void reload(payload.serverId);
  }

  /** Re-lists one server's agents; its rows not listed any more are removed. */
  async function reload(serverId: string): Promise<void> {
    const view = servers.byId.get(serverId);
    if (!view) return;
    setSource(serverId, { loading: true });
    const result = await getApi().listAgents({ serverId, limit: LIST_LIMIT });
    if (!attached(serverId)) return; // detached meanwhile
    if (!result.ok) {
      setSource(serverId, {
        loading: false,
        error: describeError(`Could not list the agents of ${view.profile.name}`, result.error),
      });
      return;
    }
    batcher.flush();
    const now = Date.now();
    const map = rows.value;
    const seen = new Set<string>();
    for (const info of result.value) {
      const fresh = fleetRowFromInfo(serverId, view.profile.name, info, now);
      seen.add(fresh.id);
      const row = map.get(fresh.id);
      if (row) Object.assign(row, { ...fresh, message: row.message });
      else map.set(fresh.id, fresh);
    }
    for (const [key, row] of map) if (row.serverId === serverId && !seen.has(key)) map.delete(key);
    triggerRef(rows);
    setSource(serverId, { loading: false, error: null, listed: true });
    // The badges (lost, stopped by an operator…) need each agent's facts, as on its own server.
    void useAgentDetailsStore().load(
      serverId,
      result.value.map((info) => info.id),
    );
  }

  /** Lists an online server's agents and subscribes to its status stream. */
  async function attach(serverId: string): Promise<void> {
    setSource(serverId, {});
    await reload(serverId);
    if (!attached(serverId) || sources.value[serverId]?.subscriptionId !== null) return;
    const sub = await getApi().subscribeStatus({ serverId });
    if (!attached(serverId)) {
      if (sub.ok) await getApi().unsubscribe({ subscriptionId: sub.value.subscriptionId });
      return;
    }
    if (sub.ok) setSource(serverId, { subscriptionId: sub.value.subscriptionId });
    else setSource(serverId, { error: describeError('Live status is off', sub.error) });
  }

  /** Forgets a removed server: its subscription and rows. */
  async function detach(serverId: string): Promise<void> {
    const sub = sources.value[serverId]?.subscriptionId ?? null;
    const { [serverId]: _gone, ...rest } = sources.value;
    sources.value = rest;
    lastState.delete(serverId);
    for (const [key, row] of rows.value) if (row.serverId === serverId) rows.value.delete(key);
    triggerRef(rows);
    if (sub !== null) await getApi().unsubscribe({ subscriptionId: sub });
  }

  /**
   * Follows the server list: an online server not attached yet is listed and subscribed; one
   * coming back online is re-listed (its rows were "as last known"); a removed one is dropped.
   * A server going offline keeps its subscription (the core resumes it) and its rows.
   */
  function sync(list: readonly ServerView[]): void {
    const ids = new Set(list.map((s) => s.profile.id));
    for (const id of Object.keys(sources.value)) if (!ids.has(id)) void detach(id);
    for (const view of list) {
      const id = view.profile.id;
      const before = lastState.get(id);
      lastState.set(id, view.status.state);
      for (const row of rows.value.values()) if (row.serverId === id) row.serverName = view.profile.name;
      if (view.status.state !== 'online') continue;
      if (!sources.value[id]) void attach(id);
      else if (before !== 'online') void reload(id);
    }
  }

  /** Starts listing every online server and following the server list (idempotent). */
  function start(): void {
    if (offs.length === 0) {
      const api = getApi();
      offs = [api.on('status', onStatus), api.on('resync', onResync)];
    }
    stopWatch ??= watch(() => servers.servers, sync, { immediate: true });
  }

  /** Releases every subscription and clears the table. */
  async function stop(): Promise<void> {
    stopWatch?.();
    stopWatch = null;
    for (const off of offs) off();
    offs = [];
    for (const timer of resyncTimers.values()) clearTimeout(timer);
    resyncTimers.clear();
    batcher.dispose();
    batcher = new FrameBatcher<ConsoleEvents['status']>(applyStatus);
    const subs = Object.values(sources.value)
      .map((s) => s.subscriptionId)
      .filter((s): s is string => s !== null);
    sources.value = {};
    lastState.clear();
    rows.value.clear();
    triggerRef(rows);
    await Promise.all(subs.map((subscriptionId) => getApi().unsubscribe({ subscriptionId })));
  }

  /** The name a batch result is shown under: `server › agent`. */
  function cellName(agentId: string): string {
    return cellNames.get(agentId) ?? agentId;
  }

  /**
   * Sends `command` to the selected agents: one `batchControl` (one `batch_control_command` on
   * the wire) per server, all servers at once, "continue with the others" on failures. Stop and
   * kill ask through the confirmation gate first; a cancelled question sends nothing. Results
   * land in `cells` per agent and `parts` per server; a server whose call failed marks its
   * agents as failures with the reason.
   */
  async function control(command: FleetCommand): Promise<void> {
    const targets = selectedRows.value.slice();
    if (targets.length === 0) {
      batchError.value =
        'No agents are selected: tick agents in the table (Shift-click for a range), then press the command again.';
      return;
    }
    if (command === 'stop' || command === 'kill') {
      const confirmed = await useConfirmStore().ask({
        command,
        targets: targets.map((t) => ({ id: t.agentId, name: t.name, serverName: t.serverName })),
      });
      if (!confirmed) return;
    }
    const groups = groupByServer(targets);
    batchCommand.value = command;
    batchError.value = null;
    batchRunning.value = true;
    cellNames = new Map(targets.map((t) => [t.agentId, `${t.serverName} › ${t.name}`]));
    cells.value = targets.map((t) => ({ agentId: t.agentId, state: 'pending', status: null, error: null }));
    parts.value = [...groups].map(([serverId, group]) => ({
      serverId,
      serverName: group[0]?.serverName ?? serverId,
      agentIds: group.map((t) => t.agentId),
      issued: null,
    }));
    try {
      await Promise.all(parts.value.map((part) => sendPart(part, command)));
    } finally {
      batchRunning.value = false;
    }
  }

  async function sendPart(part: FleetBatchPart, command: FleetCommand): Promise<void> {
    const what = `${command} on ${part.agentIds.length} agent(s) of ${part.serverName}`;
    const result = await getApi().batchControl({
      serverId: part.serverId,
      agentIds: [...part.agentIds],
      command,
      failFast: false,
    });
    let partCells: BatchCell[];
    let issued: Issued<unknown>;
    if (result.ok) {
      partCells = batchCells(part.agentIds, result.value, false);
      issued = { kind: 'outcome', outcome: describeOutcome(what, result.value) };
    } else {
      const message = describeError(`Could not send ${what}`, result.error);
      partCells = part.agentIds.map((agentId) => ({
        agentId,
        state: 'failure',
        status: null,
        error: message,
      }));
      issued = { kind: 'error', message };
    }
    const byId = new Map(partCells.map((c) => [c.agentId, c]));
    cells.value = cells.value.map((c) => byId.get(c.agentId) ?? c);
    parts.value = parts.value.map((p) => (p.serverId === part.serverId ? { ...p, issued } : p));
    // Show what the replies said before the status stream does.
    const now = Date.now();
    for (const cell of partCells) {
      const row = rows.value.get(fleetKey(part.serverId, cell.agentId));
      if (row && cell.status) {
        patchStatus(row, cell.status, now);
        row.updatedAt = now;
      }
    }
    triggerRef(rows);
  }

  function clearBatch(): void {
    cells.value = [];
    parts.value = [];
    batchCommand.value = null;
    batchError.value = null;
  }

  onScopeDispose(() => void stop());

  return {
    rows,
    sources,
    ...table,
    serverFilter,
    selectedRows,
    selectedIds,
    serverStates,
    staleServers,
    unlistedServers,
    cells,
    parts,
    batchCommand,
    batchRunning,
    batchError,
    isLive,
    start,
    stop,
    reload,
    cellName,
    control,
    clearBatch,
  };
});
