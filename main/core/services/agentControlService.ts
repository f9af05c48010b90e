import { randomUUID } from 'node:crypto';
import type { QueuedCommand } from '../../../shared/domain/command';
import {
  AGENT_DETAILS_CAPABILITY,
  agentDetailsFromWire,
  type AgentDetails,
} from '../../../shared/domain/agentDetails';
import { DEFAULT_REPLY_TIMEOUT_MS, replyTimeoutMs } from '../../../shared/domain/replyTimeout';
import {
  LINE_NUMBERS_CAPABILITY,
  pageFromCommandReply,
  storedTailOf,
  type NumberedOutputPage,
  type StoredTail,
} from '../../../shared/domain/numberedOutput';
import { commandResult, type CommandResult } from '../../../shared/domain/result';
import type {
  AgentConfig,
  AgentStatus,
  BatchControlResponse,
  CommandResponse,
  ControlCommandType,
  HealthCheckResponse,
  JsonValue,
  ListAgentsResponse,
  LogStream,
  OutputStream,
  ReplyMessage,
  RequestMessage,
  SpawnResponse,
  StatusUpdate,
} from '../../../shared/protocol';
import type { CommandQueue } from '../queue/commandQueue';
import type { DispatchResult } from '../queue/dispatcher';
import { NIL_UUID } from '../../../shared/protocol';
import { RequestError } from '../transport/requestError';
import type { LogGap, StatusGap } from '../transport/eventSubscriber';
import type { ServerRegistry } from './serverRegistry';

/** Options of every mutating command. */
export interface IssueOptions {
  /** Never send after this time, ms since the epoch (e.g. `Date.now() + 10 * 60_000`). */
  expiresAt?: number | null;
}

export type SignalName = 'interrupt' | 'terminate' | 'kill' | 'stop' | 'continue';

export interface OutputQuery {
  stream?: OutputStream;
  /** ECMAScript regular expression, at most 1 KiB; the server reports a bad one. */
  filter?: string | null;
  /** Lines to return, 0–10 000 (0 = only the count); default 100. */
  limit?: number;
  /** Matching lines to skip from the oldest. */
  offset?: number;
}

export interface StatusStreamHandlers {
  onUpdate: (u: StatusUpdate) => void;
  /** Updates were lost or the server restarted: re-list agents to resynchronise. */
  onResync?: (gap: StatusGap) => void;
}

export interface LogTailHandlers {
  onChunk: (chunk: LogStream) => void;
  /**
   * Chunks were lost (PUB drops under load): the newest stored lines (oldest first, at most
   * `backfillLines`), fetched through an output query, to replace the tail view.
   */
  onBackfill?: (tail: StoredTail, gap: LogGap) => void;
  /** The backfill query failed; the message says why. */
  onError?: (message: string) => void;
}

/** Thrown when a server cannot do what is asked (e.g. a Rust 1.0.0 server and output queries). */
export class UnsupportedError extends Error {
  override readonly name = 'UnsupportedError';
}

/** A caller waits this long beyond the command's own timeout for the dispatcher's verdict. */
const WAIT_MARGIN_MS = 10_000;

/** A protocol request without its `request_id`: `issue` gives each command a fresh one. */
type RequestBody = RequestMessage extends infer M
  ? M extends RequestMessage
    ? Omit<M, 'request_id'>
    : never
  : never;

export interface AgentControlServiceOptions {
  /**
   * The dispatchers' default reply timeout, ms (default 30 000): a caller waits for a queued
   * command's verdict as long as its reply timeout under the same rule (`replyTimeoutMs`).
   */
  defaultTimeoutMs?: number;
}

/**
 * The operations the console offers, on any configured server. Mutating commands (spawn,
 * control, custom action, batch) go through the durable queue: they resolve `done` when the
 * server answered, `queued` when it is not reachable (delivered once when it is back),
 * `unknown` when sent without a reply in time. Queries (list, health, status, output) go
 * straight to the server and fail fast with a RequestError('offline') when it is unreachable.
 */
export class AgentControlService {
  private readonly waiters = new Map<string, (r: DispatchResult) => void>();
  private readonly unsubscribe: (() => void)[] = [];
  private readonly watched = new Set<string>();
  private readonly defaultTimeoutMs: number;

