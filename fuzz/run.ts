/**
 * `npm run fuzz -- <server|client|decode> [options]`: the fuzzers of issue 11.9 and the decode
 * probe of issue 11.1. Prints progress and a summary (counts, time, max health latency, max RSS),
 * the seed to replay a run with, and exits 1 on any violation (2 on bad usage).
 *
 *   server  [--count N] [--seconds S] [--seed N] [--mode curve|insecure|both] [--max-hostile BYTES] [--json]
 *   client  [--count N] [--seconds S] [--seed N] [--mode curve|insecure|both] [--json]
 *   decode  [--sizes 65536,1048576,…] [--json]
 */
import { PortAllocator } from '../test/helpers/ports';
import { stopAllServers } from '../test/helpers/serverProcess';
import { runClientFuzz, type ClientFuzzReport } from './clientFuzz';
import { probeHostileCases, formatProbeLine } from './decodeProbe';
import { randomSeed } from './prng';
import { runServerFuzz, type ServerFuzzReport } from './serverFuzz';

const USAGE = `usage: npm run fuzz -- <server|client|decode> [options]
  server   fuzz a live agent server (CURVE and --insecure): random and mutated frames,
           health within 100 ms and RSS under 400 MB checked every 1 000 frames
  client   fuzz the console core against a fake server sending fuzzed replies and events
  decode   measure decode time and heap use of every hostile frame
options:
  --count N          frames per mode (default 100000)
  --seconds S        stop each mode after S seconds instead
  --seed N           replay a run (every run prints its seed)
  --mode M           curve, insecure or both (default both)
  --max-hostile B    largest hostile frame in bytes (server; default 10485760)
  --no-bad-pub-endpoints
                     client: never advertise a pub_endpoint libzmq refuses (narrows a failing run down)
  --sizes A,B        frame sizes for decode (default 65536,1048576,10485696)
  --json             print the reports as JSON lines`;

/** Ports of the command-line runs; the integration tests own other ranges of 20300-20999. */
const CLI_PORTS: [number, number] = [20800, 20999];

interface Args {
  readonly command: string;
  readonly count: number | undefined;
  readonly seconds: number | undefined;
  readonly seed: number;
  readonly modes: ('curve' | 'insecure')[];
  readonly maxHostile: number | undefined;
  readonly sizes: number[];
  readonly json: boolean;
  readonly badPubEndpoints: boolean;
}

