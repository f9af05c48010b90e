import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import type { CommandState, QueuedCommand } from '../../../shared/domain/command';
import { failureReason, unknownReason } from '../../../shared/domain/result';
import type { ConnectionStateName, ServerStatus } from '../../../shared/domain/server';
import type {
  ApiOutputs,
  AppInfo,
  ChannelName,
  ConsoleEventEnvelope,
  ConsoleEvents,
  LogChunkView,
  NotificationEvent,
  Schemas,
} from '../../../shared/ipc';
import type { JsonValue, LogStream } from '../../../shared/protocol';
import type { ConsoleCore } from '../services/consoleCore';
import type { EmbeddedServerControl } from '../services/embeddedServerControl';
import { testConnection } from '../transport/connectionTest';
import type { ClientContext } from './clientContext';
import { EventBatcher, type EventBatcherOptions } from './eventBatcher';
import { historyToCsv, historyToJson } from './historyExport';
import { IpcFailure } from './ipcFailure';
import { RequestError } from '../transport/requestError';

/** The input a handler receives: the channel's schema output (already validated). */
export type HandlerInput<K extends ChannelName> = z.output<Schemas[K]>;

/** One function per channel. Throwing is fine: `invokeChannel` maps errors to `IpcResult`s. */
export type HandlerTable = {
  [K in ChannelName]: (
    input: HandlerInput<K>,
    client: ClientContext,
  ) => Promise<ApiOutputs[K]> | ApiOutputs[K];
};

/** The handler table plus the per-client event plumbing every host shares. */
export interface ConsoleHandlers {
  readonly table: HandlerTable;
  /**
   * Starts pushing global events (servers, queue, notifications) to `client` and tracks its
   * subscriptions until it closes. Idempotent; `invokeChannel` calls it on first use.
   */
  attach(client: ClientContext): void;
  /** Live clients (for tests and diagnostics). */
  clientCount(): number;
  /** Subscriptions (status streams and log tails) held by one client, or by all when left out. */
  subscriptionCount(clientId?: string): number;
  /** Releases every client's subscriptions and stops listening to the core. Idempotent. */
  dispose(): void;
}

export interface ConsoleHandlersOptions {
  /** What `appInfo` answers (besides the data dir and platform, which come from the core). */
  info: Pick<AppInfo, 'version' | 'host' | 'embeddedServer'> &
    Partial<Pick<AppInfo, 'embeddedServerProblem'>>;
  /** Batching of pushed events; see {@link EventBatcher}. */
  batching?: Omit<EventBatcherOptions, 'onLogOverflow'>;
  /** Lines fetched to replace a tail after lost chunks; default 500. */
  backfillLines?: number;
  /** Most commands an export holds (newest first); default 100 000. */
  maxExport?: number;
  /** The host's embedded agent server, for `restartEmbeddedServer`; absent when it has none. */
  embeddedServer?: EmbeddedServerControl;
}

interface ClientState {
  readonly client: ClientContext;
  readonly batcher: EventBatcher;
  /** subscriptionId → release function. */
  readonly subscriptions: Map<string, () => void>;
  /** subscriptionId → what a tail needs to backfill itself. */
  readonly tails: Map<string, { serverId: string; agentId: string }>;
}

const DEFAULT_QUEUE_STATES: readonly CommandState[] = ['queued', 'sending'];
const PAGE = 10_000;

/** What a notification about `command` is about: one feed row per command however often announced. */
function subjectOf(command: QueuedCommand): NonNullable<NotificationEvent['subject']> {
  const request = command.request;
  return {
    serverId: command.serverId,
    commandId: command.id,
    agentId: 'agent_id' in request ? request.agent_id : null,
  };
}

/**
 * Builds the table of handlers behind every `ConsoleApi` channel, on one {@link ConsoleCore}.
 * Both hosts (the Electron registrar and the browser host) bind it through `invokeChannel`.
 *
 * Events: each attached client gets its own {@link EventBatcher}; `servers`, `queue` and
 * `notification` go to every client, `status`/`resync`/`logs`/`backfill` only to the client
 * that subscribed. A client's subscriptions are released when it closes.
 */
