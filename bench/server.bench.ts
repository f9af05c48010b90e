/**
 * Agent server benchmarks (issue 3 item 6, issue 10 item 10), each against a baseline in the same run:
 *
 * - `server-health`: pipelined health checks (1000 in flight from one DEALER) against our
 *   server (`server/cli.ts`, a child process) vs a bare zeromq.js ROUTER child that only decodes
 *   each request and encodes the same health reply (`fixtures/echoRouter.ts`). Goal ≥ 0.6.
 *   Our server runs with `--insecure` (plain ZMTP) and a fresh temporary `--state-dir`, so it is
 *   compared like for like with the plain echo ROUTER; what CURVE costs is `server-curve`'s job.
 * - `server-curve`: CurveZMQ vs plain ZMTP, both through our server: two `server/cli.ts`
 *   children, one in CURVE mode (temporary state dir, the bench's client key admitted with
 *   `--allow-client`, the client pinning the `public_key` of the ready line) and one
 *   `--insecure`, each driven by a bare DEALER (`fixtures/rawDealer.ts`). (a) pipelined health
 *   checks, 1000 in flight, medians of interleaved rounds: CURVE/plain replies/s, goal ≥ 0.8;
 *   (b) health checks one at a time, p50 over all interleaved rounds: CURVE/plain µs, goal
 *   ≤ 1.3 (p99 printed alongside). Both are warmed up (handshake, JIT) before measuring.
 *   In the same interleaved rounds, the same two figures for bare zeromq.js echo ROUTERs, one
 *   CURVE and one plain (`fixtures/echoRouter.ts --curve`): the floor, i.e. what CURVE costs in
 *   libzmq itself, so a missed goal can be told apart from overhead of our own.
 * - `server-query`: an output query with a 1%-match regex over 1,000,000 stored lines
 *   (`LineStore.query`, stream `both`, limit 100) vs `Array.filter` with the same RegExp over a
 *   plain array of the same strings. Goal: ours/raw time ≤ 1.5.
 * - `server-memory`: heap + external bytes of a LineStore holding 1,000,000 lines of 100 bytes
 *   vs the raw bytes. Goal ≤ 2. Needs `node --expose-gc` (the `bench` script passes it).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeMessage, type ZmqMessage } from '../shared/protocol';
import { generateCurveKeyPair } from '../shared/node/curveKeyPair';
import { DEFAULT_CONFIG } from '../server/config';
import { LineStore } from '../server/lineStore';
import { compileFilter } from '../server/regexFilter';
import { readyString, startChild, type Child } from './fixtures/children';
import { encodeRequest, RawDealer, type EncodedRequest } from './fixtures/rawDealer';
import { median, percentile, report, result, type BenchResult } from './harness';

// The bench's port range is 28000-28099.
const OUR_BIND = 'tcp://127.0.0.1:28001';
const OUR_PUB = 'tcp://127.0.0.1:28002';
const RAW_BIND = 'tcp://127.0.0.1:28003';
const CURVE_BIND = 'tcp://127.0.0.1:28004';
const CURVE_PUB = 'tcp://127.0.0.1:28005';
const PLAIN_BIND = 'tcp://127.0.0.1:28006';
const PLAIN_PUB = 'tcp://127.0.0.1:28007';
const FLOOR_CURVE_BIND = 'tcp://127.0.0.1:28008';
const FLOOR_PLAIN_BIND = 'tcp://127.0.0.1:28009';

const IN_FLIGHT = 1000;
const ROUNDS = 6;
const ROUND_MS = 1500;

// CURVE vs plain: more, shorter pipelined rounds (this VM drifts by tens of percent within a
// run, and the median of more pairs moves less with it), and sequential round trips in rounds.
const CURVE_PIPE_ROUNDS = 8;
const CURVE_PIPE_MS = 1000;
const RTT_ROUNDS = 13; // the first is a warm-up and is not counted
const RTT_PER_ROUND = 500;

/** A health reply must come within this long, or the first one (handshake included) failed. */
const FIRST_REPLY_MS = 10_000;

const LINES = 1_000_000;
const LINE_BYTES = 100;
const QUERY_ROUNDS = 7;

export async function run(): Promise<void> {
  await healthBench();
  await curveBench();
  memoryAndQueryBench();
}

/** A fresh state dir for one server (the bench must never use the user's platform state dir). */
function tempStateDir(dirs: string[], label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `descartes-bench-${label}-`));
  dirs.push(dir);
  return dir;
}

