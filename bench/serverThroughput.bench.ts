/**
 * Agent server throughput (issue 14 item 5), each against a raw baseline measured in the same
 * run, in interleaved rounds (who goes first alternates), medians, every round printed:
 *
 * - `spawn`: 200 spawn requests for a short agent (`true`, a backend of the bench's config
 *   file), pipelined through one DEALER to our server (`server/cli.ts` in a child process,
 *   `--insecure`, a fresh state dir, so agent records are written as in production), timed
 *   until all 200 `spawn_response`s have arrived, each `success` (the server answers once the
 *   child's `spawn` event has come, i.e. the agent is reported started, not exited) vs 200
 *   `child_process.spawn('true')` in this process until all 200 have emitted `spawn`. Goal:
 *   ours/raw agents per second ≥ 0.7. Between rounds both wait (untimed) until every agent
 *   has exited.
 * - `ingest`: one agent running `seq 1000000` (backend `seq` of the config file, its line store
 *   raised to hold 1,000,000 lines), timed from sending the spawn request until its `completed`
 *   status update (published once the child has exited and its pipes are drained, so every line
 *   is stored and queryable; an output query then checks `total_lines`) vs the same child
 *   spawned here, its stdout read and split into lines (offsets of each line kept, the chunks
 *   kept) until `close`. Goal: ours/raw lines per second ≥ 0.7.
 * - `pub fan-out`: 8,000 events (alternately a 100-byte `log_stream` and an `output_available`
 *   `status_update`) published through the server's `Publisher` (plain, bound in this process)
 *   vs a bare zeromq.js PUB with the same options sending the same events pre-encoded (the same
 *   `<topic>\0<msgpack>` frames), both paced alike (500 events per event-loop turn), to the
 *   same 10 SUB sockets in a child process (`fixtures/subscribers.ts`); timed until all 10 have
 *   received the round's end marker. Goal: ours/raw events per second ≥ 0.7. Each round's
 *   per-subscriber count is checked (no event may be lost: 8,000 stays below the PUB's
 *   high-water mark of 10,000 per subscriber).
 *
 * Plain ZMTP on both sides of every comparison (CURVE's cost is `server-curve`'s job, in
 * `server.bench.ts`). Ports 31500–31509. `SERVER_THROUGHPUT=spawn,ingest,fanout` (the default)
 * names the parts to run.
 */
import { randomUUID } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as zmq from 'zeromq';
import {
  decodeMessage,
  encodeMessage,
  MAX_MESSAGE_BYTES,
  type EventMessage,
  type JsonValue,
  type SpawnRequest,
  type ZmqMessage,
} from '../shared/protocol';
import { Publisher } from '../server/publisher';
import { ServerSecurity } from '../server/security/serverSecurity';
import { serverSocketOptions } from '../server/serverSocket';
import { Stats } from '../server/stats';
import { systemTimeNow } from '../server/time';
import { startChild, type Child } from './fixtures/children';
import { encodeRequest, RawDealer } from './fixtures/rawDealer';
import { median, report, result, type BenchResult } from './harness';

/** Endpoints: our server's ROUTER and PUB, and the two PUBs of the fan-out part. */
const [SERVER_BIND, SERVER_PUB, FANOUT_OURS, FANOUT_RAW] = [1, 2, 3, 4].map(
  (n) => `tcp://127.0.0.1:${31500 + n}`,
) as [string, string, string, string];

const SPAWN_AGENTS = 200;
const SPAWN_ROUNDS = 5;
const SPAWN_WARMUP = 20;
const INGEST_LINES = 1_000_000;
/** A round lasts about 0.2 s, so one core busy elsewhere for a moment moves it by tens of percent: many rounds. */
const INGEST_ROUNDS = 15;
const FANOUT_SUBSCRIBERS = 10;
const FANOUT_EVENTS = 8_000;
const FANOUT_PER_TURN = 500;
const FANOUT_ROUNDS = 7;
const MARKER_AGENT = 'ffffffff-ffff-4fff-bfff-ffffffffffff';
const PROBE_OURS = 'eeeeeeee-eeee-4eee-beee-eeeeeeeeeeee';
const PROBE_RAW = 'dddddddd-dddd-4ddd-bddd-dddddddddddd';

const load = (): string => (loadavg()[0] ?? 0).toFixed(1);
const list = (xs: readonly number[]): string => xs.map((x) => Math.round(x)).join(', ');

/** Parts of this bench, in the order they run; env `SERVER_THROUGHPUT=ingest,fanout` runs only those. */
const PARTS = ['spawn', 'ingest', 'fanout'] as const;

