/**
 * Agent server benchmarks (issue 3 item 6, issue 10 item 10, issue 11 item 10), each against a
 * baseline in the same run:
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
 * - `server-query`: an output query with a 1%-match regex over 1,000,000 stored lines, as the
 *   server runs it (snapshot of the `LineStore`, scan in a `QueryPool` worker, decode the page;
 *   stream `both`, limit 100) vs `Array.filter` with the same RegExp over a plain array of the
 *   same strings. Goal: ours/raw time ≤ 1.5. Two patterns: one with a required literal (the scan
 *   searches bytes for it) and one without (every line decoded). The same scan on the main
 *   thread is printed too.
 * - `server-memory`: heap + external bytes of a LineStore holding 1,000,000 lines of 100 bytes,
 *   plus its SharedArrayBuffer segments (which `external` does not count), vs the raw bytes.
 *   Goal ≤ 2. Needs `node --expose-gc` (the `bench` script passes it).
 * - `server-heavy-query` (issue 11 item 10): our server (`--insecure`, default query limits)
 *   holding an agent's 1,000,001 output lines (`test/fixtures/agents/flood.js`); sequential
 *   health checks while idle, then while 5 output queries with a catastrophic pattern (each runs
 *   to its `query_budget_ms`) are answered, in 3 interleaved rounds. Health p99 during the
 *   queries vs idle p99, goal ≤ 2; and vs the 50 ms target of the issue, goal ≤ 1.
 *
 * `SERVER_BENCH=heavy,query` runs only the named parts (health, curve, query, heavy);
 * `BENCH_PORT_BASE` moves the ports (default 28000: 28001-28011 are used).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeMessage, type ZmqMessage } from '../shared/protocol';
import { generateCurveKeyPair } from '../shared/node/curveKeyPair';
import { DEFAULT_CONFIG } from '../server/config';
import { LineStore } from '../server/lineStore';
import type { LineSnapshot } from '../server/lineStore';
import { QueryPool } from '../server/query/queryPool';
import { requiredLiteral } from '../server/query/requiredLiteral';
import { scanSegments, type ScanHits } from '../server/query/scanSegments';
import { parseOutputFilter } from '../shared/domain/outputFilter';
import { readyString, startChild, type Child } from './fixtures/children';
import { encodeRequest, RawDealer, type EncodedRequest } from './fixtures/rawDealer';
import { median, percentile, report, result, type BenchResult } from './harness';

// The bench's port range is 28000-28099 (env BENCH_PORT_BASE moves it, e.g. beside a test run).
const PORT_BASE = Number(process.env.BENCH_PORT_BASE ?? 28000);
const port = (n: number): string => `tcp://127.0.0.1:${PORT_BASE + n}`;
const OUR_BIND = port(1);
const OUR_PUB = port(2);
const RAW_BIND = port(3);
const CURVE_BIND = port(4);
const CURVE_PUB = port(5);
const PLAIN_BIND = port(6);
const PLAIN_PUB = port(7);
const FLOOR_CURVE_BIND = port(8);
const FLOOR_PLAIN_BIND = port(9);
const HEAVY_BIND = port(10);
const HEAVY_PUB = port(11);

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

/** Parts of this bench, in the order they run; env `SERVER_BENCH=heavy,query` runs only those. */
const PARTS = ['health', 'curve', 'query', 'heavy'] as const;