  constructor(
    private readonly registry: ServerRegistry,
    private readonly queue: CommandQueue,
    options: AgentControlServiceOptions = {},
  ) {
    this.defaultTimeoutMs = options.defaultTimeoutMs ?? DEFAULT_REPLY_TIMEOUT_MS;
  }

  // ---- mutating commands (queued) ----

  spawnAgent(
    serverId: string,
    config: Partial<AgentConfig> & Pick<AgentConfig, 'name' | 'model_backend' | 'task'>,
    options: IssueOptions & { timeoutSecs?: number; metadata?: Record<string, string> } = {},
  ): Promise<CommandResult<SpawnResponse>> {
    return this.issue(
      serverId,
      {
        type: 'spawn_request',
        config: {
          name: config.name,
          model_backend: config.model_backend,
          task: config.task,
          context: config.context ?? null,
          system_prompt: config.system_prompt ?? null,
          environment: config.environment ?? {},
          model: config.model ?? null,
          tool_level: config.tool_level ?? null,
          agents: config.agents ?? null,
        },
        timeout_secs: options.timeoutSecs ?? null,
        metadata: options.metadata ?? null,
      },
      options,
    );
  }

  /** Any control command; the named helpers below are shorthands. */
  controlAgent(
    serverId: string,
    agentId: string,
    commandType: ControlCommandType,
    payload: JsonValue = null,
    options: IssueOptions = {},
  ): Promise<CommandResult<CommandResponse>> {
    return this.issue(
      serverId,
      {
        type: 'control_command',
        agent_id: agentId,
        command_type: commandType,
        payload,
      },
      options,
    );
  }

  /** Pauses an agent: cooperatively (a stdin line) or, with `force`, by SIGSTOP. */
  pauseAgent(serverId: string, agentId: string, force = false, options: IssueOptions = {}) {
    return this.controlAgent(serverId, agentId, 'pause', force ? { force: true } : null, options);
  }

  resumeAgent(serverId: string, agentId: string, force = false, options: IssueOptions = {}) {
    return this.controlAgent(serverId, agentId, 'resume', force ? { force: true } : null, options);
  }

  /** SIGTERM. */
  stopAgent(serverId: string, agentId: string, options: IssueOptions = {}) {
    return this.controlAgent(serverId, agentId, 'stop', null, options);
  }

  /** SIGKILL. */
  killAgent(serverId: string, agentId: string, options: IssueOptions = {}) {
    return this.controlAgent(serverId, agentId, 'kill', null, options);
  }

  signalAgent(serverId: string, agentId: string, signal: SignalName, options: IssueOptions = {}) {
    return this.controlAgent(serverId, agentId, 'signal', { signal }, options);
  }

  /** Writes `data` (UTF-8 text, sent as is; add "\n" for a line) to the agent's stdin. */
  writeAgentStdin(serverId: string, agentId: string, data: string, options: IssueOptions = {}) {
    return this.controlAgent(serverId, agentId, 'write_stdin', { data }, options);
  }

  /**
   * Runs a custom action (built-ins `echo`, `ping`, `get_env`, `list_actions`, `stats`, or one the
   * agent implements). On a Rust 1.0.0 server it is sent as `control_command{custom_action}`.
   * @param timeoutSecs server-side timeout; default 30
   */
  sendActionToAgent(
    serverId: string,
    agentId: string,
    action: string,
    params: JsonValue = null,
    options: IssueOptions & { timeoutSecs?: number } = {},
  ): Promise<CommandResult<CommandResponse>> {
    return this.issue(
      serverId,
      {
        type: 'custom_action_request',
        agent_id: agentId,
        action,
        params,
        timeout_secs: options.timeoutSecs ?? null,
      },
      options,
    );
  }

  /**
   * One command for many agents, with per-agent results. `failFast`: in order, stop at the
   * first failure; otherwise every agent. On a Rust 1.0.0 server it runs as single commands.
   */
  batchControl(
    serverId: string,
    agentIds: readonly string[],
    commandType: ControlCommandType,
    options: IssueOptions & { payload?: JsonValue; failFast?: boolean } = {},
  ): Promise<CommandResult<BatchControlResponse>> {
    return this.issue(
      serverId,
      {
        type: 'batch_control_command',
        agent_ids: [...agentIds],
        command_type: commandType,
        payload: options.payload ?? null,
        fail_fast: options.failFast ?? false,
      },
      options,
    );
  }

  // ---- queries (direct, fail fast when offline) ----

