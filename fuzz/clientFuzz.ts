/**
 * Fuzzes the console's core (issue 11.9): a real ConsoleCore (durable queue, registry,
 * connection, event subscriber, service) talks to a {@link FuzzingFakeServer} that answers its
 * requests with fuzzed replies and publishes fuzzed events, while the fuzzer keeps issuing
 * every kind of operation and tails logs and status. Violations: an uncaught exception or
 * unhandled rejection, an operation that fails with anything but the errors the service
 * documents, a connection stuck in a state it should leave, and — once the fake server turns
 * honest — a console that does not come back online, answer a health check and deliver events.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServerStatus } from '../shared/domain/server';
import { generateCurveKeyPair } from '../shared/node/curveKeyPair';
import { CONTROL_COMMAND_TYPES, OUTPUT_STREAMS } from '../shared/protocol';
import { openConsoleCore, type ConsoleCore } from '../main/core/services/consoleCore';
import type { PortAllocator } from '../test/helpers/ports';
import { FuzzingFakeServer } from './fuzzingFakeServer';
import type { FuzzReport } from './fuzzReport';
import { FUZZ_BACKEND, sampleJson, sampleText } from './messageSamples';
import { Prng } from './prng';

export interface ClientFuzzOptions {
  readonly mode: 'curve' | 'insecure';
  readonly seed: number;
  /** Fuzzed frames to send (replies, events, unsolicited; default 100 000), unless `durationMs` ends it first. */
  readonly count?: number;
  readonly durationMs?: number;
  readonly ports: PortAllocator;
  /** How long the console may take to come back online once the server is honest, ms (default 45 000). */
  readonly recoveryMs?: number;
  /** Whether the fake server may advertise unconnectable pub endpoints (see FakeServerOptions); default true. */
  readonly malformedPubEndpoints?: boolean;
  readonly log?: (line: string) => void;
}

/** `frames` are those the fake server sent; `maxRssBytes` is this process's (console core and fake server together). */
export interface ClientFuzzReport extends FuzzReport {
  readonly target: 'client';
  /** Operations the fuzzer issued through the service. */
  readonly requests: number;
  readonly events: number;
  /** Times the connection went offline (and so reconnected). */
  readonly reconnects: number;
  /** Connection states seen, with how often each was entered. */
  readonly states: Record<string, number>;
  /** How operations ended: `ok`, or the error class they failed with. */
  readonly outcomes: Record<string, number>;
  /** The health check after the fuzz, against the honest fake server, ms (null when it failed). */
  readonly finalHealthMs: number | null;
  /** From the server turning honest to the console's first answered health check, ms. */
  readonly recoveryMs: number;
}

/** The errors the service documents for a request that did not get a usable answer. */
const EXPECTED_ERRORS = new Set([
  'RequestError',
  'UnsupportedError',
  'ProfileError',
  'QueueFullError',
  'QueueClosedError',
  'InvalidCommandError',
]);
/** Operations in flight at once: enough to keep the fake server busy, few enough to finish. */
const MAX_IN_FLIGHT = 200;

/**
 * Runs one client fuzz session: a fresh console data dir, a fake server on two ports, then
 * the honest phase. Never throws for what the console does: problems are violations.
 * @throws Error when the fake server cannot bind its ports
 */