export async function run(): Promise<void> {
  const wanted = (process.env.SERVER_BENCH ?? PARTS.join(',')).split(',').map((p) => p.trim());
  const unknown = wanted.filter((w) => !(PARTS as readonly string[]).includes(w));
  if (unknown.length > 0)
    throw new Error(`SERVER_BENCH: unknown part ${unknown.join(', ')}; parts: ${PARTS.join(', ')}`);
  if (wanted.includes('health')) await healthBench();
  if (wanted.includes('curve')) await curveBench();
  if (wanted.includes('query')) await memoryAndQueryBench();
  if (wanted.includes('heavy')) await heavyQueryBench();
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

/** Heap and native memory now, bytes; SharedArrayBuffers (the store's segments) come from the store. */
function memoryNow(): { heapExternal: number; arrayBuffers: number; rss: number } {
  const m = process.memoryUsage();
  // `external` includes ordinary ArrayBuffers but not SharedArrayBuffers (only `arrayBuffers` has those).
  return { heapExternal: m.heapUsed + m.external, arrayBuffers: m.arrayBuffers, rss: m.rss };
}

async function memoryAndQueryBench(): Promise<void> {
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
    const after = memoryNow();
    const used = after.heapExternal - before.heapExternal + store.capacityBytes;
    const rawBytes = LINES * LINE_BYTES;
    if (store.lineCount !== LINES || store.byteCount !== rawBytes) {
      throw new Error(
        `store holds ${store.lineCount} lines / ${store.byteCount} B, expected ${LINES} / ${rawBytes}`,
      );
    }
    const mb = (n: number): string => (n / 1e6).toFixed(1);
    memoryRow = result(
      `LineStore memory, ${LINES.toLocaleString('en-US')} × ${LINE_BYTES} B lines`,
      used / 1e6,
      rawBytes / 1e6,
      'MB',
      '<= 2',
      `heapUsed + external delta after gc(), plus the segments' SharedArrayBuffer capacity ` +
        `(${mb(store.capacityBytes)} MB), vs the raw line bytes; cross-checks: arrayBuffers delta ` +
        `${mb(after.arrayBuffers - before.arrayBuffers)} MB, rss delta ${mb(after.rss - before.rss)} MB`,
    );
  }

  // The plain baseline: the same strings, flat, in one JS array, filtered on this thread.
  const plain: string[] = new Array<string>(LINES);
  for (let i = 0; i < LINES; i++) plain[i] = Buffer.from(makeLine(i), 'latin1').toString('latin1');
  const pool = new QueryPool({ concurrency: 1, maxWaiting: 0 });
  try {
    const rows: BenchResult[] = [];
    // With a required literal (a byte search finds the candidate lines), and without one (every
    // line is decoded and tested): both match the same 1% of the lines.
    for (const pattern of ['ERROR .*timeout', 'ERROR .*timeout|FATAL']) {
      rows.push(await compareQuery(store, plain, pool, pattern));
    }
    report('server-query', rows);
    if (memoryRow) report('server-memory', [memoryRow]);
  } finally {
    await pool.close();
  }
}

/** One `server-query` row: `pattern` through the pool vs `Array.filter`, plus the in-thread scan. */
async function compareQuery(
  store: LineStore,
  plain: readonly string[],
  pool: QueryPool,
  pattern: string,
): Promise<BenchResult> {
  const parsed = parseOutputFilter(pattern);
  if (!parsed.ok || parsed.regex === null) throw new Error(`'${pattern}' is not a filter the server accepts`);
  const re = parsed.regex;
  const literal = requiredLiteral(re.source, re.flags);
  const expected = LINES / 100;
  const check = (what: string, total: number, lines: string[]): void => {
    if (total !== expected || lines.length !== 100 || lines[0] !== makeLine(37)) {
      throw new Error(`${what} returned total ${total}, ${lines.length} lines; expected ${expected}, 100`);
    }
  };
  const scanJob = (snapshot: LineSnapshot) => ({
    segments: snapshot.views,
    mask: 3,
    source: re.source,
    flags: re.flags,
    literal,
    offset: 0,
    limit: 100,
  });
  // Decodes the page a scan of `snapshot` found, checks it and returns the ms since `t0`
  // (the decode counted, the check not).
  const page = (what: string, t0: number, snapshot: LineSnapshot, found: ScanHits): number => {
    const lines = snapshot.lines(found.hits);
    const ms = performance.now() - t0;
    check(what, found.total, lines);
    return ms;
  };
  // What the server does for a regex output query: snapshot, scan in a worker, decode the page.
  const ours = async (): Promise<number> => {
    const t0 = performance.now();
    const snapshot = store.snapshot();
    return page('the pooled query', t0, snapshot, await pool.scan(scanJob(snapshot), 60_000));
  };
  // The same scan on this thread: tells the worker's cost apart from the scan's own.
  const inThread = (): number => {
    const t0 = performance.now();
    const snapshot = store.snapshot();
    return page('the in-thread scan', t0, snapshot, scanSegments(scanJob(snapshot)));
  };
  const raw = (): number => {
    const t0 = performance.now();
    const matches = plain.filter((l) => re.test(l));
    const ms = performance.now() - t0;
    if (matches.length !== expected)
      throw new Error(`Array.filter found ${matches.length}, expected ${expected}`);
    return ms;
  };
  // Warm-up (worker start, JIT, string flattening), then alternate.
  for (let i = 0; i < 2; i++) {
    await ours();
    inThread();
    raw();
  }
  const oursMs: number[] = [];
  const threadMs: number[] = [];
  const rawMs: number[] = [];
  for (let i = 0; i < QUERY_ROUNDS; i++) {
    if (i % 2 === 0) {
      oursMs.push(await ours());
      threadMs.push(inThread());
      rawMs.push(raw());
    } else {
      rawMs.push(raw());
      threadMs.push(inThread());
      oursMs.push(await ours());
    }
  }
  const fmt = (xs: number[]): string => xs.map((x) => x.toFixed(1)).join(', ');
  const how =
    literal === null
      ? 'no required literal: every line decoded from the UTF-8 segments and tested'
      : `lines holding the required literal "${literal}" found by a byte search, only those decoded and tested`;
  return result(
    `output query /${pattern}/ (1% match) over ${LINES.toLocaleString('en-US')} lines`,
    median(oursMs),
    median(rawMs),
    'ms/query',
    '<= 1.5',
    `stream both, limit 100, in a query worker (${how}); total_lines ${expected} (checked on every ` +
      `query); ${QUERY_ROUNDS} rounds, medians; ours: ${fmt(oursMs)}; the same scan on the main ` +
      `thread: ${fmt(threadMs)} (median ${median(threadMs).toFixed(1)}); raw (Array.filter over JS ` +
      `strings): ${fmt(rawMs)}`,
  );
}

