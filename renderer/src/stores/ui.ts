/**
 * Which view, server and agent are shown, and which dialogs are open. No API calls.
 *
 * The route is the one source of truth for view, server and agent (renderer/src/router.ts):
 * `view`, `serverId` and `agentId` are read from it and `showServers`/`openServer`/`openAgent`/
 * `toggleQueue` navigate, so Back/Forward and links move through the same state.
 */
import { defineStore } from 'pinia';
import { computed, ref, watch } from 'vue';
import type { RouteLocationRaw } from 'vue-router';
import { consoleRouter, paramOf, viewOf, type ViewName } from '../router';

export type { ViewName } from '../router';

export const useUiStore = defineStore('ui', () => {
  const router = consoleRouter();
  const route = router.currentRoute;
  const view = computed<ViewName>(() => viewOf(route.value));
  const serverId = computed(() => paramOf(route.value, 'serverId'));
  const agentId = computed(() => paramOf(route.value, 'agentId'));
  /** The server opened last, even while another view is shown (the Agents tab returns to it). */
  const lastServerId = ref<string | null>(null);
  const spawnOpen = ref(false);
  const batchOpen = ref(false);
  const helpOpen = ref(false);
  const paletteOpen = ref(false);
  const feedOpen = ref(true);
  /** A short message about the last shortcut-issued command (null = hidden). */
  const toast = ref<{ tone: 'ok' | 'info' | 'warn' | 'error'; text: string } | null>(null);
  let toastTimer: ReturnType<typeof setTimeout> | null = null;
  /** The last place shown outside the queue, so `q` toggles back to it. */
  let beforeQueue = '/';

  watch(
    route,
    (now) => {
      if (viewOf(now) !== 'queue') beforeQueue = now.fullPath;
      const sid = paramOf(now, 'serverId');
      if (sid !== null) lastServerId.value = sid;
    },
    { immediate: true },
  );

  /** Navigates; a location the router cannot build (e.g. an empty id) is reported, not thrown. */
  function go(to: RouteLocationRaw): void {
    try {
      void router.push(to);
    } catch (e) {
      notify('error', `Cannot open that view: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  function showServers(): void {
    go({ name: 'servers' });
  }

  function openServer(id: string): void {
    go({ name: 'agents', params: { serverId: id } });
  }

  function openAgent(server: string, agent: string): void {
    go({ name: 'agent', params: { serverId: server, agentId: agent } });
  }

  /** The link of an agent's view (`#/servers/…/agents/…`), for `<a href>`: middle-click and copy work. */
  function agentHref(server: string, agent: string): string {
    return router.resolve({ name: 'agent', params: { serverId: server, agentId: agent } }).href;
  }

  function toggleQueue(): void {
    go(view.value === 'queue' ? beforeQueue : { name: 'queue' });
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
    if (paletteOpen.value) paletteOpen.value = false;
    else if (helpOpen.value) helpOpen.value = false;
    else if (spawnOpen.value) spawnOpen.value = false;
    else if (batchOpen.value) batchOpen.value = false;
    else return false;
    return true;
  }

  return {
    view,
    serverId,
    agentId,
    lastServerId,
    spawnOpen,
    batchOpen,
    helpOpen,
    paletteOpen,
    feedOpen,
    toast,
    notify,
    dismissToast,
    showServers,
    openServer,
    openAgent,
    agentHref,
    toggleQueue,
    closeTop,
  };
});
