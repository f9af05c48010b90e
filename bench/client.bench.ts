/**
 * Console-side benchmarks (issue 4 item 7), each against a raw baseline in the same run. Both
 * clients talk to the SAME raw echo ROUTER child process (`fixtures/echoRouter.ts`), so only
 * the client differs.
 *
 * - `client-transport`: round trip p50/p99 through `Connection` vs a bare DEALER sending the
 *   same bytes (goal ours/raw ≤ 1.5), in 8 rounds of 1000 sequential round trips per client
 *   (the two alternating in blocks of 10 within a round, so a stall of the VM hits both);
 *   each round's p99 (ours, raw, ratio) is printed, and issue 14's tail goal is that at least
 *   7 of the 8 rounds have ours ≤ 1.5× raw (recorded as its own result); pipelined throughput,
 *   1000 in flight (goal ≥ 0.7).
 * - `client-queue`: durable `CommandQueue.enqueue` rate vs a raw `writeSync` + `fdatasyncSync`
 *   loop of a same-size record in the same directory (goal ≥ 0.7); draining 10,000 queued
 *   commands through `Dispatcher` + `Connection` vs raw pipelined DEALER throughput with the
 *   same window (goal ≥ 0.5): after a 2,000-command warm-up, the median of 5 drains against
 *   the median of 6 raw runs, interleaved.
 */
import { randomUUID } from 'node:crypto';
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ControlCommand } from '../shared/protocol';
import { CommandQueue } from '../main/core/queue/commandQueue';
import { Dispatcher } from '../main/core/queue/dispatcher';
import { SqliteCommandStore } from '../main/core/queue/sqliteCommandStore';
import { Connection } from '../main/core/transport/connection';
import { startChild, type Child } from './fixtures/children';
import { encodeRequest, RawDealer } from './fixtures/rawDealer';
import { median, percentile, report, result } from './harness';

const ECHO = 'tcp://127.0.0.1:28011';
const METADATA = {
  server_id: 'srv-bench',
  pub_endpoint: 'tcp://127.0.0.1:28012',
  capabilities: 'custom_action,batch,output_query,dedupe,status_stream',
};
const AGENT = '0f8fad5b-d9cb-469f-a165-70867728950e';

/** Measured rounds of sequential round trips, after one warm-up round that is not counted. */
const RTT_ROUNDS = 8;
const RTT_PER_ROUND = 1000;
/** Round trips of one client in a row before the other client's turn, within a round. */
const RTT_BLOCK = 10;
/** Issue 14: each round's p99 within this ratio of the raw round's, in this many rounds of {@link RTT_ROUNDS}. */
const RTT_P99_GOAL = 1.5;
const RTT_P99_ROUNDS_GOAL = 7;
const PIPE_IN_FLIGHT = 1000;
// Eight short interleaved rounds rather than four long ones: this VM drifts by tens of percent
// within a run, and the median of more pairs moves less with it.
const PIPE_ROUNDS = 8;
const PIPE_MS = 1000;
const ENQUEUE_ROUNDS = 16;
const ENQUEUE_BLOCK = 150;
const DRAIN_COMMANDS = 10_000;
const DRAIN_WINDOW = 16;
/** Drained first and not counted, as the raw client is warmed up before it is measured. */
const DRAIN_WARMUP = 2_000;
const DRAIN_ROUNDS = 5;
const RAW_MS = 1500;

function control(id: string): ControlCommand {
  return {
    type: 'control_command',
    request_id: id,
    agent_id: AGENT,
    command_type: 'get_status',
    payload: null,
  };
}

