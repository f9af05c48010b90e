/** Agent servers: the list with live states, and add / edit / remove with field-level validation. */
import { defineStore } from 'pinia';
import { computed, onScopeDispose, ref, shallowRef } from 'vue';
import { schemas, serverProfileInput, type AppInfo, type ServerView } from '../../../shared/ipc';
import { CurveKeyError, parseCurveKey } from '../../../shared/domain/curveKey';
import type {
  ConnectionTestResult,
  ServerProfile,
  ServerProfileInput,
  ServerSecurity,
  ServerStatus,
} from '../../../shared/domain/server';
import { getApi } from '../api';
import { applyResult, describeError } from '../lib/errors';
import { fieldErrors } from '../lib/fieldErrors';
import { SERVER_KEY_COMMAND } from '../lib/security';

/** What a form submit gave: done, or errors per field (`_` = not about one field). */
export type FormResult = { ok: true } | { ok: false; errors: Record<string, string> };

/** The raw form fields of the server form (strings, as inputs give them). */
export interface ServerForm {
  name: string;
  endpoint: string;
  heartbeatIntervalMs: string;
  /** Encrypted (the default) or plain. */
  securityMode: ServerSecurity['mode'];
  /** The server's public key as typed or pasted (used when encrypted). */
  serverKey: string;
  /**
   * The operator ticked "I understand…" for plain mode. Choosing the plain radio alone is not
   * enough: one stray click must not turn off encryption and authentication.
   */
  plainConfirmed: boolean;
}

/** The form's fields for a new server, or the current values of `profile`. */
export function serverFormFor(profile?: ServerProfile | null): ServerForm {
  const security = profile?.security;
  return {
    name: profile?.name ?? '',
    endpoint: profile?.endpoint ?? 'tcp://127.0.0.1:',
    heartbeatIntervalMs: profile?.heartbeatIntervalMs == null ? '' : String(profile.heartbeatIntervalMs),
    securityMode: security?.mode ?? 'curve',
    serverKey: security?.mode === 'curve' ? security.serverKey : '',
    // An existing plain profile was chosen plain explicitly when it was made.
    plainConfirmed: security?.mode === 'plain',
  };
}

/** Security fields as the contract wants them, or the errors of the key / plain-mode fields. */
export function securityFromForm(
  form: Pick<ServerForm, 'securityMode' | 'serverKey' | 'plainConfirmed'>,
): { ok: true; security: ServerSecurity } | { ok: false; errors: Record<string, string> } {
  if (form.securityMode === 'plain') {
    if (form.plainConfirmed) return { ok: true, security: { mode: 'plain' } };
    return {
      ok: false,
      errors: {
        plainConfirmed:
          'Confirm plain mode: tick the box to accept that this server is used without encryption or authentication.',
      },
    };
  }
  if (form.serverKey.trim() === '') {
    return {
      ok: false,
      errors: {
        serverKey: `server key is required for an encrypted connection: run \`${SERVER_KEY_COMMAND}\` on the server’s machine and paste what it prints`,
      },
    };
  }
  try {
    return { ok: true, security: { mode: 'curve', serverKey: parseCurveKey(form.serverKey, 'server key') } };
  } catch (e) {
    if (e instanceof CurveKeyError) return { ok: false, errors: { serverKey: e.message } };
    throw e;
  }
}

/** Schema paths of the security fields, renamed to the form's fields. */
function formFieldErrors(errors: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [path, message] of Object.entries(errors)) {
    const field =
      path === 'security.serverKey' ? 'serverKey' : path.startsWith('security') ? 'security' : path;
    out[field] ??= message;
  }
  return out;
}

/** Validates the server form with the contract's schema; returns the input or field errors. */
export function validateServerForm(
  form: ServerForm,
): { ok: true; input: ServerProfileInput } | { ok: false; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const hb = form.heartbeatIntervalMs.trim();
  const heartbeat = hb === '' ? null : Number(hb);
  if (heartbeat !== null && !Number.isFinite(heartbeat)) {
    errors.heartbeatIntervalMs = 'heartbeat interval must be a number of milliseconds';
  }
  const security = securityFromForm(form);
  if (!security.ok) Object.assign(errors, security.errors);
  // Parse the rest even when the security fields are wrong, so every field shows its message.
  const parsed = serverProfileInput.safeParse({
    name: form.name,
    endpoint: form.endpoint,
    heartbeatIntervalMs: heartbeat !== null && Number.isFinite(heartbeat) ? heartbeat : null,
    security: security.ok ? security.security : { mode: 'plain' },
  });
  if (!parsed.success) Object.assign(errors, { ...formFieldErrors(fieldErrors(parsed.error)), ...errors });
  if (!parsed.success || Object.keys(errors).length > 0) return { ok: false, errors };
  return { ok: true, input: parsed.data };
}

/** What Test connection gave: the result and the security it was tested with, or field errors. */
export type ConnectionTestAnswer =
  | { ok: true; result: ConnectionTestResult; tested: ServerSecurity }
  | { ok: false; errors: Record<string, string> };

export const useServersStore = defineStore('servers', () => {
  const servers = ref<ServerView[]>([]);
  const appInfo = shallowRef<AppInfo | null>(null);
  const loading = ref(false);
  /** The list has been asked for at least once (a deep link waits for it before saying "not found"). */
  const loaded = ref(false);
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
      applyResult(list, error, 'Could not load the servers', (views) => {
        servers.value = views;
      });
    } finally {
      loading.value = false;
      loaded.value = true;
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

  /**
   * Tests the form's endpoint and security against the real server (nothing is saved). Only
   * the endpoint and security fields are validated: a name is not needed to test.
   */
  async function testConnection(
    form: Pick<ServerForm, 'endpoint' | 'securityMode' | 'serverKey' | 'plainConfirmed'>,
  ): Promise<ConnectionTestAnswer> {
    const security = securityFromForm(form);
    const input = { endpoint: form.endpoint, security: security.ok ? security.security : { mode: 'plain' } };
    const checked = schemas.testConnection.safeParse(input);
    const errors = {
      ...(checked.success ? {} : formFieldErrors(fieldErrors(checked.error))),
      ...(security.ok ? {} : security.errors),
    };
    if (!checked.success || !security.ok) return { ok: false, errors };
    const result = await getApi().testConnection(checked.data);
    if (!result.ok)
      return { ok: false, errors: { _: describeError('Could not test the connection', result.error) } };
    return { ok: true, result: result.value, tested: checked.data.security };
  }

  /** Removes a server; `cancelPending` also cancels its queued commands. Returns an error sentence or null. */
  async function remove(serverId: string, cancelPending: boolean): Promise<string | null> {
    const result = await getApi().removeServer({ serverId, cancelPending });
    if (!result.ok) return describeError('Could not remove the server', result.error);
    servers.value = servers.value.filter((s) => s.profile.id !== serverId);
    return null;
  }

  return {
    servers,
    byId,
    appInfo,
    loading,
    loaded,
    error,
    start,
    stop,
    refresh,
    add,
    update,
    testConnection,
    remove,
  };
});
