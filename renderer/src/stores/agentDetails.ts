/**
 * Process facts of agents (of every server loaded from: the agents view and the all-servers table) (PID, start and end, exit code, signal, why it
 * ended, a pause or resume waiting for the agent): the `agentDetails` channel's answers, kept
 * per agent id. The agents store loads them after each list; a status update that ends or
 * pauses an agent refetches that agent's facts, collected for {@link REFETCH_DELAY_MS} into
 * one request, so a flood of updates costs a set insertion each. A server without the
 * `agent_details` capability answers [] and `get` stays undefined.
 */
import { defineStore } from 'pinia';
import { onScopeDispose, ref, shallowRef, triggerRef } from 'vue';
import type { AgentDetails, PendingRequest } from '../../../shared/domain/agentDetails';
import { AGENT_DETAILS_CAPABILITY, MAX_DETAILS_AGENTS } from '../../../shared/domain/agentDetails';
import type { ConsoleEvents } from '../../../shared/ipc';
import { NIL_UUID, type AgentStatus } from '../../../shared/protocol/types';
import { getApi } from '../api';
import { describeError } from '../lib/errors';
import { useServersStore } from './servers';

/** How long refetches are collected before one request goes out, in ms. */
export const REFETCH_DELAY_MS = 250;

/** Statuses after which an agent's facts change (end time, exit code, pause): refetched. */
const REFETCH_ON: ReadonlySet<AgentStatus> = new Set(['completed', 'failed', 'terminated', 'paused']);

function pendingOf(data: unknown): PendingRequest | null | undefined {
  if (typeof data !== 'object' || data === null || !('pending' in data)) return undefined;
  const pending = data.pending;
  return pending === 'pause' || pending === 'resume' ? pending : null;
}

export const useAgentDetailsStore = defineStore('agentDetails', () => {
  const byId = shallowRef(new Map<string, AgentDetails>());
  /** The last failure to load (shown by whoever wants to; the facts kept stay). */
  const error = ref<string | null>(null);
  /** Servers whose status updates keep their facts fresh (every server loaded from). */
  const watched = new Set<string>();
  /** Agents asked about once: one the server does not know is not asked about on every update. */
  const asked = new Set<string>();
  /** Agents to refetch, per server, collected for {@link REFETCH_DELAY_MS}. */
  const dueByServer = new Map<string, Set<string>>();
  let timer: ReturnType<typeof setTimeout> | null = null;
  let off: (() => void) | null = null;

  /** The facts of `agentId`, or undefined when the server gave none (yet). Reactive. */
  function get(agentId: string): AgentDetails | undefined {
    return byId.value.get(agentId);
  }

  /**
   * Fetches the facts of `agentIds` on `server` (in requests of at most 1000 ids) and keeps
   * them, beside those of other servers (agent ids are UUIDs: one map serves the agents view and
   * the all-servers table). Never rejects: a failure sets `error`.
   */
  async function load(server: string, agentIds: readonly string[]): Promise<void> {
    listen();
    watched.add(server);
    for (let i = 0; i < agentIds.length; i += MAX_DETAILS_AGENTS) {
      const chunk = agentIds.slice(i, i + MAX_DETAILS_AGENTS);
      for (const id of chunk) asked.add(id);
      const result = await getApi().agentDetails({ serverId: server, agentIds: chunk });
      if (!result.ok) {
        error.value = describeError('Could not load the process facts', result.error);
        return;
      }
      error.value = null;
      for (const d of result.value) byId.value.set(d.agentId, d);
      triggerRef(byId);
    }
  }

  /** Whether `server` reports facts at all: a Rust peer does not, so nothing is refetched there. */
  function reports(server: string): boolean {
    return (
      useServersStore().byId.get(server)?.status.capabilities.includes(AGENT_DETAILS_CAPABILITY) === true
    );
  }

  function onStatus(payload: ConsoleEvents['status']): void {
    if (!watched.has(payload.serverId) || !reports(payload.serverId)) return;
    let due = dueByServer.get(payload.serverId);
    let patched = false;
    for (const update of payload.updates) {
      if (update.agent_id === NIL_UUID) continue;
      // Ended or paused: its facts changed. First heard of in an update (e.g. just spawned):
      // it has none yet.
      const refetch =
        (update.status != null && REFETCH_ON.has(update.status)) ||
        (update.status === 'running' && !byId.value.has(update.agent_id) && !asked.has(update.agent_id));
      if (refetch) {
        due ??= new Set();
        dueByServer.set(payload.serverId, due);
        due.add(update.agent_id);
      }
      // A pending pause/resume is in the update itself: no request needed.
      const pending = pendingOf(update.data);
      const known = pending === undefined ? undefined : byId.value.get(update.agent_id);
      if (known && pending !== undefined && known.pendingRequest !== pending) {
        byId.value.set(update.agent_id, { ...known, pendingRequest: pending });
        patched = true;
      }
    }
    if (patched) triggerRef(byId);
    if (dueByServer.size > 0) timer ??= setTimeout(refetch, REFETCH_DELAY_MS);
  }

  function refetch(): void {
    timer = null;
    const batches = [...dueByServer];
    dueByServer.clear();
    for (const [server, ids] of batches) void load(server, [...ids]);
  }

  function listen(): void {
    off ??= getApi().on('status', onStatus);
  }

  function dispose(): void {
    off?.();
    off = null;
    if (timer !== null) clearTimeout(timer);
    timer = null;
  }
  onScopeDispose(dispose);

  return { error, byId, get, load, reports, dispose };
});