export async function run(): Promise<void> {
  const wanted = (process.env.SERVER_THROUGHPUT ?? PARTS.join(',')).split(',').map((p) => p.trim());
  const unknown = wanted.filter((w) => !(PARTS as readonly string[]).includes(w));
  if (unknown.length > 0) {
    throw new Error(`SERVER_THROUGHPUT: unknown part ${unknown.join(', ')}; parts: ${PARTS.join(', ')}`);
  }
  const results: BenchResult[] = [];
  const dirs: string[] = [];
  let server: Child | null = null;
  let dealer: RawDealer | null = null;
  let sub: zmq.Subscriber | null = null;
  try {
    const dir = mkdtempSync(join(tmpdir(), 'descartes-bench-throughput-'));
    dirs.push(dir);
    const configFile = join(dir, 'config.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        max_agents: 1000,
        line_store: { max_lines: INGEST_LINES, max_bytes: 64 * 1024 * 1024 },
        backends: { true: { argv: ['true'] }, seq: { argv: ['seq', '{task}'] } },
      }),
    );
    server = await startChild('server/cli.ts', [
      '--bind',
      SERVER_BIND,
      '--pub',
      SERVER_PUB,
      '--insecure',
      '--state-dir',
      join(dir, 'state'),
      '--config',
      configFile,
    ]);
    dealer = new RawDealer(SERVER_BIND);
    sub = new zmq.Subscriber({ maxMessageSize: MAX_MESSAGE_BYTES, receiveHighWaterMark: 0, linger: 0 });
    sub.subscribe('status.');
    sub.connect(SERVER_PUB);
    const statuses = new StatusWatch(sub);
    if (wanted.includes('spawn')) results.push(await spawnBench(dealer));
    if (wanted.includes('ingest')) results.push(await ingestBench(dealer, statuses));
    if (wanted.includes('fanout')) results.push(await fanOutBench());
  } finally {
    sub?.close();
    await dealer?.close();
    await server?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
  report('server-throughput', results);
}

/** Interleaved rounds of two measurements, who goes first alternating; prints each round. */
async function rounds(
  label: string,
  n: number,
  ours: () => Promise<number>,
  raw: () => Promise<number>,
  unit: string,
): Promise<{ ours: number[]; raw: number[] }> {
  const o: number[] = [];
  const r: number[] = [];
  for (let i = 0; i < n; i++) {
    if (i % 2 === 0) {
      o.push(await ours());
      r.push(await raw());
    } else {
      r.push(await raw());
      o.push(await ours());
    }
    const a = o[o.length - 1] ?? 0;
    const b = r[r.length - 1] ?? 0;
    console.log(
      `server-throughput ${label}, round ${i + 1}/${n}: ours ${Math.round(a)} ${unit}, raw ${Math.round(b)} ${unit}, ` +
        `ratio ${(a / b).toFixed(2)} (load ${load()})`,
    );
  }
  return { ours: o, raw: r };
}

// ---------------------------------------------------------------------------------------------
// spawn

function spawnRequest(backend: string, task: string): SpawnRequest {
  return {
    type: 'spawn_request',
    request_id: randomUUID(),
    config: { name: `bench-${backend}`, model_backend: backend, task, environment: {} },
  };
}

/** Sends a request and checks the reply's type (and `success`, where it has one). */
async function ask<T extends ZmqMessage['type']>(
  dealer: RawDealer,
  req: Parameters<typeof encodeRequest>[0],
  type: T,
): Promise<Extract<ZmqMessage, { type: T }>> {
  const reply = await dealer.request(encodeRequest(req));
  if (reply.type !== type) throw new Error(`expected ${type}, got ${reply.type}`);
  if ('success' in reply && !reply.success) {
    throw new Error(`${type} failed: ${'error' in reply ? String(reply.error) : '?'}`);
  }
  return reply as Extract<ZmqMessage, { type: T }>;
}

/** Waits (untimed) until the server runs no agent. */
async function serverIdle(dealer: RawDealer): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const health = await ask(
      dealer,
      { type: 'health_check_request', request_id: randomUUID() },
      'health_check_response',
    );
    if (health.active_agents === 0) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('the server still runs agents after 10 s');
}

