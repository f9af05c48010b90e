/**
 * An in-memory `ConsoleApi` for renderer tests: the transport and the core are tested
 * elsewhere; here we need a contract-faithful peer. Inputs are parsed with the contract's
 * schemas (as the real handlers do), queries follow docs/PROTOCOL.md §4.4 (regex filter,
 * offset/limit, `limit: 0` counts), and every call is recorded.
 */
import type { AgentDetails } from '../../../shared/domain/agentDetails';
import { runningDetails } from '../../helpers/agentDetails';
import { droppedLinesNotice } from '../../../shared/domain/droppedLines';
import { filterErrorText, parseOutputFilter } from '../../../shared/domain/outputFilter';
import {
  describeIssues,
  fail,
  ok,
  schemas,
  type ApiOutputs,
  type ChannelName,
  type ConsoleApi,
  type ConsoleEventName,
  type ConsoleEvents,
  type InputOf,
  type IpcResult,
  type ServerView,
} from '../../../shared/ipc';
import type { CommandState, QueuedCommand } from '../../../shared/domain/command';
import type { QuarantinedCommand, QueueNotice } from '../../../shared/domain/quarantine';
import { canRetry, isOutcomeUnknown, summarizeRequest } from '../../../shared/domain/command';
import type { CommandResult } from '../../../shared/domain/result';
import type {
  ClientKeyInfo,
  ConnectionTestOutcome,
  ConnectionTestResult,
  ServerSecurity,
  ServerStatus,
} from '../../../shared/domain/server';
import { allowCommand, curveKeyFingerprint } from '../../../shared/domain/curveKey';
import type {
  AgentInfo,
  AgentStatus,
  JsonValue,
  RequestMessage,
  StatusUpdate,
} from '../../../shared/protocol/types';

export interface OutputLine {
  stream: 'stdout' | 'stderr';
  text: string;
}

let counter = 0;
/** Deterministic UUID v4-shaped ids. */
export function fakeUuid(): string {
  counter++;
  const hex = counter.toString(16).padStart(12, '0');
  return `00000000-0000-4000-8000-${hex}`;
}

/** A stop command for `agentId` (a made-up agent by default), as the queue stores requests. */
export function stopRequest(agentId: string = fakeUuid()) {
  return {
    type: 'control_command' as const,
    request_id: fakeUuid(),
    agent_id: agentId,
    command_type: 'stop' as const,
  };
}

/** A `status_changed` update of `agentId`, as the status stream delivers it. */
export function statusUpdate(
  agentId: string,
  status: StatusUpdate['status'],
  message: string | null = null,
): StatusUpdate {
  return {
    type: 'status_update',
    agent_id: agentId,
    update_type: 'status_changed',
    status,
    message,
    timestamp: { secs_since_epoch: 1, nanos_since_epoch: 0 },
  };
}

export function agentInfo(name: string, status: AgentStatus = 'running', id: string = fakeUuid()): AgentInfo {
  return {
    id,
    name,
    status,
    model_backend: 'shell',
    started_at: { secs_since_epoch: 1_700_000_000, nanos_since_epoch: 0 },
    task: `task of ${name}`,
  };
}

/** An agent's details as our server reports them (a running agent unless `over` says otherwise). */
export function agentDetails(over: Partial<AgentDetails> = {}): AgentDetails {
  return runningDetails('a', 1_700_000_000_000, { pid: 4242, ...over });
}

export function serverStatus(serverId: string, over: Partial<ServerStatus> = {}): ServerStatus {
  return {
    serverId,
    state: 'online',
    lastHeardAt: Date.now(),
    lastError: null,
    remoteServerId: 'remote',
    capabilities: ['custom_action', 'batch', 'output_query', 'dedupe', 'status_stream'],
    backends: ['claude', 'opencode', 'shell', '<program>-cli'],
    legacy: false,
    activeAgents: 0,
    pubEndpoint: 'tcp://127.0.0.1:5556',
    pendingCommands: 0,
    nextAttemptAt: null,
    retrying: false,
    handshakeProblem: null,
    ...over,
  };
}

