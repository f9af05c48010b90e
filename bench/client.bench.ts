/**
 * Console-side transport benchmarks (issue 4 item 7), each against a raw baseline in the same
 * run. Both clients talk to the SAME raw echo ROUTER child process (`fixtures/echoRouter.ts`),
 * so only the client differs. (The queue's benchmarks are in queue.bench.ts.)
 *
 * - `client-transport`: round trip p50/p99 through `Connection` vs a bare DEALER sending the
 *   same bytes (goal ours/raw ≤ 1.5), in 8 rounds of 1000 sequential round trips per client
 *   (the two alternating in blocks of 10 within a round, so a stall of the VM hits both);
 *   each round's p99 (ours, raw, ratio) is printed, and issue 14's tail goal is that at least
 *   7 of the 8 rounds have ours ≤ 1.5× raw (recorded as its own result); pipelined throughput,
 *   1000 in flight (goal ≥ 0.7).
 */
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import type { ControlCommand } from '../shared/protocol';
import type { Connection } from '../main/core/transport/connection';
import { benchControl, echoMetadata, withEchoClients } from './fixtures/echoClients';
import { encodeRequest, type RawDealer } from './fixtures/rawDealer';
import { median, percentile, report, result } from './harness';

const ECHO = 'tcp://127.0.0.1:28011';
const METADATA = echoMetadata('srv-bench', 'tcp://127.0.0.1:28012');

/** Rounds run first and not counted (see `roundTrip`). */
const RTT_WARMUP_ROUNDS = 3;
/** Measured rounds of sequential round trips, after the warm-up rounds. */
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

const control = benchControl;

export async function run(): Promise<void> {
  await withEchoClients(ECHO, METADATA, async (conn, raw) => {
    report('client-transport', [...(await roundTrip(conn, raw)), await pipelined(conn, raw)]);
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
  // Warm-up, not counted: JIT tiers, buffers. With one round the first measured round still had
  // both clients' p99 at 3-5x their later rounds (V8 still optimizing on the two busy cores).
  for (let w = 0; w < RTT_WARMUP_ROUNDS; w++) await round();
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
    `the clients alternating in blocks of ${RTT_BLOCK} within each round, after ${RTT_WARMUP_ROUNDS} warm-up rounds`;
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

function list(xs: readonly number[]): string {
  return xs.map((x) => Math.round(x)).join(', ');
}