async function spawnBench(dealer: RawDealer): Promise<BenchResult> {
  const ours = async (agents = SPAWN_AGENTS): Promise<number> => {
    const pool = Array.from({ length: agents }, () => encodeRequest(spawnRequest('true', 'x')));
    const t0 = performance.now();
    const replies = await Promise.all(pool.map((req) => dealer.request(req)));
    const ms = performance.now() - t0;
    for (const reply of replies) {
      if (reply.type !== 'spawn_response' || !reply.success) {
        throw new Error(`spawn failed: ${JSON.stringify(reply)}`);
      }
    }
    await serverIdle(dealer);
    return (agents * 1000) / ms;
  };
  const raw = async (agents = SPAWN_AGENTS): Promise<number> => {
    const exits: Promise<unknown>[] = [];
    const t0 = performance.now();
    const spawned = Array.from({ length: agents }, () => {
      const child = spawn('true', [], { stdio: 'pipe' });
      exits.push(new Promise((resolve) => child.once('close', resolve)));
      return new Promise<void>((resolve, reject) => {
        child.once('spawn', resolve);
        child.once('error', reject);
      });
    });
    await Promise.all(spawned);
    const ms = performance.now() - t0;
    await Promise.all(exits);
    return (agents * 1000) / ms;
  };
  // Warm-up: the server's watchdog starts, JIT in both processes. Spawning is slow on a loaded
  // VM (tens of ms each), so the warm-up is short to keep the whole bench within minutes.
  await ours(SPAWN_WARMUP);
  await raw(SPAWN_WARMUP);
  const loadBefore = load();
  const r = await rounds(
    `spawn ${SPAWN_AGENTS}`,
    SPAWN_ROUNDS,
    () => ours(),
    () => raw(),
    'agents/s',
  );
  return result(
    `spawn ${SPAWN_AGENTS} short agents, pipelined`,
    median(r.ours),
    median(r.raw),
    'agents/s',
    '>= 0.7',
    `until all ${SPAWN_AGENTS} reported started (spawn_response success: the child's spawn event); ` +
      `${SPAWN_ROUNDS} interleaved rounds after a warm-up of ${SPAWN_WARMUP} each, medians; ours: ${list(r.ours)}; raw: ${list(r.raw)}; ` +
      `ours: spawn requests through one DEALER to server/cli.ts --insecure (state dir, records on), ` +
      `backend argv ['true']; raw: child_process.spawn('true') in the bench process; load avg ${loadBefore} → ${load()} (2-core VM)`,
  );
}

// ---------------------------------------------------------------------------------------------
// ingest

/** Remembers the agents whose `completed` (or failure) status update has arrived. */
class StatusWatch {
  private readonly ended = new Map<string, string>();
  private readonly waiting = new Map<string, (update: string) => void>();

  constructor(sub: zmq.Subscriber) {
    void (async () => {
      try {
        for await (const [frame] of sub) {
          if (!frame) continue;
          const nul = frame.indexOf(0);
          const msg = decodeEvent(frame.subarray(nul + 1));
          if (msg?.type !== 'status_update') continue;
          const u = msg.update_type;
          if (u !== 'completed' && u !== 'error' && u !== 'terminated') continue;
          const waiter = this.waiting.get(msg.agent_id);
          if (waiter) {
            this.waiting.delete(msg.agent_id);
            waiter(u);
          } else this.ended.set(msg.agent_id, u);
        }
      } catch {
        // closed
      }
    })();
  }

  /** Resolves with the agent's final update type. */
  end(agentId: string): Promise<string> {
    const done = this.ended.get(agentId);
    if (done !== undefined) {
      this.ended.delete(agentId);
      return Promise.resolve(done);
    }
    return new Promise((resolve) => this.waiting.set(agentId, resolve));
  }
}

