/**
 * Measures what decoding one frame costs: wall time, bytes allocated on the JS heap (GCs during
 * the call included) and the heap's peak growth. Run with `--expose-gc` for stable numbers.
 *
 * As a script (`node --expose-gc --import tsx fuzz/decodeProbe.ts [--json] [--sizes 65536,…]`)
 * it probes every hostile frame ({@link HOSTILE_CASES}) through the codec and, for requests, the
 * server's salvage path, and prints one line per frame.
 */
import { GCProfiler } from 'node:v8';
import { fileURLToPath } from 'node:url';
import { ProtocolError, decodeMessage } from '../shared/protocol';
import { heapBudget } from '../shared/protocol/codec/reader';
import { peekRawRequest } from '../server/rawRequest';
import { HOSTILE_CASES } from './hostileFrames';

/** What one call cost. */
export interface ProbeResult {
  /** 'ok', 'protocol' (a ProtocolError: the expected refusal) or 'other' (any other throw: a bug). */
  readonly outcome: 'ok' | 'protocol' | 'other';
  /** The error message when it threw (first 200 characters). */
  readonly error: string | null;
  /** Wall time of the call, ms (reported, never asserted: it depends on the machine). */
  readonly ms: number;
  /** Bytes allocated on the JS heap during the call, including what GCs freed meanwhile. */
  readonly allocated: number;
  /** Highest JS heap use during the call above the use before it, bytes. */
  readonly peak: number;
  /** JS heap still used after the call and a full GC, above the use before it (the result kept alive). */
  readonly retained: number;
}

/** Keeps the value under measurement alive across a GC. */
let _holder: unknown = null;

const gc: (() => void) | undefined = (globalThis as { gc?: () => void }).gc;

/**
 * Runs `fn` once and measures it (see {@link ProbeResult}). Without `--expose-gc` the heap numbers
 * include garbage left by earlier work and are upper bounds only.
 */
export function probe(fn: () => unknown): ProbeResult {
  gc?.();
  const profiler = new GCProfiler();
  profiler.start();
  const before = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  let outcome: ProbeResult['outcome'] = 'ok';
  let error: string | null = null;
  let kept: unknown;
  try {
    kept = fn();
  } catch (e) {
    outcome = e instanceof ProtocolError ? 'protocol' : 'other';
    error = (e instanceof Error ? e.message : String(e)).slice(0, 200);
  }
  const ms = performance.now() - t0;
  const after = process.memoryUsage().heapUsed;
  const stats = profiler.stop().statistics;
  let freed = 0;
  let peak = after;
  for (const s of stats) {
    const used = s.beforeGC.heapStatistics.usedHeapSize;
    freed += Math.max(0, used - s.afterGC.heapStatistics.usedHeapSize);
    peak = Math.max(peak, used);
  }
  _holder = kept; // alive through the GC below, so `retained` counts the decoded value
  gc?.();
  const retained = process.memoryUsage().heapUsed - before;
  _holder = null;
  return {
    outcome,
    error,
    ms,
    allocated: Math.max(0, after - before + freed),
    peak: Math.max(0, peak - before),
    retained: Math.max(0, retained),
  };
}

/** One probed frame, as the script prints it. */
export interface ProbeLine {
  readonly case: string;
  /** 'decode' (the codec) or 'peek' (the server's salvage path for a rejected request). */
  readonly path: 'decode' | 'peek';
  readonly bytes: number;
  /** The codec's heap budget for a frame this size ({@link heapBudget}). */
  readonly budget: number;
  readonly result: ProbeResult;
}

/** Probes every hostile case at every size (bytes); requests through decode and peek. */
export function probeHostileCases(sizes: readonly number[]): ProbeLine[] {
  const lines: ProbeLine[] = [];
  for (const size of sizes) {
    for (const c of HOSTILE_CASES) {
      const frame = c.build(size);
      // Warm the code paths on a small copy first, so the numbers are not the JIT's.
      const warm = c.build(4096);
      for (let i = 0; i < 3; i++) probeQuietly(warm, c.side === 'request');
      const budget = heapBudget(frame.length);
      lines.push({
        case: c.name,
        path: 'decode',
        bytes: frame.length,
        budget,
        result: probe(() => decodeMessage(frame)),
      });
      if (c.side === 'request') {
        lines.push({
          case: c.name,
          path: 'peek',
          bytes: frame.length,
          budget,
          result: leastOf(PEEK_TRIES, () => probe(() => peekRawRequest(frame))),
        });
      }
    }
  }
  return lines;
}

/**
 * How many times a peek is probed. Its own allocation is about 1 KiB every time; now and then a
 * lazy compile or a GC's bookkeeping lands inside one call and adds up to ~270 KiB (seen in about
 * one call in 500), so the least of a few shows the call's cost and not the engine's.
 */
const PEEK_TRIES = 3;

/** Runs `measure` `tries` times and keeps the run that allocated least. */
function leastOf(tries: number, measure: () => ProbeResult): ProbeResult {
  let best = measure();
  for (let i = 1; i < tries; i++) {
    const r = measure();
    if (r.allocated < best.allocated) best = r;
  }
  return best;
}

function probeQuietly(frame: Uint8Array, peek: boolean): void {
  try {
    decodeMessage(frame);
  } catch {
    // only warming up
  }
  if (peek) peekRawRequest(frame);
}

const MiB = 1024 * 1024;

/** One probed frame as a table row (sizes in MiB, the verdict shortened). */
export function formatProbeLine(l: ProbeLine): string {
  const r = l.result;
  const mb = (n: number): string => (n / MiB).toFixed(1).padStart(6);
  return [
    `${l.case.padEnd(36)} ${l.path.padEnd(6)} ${(l.bytes / MiB).toFixed(2).padStart(6)} MiB`,
    `${r.ms.toFixed(1).padStart(7)} ms`,
    `alloc ${mb(r.allocated)} MiB (${(r.allocated / l.bytes).toFixed(1)}x)`,
    `peak ${mb(r.peak)} MiB`,
    `kept ${mb(r.retained)} MiB`,
    `${r.outcome}${r.error === null ? '' : `: ${r.error.slice(0, 70)}`}`,
  ].join('  ');
}

function main(argv: readonly string[]): void {
  const json = argv.includes('--json');
  const sizesAt = argv.indexOf('--sizes');
  const sizes =
    sizesAt >= 0
      ? (argv[sizesAt + 1] ?? '').split(',').map((s) => Number(s))
      : [64 * 1024, 1024 * 1024, 10 * MiB - 64];
  if (sizes.some((s) => !Number.isInteger(s) || s < 64 || s > 10 * MiB)) {
    process.stderr.write('--sizes takes a comma list of byte counts from 64 to 10485760\n');
    process.exit(2);
  }
  if (gc === undefined) process.stderr.write('decodeProbe: run with --expose-gc for stable numbers\n');
  for (const line of probeHostileCases(sizes)) {
    process.stdout.write(`${json ? JSON.stringify(line) : formatProbeLine(line)}\n`);
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2));
}
