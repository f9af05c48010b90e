/**
 * `npm run bench -- fleet` (issue 14 item 4): one console core against 100 agent servers on
 * loopback, 100 agents each. The console side is the real core as every host wires it
 * (`openConsoleCore` + `createConsoleHandlers`, called through `invokeChannel` like the IPC
 * and WebSocket hosts; the bench's client serialises each pushed batch to JSON as the browser
 * host does). The servers are scripted (`bench/fleet/scriptedFleetServer.ts`: ROUTER + PUB,
 * health metadata of a full server with `dedupe`, 100 agents), 50 per child process in two
 * children, so `process.cpuUsage()` and RSS of this process are the console's alone. Security:
 * plain ZMTP (NULL), which the console's profiles take by explicit choice
 * (docs/ARCHITECTURE.md §7.2); CurveZMQ would add the same cost to ours and the raw baselines.
 *
 * a. List all 10,000 agents: 100 `listAgents` calls at once, until every reply is decoded.
 *    Goal ≤ 1 s. Raw: 100 bare DEALERs sending the same request to the same servers at once and
 *    decoding the replies. Interleaved rounds (the first of each is a warm-up), medians.
 * b. Status stream: the servers publish 10,000 `status_update`s per second in total while the
 *    bench's client holds one `subscribeStatus` per server (what the all-servers table does).
 *    Goal: console CPU ≤ 50% of one core and RSS ≤ 300 MB. Raw: a child process holding one
 *    bare SUB per server, decoding the same stream in the same window (its CPU printed).
 * c. Drain: the servers go down (the bench tells the core with `markLost`), 1,000 commands per
 *    server are queued, the servers come back and the core is told to retry at once
 *    (`retryNow`, as after a restart of the embedded server); time until all 100,000 are
 *    settled. Raw: 100 fresh DEALERs pipelining the same 1,000 commands each, 16 in flight
 *    (the dispatcher's window), connect included. Goal ours/raw ≥ 0.7 (commands per second).
 * d. The all-servers agents table (`renderer/src/views/FleetView.vue`) in Chromium with 10,000
 *    agents: filter and sort, from the input event to the table painted, median and max over
 *    rounds; goal ≤ 100 ms; raw: Array filter/sort of the same rows in the same page
 *    (`bench/ui/fleetScenario.ts`, run last, after the server children stopped). Needs the
 *    built renderer (`npm run build:renderer`).
 *
 * File descriptors: the console holds a DEALER and a SUB per server, plus 100 raw DEALERs
 * here during the listing (closed after it, before the status stream is measured); the bench
 * prints the counts next to the soft limit (`ulimit -n`).
 *
 * Ports: 29600–29799 (server i: ROUTER 29600+2i, PUB 29601+2i) and 31300–31319 (the browser
 * host). Env: `FLEET_BENCH_DRAIN_ROUNDS` (default 2; a round is skipped, and the notes say so,
 * when queueing 100,000 durable commands is so slow that the bench would pass 3 minutes),
 * `FLEET_BENCH_STREAM_ROUNDS` (default 5, 2 s each), `FLEET_BENCH_PHASES` (a comma list of
 * `table,list,stream,drain`, default all: e.g. to profile one with `node --cpu-prof`),
 * `FLEET_BENCH_RENDERER_DIR` (another built renderer; default `dist/renderer`).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ConsoleEventEnvelope } from '../shared/ipc';
import type { ControlCommand } from '../shared/protocol';
import { createConsoleHandlers, type ConsoleHandlers } from '../main/core/ipc/consoleHandlers';
import type { ClientContext } from '../main/core/ipc/clientContext';
import { invokeChannel } from '../main/core/ipc/invokeChannel';
import { CommandQueue } from '../main/core/queue/commandQueue';
import { SqliteCommandStore } from '../main/core/queue/sqliteCommandStore';
import { openConsoleCore, type ConsoleCore } from '../main/core/services/consoleCore';
import { startChild, type Child } from './fixtures/children';
import { encodeRequest, RawDealer } from './fixtures/rawDealer';
import { AGENTS_PER_SERVER, fleetAgentId } from './fleet/fleetAgents';
import { boundResult, median, report, result, type BenchResult } from './harness';
import { runFleetTableScenario } from './ui/fleetScenario';
import { PortAllocator } from '../test/helpers/ports';

const SERVERS = 100;
const PER_CHILD = 50;
const FIRST_PORT = 29600;
const LIST_ROUNDS = 9; // the first is a warm-up
const UPDATES_PER_SECOND = 10_000;
const STREAM_ROUND_MS = 2000;
const COMMANDS_PER_SERVER = 1000;
const WINDOW = 16;
const MB = 1024 * 1024;
/** A further drain round starts only if the bench would still end within this (setup included). */
const BENCH_BUDGET_MS = 135_000; // the Chromium table scenario (~35 s) follows
const RENDERER_DIR =
  process.env.FLEET_BENCH_RENDERER_DIR ??
  join(fileURLToPath(new URL('..', import.meta.url)), 'dist', 'renderer');

