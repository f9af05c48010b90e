/**
 * The agents of the open server: a Map keyed by agent id that status updates patch in place
 * (applied once per animation frame), a filtered and sorted view of it, and the selection.
 * Built for 10,000 agents and thousands of updates per second.
 */
import { defineStore } from 'pinia';
import { computed, onScopeDispose, ref, shallowRef, triggerRef } from 'vue';
import {
  NIL_UUID,
  type AgentInfo,
  type AgentStatus,
  type PauseMode,
  type StatusUpdate,
} from '../../../shared/protocol/types';
import type { ConsoleEvents } from '../../../shared/ipc';
import { getApi } from '../api';
import { useAgentDetailsStore } from './agentDetails';
import { describeError } from '../lib/errors';
import { FrameBatcher } from '../lib/frameBatcher';
import { matchesNeedle } from '../lib/agentMatch';
import { systemTimeToMs } from '../lib/format';
import { useAgentTable } from '../composables/useAgentTable';
import { emptySelection, type ClickModifiers, type SelectionState } from '../lib/selection';

/** One agent as the table shows it. Plain and mutable: updates patch it in place. */
export interface AgentRow {
  readonly id: string;
  name: string;
  status: AgentStatus;
  backend: string;
  task: string;
  /** ms since the epoch. */
  startedAt: number;
  pausedAt: number | null;
  pauseMode: PauseMode | null;
  /** The last status message, if any. */
  message: string | null;
  /** When the last update about it arrived (ms since the epoch). */
  updatedAt: number;
}

export type SortKey = 'name' | 'status' | 'backend' | 'startedAt' | 'updatedAt';
export type SortDir = 'asc' | 'desc';

/**
 * What AgentsTable shows and drives: this store by default, or the all-servers store
 * (stores/fleet.ts), whose rows also name their server.
 */
export interface AgentTableSource {
  readonly visible: readonly (AgentRow & { agentId?: string; serverId?: string; serverName?: string })[];
  readonly selection: SelectionState;
  readonly sortKey: string;
  readonly sortDir: SortDir;
  click(id: string, modifiers: ClickModifiers): void;
  toggle(id: string): void;
  toggleAllFiltered(): void;
  setSort(key: SortKey | 'server'): void;
}

/** Largest list we ask for; the contract's maximum. */
export const LIST_LIMIT = 100_000;

export function rowFromInfo(info: AgentInfo, now: number = Date.now()): AgentRow {
  return {
    id: info.id,
    name: info.name,
    status: info.status,
    backend: info.model_backend,
    task: info.task,
    startedAt: systemTimeToMs(info.started_at),
    pausedAt: info.paused_at ? systemTimeToMs(info.paused_at) : null,
    pauseMode: info.pause_mode ?? null,
    message: null,
    updatedAt: now,
  };
}

/** Row order per sort key, ascending; ties broken so the order is total. */
export const compareRows: Record<SortKey, (a: AgentRow, b: AgentRow) => number> = {
  name: (a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id),
  status: (a, b) => a.status.localeCompare(b.status) || a.name.localeCompare(b.name),
  backend: (a, b) => a.backend.localeCompare(b.backend) || a.name.localeCompare(b.name),
  startedAt: (a, b) => a.startedAt - b.startedAt || a.id.localeCompare(b.id),
  updatedAt: (a, b) => a.updatedAt - b.updatedAt || a.id.localeCompare(b.id),
};

/**
 * Rows matching `text` (in id, name, task or backend; case-insensitive) and `status`, sorted.
 * Generic so the all-servers table (stores/fleet.ts) filters its rows by the same rules.
 */
export function filterAndSort<R extends AgentRow>(
  rows: Iterable<R>,
  text: string,
  status: AgentStatus | '',
  key: SortKey,
  dir: SortDir,
): R[] {
  const out = filterRows(rows, text, status);
  const cmp = compareRows[key];
  out.sort(dir === 'asc' ? cmp : (a, b) => cmp(b, a));
  return out;
}

/** The rows of {@link filterAndSort}, in the order given. */
export function filterRows<R extends AgentRow>(
  rows: Iterable<R>,
  text: string,
  status: AgentStatus | '',
): R[] {
  const needle = text.trim().toLowerCase();
  const out: R[] = [];
  for (const row of rows) {
    if (status !== '' && row.status !== status) continue;
    if (matchesNeedle(row, needle)) out.push(row);
  }
  return out;
}

/** Sets a row's status at `now` (ms), keeping the pause fields consistent with it. */
export function patchStatus(row: AgentRow, status: AgentStatus, now: number): void {
  if (status === 'paused' && row.status !== 'paused') row.pausedAt = now;
  if (status !== 'paused') {
    row.pausedAt = null;
    row.pauseMode = null;
  }
  row.status = status;
}

/** Applies one status update to its row, received at `now` (ms). */
export function applyStatusUpdate(row: AgentRow, update: StatusUpdate, now: number): void {
  if (update.status) patchStatus(row, update.status, now);
  if (update.message) row.message = update.message;
  row.updatedAt = now;
}

