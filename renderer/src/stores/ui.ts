/** Which view, server and agent are shown, and which dialogs are open. No API calls. */
import { defineStore } from 'pinia';
import { ref } from 'vue';
import { useQueueStore } from './queue';

export type ViewName = 'servers' | 'agents' | 'agent' | 'queue';

export const useUiStore = defineStore('ui', () => {
  const view = ref<ViewName>('servers');
  const serverId = ref<string | null>(null);
  const agentId = ref<string | null>(null);
  const spawnOpen = ref(false);
  const batchOpen = ref(false);
  const helpOpen = ref(false);
  const feedOpen = ref(true);
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

  /** The command {@link openHistory} brought into view (for the history to highlight), or null. */
  const historyFocus = ref<string | null>(null);

  /**
   * Shows the queue view's history narrowed to command `commandId` (its id in the history's
   * filter), where its Retry is: the status feed's link from a failed command.
   */
  function openHistory(commandId: string): void {
    const queue = useQueueStore();
    queue.outcomeFilter = 'all';
    queue.textFilter = commandId;
    historyFocus.value = commandId;
    if (view.value !== 'queue') beforeQueue = view.value;
    view.value = 'queue';
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
    toast,
    notify,
    dismissToast,
    showServers,
    openServer,
    openAgent,
    toggleQueue,
    historyFocus,
    openHistory,
    closeTop,
  };
});