/** A real server public key (libzmq's test vector), so fingerprints are computed, not made up. */
export const SERVER_KEY = 'rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7';
/** A real client public key (libzmq's test vector): what `clientKey` answers by default. */
export const CLIENT_KEY = 'Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID';

export const CURVE: ServerSecurity = { mode: 'curve', serverKey: SERVER_KEY };
export const PLAIN: ServerSecurity = { mode: 'plain' };

/** The client key info the real handler would derive from {@link CLIENT_KEY}. */
export function clientKeyInfo(publicKey = CLIENT_KEY): ClientKeyInfo {
  return { publicKey, fingerprint: curveKeyFingerprint(publicKey), allowCommand: allowCommand(publicKey) };
}

/** A Test connection answer with a plausible message per outcome (tests may override any field). */
export function connectionTest(
  outcome: ConnectionTestOutcome,
  over: Partial<ConnectionTestResult> = {},
): ConnectionTestResult {
  const messages: Record<ConnectionTestOutcome, string> = {
    ok: 'Connected: the server answered a health check.',
    unreachable: 'No TCP connection to 10.0.0.9:5555 within 5 s: connection refused.',
    no_reply: 'Connected, but no health reply within 5 s: is this a descartes server?',
    key_not_allowed: "The server refused this console's key.",
    server_key_mismatch: 'The server could not prove it holds the pinned key.',
    server_is_plain: 'The server speaks plain ZMTP, not CURVE.',
    server_is_encrypted: 'The server requires CURVE; this profile is plain.',
  };
  return {
    outcome,
    message: messages[outcome],
    remoteServerId: outcome === 'ok' ? 'srv-remote' : null,
    serverSecurity: outcome === 'ok' ? 'curve' : null,
    elapsedMs: 12,
    ...over,
  };
}

type Handler = (payload: never) => void;

export class FakeApi {
  readonly calls: { name: ChannelName; input: unknown }[] = [];
  servers: ServerView[] = [];
  readonly agents = new Map<string, Map<string, AgentInfo>>();
  readonly output = new Map<string, OutputLine[]>();
  /** Agents whose stdout is `n` generated lines ("line 0" …), without holding them in memory. */
  readonly synthetic = new Map<string, number>();
  readonly commands = new Map<string, QueuedCommand>();
  /** What `queueHealth` answers: quarantined commands and repair notices, as a test sets them. */
  quarantined: QuarantinedCommand[] = [];
  notices: QueueNotice[] = [];
  /** Agents whose commands (control and batch) fail. */
  readonly failing = new Set<string>();
  /**
   * Cooperative agents that have not acknowledged a pause: `pause` (without force) leaves them
   * running and the reply's data says `{"pending": "pause"}`, as our server reports it.
   */
  readonly slowToPause = new Set<string>();
  /** The reason a failing agent's batch result gives (default "Agent is not running"). */
  readonly failReason = new Map<string, string>();
  /** When true, mutating commands are queued instead of run. */
  offline = false;
  readonly subscriptions = new Map<string, { kind: 'status' | 'logs'; serverId: string; agentId?: string }>();
  readonly handlers = new Map<ConsoleEventName, Set<Handler>>();
  /** Makes a query fail with this server error (e.g. a rejected pattern). */
  queryError: string | null = null;
  /**
   * Lines the "server" dropped per agent (default none): successful query replies then carry
   * the dropped-lines notice in `error`, as our server does.
   */
  readonly dropped = new Map<string, number>();
  /** False: the "server" lacks `output_line_numbers` (pages carry no numbers, as a Rust peer's). */
  lineNumbers = true;
  /** What `agentDetails` answers per agent id (agents not here are left out, as the server does). */
  readonly details = new Map<string, AgentDetails>();
  /** Holds `queryOutput`, `batchControl` and `sendAction` replies until resolved (to observe progress). */
  gate: Promise<void> | null = null;
  exported: string | null = null;
  /** What the next `testConnection` answers (the default says the server is reachable and encrypted). */
  nextTest: ConnectionTestResult = connectionTest('ok');
  /** Holds `testConnection` replies until resolved (to observe the busy state). */
  testGate: Promise<void> | null = null;
  /** Holds `restartEmbeddedServer` replies until resolved (to observe the busy state). */
  restartGate: Promise<void> | null = null;
  /** What the next `restartEmbeddedServer` fails with, or null to succeed (the server then turns online). */
  restartError: IpcResult<never> | null = null;
  /** What `clientKey` answers: the info, or an IPC failure. */
  clientKeyResult: IpcResult<ClientKeyInfo> = ok(clientKeyInfo());
  private seq = 0;
  /** What `appInfo` says of the local agent server that did not start (null: nothing to say). */
  embeddedServerProblem: string | null = null;

