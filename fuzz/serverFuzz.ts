/**
 * Fuzzes a live agent server (issue 11.9): starts `server/cli.ts` in CURVE or `--insecure` mode
 * with a temp state dir, sends it random and mutated frames (see {@link ServerFrameSource}) from
 * one DEALER, and every `checkEvery` frames checks from a second, well-behaved DEALER that health
 * answers within `healthMs` and that the server's RSS stays under `rssBytes`. Every reply must be
 * framed `[empty, msgpack]` and decode; a handler that throws (`stat.internal_errors`) is a
 * violation too.
 */
import * as zmq from 'zeromq';
import { decodeMessage, encodeMessage, type ZmqMessage } from '../shared/protocol';
import type { PortAllocator } from '../test/helpers/ports';
import { RawClient } from '../test/helpers/rawClient';
import { receiveFrames } from '../test/helpers/receiveFrames';
import { startServerProcess, type ServerProcess } from '../test/helpers/serverProcess';
import { curveClientOptions } from '../test/helpers/testKeys';
import type { FuzzReport } from './fuzzReport';
import { FUZZ_BACKEND } from './messageSamples';
import { processRssBytes } from './processRss';
import { Prng } from './prng';
import { ServerFrameSource } from './serverFrameSource';

const MiB = 1024 * 1024;
const EMPTY = new Uint8Array(0);

/** What counts as a violation. */
export interface FuzzLimits {
  /** Health must answer within this many ms at every check (best of 3 tries, see below). */
  readonly healthMs: number;
  /** The server's RSS must stay under this many bytes. */
  readonly rssBytes: number;
  /** Frames between two checks. */
  readonly checkEvery: number;
}

export const DEFAULT_LIMITS: FuzzLimits = { healthMs: 100, rssBytes: 400 * MiB, checkEvery: 1000 };

export interface ServerFuzzOptions {
  readonly mode: 'curve' | 'insecure';
  /** Seed of the PRNG: the same seed sends the same frames (replies that steer it aside). */
  readonly seed: number;
  /** Frames to send (default 100 000), unless `durationMs` ends the run first. */
  readonly count?: number;
  /** Stop after this many ms of fuzzing (the checks still run at the end). */
  readonly durationMs?: number;
  /** Ports for the server's two sockets. */
  readonly ports: PortAllocator;
  readonly limits?: Partial<FuzzLimits>;
  /** Largest hostile frame in bytes (default 10 MiB). */
  readonly maxHostileBytes?: number;
  /** Progress lines (one per check); default none. */
  readonly log?: (line: string) => void;
}

/** `maxRssBytes` is the server process's. */
export interface ServerFuzzReport extends FuzzReport {
  readonly target: 'server';
  /** Replies received on the fuzzing socket. */
  readonly replies: number;
  readonly checks: number;
  /** Slowest health answer of any try at any check, ms (informative: one slow try is retried). */
  readonly maxHealthMs: number;
  /** Slowest best-of-three health answer at a check, ms: what the limit applies to. */
  readonly maxCheckHealthMs: number;
  /** Health tries over the limit that a retry then met. */
  readonly healthRetries: number;
  /** Slowest flow-control round trip (a health request behind a batch of fuzz frames), ms. */
  readonly maxSyncMs: number;
  /** The server's own counters at the end (`stat.*` from its health metadata). */
  readonly serverStats: Record<string, string>;
}

/** Frames sent between two flow-control round trips: bounds what waits in the server's queue. */
const BATCH = 100;
const SYNC_TIMEOUT_MS = 30_000;
const HEALTH_TRIES = 3;

/** The server's config: only the harmless fuzz backend can run, few agents, short timeouts. */
function fuzzConfig(): Record<string, unknown> {
  return {
    backends: {
      shell: null,
      claude: null,
      opencode: null,
      [FUZZ_BACKEND]: { argv: [process.execPath, 'fuzz/fuzzAgent.js'] },
    },
    cli_catch_all: false,
    max_agents: 4,
    max_exited_agents: 32,
    heartbeat_ms: 1000,
    action_timeout_secs: 2,
  };
}

/**
 * Runs one fuzz session against a fresh server and stops it. Never throws for what the server
 * does: every problem is a violation in the report.
 * @throws Error when the server cannot be started at all
 */