async function ingestBench(dealer: RawDealer, statuses: StatusWatch): Promise<BenchResult> {
  const ours = async (): Promise<number> => {
    const req = encodeRequest(spawnRequest('seq', String(INGEST_LINES)));
    const t0 = performance.now();
    const reply = await dealer.request(req);
    if (reply.type !== 'spawn_response' || !reply.success || !reply.agent_info) {
      throw new Error(`spawn failed: ${JSON.stringify(reply)}`);
    }
    const agentId = reply.agent_info.id;
    const end = await statuses.end(agentId);
    const ms = performance.now() - t0;
    if (end !== 'completed') throw new Error(`seq ended with ${end}`);
    const query = await ask(
      dealer,
      {
        type: 'output_query_request',
        request_id: randomUUID(),
        agent_id: agentId,
        stream: 'stdout',
        limit: 1,
      },
      'output_query_response',
    );
    if (query.total_lines !== INGEST_LINES) {
      throw new Error(`the server stored ${String(query.total_lines)} lines, not ${INGEST_LINES}`);
    }
    return (INGEST_LINES * 1000) / ms;
  };
  const raw = (): Promise<number> =>
    new Promise((resolve, reject) => {
      const t0 = performance.now();
      const child = spawn('seq', [String(INGEST_LINES)], { stdio: ['pipe', 'pipe', 'pipe'] });
      const chunks: Buffer[] = [];
      const ends: number[] = [];
      let offset = 0;
      child.stdout.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, nl + 1)) ends.push(offset + nl);
        offset += chunk.length;
      });
      child.once('error', reject);
      child.once('close', () => {
        const ms = performance.now() - t0;
        if (ends.length !== INGEST_LINES) reject(new Error(`raw split ${ends.length} lines`));
        else resolve((INGEST_LINES * 1000) / ms);
      });
    });
  await ours();
  await raw();
  const loadBefore = load();
  const r = await rounds(`ingest ${INGEST_LINES} lines`, INGEST_ROUNDS, ours, raw, 'lines/s');
  return result(
    `ingest one agent's ${INGEST_LINES.toLocaleString('en-US')} lines`,
    median(r.ours),
    median(r.raw),
    'lines/s',
    '>= 0.7',
    `seq ${INGEST_LINES}; ours: from the spawn request until the agent's completed status update ` +
      `(all lines stored; an output query then checks total_lines), server/cli.ts --insecure with ` +
      `line_store.max_lines ${INGEST_LINES}; raw: the same child spawned in the bench process, stdout ` +
      `chunks kept and split at each newline (line end offsets kept) until close; ${INGEST_ROUNDS} ` +
      `interleaved rounds after a warm-up, medians; ours: ${list(r.ours)}; raw: ${list(r.raw)}; ` +
      `load avg ${loadBefore} → ${load()} (2-core VM)`,
  );
}