  /** @throws RequestError */
  listAgents(
    serverId: string,
    filter: { status?: AgentStatus; limit?: number } = {},
  ): Promise<ListAgentsResponse> {
    return this.connection(serverId).request({
      type: 'list_agents_request',
      request_id: randomUUID(),
      filter_status: filter.status ?? null,
      limit: filter.limit ?? null,
    });
  }

  /**
   * Process facts of agents (the built-in `agent_details` action, docs/PROTOCOL.md §4.2), asked
   * directly, not through the queue: it changes nothing. A server that does not advertise the
   * `agent_details` capability (or whose health is not known yet) gives [].
   * @throws RequestError; Error when the server refuses or answers something unreadable
   */
  async agentDetails(serverId: string, agentIds: readonly string[]): Promise<AgentDetails[]> {
    if (this.connection(serverId).snapshot().info?.capabilities.has(AGENT_DETAILS_CAPABILITY) !== true)
      return [];
    const reply = await this.connection(serverId).request({
      type: 'custom_action_request',
      request_id: randomUUID(),
      agent_id: NIL_UUID,
      action: 'agent_details',
      params: { agent_ids: [...agentIds] },
      timeout_secs: null,
    });
    if (!reply.success) throw new Error(`agent_details failed: ${reply.error ?? 'no reason given'}`);
    return agentDetailsFromWire(reply.data);
  }

  /** @throws RequestError */
  healthCheck(serverId: string): Promise<HealthCheckResponse> {
    return this.connection(serverId).request({ type: 'health_check_request', request_id: randomUUID() });
  }

  /** @throws RequestError */
  getAgentStatus(serverId: string, agentId: string): Promise<CommandResponse> {
    return this.direct(serverId, agentId, 'get_status');
  }

  /** The next unread stdout line (a cursor the server keeps per agent). @throws RequestError */
  readAgentStdout(serverId: string, agentId: string): Promise<CommandResponse> {
    return this.direct(serverId, agentId, 'read_stdout');
  }

  /** The next unread stderr line. @throws RequestError */
  readAgentStderr(serverId: string, agentId: string): Promise<CommandResponse> {
    return this.direct(serverId, agentId, 'read_stderr');
  }

  /**
   * Non-destructive output query: lines oldest first, `total_lines` matching, `has_more`.
   * @throws RequestError; UnsupportedError against a server without `output_query`
   */
  async queryAgentOutput(
    serverId: string,
    agentId: string,
    query: OutputQuery = {},
  ): Promise<NumberedOutputPage> {
    const info = this.connection(serverId).snapshot().info;
    if (info?.legacy) {
      throw new UnsupportedError(
        `server ${this.registry.session(serverId).profile.name} is a descartes 1.0.0 server without output queries`,
      );
    }
    // Only the control command's JSON data can carry original line numbers (docs/PROTOCOL.md §4.4).
    if (info?.capabilities.has(LINE_NUMBERS_CAPABILITY) === true) {
      const reply = await this.connection(serverId).request({
        type: 'control_command',
        request_id: randomUUID(),
        agent_id: agentId,
        command_type: 'query_output',
        payload: {
          stream: query.stream ?? 'both',
          filter: query.filter ?? null,
          limit: query.limit ?? null,
          offset: query.offset ?? null,
        },
      });
      return pageFromCommandReply(reply);
    }
    return this.connection(serverId).request({
      type: 'output_query_request',
      request_id: randomUUID(),
      agent_id: agentId,
      stream: query.stream ?? 'both',
      filter: query.filter ?? null,
      limit: query.limit ?? null,
      offset: query.offset ?? null,
    });
  }

  // ---- streams ----

  /** Live status updates of one server (every agent, or one). Returns an unsubscribe. */
  streamAgentStatus(serverId: string, handlers: StatusStreamHandlers, agentId?: string): () => void {
    const events = this.registry.session(serverId).events;
    const stops = [
      events.onStatus((u) => {
        if (u.update_type === 'heartbeat') return;
        if (agentId === undefined || u.agent_id === agentId) handlers.onUpdate(u);
      }),
    ];
    const onResync = handlers.onResync;
    if (onResync) stops.push(events.onStatusGap(onResync));
    return () => {
      for (const s of stops) s();
    };
  }