function usage(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

function positiveInt(name: string, text: string | undefined, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(text);
  if (text === undefined || !Number.isSafeInteger(n) || n < 0 || n > max)
    usage(`${name} takes an integer from 0 to ${max}`);
  return n;
}

function parseArgs(argv: readonly string[]): Args {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h') usage('');
  if (!['server', 'client', 'decode'].includes(command)) usage(`unknown command ${command}`);
  let count: number | undefined;
  let seconds: number | undefined;
  let seed = randomSeed();
  let modes: ('curve' | 'insecure')[] = ['curve', 'insecure'];
  let maxHostile: number | undefined;
  let sizes = [64 * 1024, 1024 * 1024, 10 * 1024 * 1024 - 64];
  let json = false;
  let badPubEndpoints = true;
  for (let i = 0; i < rest.length; i++) {
    const flag = rest[i] ?? '';
    const value = rest[i + 1];
    switch (flag) {
      case '--count':
        count = positiveInt(flag, value);
        i++;
        break;
      case '--seconds':
        seconds = positiveInt(flag, value, 86_400);
        i++;
        break;
      case '--seed':
        seed = positiveInt(flag, value, 0xffffffff);
        i++;
        break;
      case '--mode':
        if (value === 'both') modes = ['curve', 'insecure'];
        else if (value === 'curve' || value === 'insecure') modes = [value];
        else usage('--mode takes curve, insecure or both');
        i++;
        break;
      case '--max-hostile':
        maxHostile = positiveInt(flag, value, 10 * 1024 * 1024);
        i++;
        break;
      case '--sizes':
        sizes = (value ?? '').split(',').map((s) => positiveInt('--sizes', s, 10 * 1024 * 1024));
        i++;
        break;
      case '--json':
        json = true;
        break;
      case '--no-bad-pub-endpoints':
        badPubEndpoints = false;
        break;
      default:
        usage(`unknown option ${flag}`);
    }
  }
  return { command, count, seconds, seed, modes, maxHostile, sizes, json, badPubEndpoints };
}

const MiB = 1024 * 1024;

function summary(r: ServerFuzzReport | ClientFuzzReport): string {
  const lines = [
    `${r.target}/${r.mode}: seed ${r.seed}: ${r.frames} frames (${(r.bytesSent / MiB).toFixed(1)} MiB) in ${(r.elapsedMs / 1000).toFixed(1)} s, ${r.violations.length} violation(s)`,
  ];
  if (r.target === 'server') {
    lines.push(
      `  health: max ${r.maxCheckHealthMs.toFixed(1)} ms at ${r.checks} checks (slowest single try ${r.maxHealthMs.toFixed(1)} ms, ${r.healthRetries} retried); server RSS max ${(r.maxRssBytes / MiB).toFixed(0)} MiB; replies ${r.replies}; slowest batch round trip ${r.maxSyncMs.toFixed(0)} ms`,
      `  server counters: ${Object.entries(r.serverStats)
        .map(([k, v]) => `${k.replace('stat.', '')}=${v}`)
        .join(' ')}`,
    );
  } else {
    lines.push(
      `  console: ${r.requests} operations (${Object.entries(r.outcomes)
        .map(([k, v]) => `${k}=${v}`)
        .join(
          ' ',
        )}), ${r.events} events published, ${r.reconnects} reconnects, states ${JSON.stringify(r.states)}`,
      `  after the fuzz: answered health after ${(r.recoveryMs / 1000).toFixed(1)} s (${r.finalHealthMs === null ? 'never' : `${r.finalHealthMs.toFixed(1)} ms`}); process RSS max ${(r.maxRssBytes / MiB).toFixed(0)} MiB`,
    );
  }
  lines.push(
    `  kinds: ${Object.entries(r.kinds)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
  );
  for (const v of r.violations.slice(0, 20)) lines.push(`  VIOLATION: ${v}`);
  return lines.join('\n');
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (args.command === 'decode') {
    for (const line of probeHostileCases(args.sizes)) {
      process.stdout.write(`${args.json ? JSON.stringify(line) : formatProbeLine(line)}\n`);
    }
    return 0;
  }
  const ports = new PortAllocator(...CLI_PORTS);
  const log = (line: string): void => {
    if (!args.json) process.stdout.write(`${line}\n`);
  };
  process.stdout.write(`fuzz ${args.command}: seed ${args.seed} (replay with --seed ${args.seed})\n`);
  let violations = 0;
  for (const mode of args.modes) {
    const common = {
      mode,
      seed: args.seed,
      ports,
      log,
      ...(args.count === undefined && args.seconds === undefined ? {} : { count: args.count ?? Infinity }),
      ...(args.seconds === undefined ? {} : { durationMs: args.seconds * 1000 }),
    };
    const report =
      args.command === 'server'
        ? await runServerFuzz({
            ...common,
            ...(args.maxHostile === undefined ? {} : { maxHostileBytes: args.maxHostile }),
          })
        : await runClientFuzz({ ...common, malformedPubEndpoints: args.badPubEndpoints });
    violations += report.violations.length;
    process.stdout.write(`${args.json ? JSON.stringify(report) : summary(report)}\n`);
  }
  if (violations > 0)
    process.stdout.write(`FAILED: ${violations} violation(s); replay with --seed ${args.seed}\n`);
  return violations > 0 ? 1 : 0;
}

main().then(
  async (code) => {
    await stopAllServers();
    process.exit(code);
  },
  async (error: unknown) => {
    process.stderr.write(
      `fuzz: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    await stopAllServers();
    process.exit(1);
  },
);
