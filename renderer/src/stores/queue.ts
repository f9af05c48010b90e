/**
 * The command queue as the operator sees it: pending commands (queued, sending, or with an
 * unknown outcome awaiting a decision) kept live by `queue` events, and the history, paged
 * newest first, with filters and export; and what the queue could not read (quarantined
 * commands, never sent) or had to repair (notices about a database file moved aside).
 */
import { defineStore } from 'pinia';
import { computed, onScopeDispose, ref, shallowRef } from 'vue';
import type { CommandState, QueuedCommand } from '../../../shared/domain/command';
import type { QuarantinedCommand, QueueNotice } from '../../../shared/domain/quarantine';
import type { IpcResult } from '../../../shared/ipc';
import { getApi } from '../api';
import { whileBusy } from '../lib/busyKeys';
import { downloadText } from '../lib/download';
import { describeError } from '../lib/errors';

/** States shown in the pending list: still to be sent, or sent with no known outcome. */
export const OPEN_STATES: readonly CommandState[] = ['queued', 'sending', 'timed_out'];
/** Whether a command in `state` belongs in the pending list (still to be sent, or outcome unknown). */
export const isOpenState = (state: CommandState): boolean => OPEN_STATES.includes(state);

/** History page size. */
export const HISTORY_PAGE = 100;

export type HistoryFilter = 'all' | 'succeeded' | 'failed' | 'timed_out' | 'expired' | 'cancelled';

