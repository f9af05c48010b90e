/** Which view, server and agent are shown, and which dialogs are open. No API calls. */
import { defineStore } from 'pinia';
import { ref, shallowRef } from 'vue';
import type { AgentRef } from './fleet';

export type ViewName = 'servers' | 'agents' | 'agent' | 'queue' | 'fleet' | 'logs';

export const useUiStore = defineStore('ui', () => {
  const view = ref<ViewName>('servers');
  const serverId = ref<string | null>(null);
  const agentId = ref<string | null>(null);
  const spawnOpen = ref(false);
  const batchOpen = ref(false);
  const helpOpen = ref(false);
  const feedOpen = ref(true);
  /** The agents of the merged log view (route `#/logs?agents=<serverId>:<agentId>,…`). */
  const mergedAgents = shallowRef<readonly AgentRef[]>([]);
  /** A short message about the last shortcut-issued command (null = hidden). */
  const toast = ref<{ tone: 'ok' | 'info' | 'warn' | 'error'; text: string } | null>(null);
  let toastTimer: ReturnType<typeof setTimeout> | null = null;
  /** The view shown before the queue panel, so `q` toggles back. */
  let beforeQueue: ViewName = 'servers';

  function showServers(): void {
    view.value = 'servers';
  }

  function openServer(id: string): void {
    serverId.value = id;
    view.value = 'agents';
  }

  function openAgent(server: string, agent: string): void {
    serverId.value = server;
    agentId.value = agent;
    view.value = 'agent';
  }

  /** The agents of every server in one table (route `#/fleet`). */
  function showFleet(): void {
    view.value = 'fleet';
  }

  /** The live log of several agents, interleaved (route `#/logs?agents=…`). */
  function openMergedLog(agents: readonly AgentRef[]): void {
    mergedAgents.value = [...agents];
    view.value = 'logs';
  }

  function toggleQueue(): void {
    if (view.value === 'queue') {
      view.value = beforeQueue;
    } else {
      beforeQueue = view.value;
      view.value = 'queue';
    }
  }

  /** Shows a message for `ms` milliseconds (errors stay until dismissed). */
  function notify(tone: 'ok' | 'info' | 'warn' | 'error', text: string, ms = 6000): void {
    toast.value = { tone, text };
    if (toastTimer !== null) clearTimeout(toastTimer);
    toastTimer =
      tone === 'error'
        ? null
        : setTimeout(() => {
            toast.value = null;
            toastTimer = null;
          }, ms);
  }

  function dismissToast(): void {
    toast.value = null;
  }

  /** Closes the topmost dialog; returns false when none was open. */
  function closeTop(): boolean {
    if (helpOpen.value) helpOpen.value = false;
    else if (spawnOpen.value) spawnOpen.value = false;
    else if (batchOpen.value) batchOpen.value = false;
    else return false;
    return true;
  }

  return {
    view,
    serverId,
    agentId,
    spawnOpen,
    batchOpen,
    helpOpen,
    feedOpen,
    mergedAgents,
    toast,
    notify,
    dismissToast,
    showServers,
    openServer,
    openAgent,
    showFleet,
    openMergedLog,
    toggleQueue,
    closeTop,
  };
});
