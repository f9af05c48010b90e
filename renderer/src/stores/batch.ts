/**
 * Batch control: one command to many agents with fail-fast or continue, a per-agent result
 * grid, and "retry failed only".
 */
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import type { CommandResult } from '../../../shared/domain/result';
import type {
  AgentStatus,
  BatchControlResponse,
  ControlCommandType,
  JsonValue,
} from '../../../shared/protocol/types';
import { getApi } from '../api';
import { describeOutcome, type OutcomeView } from '../lib/commandOutcome';
import { describeError } from '../lib/errors';

/** Commands that make sense for many agents at once. */
export const BATCH_COMMANDS = [
  'pause',
  'resume',
  'stop',
  'kill',
  'signal',
  'get_status',
] as const satisfies readonly ControlCommandType[];

/** A command the batch form offers. */
export type BatchCommand = (typeof BATCH_COMMANDS)[number];

/** One agent's cell state in the result grid. */
export type CellState = 'pending' | 'success' | 'failure' | 'skipped' | 'queued' | 'unknown';

export interface BatchCell {
  readonly agentId: string;
  readonly state: CellState;
  readonly status: AgentStatus | null;
  readonly error: string | null;
}

export interface BatchRun {
  readonly serverId: string;
  readonly command: ControlCommandType;
  readonly payload: JsonValue | undefined;
  readonly failFast: boolean;
  readonly targets: readonly string[];
  readonly startedAt: number;
}

/** How many cells are in each state. */
export function countCells(cells: readonly BatchCell[]): Record<CellState, number> {
  const c: Record<CellState, number> = {
    pending: 0,
    success: 0,
    failure: 0,
    skipped: 0,
    queued: 0,
    unknown: 0,
  };
  for (const cell of cells) c[cell.state]++;
  return c;
}

/**
 * One cell per target from a batch's result: success / failure from a reply, skipped for
 * agents the reply does not mention, queued or unknown for the whole batch when it was not
 * answered. Shared with the all-servers batch (stores/fleet.ts), which sends one per server.
 */
export function batchCells(
  targets: readonly string[],
  value: CommandResult<BatchControlResponse>,
  failFast: boolean,
): BatchCell[] {
  switch (value.status) {
    case 'done': {
      const byId = new Map(value.reply.results.map((r) => [r.agent_id, r]));
      return targets.map((agentId): BatchCell => {
        const r = byId.get(agentId);
        if (!r)
          return {
            agentId,
            state: 'skipped',
            status: null,
            error: failFast ? 'not tried: an earlier agent failed (fail fast)' : 'no result from the server',
          };
        return {
          agentId,
          state: r.success ? 'success' : 'failure',
          status: r.status ?? null,
          error: r.error ?? null,
        };
      });
    }
    case 'queued':
      return targets.map((agentId) => ({ agentId, state: 'queued', status: null, error: null }));
    case 'unknown':
    case 'failed':
      return targets.map((agentId) => ({ agentId, state: 'unknown', status: null, error: null }));
  }
}

export const useBatchStore = defineStore('batch', () => {
  const run = shallowRef<BatchRun | null>(null);
  const cells = shallowRef<BatchCell[]>([]);
  const running = ref(false);
  const outcome = shallowRef<OutcomeView | null>(null);
  const error = ref<string | null>(null);
  /** The command the batch form shows (a shortcut may preset it). */
  const draftCommand = ref<BatchCommand>('stop');

  const counts = computed(() => countCells(cells.value));
  const failedIds = computed(() => cells.value.filter((c) => c.state === 'failure').map((c) => c.agentId));

  /**
   * Sends `command` to `targets` (deduplicated, order kept). Cells start pending and turn into
   * success / failure from the reply; with fail-fast, agents after the first failure are
   * skipped. A queued or unknown batch leaves its cells in that state.
   */
  async function start(
    serverId: string,
    targets: readonly string[],
    command: ControlCommandType,
    failFast: boolean,
    payload?: JsonValue,
    expiresAt?: number,
  ): Promise<void> {
    const unique = [...new Set(targets)];
    if (unique.length === 0) {
      error.value =
        'No agents are selected: select agents in the table (Shift-click for a range), then run the batch.';
      return;
    }
    run.value = { serverId, command, payload, failFast, targets: unique, startedAt: Date.now() };
    cells.value = unique.map((agentId) => ({ agentId, state: 'pending', status: null, error: null }));
    outcome.value = null;
    error.value = null;
    running.value = true;
    try {
      const result = await getApi().batchControl({
        serverId,
        agentIds: unique,
        command,
        failFast,
        ...(payload === undefined ? {} : { payload }),
        ...(expiresAt === undefined ? {} : { expiresAt }),
      });
      if (!result.ok) {
        error.value = describeError(`Could not run ${command} on ${unique.length} agent(s)`, result.error);
        cells.value = [];
        return;
      }
      const value = result.value;
      outcome.value = describeOutcome(`${command} on ${unique.length} agent(s)`, value);
      cells.value = batchCells(unique, value, failFast);
    } finally {
      running.value = false;
    }
  }

  /** Runs the last batch again for the agents that failed, with the same command and mode. */
  async function retryFailed(expiresAt?: number): Promise<void> {
    const last = run.value;
    if (!last) return;
    const failed = failedIds.value;
    if (failed.length === 0) return;
    await start(last.serverId, failed, last.command, last.failFast, last.payload, expiresAt);
  }

  function clear(): void {
    run.value = null;
    cells.value = [];
    outcome.value = null;
    error.value = null;
  }

  return { draftCommand, run, cells, running, outcome, error, counts, failedIds, start, retryFailed, clear };
});