export async function runServerFuzz(options: ServerFuzzOptions): Promise<ServerFuzzReport> {
  const limits: FuzzLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const count = options.count ?? 100_000;
  const log = options.log ?? (() => undefined);
  const prng = new Prng(options.seed);
  const source = new ServerFrameSource(prng, {
    maxHostileBytes: Math.min(options.maxHostileBytes ?? 10 * MiB, 10 * MiB - 64),
    bigHostileChance: 1 / 4000,
    spawnChance: 1 / 400,
  });
  const server = await startServerProcess({
    port: await options.ports.next(),
    pubPort: await options.ports.next(),
    insecure: options.mode === 'insecure',
    config: fuzzConfig(),
  });
  const violations: string[] = [];
  const kinds: Record<string, number> = {};
  const fuzz = new FuzzSocket(server, violations, (id) => {
    source.addAgent(id);
  });
  const checker = RawClient.connect(server.bind, server.curve);
  const stats = {
    checks: 0,
    maxHealthMs: 0,
    maxCheckHealthMs: 0,
    healthRetries: 0,
    maxRssBytes: 0,
    maxSyncMs: 0,
  };
  const started = performance.now();
  let frames = 0;
  let bytesSent = 0;
  try {
    const deadline = options.durationMs === undefined ? Infinity : started + options.durationMs;
    while (frames < count && performance.now() < deadline && server.exit === null) {
      const frame = source.next();
      kinds[frame.kind] = (kinds[frame.kind] ?? 0) + 1;
      for (const f of frame.frames) bytesSent += f.length;
      await fuzz.send(frame.frames);
      frames++;
      if (frames % BATCH === 0) {
        const ms = await fuzz.sync();
        if (ms === null)
          violations.push(
            `no answer to a health request behind frame ${frames} within ${SYNC_TIMEOUT_MS} ms`,
          );
        else stats.maxSyncMs = Math.max(stats.maxSyncMs, ms);
      }
      if (frames % limits.checkEvery === 0) {
        await check(server, checker, limits, stats, violations, frames);
        log(progressLine(options.mode, frames, performance.now() - started, stats, violations.length));
      }
    }
    await fuzz.sync();
    await check(server, checker, limits, stats, violations, frames);
    const serverStats = await statsOf(checker);
    const internal = Number(serverStats['stat.internal_errors'] ?? 0);
    if (internal > 0) {
      const lines = server
        .stderr()
        .split('\n')
        .filter((l) => l.includes('internal error') || l.includes('cannot encode'));
      violations.push(`the server counted ${internal} internal error(s): ${lines.slice(0, 5).join(' | ')}`);
    }
    for (const v of checker.violations) violations.push(`health client: ${v}`);
    return {
      target: 'server',
      mode: options.mode,
      seed: options.seed,
      frames,
      bytesSent,
      elapsedMs: performance.now() - started,
      kinds,
      replies: fuzz.replies,
      checks: stats.checks,
      maxHealthMs: stats.maxHealthMs,
      maxCheckHealthMs: stats.maxCheckHealthMs,
      healthRetries: stats.healthRetries,
      maxRssBytes: stats.maxRssBytes,
      maxSyncMs: stats.maxSyncMs,
      serverStats,
      violations,
    };
  } finally {
    await checker.close();
    await fuzz.close();
    const exit = await server.stop('SIGTERM', 10_000);
    if (exit.code !== 0 && violations.length === 0) {
      violations.push(`the server exited with code ${exit.code} signal ${exit.signal} at SIGTERM`);
    }
  }
}

/** One check: the server runs, health answers in time (best of 3 tries), RSS under the limit. */
async function check(
  server: ServerProcess,
  checker: RawClient,
  limits: FuzzLimits,
  stats: {
    checks: number;
    maxHealthMs: number;
    maxCheckHealthMs: number;
    healthRetries: number;
    maxRssBytes: number;
  },
  violations: string[],
  frames: number,
): Promise<void> {
  stats.checks++;
  if (server.exit !== null) {
    violations.push(
      `the server exited (code ${server.exit.code}, signal ${server.exit.signal}) by frame ${frames}`,
    );
    return;
  }
  // A loaded machine can stall any process for a moment: one slow try is retried, a server that
  // is really stuck (or gone) fails all three.
  let best = Infinity;
  for (let i = 0; i < HEALTH_TRIES && best > limits.healthMs; i++) {
    const t0 = performance.now();
    try {
      await checker.request({ type: 'health_check_request', request_id: crypto.randomUUID() }, 10_000);
      const ms = performance.now() - t0;
      stats.maxHealthMs = Math.max(stats.maxHealthMs, ms);
      if (ms > limits.healthMs && i + 1 < HEALTH_TRIES) stats.healthRetries++;
      best = Math.min(best, ms);
    } catch (error) {
      violations.push(`health failed at frame ${frames}: ${String(error)}`);
      return;
    }
  }
  stats.maxCheckHealthMs = Math.max(stats.maxCheckHealthMs, best);
  if (best > limits.healthMs) {
    violations.push(
      `health took ${best.toFixed(1)} ms (limit ${limits.healthMs}) at frame ${frames}, ${HEALTH_TRIES} tries`,
    );
  }
  const rss = server.pid === undefined ? null : processRssBytes(server.pid);
  if (rss !== null) {
    stats.maxRssBytes = Math.max(stats.maxRssBytes, rss);
    if (rss > limits.rssBytes) {
      violations.push(
        `server RSS ${(rss / MiB).toFixed(0)} MiB over ${(limits.rssBytes / MiB).toFixed(0)} MiB at frame ${frames}`,
      );
    }
  }
}