function decodeEvent(body: Uint8Array): EventMessage | null {
  try {
    const msg = decodeMessage(body);
    return msg.type === 'status_update' || msg.type === 'log_stream' ? msg : null;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// PUB fan-out

/** The events of one round: a 100-byte log line and an output_available update, alternately. */
function fanOutEvents(agentId: string): EventMessage[] {
  const line = Buffer.from(`${'x'.repeat(99)}\n`);
  return Array.from({ length: FANOUT_EVENTS }, (_, i): EventMessage =>
    i % 2 === 0
      ? {
          type: 'log_stream',
          agent_id: agentId,
          stream_type: 'stdout',
          data: line,
          timestamp: systemTimeNow(),
          sequence: i / 2 + 1,
        }
      : {
          type: 'status_update',
          agent_id: agentId,
          update_type: 'output_available',
          status: 'running',
          message: null,
          data: { seq: i, total_lines: i },
          timestamp: systemTimeNow(),
        },
  );
}

/** An update's `data` without the `seq` the publisher assigns itself. */
function statusData(e: EventMessage): Record<string, JsonValue> {
  const data = e.type === 'status_update' && typeof e.data === 'object' && e.data !== null ? e.data : {};
  const { seq: _seq, ...rest } = data as Record<string, JsonValue>;
  return rest;
}

function topicOf(event: EventMessage): string {
  return event.type === 'log_stream' ? event.agent_id : `status.${event.agent_id}`;
}

function frameOf(event: EventMessage): Buffer {
  const topic = topicOf(event);
  const body = encodeMessage(event);
  const frame = Buffer.allocUnsafe(topic.length + 1 + body.length);
  frame.write(topic, 0, 'latin1');
  frame[topic.length] = 0;
  frame.set(body, topic.length + 1);
  return frame;
}

/** A heartbeat-like status update of `agentId` (markers and probes of the fan-out rounds). */
function heartbeat(agentId: string): EventMessage {
  return {
    type: 'status_update',
    agent_id: agentId,
    update_type: 'heartbeat',
    status: null,
    message: null,
    data: null,
    timestamp: systemTimeNow(),
  };
}

/** Lets the event loop turn (I/O included) before the next slice of a round is published. */
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

async function fanOutBench(): Promise<BenchResult> {
  const stats = new Stats();
  const security = await ServerSecurity.start({ mode: 'none' }, stats, () => undefined);
  const publisher = await Publisher.bind(FANOUT_OURS, stats, encodeMessage, security);
  const rawPub = new zmq.Publisher({ ...serverSocketOptions(security), sendHighWaterMark: 10_000 });
  await rawPub.bind(FANOUT_RAW);
  const roundsDone: ((received: number[]) => void)[] = [];
  let joined: () => void = () => undefined;
  const join = new Promise<void>((resolve) => {
    joined = resolve;
  });
  const subscribers = await startChild(
    'bench/fixtures/subscribers.ts',
    [
      '--connect',
      `${FANOUT_OURS},${FANOUT_RAW}`,
      '--count',
      String(FANOUT_SUBSCRIBERS),
      '--marker',
      `status.${MARKER_AGENT}`,
      '--probes',
      `status.${PROBE_OURS},status.${PROBE_RAW}`,
    ],
    30_000,
    (line) => {
      const msg = JSON.parse(line) as { event: string; received?: number[] };
      if (msg.event === 'joined') joined();
      if (msg.event === 'round') roundsDone.shift()?.(msg.received ?? []);
    },
  );
  try {
    // Slow joiners: probe from both PUBs until every SUB has seen a probe of each.
    const state = { joined: false };
    void join.then(() => {
      state.joined = true;
    });
    const rawProbe = frameOf(heartbeat(PROBE_RAW));
    while (!state.joined) {
      publisher.status(PROBE_OURS, 'heartbeat', null, null);
      await rawPub.send(rawProbe);
      await new Promise((r) => setTimeout(r, 20));
    }
    const agentId = randomUUID();
    const events = fanOutEvents(agentId);
    const frames = events.map(frameOf);
    const markerFrame = frameOf(heartbeat(MARKER_AGENT));
    const expectRound = (): Promise<number[]> => new Promise((resolve) => roundsDone.push(resolve));
    const check = (received: number[]): void => {
      const want = FANOUT_EVENTS + 1;
      if (received.length !== FANOUT_SUBSCRIBERS || received.some((n) => n !== want)) {
        throw new Error(
          `fan-out lost events: each subscriber should get ${want}, got ${received.join(', ')}`,
        );
      }
    };
    // When the publishing side was done (every event handed to its socket), ms: what the
    // publisher itself costs, apart from the subscribers, which bound the rate on this VM.
    const sentMs = { ours: [] as number[], raw: [] as number[] };
    const ours = async (): Promise<number> => {
      const done = expectRound();
      const t0 = performance.now();
      for (let i = 0; i < events.length; i += FANOUT_PER_TURN) {
        for (const e of events.slice(i, i + FANOUT_PER_TURN)) {
          if (e.type === 'log_stream') publisher.log(e.agent_id, e.stream_type, e.data as Uint8Array);
          else
            publisher.status(e.agent_id, e.update_type, e.status ?? null, e.message ?? null, statusData(e));
        }
        await turn();
      }
      publisher.status(MARKER_AGENT, 'heartbeat', null, null);
      await publisher.sent();
      sentMs.ours.push(performance.now() - t0);
      check(await done);
      return ((FANOUT_EVENTS + 1) * 1000) / (performance.now() - t0);
    };
    const raw = async (): Promise<number> => {
      const done = expectRound();
      const t0 = performance.now();
      for (let i = 0; i < frames.length; i += FANOUT_PER_TURN) {
        for (const f of frames.slice(i, i + FANOUT_PER_TURN)) await rawPub.send(f);
        await turn();
      }
      await rawPub.send(markerFrame);
      sentMs.raw.push(performance.now() - t0);
      check(await done);
      return ((FANOUT_EVENTS + 1) * 1000) / (performance.now() - t0);
    };
    await ours();
    await raw();
    sentMs.ours.length = 0;
    sentMs.raw.length = 0;
    const loadBefore = load();
    const r = await rounds(`pub fan-out to ${FANOUT_SUBSCRIBERS}`, FANOUT_ROUNDS, ours, raw, 'events/s');
    return result(
      `PUB fan-out to ${FANOUT_SUBSCRIBERS} subscribers`,
      median(r.ours),
      median(r.raw),
      'events/s',
      '>= 0.7',
      `${FANOUT_EVENTS.toLocaleString('en-US')} events per round (100-byte log_stream and output_available ` +
        `status_update alternately) + an end marker, ${FANOUT_PER_TURN} per event-loop turn, timed until all ` +
        `${FANOUT_SUBSCRIBERS} SUBs (one child process) got the marker, none lost; publishing side done ` +
        `(every event handed to the socket) after a median ${median(sentMs.ours).toFixed(0)} ms ours, ` +
        `${median(sentMs.raw).toFixed(0)} ms raw; ours: the server's Publisher ` +
        `(encodes, assigns sequences, queues, sends); raw: a zeromq.js PUB with the same options sending the ` +
        `same frames pre-encoded; ${FANOUT_ROUNDS} interleaved rounds after a warm-up, medians; ours: ` +
        `${list(r.ours)}; raw: ${list(r.raw)}; load avg ${loadBefore} → ${load()} (2-core VM)`,
    );
  } finally {
    await subscribers.stop();
    await publisher.close(0);
    rawPub.close();
    await security.close();
  }
}
