/**
 * A test double of the console core for the UI benchmark: the real browser host, the real
 * WebSocket event path and the real per-client {@link EventBatcher} (≤ 20 batches/s), but the
 * data comes from a generator instead of agent servers, which cannot produce 10,000 status
 * updates per second for 10,000 agents or keep a 1,000,000-line output on demand.
 */
import { randomUUID } from 'node:crypto';
import { allowCommand, curveKeyFingerprint } from '../../shared/domain/curveKey';
import type { ServerStatus } from '../../shared/domain/server';
import type { ServerView } from '../../shared/ipc';
import type { AgentInfo, AgentStatus, OutputQueryResponse, StatusUpdate } from '../../shared/protocol';
import type { ClientContext } from '../../main/core/ipc/clientContext';
import type { ConsoleHandlers, HandlerTable } from '../../main/core/ipc/consoleHandlers';
import { EventBatcher } from '../../main/core/ipc/eventBatcher';

export const BENCH_SERVER_ID = '00000000-0000-4000-8000-00000000b001';
export const BENCH_SERVER_NAME = 'bench server';
/** A fixed, well-formed client key (libzmq's test vector); nothing connects with it. */
const BENCH_CLIENT_KEY = 'Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID';

export interface SyntheticConsoleOptions {
  /** Agents the server lists. */
  agents: number;
  /** Lines of every agent's output. */
  outputLines: number;
  /**
   * Servers the agents are spread over, in equal shares (default 1): the first is
   * {@link BENCH_SERVER_ID}, named {@link BENCH_SERVER_NAME}; the others `bench server N`.
   */
  servers?: number;
}

/** Handlers plus the knobs the benchmark turns. */
export interface SyntheticConsole {
  readonly handlers: ConsoleHandlers;
  /** Agent ids, in list order. */
  readonly agentIds: readonly string[];
  /** What `listAgents` answers for each server, by server id. */
  readonly agentsByServer: ReadonlyMap<string, readonly AgentInfo[]>;
  /**
   * Pushes `perSecond` status updates per second (in 10 ms slices) to every client subscribed
   * to the bench server, through its EventBatcher, for `seconds`. Resolves with how many were
   * generated.
   */
  flood(perSecond: number, seconds: number): Promise<number>;
  /** queryOutput calls answered so far. */
  outputQueries(): number;
  /**
   * Pushes `linesPerSecond` output lines per second per tailed agent (in 10 ms slices, one
   * chunk per tail and slice) to every `tailLogs` subscription, through its client's
   * EventBatcher, for `seconds`. Resolves with how many lines were generated.
   */
  tails(linesPerSecond: number, seconds: number): Promise<number>;
  /** Live `tailLogs` subscriptions. */
  tailCount(): number;
}

const BUSY: readonly AgentStatus[] = ['running', 'thinking'];