  /**
   * Live log chunks of one agent; after a gap, the newest `backfillLines` stored lines.
   * Returns an unsubscribe.
   */
  tailAgentLogs(
    serverId: string,
    agentId: string,
    handlers: LogTailHandlers,
    backfillLines = 500,
  ): () => void {
    const events = this.registry.session(serverId).events;
    return events.tail(agentId, {
      onChunk: handlers.onChunk,
      onGap: (gap) => {
        void this.newestLines(serverId, agentId, backfillLines).then(
          (tail) => handlers.onBackfill?.(tail, gap),
          (e: unknown) => handlers.onError?.(`could not backfill lost output: ${errorText(e)}`),
        );
      },
    });
  }

  // ---- the queue ----

  /** Pending (queued + sending) commands of one server, or of all servers. */
  queuedCommandCount(serverId?: string): number {
    if (serverId !== undefined) return this.queue.pendingCount(serverId);
    return this.registry.list().reduce((n, p) => n + this.queue.pendingCount(p.id), 0);
  }

  /** Stops waiting callers; the queue and registry are disposed by their owner. */
  dispose(): void {
    for (const u of this.unsubscribe) u();
    this.waiters.clear();
  }

  /**
   * The newest `n` stored lines of an agent (both streams, oldest first), with their streams
   * when the server reports them: what a tail that lost chunks shows. Two queries (a count,
   * then the page); lines stored between them are simply not in the page.
   * @throws as {@link queryAgentOutput}
   */
  async newestLines(serverId: string, agentId: string, n: number): Promise<StoredTail> {
    const count = await this.queryAgentOutput(serverId, agentId, { limit: 0 });
    const total = Number(count.total_lines ?? 0);
    const page = await this.queryAgentOutput(serverId, agentId, { offset: Math.max(0, total - n), limit: n });
    return storedTailOf(page);
  }

  private connection(serverId: string) {
    return this.registry.session(serverId).connection;
  }

  private direct(
    serverId: string,
    agentId: string,
    commandType: ControlCommandType,
  ): Promise<CommandResponse> {
    return this.connection(serverId).request({
      type: 'control_command',
      request_id: randomUUID(),
      agent_id: agentId,
      command_type: commandType,
      payload: null,
    });
  }

  /**
   * Enqueues (durably) and, when the server is online, waits for the dispatcher's verdict.
   * @throws the queue's errors (QueueFullError, InvalidCommandError…) and ProfileError for an unknown server
   */
  private async issue<R extends ReplyMessage>(
    serverId: string,
    body: RequestBody,
    options: IssueOptions,
  ): Promise<CommandResult<R>> {
    const request = { ...body, request_id: randomUUID() } as RequestMessage;
    const session = this.registry.session(serverId);
    this.watch(serverId);
    const verdict = new Promise<DispatchResult | null>((resolve) => {
      this.waiters.set(request.request_id, resolve);
    });
    let command: QueuedCommand;
    try {
      command = await this.queue.enqueue(serverId, request, { expiresAt: options.expiresAt ?? null });
    } catch (e) {
      this.waiters.delete(request.request_id);
      throw e;
    }
    if (session.connection.snapshot().state !== 'online') {
      this.waiters.delete(request.request_id);
      return { status: 'queued', command: this.queue.get(command.id) ?? command };
    }
    // The dispatcher settles or times it out within its own timeout; the margin only guards
    // against a connection that drops while waiting (the command then waits in the queue).
    const timeoutMs = replyTimeoutMs(request, this.defaultTimeoutMs) + WAIT_MARGIN_MS;
    const timer = new Promise<null>((resolve) => {
      setTimeout(() => {
        resolve(null);
      }, timeoutMs).unref();
    });
    const result = await Promise.race([verdict, timer]);
    this.waiters.delete(request.request_id);
    if (result === null) {
      const current = this.queue.get(command.id) ?? command;
      return commandResult<R>(
        current,
        null,
        `sent, but no reply within ${timeoutMs / 1000} s (the connection may have dropped); ` +
          'the queue resends it or reports its outcome once the server answers',
      );
    }
    return commandResult<R>(result.command, result.reply as R | null);
  }

  private watch(serverId: string): void {
    if (this.watched.has(serverId)) return;
    this.watched.add(serverId);
    this.unsubscribe.push(
      this.registry.session(serverId).dispatcher.onResult((r) => {
        this.waiters.get(r.command.id)?.(r);
      }),
    );
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export { RequestError };