const envInt = (name: string, fallback: number): number => {
  const v = Number(process.env[name] ?? '');
  return Number.isInteger(v) && v > 0 ? v : fallback;
};
const load = (): string =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
const list = (xs: readonly number[], digits = 0): string => xs.map((x) => x.toFixed(digits)).join(', ');
const routerEndpoint = (i: number): string => `tcp://127.0.0.1:${FIRST_PORT + 2 * i}`;
const pubEndpoint = (i: number): string => `tcp://127.0.0.1:${FIRST_PORT + 2 * i + 1}`;

/** A client of the handlers that does what the browser host does with a batch: JSON text. */
class BenchClient implements ClientContext {
  readonly id = 'fleet-bench';
  statusUpdates = 0;
  resyncs = 0;
  bytes = 0;
  push(envelopes: ConsoleEventEnvelope[]): void {
    this.bytes += JSON.stringify(envelopes).length;
    for (const e of envelopes) {
      if (e.name === 'status') this.statusUpdates += e.payload.updates.length;
      else if (e.name === 'resync') this.resyncs++;
    }
  }
  onClose(): void {
    // The bench's client lives as long as the handlers.
  }
}

/** Open file descriptors of this process and its soft limit (100 servers × several sockets each). */
function fileDescriptors(): { open: number; limit: string } {
  const limits = readFileSync('/proc/self/limits', 'utf8');
  const line = limits.split('\n').find((l) => l.startsWith('Max open files')) ?? '';
  return { open: readdirSync('/proc/self/fd').length, limit: line.split(/\s{2,}/)[1] ?? '?' };
}

function waitUntil(check: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const tick = (): void => {
      if (check()) resolve();
      else if (performance.now() - start > timeoutMs)
        reject(new Error(`fleet bench: ${what} not reached in ${timeoutMs} ms`));
      else setTimeout(tick, 5);
    };
    tick();
  });
}

function control(server: number, n: number): ControlCommand {
  return {
    type: 'control_command',
    request_id: randomUUID(),
    agent_id: fleetAgentId(server, n % AGENTS_PER_SERVER),
    command_type: 'get_status',
    payload: null,
  };
}