export const useAgentsStore = defineStore('agents', () => {
  const serverId = ref<string | null>(null);
  /**
   * Shallow on purpose: 10,000 deep-reactive rows would cost a proxy per field read. Updates
   * patch rows in place and call `triggerRef(rows)` once per applied batch, which re-runs
   * everything that reads the map.
   */
  const rows = shallowRef(new Map<string, AgentRow>());
  const loading = ref(false);
  const error = ref<string | null>(null);
  const subscriptionId = ref<string | null>(null);
  /** Filters, sort and selection; the rows as shown are recomputed once per applied batch. */
  const table = useAgentTable<AgentRow, SortKey>(rows, 'name', filterAndSort);
  const { selection } = table;
  let batcher = new FrameBatcher<StatusUpdate>(applyUpdates);
  let offs: (() => void)[] = [];
  let resyncTimer: ReturnType<typeof setTimeout> | null = null;

  const selectedIds = computed(() => [...selection.value.selected].filter((id) => rows.value.has(id)));

  /** The row of agent `id`; a computed that calls this re-runs whenever rows change. */
  function getRow(id: string): AgentRow | undefined {
    return rows.value.get(id);
  }

  /** Patches rows in place. Unknown agents (spawned elsewhere) trigger one debounced re-list. */
  function applyUpdates(updates: StatusUpdate[]): void {
    let unknown = false;
    const now = Date.now();
    for (const update of updates) {
      if (update.agent_id === NIL_UUID) continue; // server heartbeat
      const row = rows.value.get(update.agent_id);
      if (!row) {
        if (update.update_type !== 'heartbeat') unknown = true;
        continue;
      }
      applyStatusUpdate(row, update, now);
    }
    triggerRef(rows);
    if (unknown) scheduleResync();
  }

  /**
   * Records the status a command's reply reported for one agent of server `server` (e.g. after
   * pause), so the table shows it before the status stream does. Ignored for another server
   * than the open one; an agent not listed yet triggers the re-list an unknown agent does.
   */
  function setStatus(server: string, agentId: string, status: AgentStatus): void {
    if (server !== serverId.value) return;
    const row = rows.value.get(agentId);
    if (!row) {
      scheduleResync();
      return;
    }
    const now = Date.now();
    patchStatus(row, status, now);
    row.updatedAt = now;
    triggerRef(rows);
  }

  function scheduleResync(): void {
    if (resyncTimer !== null) return;
    resyncTimer = setTimeout(() => {
      resyncTimer = null;
      void reload();
    }, 1000);
  }

  function onStatus(payload: ConsoleEvents['status']): void {
    if (payload.serverId === serverId.value) batcher.push(...payload.updates);
  }

  function onResync(payload: ConsoleEvents['resync']): void {
    if (payload.serverId === serverId.value) void reload();
  }

  function listen(): void {
    if (offs.length > 0) return;
    const api = getApi();
    offs = [api.on('status', onStatus), api.on('resync', onResync)];
  }

  /**
   * Shows `id`'s agents: lists them and subscribes to its status stream. Opening another
   * server releases the previous subscription.
   */
  async function open(id: string): Promise<void> {
    listen();
    if (serverId.value === id && subscriptionId.value !== null) return;
    await close();
    serverId.value = id;
    selection.value = emptySelection();
    await reload();
    if (serverId.value !== id) return;
    const sub = await getApi().subscribeStatus({ serverId: id });
    if (serverId.value !== id) {
      if (sub.ok) await getApi().unsubscribe({ subscriptionId: sub.value.subscriptionId });
      return;
    }
    if (sub.ok) subscriptionId.value = sub.value.subscriptionId;
    else error.value = describeError('Live status is off', sub.error);
  }

  /** Re-lists the open server's agents (keeps the selection of agents that still exist). */
  async function reload(): Promise<void> {
    const id = serverId.value;
    if (id === null) return;
    loading.value = true;
    const result = await getApi().listAgents({ serverId: id, limit: LIST_LIMIT });
    if (serverId.value !== id) return;
    loading.value = false;
    if (!result.ok) {
      error.value = describeError('Could not list the agents', result.error);
      return;
    }
    error.value = null;
    batcher.flush();
    const now = Date.now();
    const seen = new Set<string>();
    const map = rows.value;
    for (const info of result.value) {
      seen.add(info.id);
      const row = map.get(info.id);
      const fresh = rowFromInfo(info, now);
      if (row) Object.assign(row, { ...fresh, message: row.message });
      else map.set(info.id, fresh);
    }
    for (const id of map.keys()) if (!seen.has(id)) map.delete(id);
    triggerRef(rows);
    void useAgentDetailsStore().load(id, [...seen]);
  }

  /** Adds or refreshes one agent (e.g. from a spawn reply) without a full re-list. */
  function upsert(info: AgentInfo): void {
    const row = rows.value.get(info.id);
    if (row) Object.assign(row, rowFromInfo(info));
    else rows.value.set(info.id, rowFromInfo(info));
    triggerRef(rows);
  }

  /** Releases the open server's status subscription and clears the table. */
  async function close(): Promise<void> {
    batcher.dispose();
    batcher = new FrameBatcher<StatusUpdate>(applyUpdates);
    const sub = subscriptionId.value;
    subscriptionId.value = null;
    serverId.value = null;
    rows.value.clear();
    triggerRef(rows);
    error.value = null;
    if (sub !== null) await getApi().unsubscribe({ subscriptionId: sub });
  }

  function dispose(): void {
    for (const off of offs) off();
    offs = [];
    if (resyncTimer !== null) clearTimeout(resyncTimer);
    resyncTimer = null;
    batcher.dispose();
    const sub = subscriptionId.value;
    subscriptionId.value = null;
    if (sub !== null) void getApi().unsubscribe({ subscriptionId: sub });
  }
  onScopeDispose(dispose);

  return {
    serverId,
    /** Every agent of the open server, unfiltered (read it only: the store patches it in place). */
    rows,
    loading,
    error,
    subscriptionId,
    ...table,
    selectedIds,
    getRow,
    open,
    reload,
    upsert,
    close,
    setStatus,
  };
});