function uuidFor(i: number): string {
  return `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
}

function outputLine(i: number): string {
  return `${String(i).padStart(7, '0')} synthetic output: step ${i % 977} of job ${Math.floor(i / 977)}, all good`;
}

/**
 * Calls `slice(perSlice, index)` every 10 ms for `seconds`, with `perSlice` = `perSecond` per
 * 10 ms (at least 1), keeping the rate: it sleeps until each slice's due time and never drifts
 * ahead of the clock. Resolves with the sum of what the slices returned.
 */
async function paced(
  perSecond: number,
  seconds: number,
  slice: (perSlice: number, index: number) => number,
): Promise<number> {
  const sliceMs = 10;
  const perSlice = Math.max(1, Math.round((perSecond * sliceMs) / 1000));
  const start = Date.now();
  const end = start + seconds * 1000;
  let total = 0;
  let index = 0;
  while (Date.now() < end) {
    total += slice(perSlice, index);
    index++;
    const due = start + index * sliceMs;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - Date.now())));
  }
  return total;
}

/**
 * Builds the synthetic console.
 * @throws RangeError when `agents` or `outputLines` is not a positive integer
 */
export function createSyntheticConsole(options: SyntheticConsoleOptions): SyntheticConsole {
  const { agents, outputLines } = options;
  const serverCount = options.servers ?? 1;
  if (!Number.isInteger(agents) || agents < 1) throw new RangeError(`agents must be >= 1, got ${agents}`);
  if (!Number.isInteger(serverCount) || serverCount < 1 || agents % serverCount !== 0)
    throw new RangeError(`servers must be >= 1 and divide agents, got ${serverCount}`);
  if (!Number.isInteger(outputLines) || outputLines < 1)
    throw new RangeError(`outputLines must be >= 1, got ${outputLines}`);
  const now = Math.floor(Date.now() / 1000);
  const agentIds = Array.from({ length: agents }, (_, i) => uuidFor(i + 1));
  const infos: AgentInfo[] = agentIds.map((id, i) => ({
    id,
    name: `agent-${String(i).padStart(5, '0')}`,
    status: BUSY[i % 2] ?? 'running',
    model_backend: i % 3 === 0 ? 'claude' : 'shell',
    started_at: { secs_since_epoch: now - (i % 3600), nanos_since_epoch: 0 },
    task: `synthetic task ${i}`,
    paused_at: null,
    pause_mode: null,
    attach_info: null,
  }));

  const perServer = agents / serverCount;
  const serverIds = Array.from({ length: serverCount }, (_, k) =>
    k === 0 ? BENCH_SERVER_ID : `00000000-0000-4000-8000-${(0xb001 + k).toString(16).padStart(12, '0')}`,
  );
  const agentsByServer = new Map(
    serverIds.map((id, k) => [id, infos.slice(k * perServer, (k + 1) * perServer)]),
  );
  const status: ServerStatus = {
    serverId: BENCH_SERVER_ID,
    state: 'online',
    lastHeardAt: Date.now(),
    lastError: null,
    remoteServerId: 'srv-bench',
    capabilities: ['custom_action', 'batch', 'output_query', 'dedupe', 'status_stream'],
    legacy: false,
    activeAgents: perServer,
    pubEndpoint: 'tcp://127.0.0.1:1',
    pendingCommands: 0,
    nextAttemptAt: null,
    retrying: false,
    handshakeProblem: null,
  };
  const statuses: ServerStatus[] = serverIds.map((serverId) => ({ ...status, serverId }));
  const views: ServerView[] = serverIds.map((id, k) => ({
    profile: {
      id,
      name: k === 0 ? BENCH_SERVER_NAME : `bench server ${k + 1}`,
      endpoint: 'tcp://127.0.0.1:1',
      heartbeatIntervalMs: null,
      embedded: false,
      // The synthetic server has no sockets; plain says so without inventing a key to pin.
      security: { mode: 'plain' },
    },
    status: statuses[k] ?? status,
  }));

  const batchers = new Map<string, EventBatcher>();
  /** subscriptionId → client id, for status subscriptions. */
  const statusSubs = new Map<string, string>();
  /** subscriptionId → client id and agent, for log tails. */
  const tailSubs = new Map<string, { client: string; agentId: string }>();
  let queries = 0;
  let seq = 0;

  const unavailable = (what: string): never => {
    throw new Error(`${what} is not available in the UI benchmark`);
  };

  const table: HandlerTable = {
    appInfo: () => ({
      version: 'bench',
      host: 'browser',
      dataDir: '(synthetic)',
      embeddedServer: null,
      embeddedServerProblem: null,
      platform: process.platform,
    }),
    listServers: () => views,
    addServer: () => unavailable('addServer'),
    updateServer: () => unavailable('updateServer'),
    removeServer: () => unavailable('removeServer'),
    restartEmbeddedServer: () => unavailable('restartEmbeddedServer'),
    testConnection: () => unavailable('testConnection'),
    // The servers view asks for this console's key on every load: answer rather than log errors.
    clientKey: () => ({
      publicKey: BENCH_CLIENT_KEY,
      fingerprint: curveKeyFingerprint(BENCH_CLIENT_KEY),
      allowCommand: allowCommand(BENCH_CLIENT_KEY),
    }),
    health: () => unavailable('health'),
    listAgents: (input) => {
      const list = agentsByServer.get(input.serverId) ?? [];
      return list.slice(0, input.limit ?? list.length);
    },
    spawnAgent: () => unavailable('spawnAgent'),
    controlAgent: () => unavailable('controlAgent'),
    sendAction: () => unavailable('sendAction'),
    batchControl: () => unavailable('batchControl'),
    // As a server without the agent_details capability answers.
    agentDetails: () => [],
    queryOutput: (input): OutputQueryResponse => {
      queries++;
      const offset = Math.min(input.offset ?? 0, outputLines);
      const limit = input.limit ?? 100;
      const end = Math.min(outputLines, offset + limit);
      const lines: string[] = [];
      for (let i = offset; i < end; i++) lines.push(outputLine(i));
      return {
        type: 'output_query_response',
        request_id: randomUUID(),
        agent_id: input.agentId,
        success: true,
        lines,
        total_lines: outputLines,
        has_more: end < outputLines,
        error: null,
      };
    },
    listQueue: () => [],
    history: () => [],
    cancelCommand: () => unavailable('cancelCommand'),
    retryCommand: () => unavailable('retryCommand'),
    queueHealth: () => ({ quarantined: [], notices: [] }),
    discardQuarantined: () => unavailable('discardQuarantined'),
    dismissQueueNotice: () => unavailable('dismissQueueNotice'),
    exportHistory: () => unavailable('exportHistory'),
    subscribeStatus: (_input, client) => {
      const subscriptionId = randomUUID();
      statusSubs.set(subscriptionId, client.id);
      return { subscriptionId };
    },
    tailLogs: (input, client) => {
      const subscriptionId = randomUUID();
      tailSubs.set(subscriptionId, { client: client.id, agentId: input.agentId });
      return { subscriptionId };
    },
    unsubscribe: (input) => {
      statusSubs.delete(input.subscriptionId);
      tailSubs.delete(input.subscriptionId);
      return null;
    },
  };

  const attach = (client: ClientContext): void => {
    if (batchers.has(client.id)) return;
    const batcher = new EventBatcher((envelopes) => {
      client.push(envelopes);
    });
    batchers.set(client.id, batcher);
    batcher.add({ name: 'servers', payload: statuses });
    client.onClose(() => {
      batcher.dispose();
      batchers.delete(client.id);
      for (const [sub, owner] of statusSubs) if (owner === client.id) statusSubs.delete(sub);
      for (const [sub, tail] of tailSubs) if (tail.client === client.id) tailSubs.delete(sub);
    });
  };

  const flood = (perSecond: number, seconds: number): Promise<number> => {
    let generated = 0;
    return paced(perSecond, seconds, (perSlice) => {
      const updates: StatusUpdate[] = [];
      const t = Date.now();
      for (let k = 0; k < perSlice; k++) {
        const i = (generated + k) % agents;
        seq++;
        updates.push({
          type: 'status_update',
          agent_id: agentIds[i] ?? uuidFor(1),
          update_type: 'status_changed',
          status: BUSY[(seq + i) % 2] ?? 'running',
          message: `tick ${seq}`,
          data: { seq },
          timestamp: { secs_since_epoch: Math.floor(t / 1000), nanos_since_epoch: (t % 1000) * 1_000_000 },
        });
      }
      generated += updates.length;
      const owners = new Set(statusSubs.values());
      for (const owner of owners) {
        batchers.get(owner)?.add({ name: 'status', payload: { serverId: BENCH_SERVER_ID, updates } });
      }
      return updates.length;
    });
  };

  const sequences = new Map<string, number>();
  const tails = (linesPerSecond: number, seconds: number): Promise<number> =>
    paced(linesPerSecond, seconds, (perSlice, slice) => {
      let lines = 0;
      for (const [subscriptionId, tail] of tailSubs) {
        const first = sequences.get(subscriptionId) ?? 0;
        let text = '';
        for (let k = 0; k < perSlice; k++) text += `${outputLine(first + k)}\n`;
        sequences.set(subscriptionId, first + perSlice);
        lines += perSlice;
        batchers.get(tail.client)?.add({
          name: 'logs',
          payload: { subscriptionId, chunks: [{ stream: 'stdout', text, sequence: slice }] },
        });
      }
      return lines;
    });

  const handlers: ConsoleHandlers = {
    table,
    attach,
    clientCount: () => batchers.size,
    subscriptionCount: () => statusSubs.size,
    dispose: () => {
      for (const b of batchers.values()) b.dispose();
      batchers.clear();
      statusSubs.clear();
      tailSubs.clear();
    },
  };
  return {
    handlers,
    agentIds,
    agentsByServer,
    flood,
    outputQueries: () => queries,
    tails,
    tailCount: () => tailSubs.size,
  };
}
