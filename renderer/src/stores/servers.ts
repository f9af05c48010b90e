/** Agent servers: the list with live states, and add / edit / remove with field-level validation. */
import { defineStore } from 'pinia';
import { computed, onScopeDispose, ref, shallowRef } from 'vue';
import { schemas, serverProfileInput, type AppInfo, type ServerView } from '../../../shared/ipc';
import type { ServerProfileInput, ServerStatus } from '../../../shared/domain/server';
import { getApi } from '../api';
import { describeError } from '../lib/errors';
import { fieldErrors } from '../lib/fieldErrors';

/** What a form submit gave: done, or errors per field (`_` = not about one field). */
export type FormResult = { ok: true } | { ok: false; errors: Record<string, string> };

/** The raw form fields of the server form (strings, as inputs give them). */
export interface ServerForm {
  name: string;
  endpoint: string;
  heartbeatIntervalMs: string;
}

/** Validates the server form with the contract's schema; returns the input or field errors. */
export function validateServerForm(
  form: ServerForm,
): { ok: true; input: ServerProfileInput } | { ok: false; errors: Record<string, string> } {
  const hb = form.heartbeatIntervalMs.trim();
  const heartbeat = hb === '' ? null : Number(hb);
  if (heartbeat !== null && !Number.isFinite(heartbeat)) {
    return {
      ok: false,
      errors: { heartbeatIntervalMs: 'heartbeat interval must be a number of milliseconds' },
    };
  }
  const parsed = serverProfileInput.safeParse({
    name: form.name,
    endpoint: form.endpoint,
    heartbeatIntervalMs: heartbeat,
  });
  if (!parsed.success) return { ok: false, errors: fieldErrors(parsed.error) };
  return { ok: true, input: parsed.data };
}

export const useServersStore = defineStore('servers', () => {
  const servers = ref<ServerView[]>([]);
  const appInfo = shallowRef<AppInfo | null>(null);
  const loading = ref(false);
  const error = ref<string | null>(null);
  let off: (() => void) | null = null;

  const byId = computed(() => new Map(servers.value.map((s) => [s.profile.id, s])));

  function applyStatuses(statuses: readonly ServerStatus[]): void {
    const updates = new Map(statuses.map((s) => [s.serverId, s]));
    servers.value = servers.value.map((s) => {
      const status = updates.get(s.profile.id);
      return status ? { profile: s.profile, status } : s;
    });
  }

  /** Loads app info and the server list, and listens to server state changes until `stop`. */
  async function start(): Promise<void> {
    off ??= getApi().on('servers', applyStatuses);
    await refresh();
  }

  /** Reloads the list. On failure `error` says why and what to do. */
  async function refresh(): Promise<void> {
    loading.value = true;
    const api = getApi();
    try {
      const [info, list] = await Promise.all([api.appInfo(), api.listServers()]);
      if (info.ok) appInfo.value = info.value;
      if (list.ok) {
        servers.value = list.value;
        error.value = null;
      } else {
        error.value = describeError('Could not load the servers', list.error);
      }
    } finally {
      loading.value = false;
    }
  }

  function stop(): void {
    off?.();
    off = null;
  }
  onScopeDispose(stop);

  /** Adds a server from the form; the list refreshes on success. */
  async function add(form: ServerForm): Promise<FormResult> {
    const valid = validateServerForm(form);
    if (!valid.ok) return valid;
    const result = await getApi().addServer(valid.input);
    if (!result.ok)
      return { ok: false, errors: { _: describeError('Could not add the server', result.error) } };
    await refresh();
    return { ok: true };
  }

  /** Saves an edited server. */
  async function update(serverId: string, form: ServerForm): Promise<FormResult> {
    const valid = validateServerForm(form);
    if (!valid.ok) return valid;
    const input = { serverId, input: valid.input };
    const checked = schemas.updateServer.safeParse(input);
    if (!checked.success) return { ok: false, errors: fieldErrors(checked.error, ['input']) };
    const result = await getApi().updateServer(input);
    if (!result.ok)
      return { ok: false, errors: { _: describeError('Could not save the server', result.error) } };
    await refresh();
    return { ok: true };
  }

  /** Removes a server; `cancelPending` also cancels its queued commands. Returns an error sentence or null. */
  async function remove(serverId: string, cancelPending: boolean): Promise<string | null> {
    const result = await getApi().removeServer({ serverId, cancelPending });
    if (!result.ok) return describeError('Could not remove the server', result.error);
    servers.value = servers.value.filter((s) => s.profile.id !== serverId);
    return null;
  }

  return { servers, byId, appInfo, loading, error, start, stop, refresh, add, update, remove, applyStatuses };
});