export async function run(): Promise<void> {
  const children: Child[] = [];
  const dataDir = mkdtempSync(join(tmpdir(), 'descartes-fleet-'));
  const holder: { core: ConsoleCore | null } = { core: null };
  let handlers: ConsoleHandlers | null = null;
  const dealers: RawDealer[] = [];
  const fdsAtStart = fileDescriptors();
  const loadAtStart = load();
  const benchStart = performance.now();
  const phases = (process.env.FLEET_BENCH_PHASES ?? 'table,list,stream,drain').split(',');
  try {
    for (let c = 0; c < SERVERS / PER_CHILD; c++) {
      children.push(
        await startChild('bench/fleet/fleetServers.ts', [
          '--first-port',
          String(FIRST_PORT + 2 * PER_CHILD * c),
          '--first-index',
          String(PER_CHILD * c),
          '--count',
          String(PER_CHILD),
        ]),
      );
    }
    const c = openConsoleCore({ dataDir });
    holder.core = c;
    handlers = createConsoleHandlers(c, {
      info: { version: 'bench', host: 'browser', embeddedServer: null },
    });
    const client = new BenchClient();
    const ids = Array.from(
      { length: SERVERS },
      (_, i) =>
        c.registry.add({ name: `fleet ${i}`, endpoint: routerEndpoint(i), security: { mode: 'plain' } }).id,
    );
    const allIn = (state: string): boolean => c.registry.statuses().every((s) => s.state === state);
    await waitUntil(() => allIn('online'), 'all 100 servers online');
    const fdsConsole = fileDescriptors();
    for (let i = 0; i < SERVERS; i++) dealers.push(new RawDealer(routerEndpoint(i)));
    const h = handlers;

    const progress = (what: string): void => {
      console.log(
        `fleet bench: ${what} (${((performance.now() - benchStart) / 1000).toFixed(0)} s, load ${load()})`,
      );
    };
    progress('100 servers online');
    const listing = phases.includes('list') ? await listAll(h, client, ids, dealers) : [];
    // The listing's raw baseline is done with them: closed, so the console's RSS and CPU below
    // are not measured with 100 idle sockets of the bench's own beside it.
    const fdsWithRaw = fileDescriptors();
    for (const d of dealers.splice(0)) await d.close();
    progress('listing done');
    const stream = phases.includes('stream') ? await statusStream(h, client, ids, children) : [];
    const fdsAtPeak = fileDescriptors();
    progress('status stream done');
    const drain = phases.includes('drain')
      ? [await drainAll(holder, dataDir, ids, children, benchStart)]
      : [];
    console.log(
      `fleet bench: file descriptors: ${fdsAtStart.open} open at start, ${fdsConsole.open} once the console ` +
        `is online with 100 servers (a DEALER and a SUB per server, each with its monitor socket), ` +
        `${fdsWithRaw.open} with the listing's 100 raw DEALERs too, ${fdsAtPeak.open} during the status stream (the raw DEALERs closed, the raw subscriber's pipes open); soft limit ${fdsAtPeak.limit}; load ${loadAtStart} at start, ${load()} at end`,
    );
    // Last, after the server children stopped, so Chromium has the cores to itself and its
    // browser host does not weigh on the console's RSS measured above.
    progress('drain done');
    for (const child of children.splice(0)) await child.stop();
    const table = phases.includes('table')
      ? await runFleetTableScenario(RENDERER_DIR, await new PortAllocator(31300, 31319).next())
      : [];
    report('fleet', [...listing, ...stream, ...drain, ...table]);
  } finally {
    for (const d of dealers) await d.close();
    handlers?.dispose();
    await holder.core?.dispose();
    for (const child of children) await child.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function listAll(
  handlers: ConsoleHandlers,
  client: BenchClient,
  ids: readonly string[],
  dealers: readonly RawDealer[],
): Promise<BenchResult[]> {
  const ours = async (): Promise<number> => {
    const t0 = performance.now();
    const replies = await Promise.all(
      ids.map((serverId) => invokeChannel(handlers, 'listAgents', { serverId }, client)),
    );
    const ms = performance.now() - t0;
    let agents = 0;
    for (const r of replies) {
      if (!r.ok) throw new Error(`fleet bench: listAgents failed: ${r.error.message}`);
      agents += (r.value as unknown[]).length;
    }
    if (agents !== SERVERS * AGENTS_PER_SERVER) throw new Error(`fleet bench: listed ${agents} agents`);
    return ms;
  };
  const base = async (): Promise<number> => {
    const requests = dealers.map(() =>
      encodeRequest({ type: 'list_agents_request', request_id: randomUUID() }),
    );
    const t0 = performance.now();
    const replies = await Promise.all(
      dealers.map((d, i) => d.request(requests[i] as ReturnType<typeof encodeRequest>)),
    );
    const ms = performance.now() - t0;
    let agents = 0;
    for (const r of replies) if (r.type === 'list_agents_response') agents += r.agents.length;
    if (agents !== SERVERS * AGENTS_PER_SERVER) throw new Error(`fleet bench: raw listed ${agents} agents`);
    return ms;
  };
  const o: number[] = [];
  const b: number[] = [];
  for (let r = 0; r < LIST_ROUNDS; r++) {
    let mine: number;
    let theirs: number;
    if (r % 2 === 0) {
      mine = await ours();
      theirs = await base();
    } else {
      theirs = await base();
      mine = await ours();
    }
    if (r === 0) continue;
    o.push(mine);
    b.push(theirs);
  }
  return [
    boundResult(
      `list ${(SERVERS * AGENTS_PER_SERVER).toLocaleString('en-US')} agents across ${SERVERS} servers`,
      median(o),
      median(b),
      'ms',
      { op: '<=', value: 1000 },
      `${LIST_ROUNDS - 1} interleaved rounds after a warm-up, medians; ours (listAgents × ${SERVERS} through invokeChannel): ${list(o, 1)}; ` +
        `raw (${SERVERS} bare DEALERs, same request, decoded): ${list(b, 1)}`,
    ),
  ];
}

async function statusStream(
  handlers: ConsoleHandlers,
  client: BenchClient,
  ids: readonly string[],
  children: readonly Child[],
): Promise<BenchResult[]> {
  for (const serverId of ids) {
    const r = await invokeChannel(handlers, 'subscribeStatus', { serverId }, client);
    if (!r.ok) throw new Error(`fleet bench: subscribeStatus failed: ${r.error.message}`);
  }
  const rawSubs = await startChild('bench/fleet/rawSubscribers.ts', [
    '--endpoints',
    JSON.stringify(ids.map((_, i) => pubEndpoint(i))),
  ]);
  try {
    await new Promise((r) => setTimeout(r, 1000)); // SUB connections and subscriptions settle
    const rounds = envInt('FLEET_BENCH_STREAM_ROUNDS', 5);
    const ours: number[] = [];
    const base: number[] = [];
    const rss: number[] = [];
    /** V8 heap used / heap total / external (incl. zeromq buffers) at each round's end, MB. */
    const heap: string[] = [];
    let sent = 0;
    let dropped = 0;
    let rawReceived = 0;
    let rawRss = 0;
    const deliveredBefore = client.statusUpdates;
    const resyncsBefore = client.resyncs;
    for (let r = 0; r < rounds; r++) {
      await rawSubs.ask({ op: 'start' });
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      let maxRss = process.memoryUsage.rss();
      const sampler = setInterval(() => {
        maxRss = Math.max(maxRss, process.memoryUsage.rss());
      }, 100);
      const published = await Promise.all(
        children.map((child) =>
          child.ask({ op: 'publish', perSecond: UPDATES_PER_SECOND / children.length, ms: STREAM_ROUND_MS }),
        ),
      );
      await new Promise((res) => setTimeout(res, 150)); // the last batch (≤ 50 ms) leaves
      const cpu = process.cpuUsage(cpu0);
      const ms = performance.now() - t0;
      clearInterval(sampler);
      const stopped = await rawSubs.ask({ op: 'stop' });
      ours.push(((cpu.user + cpu.system) / 1000 / ms) * 100);
      base.push((Number(stopped.cpuMs) / Number(stopped.ms)) * 100);
      rss.push(maxRss / MB);
      const mem = process.memoryUsage();
      heap.push(
        `${(mem.heapUsed / MB).toFixed(0)}/${(mem.heapTotal / MB).toFixed(0)}/${(mem.external / MB).toFixed(0)}`,
      );
      rawReceived += Number(stopped.received);
      rawRss = Math.max(rawRss, Number(stopped.rssBytes) / MB);
      for (const p of published) {
        sent += Number(p.sent);
        dropped += Number(p.dropped);
      }
    }
    const delivered = client.statusUpdates - deliveredBefore;
    const notes =
      `${rounds} rounds of ${STREAM_ROUND_MS} ms at ${UPDATES_PER_SECOND.toLocaleString('en-US')} updates/s over ${ids.length} servers; ` +
      `${sent} published (${dropped} dropped at the servers), ${delivered} delivered to the client in batches ` +
      `(${client.resyncs - resyncsBefore} resyncs), raw decoded ${rawReceived}`;
    return [
      boundResult(
        'status stream: console CPU (% of one core)',
        median(ours),
        median(base),
        '%',
        { op: '<=', value: 50 },
        `${notes}; ours per round: ${list(ours, 1)}; raw (bare SUB per server in a child, decoding): ${list(base, 1)}`,
      ),
      boundResult(
        'status stream: console RSS',
        Math.max(...rss),
        rawRss,
        'MB',
        { op: '<=', value: 300 },
        `largest RSS sampled every 100 ms; per round: ${list(rss)}; V8 heap used/total/external at each round's end: ${heap.join(', ')} MB; ` +
          `the listing baseline's raw DEALERs are closed before this phase; raw = the raw subscriber process's RSS`,
      ),
    ];
  } finally {
    await rawSubs.stop();
  }
}

/**
 * Queues 1,000 commands per server in the data dir's queue as the previous owner of the data
 * dir (a console session or `ctl --queue` while the servers were down): in one transaction,
 * so setting up 100,000 commands costs one fsync rather than 100,000.
 */
async function queueWhileOffline(dataDir: string, ids: readonly string[]): Promise<void> {
  const store = SqliteCommandStore.open(dataDir);
  const queue = new CommandQueue(store, {});
  try {
    const enqueued: Promise<unknown>[] = [];
    store.transaction(() => {
      for (let n = 0; n < COMMANDS_PER_SERVER; n++) {
        ids.forEach((id, i) => enqueued.push(queue.enqueue(id, control(i, n))));
      }
    });
    await Promise.all(enqueued);
  } finally {
    queue.close();
  }
}

async function drainAll(
  holder: { core: ConsoleCore | null },
  dataDir: string,
  ids: readonly string[],
  children: readonly Child[],
  benchStart: number,
): Promise<BenchResult> {
  const rounds = envInt('FLEET_BENCH_DRAIN_ROUNDS', 2);
  const total = SERVERS * COMMANDS_PER_SERVER;
  const ours: number[] = [];
  const base: number[] = [];
  const enqueueMs: number[] = [];
  const onlineMs: number[] = [];
  let skipped = 0;
  const rawDrain = async (): Promise<number> => {
    const pools = ids.map((_, i) =>
      Array.from({ length: COMMANDS_PER_SERVER }, (_, n) => encodeRequest(control(i, n))),
    );
    const t0 = performance.now();
    const fresh = ids.map((_, i) => new RawDealer(routerEndpoint(i)));
    await Promise.all(
      fresh.map(async (d, i) => {
        const pool = pools[i] ?? [];
        let next = 0;
        const lane = async (): Promise<void> => {
          while (next < pool.length) {
            const req = pool[next++];
            if (req) await d.request(req);
          }
        };
        await Promise.all(Array.from({ length: WINDOW }, lane));
      }),
    );
    const rate = (total * 1000) / (performance.now() - t0);
    await Promise.all(fresh.map((d) => d.close()));
    return rate;
  };
  base.push(await rawDrain());
  const phaseStart = performance.now();
  for (let r = 0; r < rounds; r++) {
    const perRound = (performance.now() - phaseStart) / Math.max(1, r);
    if (r > 0 && performance.now() - benchStart + perRound > BENCH_BUDGET_MS) {
      skipped = rounds - r;
      break;
    }
    await Promise.all(children.map((child) => child.ask({ op: 'down' })));
    await holder.core?.dispose();
    holder.core = null;
    const e0 = performance.now();
    await queueWhileOffline(dataDir, ids);
    enqueueMs.push(performance.now() - e0);
    const core = openConsoleCore({ dataDir });
    holder.core = core;
    // The host knows the servers are down (the bench took them down): offline at once
    // instead of after a missed health check.
    for (const id of ids) core.registry.markLost(id, 'the fleet bench took its scripted servers down');
    await waitUntil(
      () => core.registry.statuses().every((s) => s.state === 'offline'),
      'all servers offline',
    );
    let succeeded = 0;
    const stop = core.queue.onChange((change) => {
      if (change.type === 'updated' && change.command.state === 'succeeded') succeeded++;
    });
    const t0 = performance.now();
    let allOnlineAt = 0;
    await Promise.all(children.map((child) => child.ask({ op: 'up' })));
    for (const id of ids) core.registry.retryNow(id);
    await waitUntil(
      () => {
        if (allOnlineAt === 0 && core.registry.statuses().every((s) => s.state === 'online')) {
          allOnlineAt = performance.now();
        }
        return succeeded >= total;
      },
      'the whole queue drained',
      120_000,
    );
    const ms = performance.now() - t0;
    ours.push((total * 1000) / ms);
    onlineMs.push(allOnlineAt - t0);
    stop();
    const pending = ids.reduce((n, id) => n + core.queue.pendingCount(id), 0);
    if (pending !== 0) throw new Error(`fleet bench: ${pending} commands still pending after the drain`);
    base.push(await rawDrain());
  }
  return result(
    `drain ${COMMANDS_PER_SERVER.toLocaleString('en-US')} queued commands × ${SERVERS} servers after they come back`,
    median(ours),
    median(base),
    'cmd/s',
    '>= 0.7',
    `${ours.length} drains (${list(ours)} cmd/s; all servers online after ${list(onlineMs)} ms) interleaved with ` +
      `${base.length} raw runs (${list(base)} cmd/s); ours: from the servers rebinding + retryNow to every command ` +
      `succeeded (Dispatcher + Connection per server, window ${WINDOW}, dedupe servers: write-behind marks); ` +
      `raw: ${SERVERS} fresh DEALERs, ${WINDOW} in flight each, connect included; setup (not timed): ` +
      `${total.toLocaleString('en-US')} commands queued by an earlier owner of the data dir in one transaction (${list(enqueueMs)} ms), the core then opened with the servers down` +
      (skipped > 0 ? `; ${skipped} round(s) skipped to stay within the bench's time budget` : ''),
  );
}
