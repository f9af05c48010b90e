/**
 * Agent server benchmarks (issue 3 item 6), each against a raw baseline in the same run:
 *
 * - `server-health`: pipelined health checks (1000 in flight from one DEALER) against our
 *   server (`server/cli.ts`, a child process) vs a bare zeromq.js ROUTER child that only decodes
 *   each request and encodes the same health reply (`fixtures/echoRouter.ts`). Goal ≥ 0.6.
 * - `server-query`: an output query with a 1%-match regex over 1,000,000 stored lines
 *   (`LineStore.query`, stream `both`, limit 100) vs `Array.filter` with the same RegExp over a
 *   plain array of the same strings. Goal: ours/raw time ≤ 1.5.
 * - `server-memory`: heap + external bytes of a LineStore holding 1,000,000 lines of 100 bytes
 *   vs the raw bytes. Goal ≤ 2. Needs `node --expose-gc` (the `bench` script passes it).
 */
import { randomUUID } from 'node:crypto';
import { encodeMessage } from '../shared/protocol';
import { DEFAULT_CONFIG } from '../server/config';
import { LineStore } from '../server/lineStore';
import { compileFilter } from '../server/regexFilter';
import { startChild, type Child } from './fixtures/children';
import { encodeRequest, RawDealer } from './fixtures/rawDealer';
import { median, report, result, type BenchResult } from './harness';

const OUR_BIND = 'tcp://127.0.0.1:28001';
const OUR_PUB = 'tcp://127.0.0.1:28002';
const RAW_BIND = 'tcp://127.0.0.1:28003';

const IN_FLIGHT = 1000;
const ROUNDS = 6;
const ROUND_MS = 1500;

const LINES = 1_000_000;
const LINE_BYTES = 100;
const QUERY_ROUNDS = 7;

export async function run(): Promise<void> {
  await healthBench();
  memoryAndQueryBench();
}

async function healthBench(): Promise<void> {
  const children: Child[] = [];
  const dealers: RawDealer[] = [];
  try {
    const ours = await startChild('server/cli.ts', ['--bind', OUR_BIND, '--pub', OUR_PUB]);
    children.push(ours);
    const toOurs = new RawDealer(OUR_BIND);
    dealers.push(toOurs);
    // The baseline answers with exactly the metadata our server sends (its counters included).
    const sample = await toOurs.request(
      encodeRequest({ type: 'health_check_request', request_id: randomUUID() }),
    );
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

    const pool = Array.from({ length: IN_FLIGHT }, () =>
      encodeRequest({ type: 'health_check_request', request_id: randomUUID() }),
    );
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
    const fmt = (xs: number[]): string => xs.map((x) => Math.round(x)).join(', ');
    report('server-health', [
      result(
        `pipelined health checks, ${IN_FLIGHT} in flight`,
        median(oursRates),
        median(rawRates),
        'replies/s',
        '>= 0.6',
        `${ROUNDS} rounds of ${ROUND_MS} ms, medians; ours: ${fmt(oursRates)}; raw: ${fmt(rawRates)}; ` +
          `health reply ${String(encodeMessage(sample).length)} B`,
      ),
    ]);
  } finally {
    for (const d of dealers) await d.close();
    for (const c of children) await c.stop();
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