export async function run(): Promise<void> {
  let echo: Child | null = null;
  let conn: Connection | null = null;
  let raw: RawDealer | null = null;
  const dirs: string[] = [];
  try {
    echo = await startChild('bench/fixtures/echoRouter.ts', [
      '--bind',
      ECHO,
      '--metadata',
      JSON.stringify(METADATA),
    ]);
    conn = new Connection({ endpoint: ECHO, heartbeatIntervalMs: 60_000 });
    conn.start();
    await waitOnline(conn, 10_000);
    raw = new RawDealer(ECHO);
    report('client-transport', [...(await roundTrip(conn, raw)), await pipelined(conn, raw)]);
    const enqueueDir = mkdtempSync(join(tmpdir(), 'descartes-bench-'));
    dirs.push(enqueueDir);
    const drainDir = mkdtempSync(join(tmpdir(), 'descartes-bench-'));
    dirs.push(drainDir);
    report('client-queue', [await enqueueRate(enqueueDir), await drain(drainDir, conn, raw)]);
  } finally {
    await conn?.close();
    await raw?.close();
    await echo?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

function waitOnline(conn: Connection, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    if (conn.snapshot().state === 'online') {
      resolve();
      return;
    }
    const timer = setTimeout(() => {
      off();
      reject(
        new Error(
          `Connection to ${conn.endpoint} not online after ${timeoutMs} ms: ${String(conn.snapshot().lastError)}`,
        ),
      );
    }, timeoutMs);
    const off = conn.onChange((s) => {
      if (s.state !== 'online') return;
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}

async function roundTrip(conn: Connection, raw: RawDealer): Promise<ReturnType<typeof result>[]> {
  const msg = control(randomUUID());
  const bytes = encodeRequest(msg);
  const oursBlock = async (into: number[]): Promise<void> => {
    for (let i = 0; i < RTT_BLOCK; i++) {
      const t0 = performance.now();
      const reply = await conn.request(msg, { timeoutMs: 5000 });
      into.push((performance.now() - t0) * 1000);
      if (!reply.success) throw new Error('echo router answered success=false');
    }
  };
  const rawBlock = async (into: number[]): Promise<void> => {
    for (let i = 0; i < RTT_BLOCK; i++) {
      const t0 = performance.now();
      const reply = await raw.request(bytes);
      into.push((performance.now() - t0) * 1000);
      if (reply.type !== 'command_response') throw new Error(`raw got ${reply.type}`);
    }
  };
  // Within a round the two clients alternate in short blocks (who goes first alternates too),
  // so a stall of this shared VM (another process taking both cores for a few ms) lands on
  // both sides of the round alike instead of on whichever happened to be running.
  const round = async (): Promise<{ ours: number[]; raw: number[] }> => {
    const o: number[] = [];
    const b: number[] = [];
    for (let k = 0; k < RTT_PER_ROUND / RTT_BLOCK; k++) {
      if (k % 2 === 0) {
        await oursBlock(o);
        await rawBlock(b);
      } else {
        await rawBlock(b);
        await oursBlock(o);
      }
    }
    return { ours: o, raw: b };
  };
  await round(); // warm-up: JIT, buffers; not counted
  const ours: number[] = [];
  const base: number[] = [];
  const rounds: { ours: number; raw: number }[] = [];
  for (let r = 0; r < RTT_ROUNDS; r++) {
    const { ours: o, raw: b } = await round();
    ours.push(...o);
    base.push(...b);
    const p99 = { ours: percentile(o, 99), raw: percentile(b, 99) };
    rounds.push(p99);
    console.log(
      `client-transport round trip p99, round ${r + 1}/${RTT_ROUNDS}: ours ${p99.ours.toFixed(0)} µs, ` +
        `raw ${p99.raw.toFixed(0)} µs, ratio ${(p99.ours / p99.raw).toFixed(2)} (load ${load()})`,
    );
  }
  const met = rounds.filter((x) => x.ours <= RTT_P99_GOAL * x.raw).length;
  const perRound = rounds.map(
    (x) => `${x.ours.toFixed(0)}/${x.raw.toFixed(0)}=${(x.ours / x.raw).toFixed(2)}`,
  );
  const notes =
    `${RTT_ROUNDS} rounds of ${RTT_PER_ROUND} sequential control_command round trips per client, ` +
    `the clients alternating in blocks of ${RTT_BLOCK} within each round, after a warm-up round`;
  return [
    result('round trip p50', percentile(ours, 50), percentile(base, 50), 'µs', '<= 1.5', notes),
    result(
      'round trip p99',
      percentile(ours, 99),
      percentile(base, 99),
      'µs',
      '<= 1.5',
      `${notes}; p99 of all kept round trips; per round ours/raw µs: ${perRound.join(', ')}; ` +
        `${met} of ${RTT_ROUNDS} rounds within ${RTT_P99_GOAL}× raw; load avg ${load()}`,
    ),
    result(
      `rounds with round trip p99 <= ${RTT_P99_GOAL}x raw`,
      met,
      RTT_ROUNDS,
      'rounds',
      `>= ${String(RTT_P99_ROUNDS_GOAL / RTT_ROUNDS)}`,
      `goal: at least ${RTT_P99_ROUNDS_GOAL} of ${RTT_ROUNDS} rounds; per round ours/raw µs: ${perRound.join(', ')}`,
    ),
  ];
}

/** The 1-minute load average, so a reader can tell a busy machine from a slow client. */
function load(): string {
  return (loadavg()[0] ?? 0).toFixed(1);
}

/** Keeps `messages.length` requests in flight through `conn` for `ms`; replies per second. */
async function connectionPipelined(
  conn: Connection,
  messages: readonly ControlCommand[],
  ms: number,
): Promise<number> {
  const deadline = performance.now() + ms;
  let replies = 0;
  const lane = async (msg: ControlCommand): Promise<void> => {
    for (;;) {
      await conn.request(msg, { timeoutMs: 10_000 });
      if (performance.now() >= deadline) return;
      replies++;
    }
  };
  await Promise.all(messages.map(lane));
  return (replies * 1000) / ms;
}

async function pipelined(conn: Connection, raw: RawDealer): Promise<ReturnType<typeof result>> {
  const messages = Array.from({ length: PIPE_IN_FLIGHT }, () => control(randomUUID()));
  const pool = messages.map(encodeRequest);
  await connectionPipelined(conn, messages, 500);
  await raw.pipelined(pool, 500);
  const ours: number[] = [];
  const base: number[] = [];
  for (let r = 0; r < PIPE_ROUNDS; r++) {
    if (r % 2 === 0) {
      ours.push(await connectionPipelined(conn, messages, PIPE_MS));
      base.push(await raw.pipelined(pool, PIPE_MS));
    } else {
      base.push(await raw.pipelined(pool, PIPE_MS));
      ours.push(await connectionPipelined(conn, messages, PIPE_MS));
    }
  }
  return result(
    `pipelined round trips, ${PIPE_IN_FLIGHT} in flight`,
    median(ours),
    median(base),
    'replies/s',
    '>= 0.7',
    `${PIPE_ROUNDS} rounds of ${PIPE_MS} ms, medians; ours: ${list(ours)}; raw: ${list(base)}`,
  );
}

async function enqueueRate(dir: string): Promise<ReturnType<typeof result>> {
  const store = SqliteCommandStore.open(join(dir, 'queue'));
  const queue = new CommandQueue(store, { maxPending: ENQUEUE_ROUNDS * ENQUEUE_BLOCK + 10 });
  const fd = openSync(join(dir, 'raw.log'), 'a');
  // A record the size of a stored row: the encoded request plus the row's other columns.
  const sample = control(randomUUID());
  const record = Buffer.concat([
    encodeRequest(sample).bytes,
    Buffer.from(
      JSON.stringify({
        id: sample.request_id,
        server: 'bench-enqueue',
        kind: sample.type,
        state: 'queued',
        at: Date.now(),
        summary: 'get_status 0f8fad5b',
      }),
    ),
  ]);
  const oursRates: number[] = [];
  const rawRates: number[] = [];
  try {
    const oursBlock = async (): Promise<void> => {
      const t0 = performance.now();
      for (let i = 0; i < ENQUEUE_BLOCK; i++) await queue.enqueue('bench-enqueue', control(randomUUID()));
      oursRates.push((ENQUEUE_BLOCK * 1000) / (performance.now() - t0));
    };
    const rawBlock = (): void => {
      const t0 = performance.now();
      for (let i = 0; i < ENQUEUE_BLOCK; i++) {
        writeSync(fd, record);
        fdatasyncSync(fd);
      }
      rawRates.push((ENQUEUE_BLOCK * 1000) / (performance.now() - t0));
    };
    for (let r = 0; r < ENQUEUE_ROUNDS; r++) {
      if (r % 2 === 0) {
        await oursBlock();
        rawBlock();
      } else {
        rawBlock();
        await oursBlock();
      }
    }
  } finally {
    closeSync(fd);
    queue.close();
  }
  return result(
    'durable enqueue',
    median(oursRates),
    median(rawRates),
    'cmd/s',
    '>= 0.7',
    `${ENQUEUE_ROUNDS} interleaved blocks of ${ENQUEUE_BLOCK}, median block rate; ours: ${list(oursRates)}; raw: ${list(rawRates)}; raw: write + fdatasync of a ${record.length}-byte record, same dir (${dir})`,
  );
}

async function drain(dir: string, conn: Connection, raw: RawDealer): Promise<ReturnType<typeof result>> {
  const store = SqliteCommandStore.open(join(dir, 'queue'));
  const queue = new CommandQueue(store, { maxPending: DRAIN_COMMANDS });
  const serverId = 'bench-drain';
  try {
    const pool = Array.from({ length: DRAIN_WINDOW }, () => encodeRequest(control(randomUUID())));
    await raw.pipelined(pool, 300);
    await drainOnce(store, queue, serverId, conn, DRAIN_WARMUP);
    // Interleaved rounds, medians of each side: this VM's throughput drifts by tens of percent
    // from one second to the next, more than the effect a single round could show.
    const rawRates = [await raw.pipelined(pool, RAW_MS)];
    const oursRates: number[] = [];
    for (let i = 0; i < DRAIN_ROUNDS; i++) {
      oursRates.push(await drainOnce(store, queue, serverId, conn, DRAIN_COMMANDS));
      rawRates.push(await raw.pipelined(pool, RAW_MS));
    }
    return result(
      `drain ${DRAIN_COMMANDS.toLocaleString('en-US')} queued commands, window ${DRAIN_WINDOW}`,
      median(oursRates),
      median(rawRates),
      'cmd/s',
      '>= 0.5',
      `median of ${DRAIN_ROUNDS} drains (${list(oursRates)}) vs median of ${rawRates.length} raw runs of ${RAW_MS} ms (${list(rawRates)}), interleaved; ` +
        `ours: Dispatcher + Connection against a dedupe server: a settle per command, group-committed ` +
        `per event-loop turn without waiting for the disk (synced within 100 ms), sending marks ` +
        `written behind; ${DRAIN_WARMUP.toLocaleString('en-US')} commands drained first as a warm-up; ` +
        `raw: pipelined DEALER, ${DRAIN_WINDOW} in flight, no disk`,
    );
  } finally {
    queue.close();
  }
}

/**
 * Enqueues `count` commands (setup, in one transaction: not measured), then times a new
 * Dispatcher sending and settling all of them.
 * @returns commands settled per second
 */
async function drainOnce(
  store: SqliteCommandStore,
  queue: CommandQueue,
  serverId: string,
  conn: Connection,
  count: number,
): Promise<number> {
  const enqueued: Promise<unknown>[] = [];
  store.transaction(() => {
    for (let i = 0; i < count; i++) enqueued.push(queue.enqueue(serverId, control(randomUUID())));
  });
  await Promise.all(enqueued);
  let dispatcher: Dispatcher | null = null;
  let settled = 0;
  let failed = 0;
  try {
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      dispatcher = new Dispatcher({ serverId, queue, connection: conn, window: DRAIN_WINDOW });
      dispatcher.onResult((r) => {
        if (r.command.state !== 'succeeded') failed++;
        if (++settled === count) resolve();
      });
    });
    const rate = (count * 1000) / (performance.now() - t0);
    if (failed > 0 || queue.pendingCount(serverId) !== 0) {
      throw new Error(
        `drain: ${failed} commands did not succeed, ${queue.pendingCount(serverId)} still pending`,
      );
    }
    return rate;
  } finally {
    (dispatcher as Dispatcher | null)?.dispose();
  }
}

function list(xs: readonly number[]): string {
  return xs.map((x) => Math.round(x)).join(', ');
}