/** Lines the heavy-query bench's agent prints (`flood.js`: `flood <7 digits> xxxx…`, 35 B). */
const HEAVY_LINES = 1_000_000;
const HEAVY_QUERIES = 5;
/** Backtracks exponentially on the x's of every flood line: each query runs to its budget. */
const HEAVY_PATTERN = '(x+x+)+y';
const HEAVY_ROUNDS = 3;
const IDLE_MS = 4000;
const HEALTH_TARGET_MS = 50;

/**
 * Health checks one at a time until `until` resolves (or for `ms`); round trips in ms.
 */
async function healthLatencies(dealer: RawDealer, stop: { done: boolean } | number): Promise<number[]> {
  const out: number[] = [];
  const deadline = typeof stop === 'number' ? performance.now() + stop : Infinity;
  while (typeof stop === 'number' ? performance.now() < deadline : !stop.done) {
    const t0 = performance.now();
    const reply = await dealer.request(
      encodeRequest({ type: 'health_check_request', request_id: randomUUID() }),
    );
    out.push(performance.now() - t0);
    if (reply.type !== 'health_check_response') throw new Error(`health check answered with ${reply.type}`);
  }
  return out;
}

/**
 * `server-heavy-query`: health check p99 while 5 heavy regex output queries run against a
 * 1,000,000-line agent output, vs the idle health p99 of the same server in the same run.
 */