function healthPool(n: number): EncodedRequest[] {
  return Array.from({ length: n }, () =>
    encodeRequest({ type: 'health_check_request', request_id: randomUUID() }),
  );
}

/**
 * One health check, which must be answered within {@link FIRST_REPLY_MS}: a refused handshake
 * (wrong key, wrong mode) would otherwise leave the bench waiting for ever.
 */
async function firstHealthReply(dealer: RawDealer, what: string): Promise<ZmqMessage> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`${what} sent no health reply within ${FIRST_REPLY_MS} ms (handshake refused?)`));
    }, FIRST_REPLY_MS);
  });
  try {
    const reply = await Promise.race([
      dealer.request(encodeRequest({ type: 'health_check_request', request_id: randomUUID() })),
      timeout,
    ]);
    if (reply.type !== 'health_check_response') throw new Error(`${what} answered with ${reply.type}`);
    return reply;
  } finally {
    clearTimeout(timer);
  }
}

const fmtRates = (xs: readonly number[]): string => xs.map((x) => Math.round(x)).join(', ');

/** The 1-minute load average, so a reader can tell a busy machine from a slow bench. */
const load = (): string => (loadavg()[0] ?? 0).toFixed(1);

async function healthBench(): Promise<void> {
  const children: Child[] = [];
  const dealers: RawDealer[] = [];
  const dirs: string[] = [];
  try {
    const ours = await startChild('server/cli.ts', [
      '--bind',
      OUR_BIND,
      '--pub',
      OUR_PUB,
      '--insecure',
      '--state-dir',
      tempStateDir(dirs, 'health'),
    ]);
    children.push(ours);
    const toOurs = new RawDealer(OUR_BIND);
    dealers.push(toOurs);
    // The baseline answers with exactly the metadata our server sends (its counters included).
    const sample = await firstHealthReply(toOurs, 'our server');
    if (sample.type !== 'health_check_response') throw new Error(`our server answered with ${sample.type}`);
    const raw = await startChild('bench/fixtures/echoRouter.ts', [
      '--bind',
      RAW_BIND,
      '--metadata',
      JSON.stringify(sample.metadata ?? {}),
    ]);
    children.push(raw);
    const toRaw = new RawDealer(RAW_BIND);
    dealers.push(toRaw);

    const pool = healthPool(IN_FLIGHT);
    const loadBefore = load();
    // Warm both servers (JIT, connection) before measuring.
    await toOurs.pipelined(pool, 1000);
    await toRaw.pipelined(pool, 1000);
    const oursRates: number[] = [];
    const rawRates: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      // Alternate which goes first so drift on the shared machine hits both alike.
      if (i % 2 === 0) {
        oursRates.push(await toOurs.pipelined(pool, ROUND_MS));
        rawRates.push(await toRaw.pipelined(pool, ROUND_MS));
      } else {
        rawRates.push(await toRaw.pipelined(pool, ROUND_MS));
        oursRates.push(await toOurs.pipelined(pool, ROUND_MS));
      }
    }
    report('server-health', [
      result(
        `pipelined health checks, ${IN_FLIGHT} in flight`,
        median(oursRates),
        median(rawRates),
        'replies/s',
        '>= 0.6',
        `our server --insecure vs the plain echo ROUTER; ${ROUNDS} rounds of ${ROUND_MS} ms, medians; ` +
          `ours: ${fmtRates(oursRates)}; raw: ${fmtRates(rawRates)}; ` +
          `health reply ${String(encodeMessage(sample).length)} B; load avg ${loadBefore} → ${load()} (2-core VM)`,
      ),
    ]);
  } finally {
    for (const d of dealers) await d.close();
    for (const c of children) await c.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
}

/** {@link RTT_PER_ROUND} health checks one at a time; pushes each round trip in µs to `into` (when given). */
async function sequential(
  dealer: RawDealer,
  pool: readonly EncodedRequest[],
  into: number[] | null,
): Promise<void> {
  for (let i = 0; i < RTT_PER_ROUND; i++) {
    const req = pool[i % pool.length] as EncodedRequest;
    const t0 = performance.now();
    const reply = await dealer.request(req);
    into?.push((performance.now() - t0) * 1000);
    if (reply.type !== 'health_check_response') throw new Error(`got ${reply.type}`);
  }
}