export const useQueueStore = defineStore('queue', () => {
  const pendingMap = shallowRef(new Map<string, QueuedCommand>());
  const history = shallowRef<QueuedCommand[]>([]);
  const historyDone = ref(false);
  const loading = ref(false);
  const error = ref<string | null>(null);
  const serverFilter = ref<string>('');
  const outcomeFilter = ref<HistoryFilter>('all');
  const textFilter = ref('');
  const busy = ref<Record<string, string>>({});
  const quarantined = shallowRef<QuarantinedCommand[]>([]);
  const notices = shallowRef<QueueNotice[]>([]);
  const exporting = ref(false);
  /** Which command each retried one was retried as (the same id while its outcome was unknown). */
  const retriedAs = ref<Record<string, string>>({});
  let off: (() => void) | null = null;

  const pending = computed(() =>
    [...pendingMap.value.values()]
      .filter((c) => serverFilter.value === '' || c.serverId === serverFilter.value)
      .sort((a, b) => a.seq - b.seq),
  );

  const filteredHistory = computed(() => {
    const needle = textFilter.value.trim().toLowerCase();
    return history.value.filter(
      (c) =>
        (outcomeFilter.value === 'all' || c.state === outcomeFilter.value) &&
        (needle === '' || c.summary.toLowerCase().includes(needle) || c.id.includes(needle)),
    );
  });

  function onQueue(commands: QueuedCommand[]): void {
    const next = new Map(pendingMap.value);
    let settled: QueuedCommand[] = [];
    for (const command of commands) {
      if (isOpenState(command.state)) next.set(command.id, command);
      else {
        next.delete(command.id);
        if (command.settledAt !== null) settled.push(command);
      }
    }
    pendingMap.value = next;
    if (serverFilter.value !== '') settled = settled.filter((c) => c.serverId === serverFilter.value);
    if (settled.length > 0) {
      const ids = new Set(settled.map((c) => c.id));
      history.value = [...settled.reverse(), ...history.value.filter((c) => !ids.has(c.id))];
    }
  }

  /** Loads the pending list and the first history page; keeps them live until `stop`. */
  async function start(): Promise<void> {
    off ??= getApi().on('queue', onQueue);
    await refresh();
  }

  function stop(): void {
    off?.();
    off = null;
  }
  onScopeDispose(stop);

  async function refresh(): Promise<void> {
    loading.value = true;
    const serverId = serverFilter.value === '' ? {} : { serverId: serverFilter.value };
    try {
      const [queued, past] = await Promise.all([
        getApi().listQueue({ ...serverId, states: [...OPEN_STATES] }),
        getApi().history({ ...serverId, limit: HISTORY_PAGE }),
      ]);
      if (queued.ok) pendingMap.value = new Map(queued.value.map((c) => [c.id, c]));
      if (past.ok) {
        history.value = past.value;
        historyDone.value = past.value.length < HISTORY_PAGE;
      }
      // After the reads above: a row they found unreadable has just been put in quarantine.
      const health = await getApi().queueHealth(serverId);
      if (health.ok) {
        quarantined.value = health.value.quarantined;
        notices.value = health.value.notices;
      }
      const failure = !queued.ok ? queued.error : !past.ok ? past.error : !health.ok ? health.error : null;
      error.value = failure ? describeError('Could not load the queue', failure) : null;
    } finally {
      loading.value = false;
    }
  }

  /** Loads the next (older) history page. */
  async function loadMore(): Promise<void> {
    const last = history.value[history.value.length - 1];
    if (!last || historyDone.value || last.settledAt === null) return;
    loading.value = true;
    try {
      const result = await getApi().history({
        ...(serverFilter.value === '' ? {} : { serverId: serverFilter.value }),
        limit: HISTORY_PAGE,
        before: { settledAt: last.settledAt, seq: last.seq },
      });
      if (!result.ok) {
        error.value = describeError('Could not load older history', result.error);
        return;
      }
      const known = new Set(history.value.map((c) => c.id));
      history.value = [...history.value, ...result.value.filter((c) => !known.has(c.id))];
      historyDone.value = result.value.length < HISTORY_PAGE;
    } finally {
      loading.value = false;
    }
  }

  /**
   * Runs one row's action with `busy[key] = label` meanwhile; on success hands the result to
   * `done`. Returns an error sentence (`failure` with the reason and a next step) or null.
   */
  function act<T>(
    key: string,
    label: string,
    failure: string,
    call: () => Promise<IpcResult<T>>,
    done: (value: T) => void,
  ): Promise<string | null> {
    return whileBusy(busy, key, label, async () => {
      const result = await call();
      if (!result.ok) return describeError(failure, result.error);
      done(result.value);
      return null;
    });
  }

  /** Shows a command the queue changed (cancelled, retried) where it now belongs. */
  const show = (command: QueuedCommand): void => {
    onQueue([command]);
  };

  /** Cancels a queued (or outcome-unknown) command. Returns an error sentence or null. */
  function cancel(id: string): Promise<string | null> {
    const call = () => getApi().cancelCommand({ id });
    return act(id, 'cancelling', 'Could not cancel the command', call, show);
  }

  /**
   * Retries a command (same request id while its outcome is unknown, else a new command); the
   * retry is then found with `latest(retriedAs[id])`. Returns an error sentence or null.
   */
  function retry(id: string, expiresAt?: number): Promise<string | null> {
    const call = () => getApi().retryCommand({ id, ...(expiresAt === undefined ? {} : { expiresAt }) });
    return act(id, 'retrying', 'Could not retry the command', call, (command) => {
      retriedAs.value = { ...retriedAs.value, [id]: command.id };
      show(command);
    });
  }

  /** The newest known copy of a command: pending first, then the loaded history. */
  function latest(id: string): QueuedCommand | undefined {
    return pendingMap.value.get(id) ?? history.value.find((c) => c.id === id);
  }

  /** Deletes a quarantined command for good (it was never sent). Returns an error sentence or null. */
  function discardQuarantined(entry: number): Promise<string | null> {
    const call = () => getApi().discardQuarantined({ entry });
    return act(`quarantine-${entry}`, 'discarding', 'Could not discard the quarantined command', call, () => {
      quarantined.value = quarantined.value.filter((q) => q.entry !== entry);
    });
  }

  /** Deletes a repair notice the operator has read. Returns an error sentence or null. */
  function dismissNotice(id: number): Promise<string | null> {
    const call = () => getApi().dismissQueueNotice({ id });
    return act(`notice-${id}`, 'dismissing', 'Could not dismiss the notice', call, () => {
      notices.value = notices.value.filter((n) => n.id !== id);
    });
  }

  /** Downloads the history as JSON or CSV. Returns an error sentence or null. */
  async function exportHistory(format: 'json' | 'csv'): Promise<string | null> {
    exporting.value = true;
    try {
      const result = await getApi().exportHistory({
        format,
        ...(serverFilter.value === '' ? {} : { serverId: serverFilter.value }),
      });
      if (!result.ok) return describeError('Could not export the history', result.error);
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      downloadText(
        `descartes-history-${stamp}.${format}`,
        result.value,
        format === 'json' ? 'application/json' : 'text/csv',
      );
      return null;
    } finally {
      exporting.value = false;
    }
  }

  function setServerFilter(serverId: string): Promise<void> {
    serverFilter.value = serverId;
    return refresh();
  }

  return {
    pending,
    history,
    filteredHistory,
    historyDone,
    loading,
    error,
    serverFilter,
    outcomeFilter,
    textFilter,
    busy,
    exporting,
    retriedAs,
    latest,
    quarantined,
    notices,
    start,
    stop,
    refresh,
    loadMore,
    cancel,
    retry,
    discardQuarantined,
    dismissNotice,
    exportHistory,
    setServerFilter,
  };
});