async function statsOf(checker: RawClient): Promise<Record<string, string>> {
  try {
    const reply = await checker.request(
      { type: 'health_check_request', request_id: crypto.randomUUID() },
      10_000,
    );
    return Object.fromEntries(Object.entries(reply.metadata ?? {}).filter(([k]) => k.startsWith('stat.')));
  } catch {
    return {};
  }
}

function progressLine(
  mode: string,
  frames: number,
  elapsedMs: number,
  stats: { maxHealthMs: number; maxCheckHealthMs: number; maxRssBytes: number; maxSyncMs: number },
  violations: number,
): string {
  return (
    `server/${mode}: ${frames} frames in ${(elapsedMs / 1000).toFixed(1)} s, ` +
    `health max ${stats.maxCheckHealthMs.toFixed(1)} ms (any try ${stats.maxHealthMs.toFixed(1)} ms), ` +
    `RSS max ${(stats.maxRssBytes / MiB).toFixed(0)} MiB, sync max ${stats.maxSyncMs.toFixed(0)} ms, ` +
    `${violations} violation(s)`
  );
}

/**
 * The fuzzing DEALER: sends frames one at a time (zeromq.js allows one send in flight), checks
 * every reply's framing and encoding, learns agent ids from spawn replies, and does the
 * flow-control round trip.
 */
class FuzzSocket {
  replies = 0;
  private readonly socket: zmq.Dealer;
  private readonly loop: Promise<void>;
  private readonly waiting = new Map<string, () => void>();
  private closed = false;

  constructor(
    server: ServerProcess,
    private readonly violations: string[],
    private readonly onAgent: (id: string) => void,
  ) {
    this.socket = new zmq.Dealer({
      linger: 0,
      sendHighWaterMark: 10_000,
      ...curveClientOptions(server.curve),
    });
    this.socket.connect(server.bind);
    this.loop = receiveFrames(
      this.socket,
      this.onReply.bind(this),
      violations,
      () => this.closed,
      'fuzz socket receive failed',
    );
  }

  send(frames: Uint8Array[]): Promise<void> {
    return this.socket.send(frames);
  }

  /**
   * Sends a health request behind what was sent and waits for its reply: the server reads in
   * order, so then it has read every frame before it. Resolves with the round trip in ms, or
   * null when no reply came in time.
   */
  async sync(): Promise<number | null> {
    const id = crypto.randomUUID();
    const t0 = performance.now();
    const answered = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        resolve(false);
      }, SYNC_TIMEOUT_MS);
      this.waiting.set(id, () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    await this.socket.send([EMPTY, encodeMessage({ type: 'health_check_request', request_id: id })]);
    return (await answered) ? performance.now() - t0 : null;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.socket.close();
    await this.loop;
  }

  private onReply(frames: Buffer[]): void {
    this.replies++;
    const [delimiter, payload] = frames;
    if (frames.length !== 2 || delimiter?.length !== 0 || payload === undefined) {
      this.violations.push(`a reply was not framed [empty, msgpack]: ${frames.length} frame(s)`);
      return;
    }
    let reply: ZmqMessage;
    try {
      reply = decodeMessage(payload);
    } catch (error) {
      this.violations.push(
        `the server sent a reply that does not decode (${payload.length} bytes): ${String(error)}`,
      );
      return;
    }
    if (!('request_id' in reply)) {
      this.violations.push(`the server sent a ${reply.type} on the command socket`);
      return;
    }
    if (reply.type === 'spawn_response' && reply.agent_info) this.onAgent(reply.agent_info.id);
    this.waiting.get(reply.request_id)?.();
    this.waiting.delete(reply.request_id);
  }
}