/** CURVE vs plain against one kind of server: a CURVE and a plain DEALER, and what they measured. */
interface CurvePair {
  readonly label: string;
  readonly curve: RawDealer;
  readonly plain: RawDealer;
  readonly curveRates: number[];
  readonly plainRates: number[];
  /** Every kept sequential round trip, µs. */
  readonly curveUs: number[];
  readonly plainUs: number[];
  /** p50 of each kept round, µs (to show the spread). */
  readonly curveP50s: number[];
  readonly plainP50s: number[];
}

function curvePair(label: string, curve: RawDealer, plain: RawDealer): CurvePair {
  return {
    label,
    curve,
    plain,
    curveRates: [],
    plainRates: [],
    curveUs: [],
    plainUs: [],
    curveP50s: [],
    plainP50s: [],
  };
}

/**
 * Round `i`'s order: CURVE or plain first alternates every round, and (with a floor pair) which
 * pair goes first every two rounds, so drift hits every side alike.
 */
function roundOrder(pairs: readonly CurvePair[], i: number): { pair: CurvePair; curveFirst: boolean }[] {
  const ordered = Math.floor(i / 2) % 2 === 0 ? pairs : [...pairs].reverse();
  return ordered.map((pair) => ({ pair, curveFirst: i % 2 === 0 }));
}

