/**
 * Console-side transport benchmarks (issue 4 item 7), each against a raw baseline in the same
 * run. Both clients talk to the SAME raw echo ROUTER child process (`fixtures/echoRouter.ts`),
 * so only the client differs. (The queue's benchmarks are in queue.bench.ts.)
 *
 * - `client-transport`: round trip p50/p99 through `Connection` vs a bare DEALER sending the
 *   same bytes (goal ours/raw ≤ 1.5); pipelined throughput, 1000 in flight (goal ≥ 0.7).
 */
import { randomUUID } from 'node:crypto';
import type { ControlCommand } from '../shared/protocol';
import type { Connection } from '../main/core/transport/connection';
import { benchControl, withEchoClients } from './fixtures/echoClients';
import { encodeRequest, type RawDealer } from './fixtures/rawDealer';
import { median, percentile, report, result } from './harness';

const ECHO = 'tcp://127.0.0.1:28011';
const METADATA = {
  server_id: 'srv-bench',
  pub_endpoint: 'tcp://127.0.0.1:28012',
  capabilities: 'custom_action,batch,output_query,dedupe,status_stream',
};

const RTT_ROUNDS = 13; // the first is a warm-up and is not counted
const RTT_PER_ROUND = 500;
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
  const ours: number[] = [];
  const base: number[] = [];
  const oursRound = async (into: number[] | null): Promise<void> => {
    for (let i = 0; i < RTT_PER_ROUND; i++) {
      const t0 = performance.now();
      const reply = await conn.request(msg, { timeoutMs: 5000 });
      into?.push((performance.now() - t0) * 1000);
      if (!reply.success) throw new Error('echo router answered success=false');
    }
  };
  const rawRound = async (into: number[] | null): Promise<void> => {
    for (let i = 0; i < RTT_PER_ROUND; i++) {
      const t0 = performance.now();
      const reply = await raw.request(bytes);
      into?.push((performance.now() - t0) * 1000);
      if (reply.type !== 'command_response') throw new Error(`raw got ${reply.type}`);
    }
  };
  for (let r = 0; r < RTT_ROUNDS; r++) {
    const keep = r > 0;
    if (r % 2 === 0) {
      await oursRound(keep ? ours : null);
      await rawRound(keep ? base : null);
    } else {
      await rawRound(keep ? base : null);
      await oursRound(keep ? ours : null);
    }
  }
  const notes = `${(RTT_ROUNDS - 1) * RTT_PER_ROUND} sequential control_command round trips each, interleaved rounds`;
  return [
    result('round trip p50', percentile(ours, 50), percentile(base, 50), 'µs', '<= 1.5', notes),
    result('round trip p99', percentile(ours, 99), percentile(base, 99), 'µs', '<= 1.5', notes),
  ];
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