  addServer(
    name: string,
    over: Partial<ServerStatus> = {},
    embedded = false,
    security: ServerSecurity = CURVE,
    endpoint = 'tcp://127.0.0.1:19001',
  ): string {
    const id = fakeUuid();
    this.servers.push({
      profile: { id, name, endpoint, heartbeatIntervalMs: null, embedded, security },
      status: serverStatus(id, over),
    });
    this.agents.set(id, new Map());
    return id;
  }

  addAgents(serverId: string, count: number, status: AgentStatus = 'running'): AgentInfo[] {
    const map = this.agents.get(serverId);
    if (!map) throw new Error(`no server ${serverId}`);
    const out: AgentInfo[] = [];
    for (let i = 0; i < count; i++) {
      const info = agentInfo(`agent-${String(i).padStart(5, '0')}`, status);
      map.set(info.id, info);
      out.push(info);
    }
    return out;
  }

  /** Pushes an event to every listener, as main's coalesced batches do. */
  emit<K extends ConsoleEventName>(name: K, payload: ConsoleEvents[K]): void {
    for (const handler of this.handlers.get(name) ?? []) (handler as (p: ConsoleEvents[K]) => void)(payload);
  }

  listenerCount(name: ConsoleEventName): number {
    return this.handlers.get(name)?.size ?? 0;
  }

  callsOf(name: ChannelName): unknown[] {
    return this.calls.filter((c) => c.name === name).map((c) => c.input);
  }

  makeCommand(
    serverId: string,
    request: RequestMessage,
    state: CommandState,
    over: Partial<QueuedCommand> = {},
  ): QueuedCommand {
    const now = Date.now();
    const command: QueuedCommand = {
      id: request.request_id,
      seq: ++this.seq,
      serverId,
      kind: request.type,
      request,
      state,
      createdAt: now,
      updatedAt: now,
      sentAt: state === 'queued' ? null : now,
      settledAt: state === 'queued' || state === 'sending' ? null : now,
      attempts: state === 'queued' ? 0 : 1,
      expiresAt: null,
      outcome: null,
      summary: summarizeRequest(request),
      retryOf: null,
      ...over,
    };
    this.commands.set(command.id, command);
    return command;
  }

  private parse<K extends ChannelName>(
    name: K,
    input: unknown,
  ): { ok: true; value: InputOf<K> } | { ok: false; result: IpcResult<never> } {
    this.calls.push({ name, input });
    const parsed = schemas[name].safeParse(input);
    if (!parsed.success) return { ok: false, result: fail('invalid_input', describeIssues(parsed.error)) };
    return { ok: true, value: input as InputOf<K> };
  }

  private agent(serverId: string, agentId: string): AgentInfo | null {
    return this.agents.get(serverId)?.get(agentId) ?? null;
  }

  private settle<R>(
    serverId: string,
    request: RequestMessage,
    reply: R,
    success: boolean,
    expiresAt?: number | null,
  ): CommandResult<R> {
    if (this.offline) {
      const command = this.makeCommand(serverId, request, 'queued', { expiresAt: expiresAt ?? null });
      return { status: 'queued', command };
    }
    const command = this.makeCommand(serverId, request, success ? 'succeeded' : 'failed', {
      outcome: { kind: 'reply', success, error: success ? null : 'failed', detail: 'done', agentId: null },
    });
    return { status: 'done', command, reply };
  }