export async function runClientFuzz(options: ClientFuzzOptions): Promise<ClientFuzzReport> {
  const count = options.count ?? 100_000;
  const log = options.log ?? (() => undefined);
  const prng = new Prng(options.seed);
  const violations: string[] = [];
  const agents = Array.from({ length: 4 }, () => prng.uuid());
  const fake = await FuzzingFakeServer.start(prng, {
    commandPort: await options.ports.next(),
    pubPort: await options.ports.next(),
    curve: options.mode === 'curve' ? generateCurveKeyPair() : null,
    agents,
    bigHostileChance: 1 / 2000,
    malformedPubEndpoints: options.malformedPubEndpoints ?? true,
  });
  const serverKey = fake.publicKey;
  const dataDir = mkdtempSync(join(tmpdir(), 'descartes-client-fuzz-'));
  const problems = watchProcess(violations);
  const states: Record<string, number> = {};
  const outcomes: Record<string, number> = {};
  let reconnects = 0;
  let requests = 0;
  let maxRssBytes = 0;
  let finalHealthMs: number | null = null;
  let core: ConsoleCore | null = null;
  const started = performance.now();
  try {
    core = openConsoleCore({ dataDir, requestTimeoutMs: 1000, maxPending: 200 });
    const sid = core.registry.add({
      name: `fuzz-${options.mode}`,
      endpoint: fake.commandEndpoint,
      heartbeatIntervalMs: 100,
      security: serverKey === null ? { mode: 'plain' } : { mode: 'curve', serverKey },
    }).id;
    let lastState = '';
    const loopDeaths = new Set<string>();
    core.registry.onStatus((s: ServerStatus) => {
      if (s.serverId !== sid) return;
      // The connection says so when its receive loop ends other than by closing: until the
      // heartbeat notices, the console hears nothing while it still says online.
      if (s.lastError?.startsWith('receive failed') === true && !loopDeaths.has(s.lastError)) {
        loopDeaths.add(s.lastError);
        violations.push(
          `the connection's receive loop ended: ${s.lastError} (events from ${JSON.stringify(s.pubEndpoint)})`,
        );
      }
      if (s.state === lastState) return;
      lastState = s.state;
      states[s.state] = (states[s.state] ?? 0) + 1;
      if (s.state === 'offline') reconnects++;
    });
    const service = core.service;
    const received = { status: 0, logs: 0 };
    service.streamAgentStatus(sid, {
      onUpdate: () => {
        received.status++;
      },
      onResync: () => undefined,
    });
    for (const agent of agents) {
      service.tailAgentLogs(
        sid,
        agent,
        {
          onChunk: () => {
            received.logs++;
          },
          onBackfill: () => undefined,
          onError: () => undefined,
        },
        20,
      );
    }

    let inFlight = 0;
    const issue = (op: () => Promise<unknown>): void => {
      requests++;
      inFlight++;
      // A synchronous throw (e.g. UnsupportedError) is an outcome like a rejection.
      const promise = Promise.resolve().then(op);
      promise
        .then(
          () => {
            outcomes.ok = (outcomes.ok ?? 0) + 1;
          },
          (error: unknown) => {
            const name = error instanceof Error ? error.name : typeof error;
            outcomes[name] = (outcomes[name] ?? 0) + 1;
            if (!EXPECTED_ERRORS.has(name)) {
              violations.push(
                `an operation failed with ${name}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
              );
            }
          },
        )
        .finally(() => {
          inFlight--;
        });
    };

    const deadline = options.durationMs === undefined ? Infinity : started + options.durationMs;
    let nextCheck = 1000;
    while (fake.frames < count && performance.now() < deadline) {
      let busy = false;
      if (inFlight < MAX_IN_FLIGHT && core.registry.status(sid).state === 'online') {
        issue(() => operation(prng, service, sid, agents));
        busy = true;
      }
      // Events and unsolicited replies at about the pace of requests, so that none of them
      // drowns the others in the frame count.
      if (fake.events <= fake.requests + 100 && prng.chance(0.5)) {
        await fake.publishEvent();
        busy = true;
      }
      if ((fake.kinds.unsolicited ?? 0) < fake.requests / 20 && prng.chance(0.05)) await fake.unsolicited();
      // Let replies, events and timers run between steps, as in a live console; with nothing to
      // do (all operations waiting, or offline), wait a little instead of spinning.
      await new Promise((resolve) => (busy ? setImmediate(resolve) : setTimeout(resolve, 2)));
      if (fake.frames >= nextCheck) {
        nextCheck += 1000;
        maxRssBytes = Math.max(maxRssBytes, process.memoryUsage().rss);
        const state = core.registry.status(sid).state;
        if (state === 'closed') violations.push(`the connection closed itself by frame ${fake.frames}`);
        log(
          `client/${options.mode}: ${fake.frames} frames, ${requests} operations in ${((performance.now() - started) / 1000).toFixed(1)} s, state ${state}, ${reconnects} reconnects, ${violations.length} violation(s)`,
        );
      }
    }

    // The honest phase: the console must answer a health check again (its state alone can be
    // a stale "online"), and its event subscriber must deliver status updates and log chunks.
    fake.honest = true;
    const recoveryMs = options.recoveryMs ?? 45_000;
    const honestAt = performance.now();
    let recovered = false;
    while (!recovered && performance.now() - honestAt < recoveryMs) {
      const t0 = performance.now();
      try {
        const health = await service.healthCheck(sid);
        finalHealthMs = performance.now() - t0;
        recovered = health.healthy;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      await fake.publishEvent();
    }
    const recoveryTimeMs = performance.now() - honestAt;
    if (!recovered) {
      const s = core.registry.status(sid);
      violations.push(
        `no health answer ${recoveryMs} ms after the server turned honest: state ${s.state}, last error ${s.lastError}`,
      );
    } else {
      const beforeStatus = received.status;
      const beforeLogs = received.logs;
      const target = agents[0] as string;
      const statusOk = await until(
        () => received.status > beforeStatus,
        15_000,
        () => fake.publishStatus(target),
      );
      if (!statusOk) violations.push('status updates stopped arriving: the event subscriber is dead');
      const logsOk = await until(
        () => received.logs > beforeLogs,
        15_000,
        () => fake.publishLog(target, 'honest line\n'),
      );
      if (!logsOk) violations.push('log chunks stopped arriving: the event subscriber is dead');
    }
    maxRssBytes = Math.max(maxRssBytes, process.memoryUsage().rss);
    return {
      target: 'client',
      mode: options.mode,
      seed: options.seed,
      frames: fake.frames,
      bytesSent: fake.bytesSent,
      elapsedMs: performance.now() - started,
      kinds: fake.kinds,
      requests,
      events: fake.events,
      reconnects,
      states,
      outcomes,
      finalHealthMs,
      recoveryMs: recoveryTimeMs,
      maxRssBytes,
      violations,
    };
  } finally {
    await core?.dispose();
    await fake.close();
    // Give late rejections a turn to be counted before the watchers go.
    await new Promise((resolve) => setTimeout(resolve, 50));
    problems.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** One random operation of the service, as the UI or ctl would issue it. */
function operation(
  prng: Prng,
  service: ConsoleCore['service'],
  sid: string,
  agents: readonly string[],
): Promise<unknown> {
  const agent = prng.chance(0.8) ? prng.pick(agents) : prng.uuid();
  switch (prng.int(12)) {
    case 0:
    case 1:
      return service.healthCheck(sid);
    case 2:
      return service.listAgents(sid, prng.chance(0.5) ? {} : { status: 'running', limit: prng.int(50) });
    case 3:
      return service.queryAgentOutput(sid, agent, {
        stream: prng.pick(OUTPUT_STREAMS),
        filter: prng.chance(0.5) ? null : 'line',
        limit: prng.int(200),
        offset: prng.int(10),
      });
    case 4:
      return service.getAgentStatus(sid, agent);
    case 5:
      return service.readAgentStdout(sid, agent);
    // Mutating commands go through the durable queue (SQLite): rarer, as an operator's are.
    case 6:
      return prng.chance(0.3)
        ? service.spawnAgent(sid, {
            name: sampleText(prng),
            model_backend: FUZZ_BACKEND,
            task: sampleText(prng),
          })
        : service.healthCheck(sid);
    case 7:
      return prng.chance(0.3)
        ? service.controlAgent(sid, agent, prng.pick(CONTROL_COMMAND_TYPES), sampleJson(prng))
        : service.getAgentStatus(sid, agent);
    case 8:
      return prng.chance(0.3)
        ? service.sendActionToAgent(sid, agent, prng.pick(['echo', 'ping', 'custom']), sampleJson(prng), {
            timeoutSecs: 1,
          })
        : service.readAgentStdout(sid, agent);
    case 9:
      return prng.chance(0.3)
        ? service.batchControl(
            sid,
            agents.slice(0, prng.range(1, agents.length)),
            prng.pick(CONTROL_COMMAND_TYPES),
            { failFast: prng.chance(0.5) },
          )
        : service.listAgents(sid);
    default:
      return service.queryAgentOutput(sid, agent, { limit: 0 });
  }
}

/** Polls `done` every 100 ms (calling `poke` each time) until it holds or `ms` pass. */
async function until(done: () => boolean, ms: number, poke: () => Promise<unknown>): Promise<boolean> {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    if (done()) return true;
    await poke();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return done();
}

/**
 * Counts uncaught exceptions and unhandled rejections as violations while the fuzz runs (the
 * listeners also keep the process alive through them, so the run can report them all).
 */
function watchProcess(violations: string[]): { stop(): void } {
  const onError = (error: unknown): void => {
    violations.push(
      `uncaught exception: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
  };
  const onRejection = (reason: unknown): void => {
    violations.push(
      `unhandled rejection: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`,
    );
  };
  process.on('uncaughtException', onError);
  process.on('unhandledRejection', onRejection);
  return {
    stop: () => {
      process.off('uncaughtException', onError);
      process.off('unhandledRejection', onRejection);
    },
  };
}