export function createConsoleHandlers(core: ConsoleCore, options: ConsoleHandlersOptions): ConsoleHandlers {
  const { registry, queue, service } = core;
  const clients = new Map<string, ClientState>();
  const backfillLines = options.backfillLines ?? 500;
  const maxExport = options.maxExport ?? 100_000;
  const lastState = new Map<string, ConnectionStateName>();

  const broadcast = (envelope: ConsoleEventEnvelope): void => {
    for (const c of clients.values()) c.batcher.add(envelope);
  };

  const serverName = (serverId: string): string =>
    registry.list().find((p) => p.id === serverId)?.name ?? serverId;

  const onServerStatus = (s: ServerStatus): void => {
    broadcast({ name: 'servers', payload: [s] });
    const before = lastState.get(s.serverId);
    lastState.set(s.serverId, s.state);
    if (before === s.state) return;
    if (s.state === 'offline' && (before === 'online' || before === 'degraded')) {
      broadcast({
        name: 'notification',
        payload: {
          level: 'warning',
          title: `${serverName(s.serverId)} is offline`,
          body: `${s.lastError ?? 'It stopped answering'}. New commands wait in the queue and are sent once it is back.`,
        },
      });
    } else if (s.state === 'online' && before === 'offline') {
      broadcast({
        name: 'notification',
        payload: {
          level: 'info',
          title: `${serverName(s.serverId)} is back online`,
          body: 'Queued commands are being sent.',
        },
      });
    }
  };

  const onQueueChange = (command: QueuedCommand, previous: CommandState | null): void => {
    broadcast({ name: 'queue', payload: [command] });
    if (previous === command.state) return;
    if (command.state === 'failed') {
      broadcast({
        name: 'notification',
        payload: {
          level: 'error',
          title: `Command failed on ${serverName(command.serverId)}`,
          body: `${command.summary}: ${failureReason(command)}. See the history for details; retry it from there.`,
          subject: subjectOf(command),
        },
      });
    } else if (command.state === 'timed_out') {
      broadcast({
        name: 'notification',
        payload: {
          level: 'warning',
          title: `Outcome unknown on ${serverName(command.serverId)}`,
          body: `${command.summary}: ${unknownReason(command)}. Check the agent, then retry or cancel it in the queue.`,
          subject: subjectOf(command),
        },
      });
    }
  };

  for (const s of registry.statuses()) lastState.set(s.serverId, s.state);
  const stops = [
    registry.onStatus(onServerStatus),
    queue.onChange((change) => {
      onQueueChange(change.command, change.type === 'updated' ? change.previous : null);
    }),
  ];

  const stateOf = (client: ClientContext): ClientState => {
    attach(client);
    const state = clients.get(client.id);
    if (state === undefined) throw new IpcFailure('internal', 'This window is closed; reload the console.');
    return state;
  };

  const backfillTail = (state: ClientState, subscriptionId: string, lostFrom: number): void => {
    const tail = state.tails.get(subscriptionId);
    if (tail === undefined) return;
    void (async () => {
      const stored = await service.newestLines(tail.serverId, tail.agentId, backfillLines);
      if (state.tails.has(subscriptionId)) {
        state.batcher.add({ name: 'backfill', payload: { subscriptionId, lostFrom, ...stored } });
      }
    })().catch((e: unknown) => {
      state.batcher.add({
        name: 'notification',
        payload: {
          level: 'warning',
          title: 'Some output was not shown',
          body: `The live view fell behind and could not reload (${e instanceof Error ? e.message : String(e)}); query the output to see it.`,
        },
      });
    });
  };

  function attach(client: ClientContext): void {
    if (clients.has(client.id)) return;
    let state: ClientState | null = null;
    const batcher = new EventBatcher(
      (envelopes) => {
        client.push(envelopes);
      },
      {
        ...options.batching,
        onLogOverflow: (subscriptionId, lostFrom) => {
          if (state) backfillTail(state, subscriptionId, lostFrom);
        },
      },
    );
    state = { client, batcher, subscriptions: new Map(), tails: new Map() };
    const s = state;
    clients.set(client.id, s);
    // A repair made when the queue opened happened before any window could hear of it.
    const repaired = queueRepairNotice();
    if (repaired !== null) batcher.add({ name: 'notification', payload: repaired });
    client.onClose(() => {
      release(s);
    });
  }

  /** What a newly attached window is told about the queue's repairs and quarantine, or null. */
  function queueRepairNotice(): ConsoleEvents['notification'] | null {
    let health;
    try {
      health = queue.health();
    } catch {
      // The queue view asks again and shows the error itself.
      return null;
    }
    const { notices, quarantined } = health;
    if (notices.length === 0 && quarantined.length === 0) return null;
    const parts = notices.map((n) => n.message);
    if (quarantined.length > 0) {
      parts.push(
        `${quarantined.length} stored command(s) could not be read and are kept in quarantine, never sent.`,
      );
    }
    return {
      level: 'warning',
      title:
        notices.length > 0
          ? 'The command database was moved aside'
          : 'Some stored commands could not be read',
      body: `${parts.join(' ')} See the Queue view.`,
    };
  }

  function release(state: ClientState): void {
    if (clients.get(state.client.id) !== state) return;
    clients.delete(state.client.id);
    for (const stop of state.subscriptions.values()) stop();
    state.subscriptions.clear();
    state.tails.clear();
    state.batcher.dispose();
  }

  const table: HandlerTable = {
    appInfo: () => ({
      version: options.info.version,
      host: options.info.host,
      dataDir: core.dataDir,
      embeddedServer: options.info.embeddedServer,
      embeddedServerProblem: options.info.embeddedServerProblem ?? null,
      platform: process.platform,
    }),
    listServers: () => registry.list().map((profile) => ({ profile, status: registry.status(profile.id) })),
    addServer: (input) => registry.add(input),
    updateServer: (input) => registry.update(input.serverId, input.input),
    removeServer: (input) => {
      registry.remove(input.serverId, input.cancelPending ?? false);
      lastState.delete(input.serverId);
      return null;
    },
    restartEmbeddedServer: async (input) => {
      const embedded = options.embeddedServer;
      if (embedded?.profileId !== input.serverId) {
        throw new IpcFailure(
          'not_found',
          `${serverName(input.serverId)} is not this console's local agent server; only that one can be restarted from here. Restart the others where they run.`,
        );
      }
      await embedded.restart();
      return null;
    },
    // A throwaway socket with the console's own key; the secret never leaves this process.
    testConnection: (input) =>
      testConnection({
        endpoint: input.endpoint,
        security: input.security,
        clientKeyPair: core.clientKey.keyPair,
        ...(input.timeoutMs === undefined ? {} : { timeoutMs: input.timeoutMs }),
      }),
    clientKey: () => core.clientKey.info,
    health: (input) => service.healthCheck(input.serverId),
    listAgents: async (input) => {
      const reply = await service.listAgents(input.serverId, {
        ...(input.status === undefined ? {} : { status: input.status }),
        ...(input.limit === undefined ? {} : { limit: input.limit }),
      });
      if (!reply.success) {
        throw new IpcFailure(
          'internal',
          `The server could not list its agents: ${reply.error ?? 'no reason given'}.`,
        );
      }
      return reply.agents;
    },
    spawnAgent: (input) =>
      service.spawnAgent(input.serverId, input.config, {
        ...(input.timeoutSecs === undefined ? {} : { timeoutSecs: input.timeoutSecs }),
        expiresAt: input.expiresAt ?? null,
      }),
    controlAgent: (input) =>
      service.controlAgent(
        input.serverId,
        input.agentId,
        input.command,
        (input.payload ?? null) as JsonValue,
        {
          expiresAt: input.expiresAt ?? null,
        },
      ),
    sendAction: (input) =>
      service.sendActionToAgent(
        input.serverId,
        input.agentId,
        input.action,
        (input.params ?? null) as JsonValue,
        {
          ...(input.timeoutSecs === undefined ? {} : { timeoutSecs: input.timeoutSecs }),
          expiresAt: input.expiresAt ?? null,
        },
      ),
    batchControl: (input) =>
      service.batchControl(input.serverId, input.agentIds, input.command, {
        payload: (input.payload ?? null) as JsonValue,
        failFast: input.failFast,
        expiresAt: input.expiresAt ?? null,
      }),
    queryOutput: (input) => {
      registry.session(input.serverId);
      return service.queryAgentOutput(input.serverId, input.agentId, {
        stream: input.stream,
        filter: input.filter ?? null,
        ...(input.limit === undefined ? {} : { limit: input.limit }),
        ...(input.offset === undefined ? {} : { offset: input.offset }),
      });
    },
    agentDetails: async (input) => {
      try {
        return await service.agentDetails(input.serverId, input.agentIds);
      } catch (error) {
        if (error instanceof RequestError) throw error;
        throw new IpcFailure(
          'internal',
          `The server gave no agent details: ${error instanceof Error ? error.message : String(error)}.`,
        );
      }
    },
    listQueue: (input) =>
      queue.list(input.serverId, (input.states as CommandState[] | undefined) ?? DEFAULT_QUEUE_STATES, PAGE),
    history: (input) =>
      queue.history({
        ...(input.serverId === undefined ? {} : { serverId: input.serverId }),
        ...(input.limit === undefined ? {} : { limit: input.limit }),
        ...(input.before === undefined ? {} : { before: input.before }),
      }),
    cancelCommand: (input) => queue.cancel(input.id),
    retryCommand: (input) => queue.retry(input.id, { expiresAt: input.expiresAt ?? null }),
    queueHealth: (input) => queue.health(input.serverId),
    discardQuarantined: (input) => queue.discardQuarantined(input.entry),
    dismissQueueNotice: (input) => {
      if (!queue.dismissNotice(input.id)) {
        throw new IpcFailure('not_found', `No queue notice ${input.id}; it has already been dismissed.`);
      }
      return null;
    },
    exportHistory: (input) => {
      const all: QueuedCommand[] = [];
      let page = queue.history({
        limit: Math.min(PAGE, maxExport),
        ...(input.serverId ? { serverId: input.serverId } : {}),
      });
      while (page.length > 0) {
        all.push(...page);
        const last = page[page.length - 1];
        if (last === undefined || last.settledAt === null || all.length >= maxExport || page.length < PAGE)
          break;
        page = queue.history({
          limit: Math.min(PAGE, maxExport - all.length),
          before: { settledAt: last.settledAt, seq: last.seq },
          ...(input.serverId ? { serverId: input.serverId } : {}),
        });
      }
      return input.format === 'json' ? historyToJson(all) : historyToCsv(all);
    },
    subscribeStatus: (input, client) => {
      const state = stateOf(client);
      const subscriptionId = randomUUID();
      const stop = service.streamAgentStatus(input.serverId, {
        onUpdate: (u) => {
          state.batcher.add({ name: 'status', payload: { serverId: input.serverId, updates: [u] } });
        },
        onResync: (gap) => {
          const reason =
            gap.reason === 'restart'
              ? 'the server restarted'
              : `status updates ${String(gap.expected)}–${gap.received - 1} were lost`;
          state.batcher.add({ name: 'resync', payload: { serverId: input.serverId, reason } });
        },
      });
      state.subscriptions.set(subscriptionId, stop);
      return { subscriptionId };
    },
    tailLogs: (input, client) => {
      const state = stateOf(client);
      const subscriptionId = randomUUID();
      const decoders = { stdout: new TextDecoder('utf-8'), stderr: new TextDecoder('utf-8') };
      const toView = (chunk: LogStream): LogChunkView => ({
        stream: chunk.stream_type,
        text: decoders[chunk.stream_type].decode(
          chunk.data instanceof Uint8Array ? chunk.data : Uint8Array.from(chunk.data),
          { stream: true },
        ),
        sequence: Number(chunk.sequence),
      });
      state.tails.set(subscriptionId, { serverId: input.serverId, agentId: input.agentId });
      const stop = service.tailAgentLogs(
        input.serverId,
        input.agentId,
        {
          onChunk: (chunk) => {
            const view = toView(chunk);
            if (view.text.length > 0)
              state.batcher.add({ name: 'logs', payload: { subscriptionId, chunks: [view] } });
          },
          onBackfill: (stored, gap) => {
            // Whatever partial character the decoders held belongs to the lost stretch.
            decoders.stdout = new TextDecoder('utf-8');
            decoders.stderr = new TextDecoder('utf-8');
            state.batcher.add({
              name: 'backfill',
              payload: { subscriptionId, lostFrom: gap.expected, ...stored },
            });
          },
          onError: (message) => {
            state.batcher.add({
              name: 'notification',
              payload: {
                level: 'warning',
                title: 'Some output was not shown',
                body: `${message}; query the output to see it.`,
              },
            });
          },
        },
        backfillLines,
      );
      state.subscriptions.set(subscriptionId, stop);
      return { subscriptionId };
    },
    unsubscribe: (input, client) => {
      const state = stateOf(client);
      const stop = state.subscriptions.get(input.subscriptionId);
      if (stop === undefined) {
        throw new IpcFailure(
          'not_found',
          `No subscription ${input.subscriptionId} on this window; it has already ended.`,
        );
      }
      stop();
      state.subscriptions.delete(input.subscriptionId);
      state.tails.delete(input.subscriptionId);
      state.batcher.forgetTail(input.subscriptionId);
      return null;
    },
  };

  let disposed = false;
  return {
    table,
    attach,
    clientCount: () => clients.size,
    subscriptionCount: (clientId) =>
      clientId === undefined
        ? [...clients.values()].reduce((n, c) => n + c.subscriptions.size, 0)
        : (clients.get(clientId)?.subscriptions.size ?? 0),
    dispose: () => {
      if (disposed) return;
      disposed = true;
      for (const stop of stops) stop();
      for (const state of [...clients.values()]) release(state);
    },
  };
}