async function curveBench(): Promise<void> {
  const children: Child[] = [];
  const dealers: RawDealer[] = [];
  const dirs: string[] = [];
  try {
    const client = generateCurveKeyPair();
    const curveServer = await startChild('server/cli.ts', [
      '--bind',
      CURVE_BIND,
      '--pub',
      CURVE_PUB,
      '--state-dir',
      tempStateDir(dirs, 'curve'),
      '--allow-client',
      client.publicKey,
    ]);
    children.push(curveServer);
    const plainServer = await startChild('server/cli.ts', [
      '--bind',
      PLAIN_BIND,
      '--pub',
      PLAIN_PUB,
      '--insecure',
      '--state-dir',
      tempStateDir(dirs, 'plain'),
    ]);
    children.push(plainServer);
    if (readyString(curveServer, 'security') !== 'curve') {
      throw new Error(`the CURVE server's ready line says security ${readyString(curveServer, 'security')}`);
    }
    if (readyString(plainServer, 'security') !== 'none') {
      throw new Error(
        `the --insecure server's ready line says security ${readyString(plainServer, 'security')}`,
      );
    }
    const dealer = (endpoint: string, serverKey?: string): RawDealer => {
      const d = new RawDealer(
        endpoint,
        serverKey === undefined
          ? undefined
          : { serverKey, publicKey: client.publicKey, secretKey: client.secretKey },
      );
      dealers.push(d);
      return d;
    };
    const ours = curvePair(
      'our server',
      dealer(CURVE_BIND, readyString(curveServer, 'public_key')),
      dealer(PLAIN_BIND),
    );
    // Handshakes (CURVE + ZAP, NULL + ZAP) happen here, before anything is measured.
    await firstHealthReply(ours.curve, 'the CURVE server');
    const sample = await firstHealthReply(ours.plain, 'the --insecure server');
    if (sample.type !== 'health_check_response') throw new Error(`our server answered with ${sample.type}`);

    // The floor: bare zeromq.js echo ROUTERs, one CURVE (no ZAP handler) and one plain, sending
    // the same health reply. What they lose to CURVE is libzmq's (and libsodium's) cost alone.
    const metadata = JSON.stringify(sample.metadata ?? {});
    const rawCurve = await startChild('bench/fixtures/echoRouter.ts', [
      '--bind',
      FLOOR_CURVE_BIND,
      '--metadata',
      metadata,
      '--curve',
    ]);
    children.push(rawCurve);
    const rawPlain = await startChild('bench/fixtures/echoRouter.ts', [
      '--bind',
      FLOOR_PLAIN_BIND,
      '--metadata',
      metadata,
    ]);
    children.push(rawPlain);
    const floor = curvePair(
      'floor: bare echo ROUTER',
      dealer(FLOOR_CURVE_BIND, readyString(rawCurve, 'public_key')),
      dealer(FLOOR_PLAIN_BIND),
    );
    await firstHealthReply(floor.curve, 'the CURVE echo ROUTER');
    await firstHealthReply(floor.plain, 'the plain echo ROUTER');
    const pairs = [ours, floor];

    const pool = healthPool(IN_FLIGHT);
    const loadBefore = load();
    // Warm-up: JIT in every server and in this process, buffers, both code paths.
    for (let i = 0; i < 2; i++) {
      for (const { pair } of roundOrder(pairs, i)) {
        for (const d of [pair.curve, pair.plain]) {
          await d.pipelined(pool, 500);
          await sequential(d, pool, null);
        }
      }
    }

    for (let i = 0; i < CURVE_PIPE_ROUNDS; i++) {
      for (const { pair, curveFirst } of roundOrder(pairs, i)) {
        if (curveFirst) {
          pair.curveRates.push(await pair.curve.pipelined(pool, CURVE_PIPE_MS));
          pair.plainRates.push(await pair.plain.pipelined(pool, CURVE_PIPE_MS));
        } else {
          pair.plainRates.push(await pair.plain.pipelined(pool, CURVE_PIPE_MS));
          pair.curveRates.push(await pair.curve.pipelined(pool, CURVE_PIPE_MS));
        }
      }
    }

    for (let r = 0; r < RTT_ROUNDS; r++) {
      for (const { pair, curveFirst } of roundOrder(pairs, r)) {
        const c: number[] = [];
        const p: number[] = [];
        if (curveFirst) {
          await sequential(pair.curve, pool, c);
          await sequential(pair.plain, pool, p);
        } else {
          await sequential(pair.plain, pool, p);
          await sequential(pair.curve, pool, c);
        }
        if (r === 0) continue; // warm-up round
        pair.curveUs.push(...c);
        pair.plainUs.push(...p);
        pair.curveP50s.push(percentile(c, 50));
        pair.plainP50s.push(percentile(p, 50));
      }
    }
    const loadAfter = load();

    const fmtUs = (xs: readonly number[]): string => xs.map((x) => x.toFixed(0)).join(', ');
    const rows: BenchResult[] = [];
    const p99s: string[] = [];
    for (const pair of pairs) {
      const p99 = [percentile(pair.curveUs, 99), percentile(pair.plainUs, 99)] as const;
      const p99Text = `p99 CURVE ${p99[0].toFixed(0)} µs, plain ${p99[1].toFixed(0)} µs (ratio ${(p99[0] / p99[1]).toFixed(2)})`;
      p99s.push(`${pair.label}: ${p99Text}`);
      const who =
        pair === ours
          ? '"ours" is our server in CURVE mode, "raw" the same server --insecure'
          : 'for reference, not our code: "ours" is a bare zeromq.js CURVE echo ROUTER, "raw" the same plain';
      rows.push(
        result(
          `CURVE/plain, ${pair.label}: pipelined health checks, ${IN_FLIGHT} in flight`,
          median(pair.curveRates),
          median(pair.plainRates),
          'replies/s',
          '>= 0.8',
          `${who}; ${CURVE_PIPE_ROUNDS} interleaved rounds of ${CURVE_PIPE_MS} ms, medians; ` +
            `CURVE: ${fmtRates(pair.curveRates)}; plain: ${fmtRates(pair.plainRates)}; load avg ${loadBefore} → ${loadAfter}`,
        ),
        result(
          `CURVE/plain, ${pair.label}: health check round trip p50`,
          percentile(pair.curveUs, 50),
          percentile(pair.plainUs, 50),
          'µs',
          '<= 1.3',
          `${who}; ${(RTT_ROUNDS - 1) * RTT_PER_ROUND} sequential health checks each, ${RTT_ROUNDS - 1} ` +
            `interleaved rounds (+1 warm-up), p50 of all; per-round p50 CURVE: ${fmtUs(pair.curveP50s)}; ` +
            `plain: ${fmtUs(pair.plainP50s)}; ${p99Text}`,
        ),
      );
    }
    report('server-curve', rows);
    console.log(`server-curve round trip p99 (no goal): ${p99s.join('; ')}`);
  } finally {
    for (const d of dealers) await d.close();
    for (const c of children) await c.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Exactly `LINE_BYTES` ASCII bytes. Every 100th line (i % 100 === 37) is an ERROR line with a
 * timeout, which the query's regex matches; the others are INFO lines.
 */
function makeLine(i: number): string {
  const head =
    i % 100 === 37
      ? `2026-11-27T17:00:00.000Z ERROR worker-${i % 7} step ${i} failed: timeout after 30 s `
      : `2026-11-27T17:00:00.000Z INFO worker-${i % 7} step ${i} done in ${i % 997} ms `;
  return head.padEnd(LINE_BYTES, 'abcdefghij').slice(0, LINE_BYTES);
}

/** Feeds the lines to `store` in 64 KiB-ish chunks, as a child's stdout would arrive. */
function fillStore(store: LineStore): void {
  const perChunk = 640;
  for (let i = 0; i < LINES; i += perChunk) {
    let text = '';
    for (let j = i; j < Math.min(LINES, i + perChunk); j++) text += `${makeLine(j)}\n`;
    store.append(chunkStream(i), Buffer.from(text, 'latin1'));
  }
}

/** Mixed streams (every other chunk on stderr), so `both` really merges two streams. */
function chunkStream(i: number): 'stdout' | 'stderr' {
  return (i / 640) % 2 === 0 ? 'stdout' : 'stderr';
}

function memoryNow(): number {
  const m = process.memoryUsage();
  // `external` includes `arrayBuffers` (the store's typed arrays).
  return m.heapUsed + m.external;
}

function memoryAndQueryBench(): void {
  const limits = {
    maxLines: LINES,
    maxBytes: LINES * LINE_BYTES,
    maxLineBytes: DEFAULT_CONFIG.lineStore.maxLineBytes,
  };
  const gc = (globalThis as { gc?: () => void }).gc;
  let memoryRow: BenchResult | null = null;
  let store: LineStore;
  if (gc === undefined) {
    console.log(
      'server-memory skipped: global.gc is missing; run `npm run bench -- server` (the script passes --expose-gc) ' +
        'or `node --expose-gc --import tsx bench/run.ts server`',
    );
    store = new LineStore(limits);
    fillStore(store);
  } else {
    gc();
    gc();
    const before = memoryNow();
    store = new LineStore(limits);
    fillStore(store);
    gc();
    gc();
    const used = memoryNow() - before;
    const rawBytes = LINES * LINE_BYTES;
    if (store.lineCount !== LINES || store.byteCount !== rawBytes) {
      throw new Error(
        `store holds ${store.lineCount} lines / ${store.byteCount} B, expected ${LINES} / ${rawBytes}`,
      );
    }
    memoryRow = result(
      `LineStore memory, ${LINES.toLocaleString('en-US')} × ${LINE_BYTES} B lines`,
      used / 1e6,
      rawBytes / 1e6,
      'MB',
      '<= 2',
      'heapUsed + external delta after gc(), vs the raw line bytes',
    );
  }

  // The plain baseline: the same strings, flat, in one JS array.
  const plain: string[] = new Array<string>(LINES);
  for (let i = 0; i < LINES; i++) plain[i] = Buffer.from(makeLine(i), 'latin1').toString('latin1');
  const re = compileFilter('ERROR .*timeout');
  const expected = LINES / 100;

  const ours = (): number => {
    const t0 = performance.now();
    const r = store.query({ stream: 'both', filter: re, offset: 0, limit: 100, budgetMs: 60_000 });
    const ms = performance.now() - t0;
    if (r.totalLines !== expected || r.lines.length !== 100 || !r.hasMore || r.lines[0] !== makeLine(37)) {
      throw new Error(
        `query returned total_lines ${r.totalLines}, ${r.lines.length} lines; expected ${expected}, 100`,
      );
    }
    return ms;
  };
  const raw = (): number => {
    const t0 = performance.now();
    const matches = plain.filter((l) => re.test(l));
    const ms = performance.now() - t0;
    if (matches.length !== expected)
      throw new Error(`Array.filter found ${matches.length}, expected ${expected}`);
    return ms;
  };
  // Warm-up (JIT, string flattening, the vm context), then alternate.
  ours();
  raw();
  ours();
  raw();
  const oursMs: number[] = [];
  const rawMs: number[] = [];
  for (let i = 0; i < QUERY_ROUNDS; i++) {
    if (i % 2 === 0) {
      oursMs.push(ours());
      rawMs.push(raw());
    } else {
      rawMs.push(raw());
      oursMs.push(ours());
    }
  }
  const fmt = (xs: number[]): string => xs.map((x) => x.toFixed(1)).join(', ');
  report('server-query', [
    result(
      `output query, 1%-match regex over ${LINES.toLocaleString('en-US')} lines`,
      median(oursMs),
      median(rawMs),
      'ms/query',
      '<= 1.5',
      `stream both, limit 100; total_lines ${expected} (checked on every query); ` +
        `${QUERY_ROUNDS} rounds, medians; ours: ${fmt(oursMs)}; raw: ${fmt(rawMs)}`,
    ),
  ]);
  if (memoryRow) report('server-memory', [memoryRow]);
}