async function heavyQueryBench(): Promise<void> {
  const children: Child[] = [];
  const dealers: RawDealer[] = [];
  const dirs: string[] = [];
  try {
    const dir = tempStateDir(dirs, 'heavy');
    const configFile = join(dir, 'config.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        backends: { node: { argv: [process.execPath, '{task}'] } },
        line_store: { max_lines: 2 * HEAVY_LINES, max_bytes: 256 * 1024 * 1024 },
      }),
    );
    const server = await startChild('server/cli.ts', [
      '--bind',
      HEAVY_BIND,
      '--pub',
      HEAVY_PUB,
      '--insecure',
      '--state-dir',
      join(dir, 'state'),
      '--config',
      configFile,
    ]);
    children.push(server);
    const control = new RawDealer(HEAVY_BIND);
    const health = new RawDealer(HEAVY_BIND);
    dealers.push(control, health);
    await firstHealthReply(health, 'the heavy-query server');
    const spawned = await control.request(
      encodeRequest({
        type: 'spawn_request',
        request_id: randomUUID(),
        config: {
          name: 'flood',
          model_backend: 'node',
          task: fileURLToPath(new URL('../test/fixtures/agents/flood.js', import.meta.url)),
          environment: { FLOOD_LINES: String(HEAVY_LINES) },
        },
        timeout_secs: null,
        metadata: null,
      }),
    );
    if (spawned.type !== 'spawn_response' || !spawned.success || !spawned.agent_info) {
      throw new Error(`spawn failed: ${JSON.stringify(spawned)}`);
    }
    const agentId = spawned.agent_info.id;
    const query = (filter: string | null, limit: number): Promise<ZmqMessage> =>
      control.request(
        encodeRequest({
          type: 'output_query_request',
          request_id: randomUUID(),
          agent_id: agentId,
          stream: 'both',
          filter,
          limit,
          offset: null,
        }),
      );
    const stored = HEAVY_LINES + 1; // the lines and `flood-done`
    for (const deadline = Date.now() + 120_000; ;) {
      const count = await query(null, 0);
      if (count.type === 'output_query_response' && Number(count.total_lines) >= stored) break;
      if (Date.now() > deadline) throw new Error(`the flood agent did not print ${stored} lines in 120 s`);
      await new Promise((r) => setTimeout(r, 200));
    }
    // Warm-up: a cheap regex query starts a worker; health checks warm the JIT.
    const warm = await query('flood-done', 10);
    if (warm.type !== 'output_query_response' || warm.total_lines !== 1) {
      throw new Error(`warm-up query: ${JSON.stringify(warm)}`);
    }
    await healthLatencies(health, 1000);

    const loadBefore = load();
    const idle: number[] = [];
    const heavy: number[] = [];
    const idleP99s: number[] = [];
    const heavyP99s: number[] = [];
    const outcomes = new Map<string, number>();
    const queryMs: number[] = [];
    for (let round = 0; round < HEAVY_ROUNDS; round++) {
      const quiet = await healthLatencies(health, IDLE_MS);
      idle.push(...quiet);
      idleP99s.push(percentile(quiet, 99));
      const stop = { done: false };
      const t0 = performance.now();
      const running = Promise.all(
        Array.from({ length: HEAVY_QUERIES }, () =>
          query(HEAVY_PATTERN, 100).then((reply) => {
            queryMs.push(performance.now() - t0);
            const key =
              reply.type !== 'output_query_response'
                ? reply.type
                : reply.success
                  ? 'answered'
                  : (reply.error ?? '').replace(/\d+/g, 'N');
            outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
          }),
        ),
      ).finally(() => {
        stop.done = true;
      });
      const busy = await healthLatencies(health, stop);
      await running;
      heavy.push(...busy);
      heavyP99s.push(percentile(busy, 99));
    }
    const loadAfter = load();
    const fmt = (xs: readonly number[]): string => xs.map((x) => x.toFixed(2)).join(', ');
    const idleP99 = percentile(idle, 99);
    const heavyP99 = percentile(heavy, 99);
    const common =
      `${HEAVY_ROUNDS} rounds: ${IDLE_MS} ms of sequential health checks idle, then ${HEAVY_QUERIES} ` +
      `output queries /${HEAVY_PATTERN}/ (stream both) over ${stored.toLocaleString('en-US')} stored lines ` +
      `sent at once while health checks run until the last query is answered; our server --insecure ` +
      `with the default query_budget_ms / max_concurrent_queries / max_waiting_queries; ` +
      `health checks idle ${idle.length}, during queries ${heavy.length}; per-round p99 idle: ${fmt(idleP99s)} ms, ` +
      `during queries: ${fmt(heavyP99s)} ms; max idle ${Math.max(...idle).toFixed(2)} ms, during ` +
      `queries ${Math.max(...heavy).toFixed(2)} ms; p50 idle ${percentile(idle, 50).toFixed(2)} ms, during ` +
      `queries ${percentile(heavy, 50).toFixed(2)} ms; query outcomes: ` +
      `${[...outcomes].map(([k, n]) => `${n}× ${k}`).join('; ')}; queries answered after ` +
      `${fmt(queryMs.map((x) => x / 1000))} s; load avg ${loadBefore} → ${loadAfter} (2-core VM)`;
    report('server-heavy-query', [
      result(
        `health p99 during ${HEAVY_QUERIES} heavy regex queries vs idle`,
        heavyP99,
        idleP99,
        'ms',
        '<= 2',
        common,
      ),
      result(
        `health p99 during ${HEAVY_QUERIES} heavy regex queries vs the ${HEALTH_TARGET_MS} ms target`,
        heavyP99,
        HEALTH_TARGET_MS,
        'ms',
        '<= 1',
        `"raw" is the issue's absolute target (answered within ${HEALTH_TARGET_MS} ms), not a measurement`,
      ),
    ]);
  } finally {
    for (const d of dealers) await d.close();
    for (const c of children) await c.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
}
