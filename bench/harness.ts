/**
 * Small benchmark harness: every benchmark measures our code and a raw baseline in the same
 * run, prints a table, and writes `bench/results/<file>.json`. Figures are never asserted in
 * tests (timings on shared machines are noise); the JSON is what a reviewer compares.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One line of a results file. `ratio` is ours/raw in the unit named by `unit`. */
export interface BenchResult {
  name: string;
  /** Our figure, in `unit`. */
  ours: number;
  /** The raw baseline's figure, in `unit`. */
  raw: number;
  unit: string;
  /** ours / raw. */
  ratio: number;
  /** The target, e.g. ">= 0.8" or "<= 1.5". */
  goal: string;
  /** Whether `ratio` meets `goal`. */
  met: boolean;
  notes?: string;
}

/** Builds a result and decides `met` from a goal of the form `>= x` or `<= x`. */
export function result(
  name: string,
  ours: number,
  raw: number,
  unit: string,
  goal: string,
  notes?: string,
): BenchResult {
  const ratio = ours / raw;
  const m = /^(>=|<=)\s*([\d.]+)$/.exec(goal);
  if (!m) throw new Error(`bench goal must look like ">= 0.8" or "<= 1.5", got "${goal}"`);
  const target = Number(m[2]);
  const met = m[1] === '>=' ? ratio >= target : ratio <= target;
  return { name, ours, raw, unit, ratio, goal, met, ...(notes === undefined ? {} : { notes }) };
}

/**
 * Runs `fn` repeatedly for about `ms` milliseconds after a warm-up and returns operations
 * per second. `fn` returns how many operations it performed (so a batch can count as many).
 */
export function opsPerSecond(fn: () => number, ms = 1500, warmupMs = 300): number {
  const until = (deadline: number): [number, number] => {
    let ops = 0;
    const start = performance.now();
    let now = start;
    while (now < deadline) {
      ops += fn();
      now = performance.now();
    }
    return [ops, now - start];
  };
  until(performance.now() + warmupMs);
  const [ops, elapsed] = until(performance.now() + ms);
  return (ops * 1000) / elapsed;
}

/** Alternates `a` and `b` in `rounds` rounds so drift on a shared machine hits both alike; returns medians. */
export function interleaved(a: () => number, b: () => number, rounds = 5, ms = 600): [number, number] {
  const ra: number[] = [];
  const rb: number[] = [];
  for (let i = 0; i < rounds; i++) {
    ra.push(opsPerSecond(a, ms, i === 0 ? 300 : 50));
    rb.push(opsPerSecond(b, ms, i === 0 ? 300 : 50));
  }
  return [median(ra), median(rb)];
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  const mid = s.length >> 1;
  if (s.length === 0) return Number.NaN;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** Percentile (0–100) of a sample, nearest-rank. */
export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((x, y) => x - y);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[i] ?? Number.NaN;
}

const resultsDir = join(dirname(fileURLToPath(import.meta.url)), 'results');

/** Prints a table of results and writes them to `bench/results/<file>.json`. */
export function report(file: string, results: readonly BenchResult[]): void {
  const fmt = (n: number): string =>
    Math.abs(n) >= 1000 ? Math.round(n).toLocaleString('en-US') : n.toPrecision(3);
  console.log(`\n${file}`);
  console.table(
    results.map((r) => ({
      name: r.name,
      ours: `${fmt(r.ours)} ${r.unit}`,
      raw: `${fmt(r.raw)} ${r.unit}`,
      ratio: r.ratio.toFixed(2),
      goal: r.goal,
      met: r.met ? 'yes' : 'NO',
    })),
  );
  mkdirSync(resultsDir, { recursive: true });
  const path = join(resultsDir, `${file}.json`);
  writeFileSync(
    path,
    JSON.stringify({ file, at: new Date().toISOString(), node: process.version, results }, null, 2),
  );
  console.log(`wrote ${path}`);
}

/**
 * A result whose goal is an absolute bound on our figure (e.g. "list 10,000 agents in ≤ 1000
 * ms"), printed with the raw baseline measured in the same run: `ratio` is still ours/raw,
 * `met` compares `ours` with `bound`.
 */
export function boundResult(
  name: string,
  ours: number,
  raw: number,
  unit: string,
  bound: { readonly op: '<=' | '>='; readonly value: number },
  notes?: string,
): BenchResult {
  const met = bound.op === '<=' ? ours <= bound.value : ours >= bound.value;
  return {
    name,
    ours,
    raw,
    unit,
    ratio: ours / raw,
    goal: `ours ${bound.op} ${bound.value} ${unit}`,
    met,
    ...(notes === undefined ? {} : { notes }),
  };
}