  api(): ConsoleApi {
    const api: ConsoleApi = {
      appInfo: () => {
        this.calls.push({ name: 'appInfo', input: undefined });
        return Promise.resolve(
          ok({
            version: '0.1.0',
            host: 'browser',
            dataDir: '/tmp/descartes',
            embeddedServer: null,
            embeddedServerProblem: this.embeddedServerProblem,
            platform: 'linux',
          }),
        );
      },
      listServers: () => {
        this.calls.push({ name: 'listServers', input: undefined });
        return Promise.resolve(ok(this.servers.map((s) => ({ ...s }))));
      },
      addServer: (input) => {
        const p = this.parse('addServer', input);
        if (!p.ok) return Promise.resolve(p.result);
        const id = this.addServer(p.value.name, {}, false, p.value.security, p.value.endpoint);
        const view = this.servers.find((s) => s.profile.id === id);
        if (!view) return Promise.resolve(fail('internal', 'lost'));
        return Promise.resolve(ok(view.profile));
      },
      updateServer: (input) => {
        const p = this.parse('updateServer', input);
        if (!p.ok) return Promise.resolve(p.result);
        const view = this.servers.find((s) => s.profile.id === p.value.serverId);
        if (!view) return Promise.resolve(fail('not_found', `No server ${p.value.serverId}.`));
        const { name, endpoint, security } = p.value.input;
        const heartbeatIntervalMs = p.value.input.heartbeatIntervalMs ?? null;
        const profile = { ...view.profile, name, endpoint, security, heartbeatIntervalMs };
        this.servers = this.servers.map((s) => (s === view ? { profile, status: s.status } : s));
        return Promise.resolve(ok(profile));
      },
      removeServer: (input) => {
        const p = this.parse('removeServer', input);
        if (!p.ok) return Promise.resolve(p.result);
        this.servers = this.servers.filter((s) => s.profile.id !== p.value.serverId);
        return Promise.resolve(ok(null));
      },
      restartEmbeddedServer: async (input) => {
        const p = this.parse('restartEmbeddedServer', input);
        if (!p.ok) return p.result;
        const view = this.servers.find((s) => s.profile.id === p.value.serverId);
        if (!view?.profile.embedded) return fail('not_found', 'Not the local agent server.');
        if (this.restartGate) await this.restartGate;
        if (this.restartError) return this.restartError;
        // As main does: the server is back and its status says so.
        const status = serverStatus(view.profile.id, { state: 'online' });
        this.servers = this.servers.map((s) => (s === view ? { profile: s.profile, status } : s));
        this.emit('servers', [status]);
        return ok(null);
      },
      testConnection: async (input) => {
        const p = this.parse('testConnection', input);
        if (!p.ok) return p.result;
        if (this.testGate) await this.testGate;
        return ok(this.nextTest);
      },
      clientKey: () => {
        this.calls.push({ name: 'clientKey', input: undefined });
        return Promise.resolve(this.clientKeyResult);
      },
      health: (input) => {
        const p = this.parse('health', input);
        if (!p.ok) return Promise.resolve(p.result);
        return Promise.resolve(
          ok({
            type: 'health_check_response',
            request_id: fakeUuid(),
            healthy: true,
            protocol_version: '1.0.0',
          }),
        );
      },
      listAgents: (input) => {
        const p = this.parse('listAgents', input);
        if (!p.ok) return Promise.resolve(p.result);
        const map = this.agents.get(p.value.serverId);
        if (!map) return Promise.resolve(fail('not_found', `No server ${p.value.serverId}.`));
        let list = [...map.values()].map((a) => ({ ...a }));
        if (p.value.status) list = list.filter((a) => a.status === p.value.status);
        return Promise.resolve(ok(list.slice(0, p.value.limit ?? list.length)));
      },
      spawnAgent: (input) => {
        const p = this.parse('spawnAgent', input);
        if (!p.ok) return Promise.resolve(p.result);
        const info = agentInfo(p.value.config.name, 'running');
        info.model_backend = p.value.config.model_backend;
        info.task = p.value.config.task;
        const request = {
          type: 'spawn_request' as const,
          request_id: fakeUuid(),
          config: { ...p.value.config, environment: p.value.config.environment ?? {} },
        };
        if (!this.offline) this.agents.get(p.value.serverId)?.set(info.id, info);
        return Promise.resolve(
          ok(
            this.settle(
              p.value.serverId,
              request,
              {
                type: 'spawn_response' as const,
                request_id: request.request_id,
                success: true,
                agent_info: info,
              },
              true,
              p.value.expiresAt,
            ),
          ),
        );
      },
      controlAgent: (input) => {
        const p = this.parse('controlAgent', input);
        if (!p.ok) return Promise.resolve(p.result);
        const { serverId, agentId, command } = p.value;
        const request = {
          type: 'control_command' as const,
          request_id: fakeUuid(),
          agent_id: agentId,
          command_type: command,
        };
        const agent = this.agent(serverId, agentId);
        const success = agent !== null && !this.failing.has(agentId);
        let status: AgentStatus | null = agent?.status ?? null;
        const pending = command === 'pause' && p.value.payload === undefined && this.slowToPause.has(agentId);
        if (agent !== null && success) {
          if (command === 'pause' && !pending) agent.status = 'paused';
          if (command === 'resume') agent.status = 'running';
          if (command === 'stop' || command === 'kill') agent.status = 'terminated';
          status = agent.status;
        }
        const reply = {
          type: 'command_response' as const,
          request_id: request.request_id,
          agent_id: agentId,
          success,
          status,
          data: pending ? { pending: 'pause' } : null,
          error: success ? null : agent ? 'Agent is not running' : `Agent not found: ${agentId}`,
        };
        return Promise.resolve(ok(this.settle(serverId, request, reply, success, p.value.expiresAt)));
      },
      sendAction: async (input) => {
        const p = this.parse('sendAction', input);
        if (!p.ok) return p.result;
        if (this.gate) await this.gate;
        const request = {
          type: 'custom_action_request' as const,
          request_id: fakeUuid(),
          agent_id: p.value.agentId,
          action: p.value.action,
        };
        let data: JsonValue = null;
        let success = true;
        let error: string | null = null;
        if (p.value.action === 'list_actions') {
          data = [
            { name: 'echo', description: 'Returns its params', params_schema: { type: 'object' } },
            { name: 'ping', description: 'Answers pong', params_schema: null },
          ];
        } else if (p.value.action === 'echo') {
          data = (p.value.params ?? null) as JsonValue;
        } else {
          success = false;
          error = `unknown action ${p.value.action}`;
        }
        const reply = {
          type: 'command_response' as const,
          request_id: request.request_id,
          agent_id: p.value.agentId,
          success,
          data,
          error,
        };
        return ok(this.settle(p.value.serverId, request, reply, success, p.value.expiresAt));
      },
      batchControl: async (input) => {
        const p = this.parse('batchControl', input);
        if (!p.ok) return p.result;
        if (this.gate) await this.gate;
        const results = [];
        for (const agentId of new Set(p.value.agentIds)) {
          const success = this.agent(p.value.serverId, agentId) !== null && !this.failing.has(agentId);
          results.push({
            agent_id: agentId,
            success,
            status: success ? ('paused' as const) : null,
            error: success ? null : (this.failReason.get(agentId) ?? 'Agent is not running'),
          });
          if (!success && p.value.failFast) break;
        }
        const failed = results.filter((r) => !r.success).length;
        const request = {
          type: 'batch_control_command' as const,
          request_id: fakeUuid(),
          agent_ids: p.value.agentIds,
          command_type: p.value.command,
          fail_fast: p.value.failFast,
        };
        const reply = {
          type: 'batch_control_response' as const,
          request_id: request.request_id,
          success: failed === 0 && results.length === new Set(p.value.agentIds).size,
          results,
          successful: results.length - failed,
          failed,
        };
        return ok(this.settle(p.value.serverId, request, reply, reply.success, p.value.expiresAt));
      },
      agentDetails: (input) => {
        const p = this.parse('agentDetails', input);
        if (!p.ok) return Promise.resolve(p.result);
        const found = p.value.agentIds.flatMap((id) => {
          const d = this.details.get(id);
          return d ? [d] : [];
        });
        return Promise.resolve(ok(found));
      },
      queryOutput: async (input) => {
        const p = this.parse('queryOutput', input);
        if (!p.ok) return p.result;
        if (this.gate) await this.gate;
        const base = {
          type: 'output_query_response' as const,
          request_id: fakeUuid(),
          agent_id: p.value.agentId,
        };
        if (this.queryError !== null)
          return ok({ ...base, success: false, lines: [], has_more: false, error: this.queryError });
        const filter = parseOutputFilter(p.value.filter ?? '');
        if (!filter.ok) {
          return ok({ ...base, success: false, lines: [], has_more: false, error: filterErrorText(filter) });
        }
        const regex = filter.regex;
        const generated = this.synthetic.get(p.value.agentId);
        if (generated !== undefined && !regex && p.value.stream !== 'stderr') {
          const offset = p.value.offset ?? 0;
          const end = Math.min(generated, offset + (p.value.limit ?? 100));
          const lines = Array.from({ length: Math.max(0, end - offset) }, (_, i) => `line ${offset + i}`);
          const numbered = this.lineNumbers
            ? {
                line_numbers: lines.map((_, i) => offset + i + 1),
                streams: lines.map(() => 'stdout' as const),
              }
            : {};
          return ok({
            ...base,
            success: true,
            lines,
            total_lines: generated,
            has_more: end < generated,
            ...numbered,
          });
        }
        const all = this.output.get(p.value.agentId) ?? [];
        const dropped = this.dropped.get(p.value.agentId) ?? 0;
        // Numbered as docs/PROTOCOL.md §4.4 says: place among the stream's lines, dropped ones first.
        const matching: { text: string; number: number; stream: 'stdout' | 'stderr' }[] = [];
        let place = dropped;
        for (const line of all) {
          if (p.value.stream !== 'both' && line.stream !== p.value.stream) continue;
          place++;
          if (regex && !regex.test(line.text)) continue;
          matching.push({ text: line.text, number: place, stream: line.stream });
        }
        const offset = p.value.offset ?? 0;
        const limit = p.value.limit ?? 100;
        const page = matching.slice(offset, offset + limit);
        return ok({
          ...base,
          success: true,
          lines: page.map((l) => l.text),
          total_lines: matching.length,
          has_more: offset + page.length < matching.length,
          error: dropped > 0 ? droppedLinesNotice(dropped) : null,
          ...(this.lineNumbers
            ? {
                line_numbers: page.map((l) => l.number),
                ...(p.value.stream === 'both' ? { streams: page.map((l) => l.stream) } : {}),
              }
            : {}),
        });
      },
      listQueue: (input) => {
        const p = this.parse('listQueue', input);
        if (!p.ok) return Promise.resolve(p.result);
        const states = p.value.states;
        return Promise.resolve(
          ok(
            [...this.commands.values()].filter(
              (c) =>
                (!states || states.includes(c.state)) &&
                (!p.value.serverId || c.serverId === p.value.serverId),
            ),
          ),
        );
      },
      history: (input) => {
        const p = this.parse('history', input);
        if (!p.ok) return Promise.resolve(p.result);
        const settled = [...this.commands.values()]
          .filter((c) => c.settledAt !== null && !['queued', 'sending'].includes(c.state))
          .filter((c) => !p.value.serverId || c.serverId === p.value.serverId)
          .sort((a, b) => (b.settledAt ?? 0) - (a.settledAt ?? 0) || b.seq - a.seq);
        const before = p.value.before;
        const page = before
          ? settled.filter(
              (c) =>
                (c.settledAt ?? 0) < before.settledAt ||
                ((c.settledAt ?? 0) === before.settledAt && c.seq < before.seq),
            )
          : settled;
        return Promise.resolve(ok(page.slice(0, p.value.limit ?? 100)));
      },
      cancelCommand: (input) => {
        const p = this.parse('cancelCommand', input);
        if (!p.ok) return Promise.resolve(p.result);
        const command = this.commands.get(p.value.id);
        if (!command) return Promise.resolve(fail('not_found', `No command ${p.value.id}.`));
        if (command.state !== 'queued' && command.state !== 'timed_out') {
          return Promise.resolve(
            fail('conflict', `The command is ${command.state} and can no longer be cancelled.`),
          );
        }
        const cancelled: QueuedCommand = {
          ...command,
          state: 'cancelled',
          settledAt: Date.now(),
          outcome: { kind: 'cancelled', reason: 'cancelled by the operator' },
        };
        this.commands.set(cancelled.id, cancelled);
        return Promise.resolve(ok(cancelled));
      },
      retryCommand: (input) => {
        const p = this.parse('retryCommand', input);
        if (!p.ok) return Promise.resolve(p.result);
        const command = this.commands.get(p.value.id);
        if (!command) return Promise.resolve(fail('not_found', `No command ${p.value.id}.`));
        if (!canRetry(command.state)) {
          return Promise.resolve(fail('conflict', `The command is ${command.state} and cannot be retried.`));
        }
        // docs/ARCHITECTURE.md §3.5: the same command while its outcome is unknown, else a new one.
        const retried: QueuedCommand = isOutcomeUnknown(command)
          ? { ...command, state: 'queued', settledAt: null, outcome: null }
          : this.makeCommand(command.serverId, { ...command.request, request_id: fakeUuid() }, 'queued', {
              retryOf: command.id,
            });
        this.commands.set(retried.id, retried);
        return Promise.resolve(ok(retried));
      },
      queueHealth: (input) => {
        const p = this.parse('queueHealth', input);
        if (!p.ok) return Promise.resolve(p.result);
        const serverId = p.value.serverId;
        return Promise.resolve(
          ok({
            quarantined: this.quarantined.filter((q) => serverId === undefined || q.serverId === serverId),
            notices: [...this.notices],
          }),
        );
      },
      discardQuarantined: (input) => {
        const p = this.parse('discardQuarantined', input);
        if (!p.ok) return Promise.resolve(p.result);
        const found = this.quarantined.find((q) => q.entry === p.value.entry);
        if (!found)
          return Promise.resolve(
            fail('not_found', `No quarantined command with entry number ${p.value.entry}.`),
          );
        this.quarantined = this.quarantined.filter((q) => q !== found);
        return Promise.resolve(ok(found));
      },
      dismissQueueNotice: (input) => {
        const p = this.parse('dismissQueueNotice', input);
        if (!p.ok) return Promise.resolve(p.result);
        if (!this.notices.some((n) => n.id === p.value.id)) {
          return Promise.resolve(fail('not_found', `No queue notice ${p.value.id}.`));
        }
        this.notices = this.notices.filter((n) => n.id !== p.value.id);
        return Promise.resolve(ok(null));
      },
      exportHistory: (input) => {
        const p = this.parse('exportHistory', input);
        if (!p.ok) return Promise.resolve(p.result);
        const rows = [...this.commands.values()];
        this.exported =
          p.value.format === 'json'
            ? JSON.stringify(rows)
            : ['id,state,summary', ...rows.map((c) => `${c.id},${c.state},"${c.summary}"`)].join('\n');
        return Promise.resolve(ok(this.exported));
      },
      subscribeStatus: (input) => {
        const p = this.parse('subscribeStatus', input);
        if (!p.ok) return Promise.resolve(p.result);
        const subscriptionId = `status-${fakeUuid()}`;
        this.subscriptions.set(subscriptionId, { kind: 'status', serverId: p.value.serverId });
        return Promise.resolve(ok({ subscriptionId }));
      },
      tailLogs: (input) => {
        const p = this.parse('tailLogs', input);
        if (!p.ok) return Promise.resolve(p.result);
        const subscriptionId = `logs-${fakeUuid()}`;
        this.subscriptions.set(subscriptionId, {
          kind: 'logs',
          serverId: p.value.serverId,
          agentId: p.value.agentId,
        });
        return Promise.resolve(ok({ subscriptionId }));
      },
      unsubscribe: (input) => {
        const p = this.parse('unsubscribe', input);
        if (!p.ok) return Promise.resolve(p.result);
        if (!this.subscriptions.delete(p.value.subscriptionId)) {
          return Promise.resolve(fail('not_found', `No subscription ${p.value.subscriptionId}.`));
        }
        return Promise.resolve(ok(null));
      },
      on: (name, handler) => {
        let set = this.handlers.get(name);
        if (!set) {
          set = new Set();
          this.handlers.set(name, set);
        }
        const h = handler as Handler;
        set.add(h);
        return () => {
          set.delete(h);
        };
      },
    };
    return api;
  }
}

/** Type-level check that the fake's outputs match the contract. */
export type FakeOutputs = ApiOutputs;
