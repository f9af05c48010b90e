import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { decodeMessage, encodeMessage, NIL_UUID } from '../shared/protocol';
import type { ReplyMessage } from '../shared/protocol';
import { DEFAULT_BIND, DEFAULT_PUB } from './args';
import { DEFAULT_CONFIG } from './config';
import type { ServerConfig } from './config';
import { DedupeJournal, StateDirError } from './dedupeJournal';
import { localEndpoint, routableEndpoint } from './endpoints';
import { ExecLog } from './execLog';
import type { HandlerContext } from './handlers/context';
import { Publisher } from './publisher';
import { QueryPool } from './query/queryPool';
import { ReplyCache } from './replyCache';
import { RequestHandler } from './requestHandler';
import { CommandSocket } from './router';
import { Stats } from './stats';
import type { StatsSnapshot } from './stats';
import { Supervisor } from './supervisor';
import { AgentRecords } from './agentRecords';
import { loadOrCreateKeyPair } from '../shared/node/curveKeyPair';
import { allowClient } from './security/authorizedClients';
import { clientKeyName, parseCurveKey } from '../shared/domain/curveKey';
import { ServerSecurity } from './security/serverSecurity';
import type { SecurityOptions } from './security/serverSecurity';
import { serverKeyPath } from './stateDir';
import { ensurePrivateDir, UnsafePathError } from '../shared/node/privatePath';

/** How to start an agent server; everything is optional. */
export interface AgentServerOptions {
  /** ROUTER endpoint (default tcp://127.0.0.1:5555). */
  readonly bind?: string;
  /** PUB endpoint (default tcp://127.0.0.1:5556). */
  readonly pub?: string;
  /** Validated config file contents (default: built-in backends, limits of `DEFAULT_CONFIG`). */
  readonly config?: ServerConfig;
  /** Server id in replies and health metadata (default `srv-<8 hex>`). */
  readonly serverId?: string;
  /** Overrides `config.heartbeatMs`. */
  readonly heartbeatMs?: number;
  /** Overrides `config.maxAgents`. */
  readonly maxAgents?: number;
  /**
   * The state dir: the server's key pair (`server.key`), its allow list (`authorized_clients`)
   * and the dedupe journal (dedupe then survives a restart). Required unless `insecure`.
   */
  readonly stateDir?: string;
  /**
   * Plain ZMTP without authentication (what Rust descartes 1.0.0 peers speak) instead of
   * CurveZMQ. Default false.
   */
  readonly insecure?: boolean;
  /** Client public keys (Z85) to add to the allow list before binding, named `console-<8 hex>`. */
  readonly allowClients?: readonly string[];
  /** Where security events are logged (refused handshakes, allow list reloads); default stderr. */
  readonly log?: (line: string) => void;
  /**
   * Called when the server can no longer serve safely (a socket could not be bound again after
   * a revoke dropped its connections). Default: log it. The CLI shuts down and exits 1.
   */
  readonly onFatal?: (error: Error) => void;
  /** File that gets one JSON line per executed mutating request. */
  readonly execLog?: string;
  /** Working directory of agents (default the server's cwd). */
  readonly cwd?: string;
}

/** A running agent server. */
export interface AgentServer {
  /** Where clients connect for commands (wildcard host replaced by 127.0.0.1, port resolved). */
  readonly bindEndpoint: string;
  /** Where clients subscribe to events (same form). */
  readonly pubEndpoint: string;
  readonly serverId: string;
  /** The ROUTER endpoint as bound (a wildcard host stays a wildcard): what the server listens on. */
  readonly boundCommandEndpoint: string;
  /** The PUB endpoint as bound. */
  readonly boundEventEndpoint: string;
  /** `curve` or `none` (`insecure`). */
  readonly security: 'curve' | 'none';
  /** The server's public key (Z85) that clients pin; null when insecure. */
  readonly publicKey: string | null;
  /** A copy of the counters. */
  stats(): StatsSnapshot;
  /**
   * Graceful shutdown: refuses new requests, stops agents (SIGTERM, SIGKILL after the grace
   * period), flushes and closes the sockets, releases the state dir. Idempotent.
   */
  close(): Promise<void>;
}

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version?: unknown;
    };
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/**
 * Starts an agent server: loads its key pair and allow list (CURVE) or goes plain
 * (`insecure`), binds the PUB socket, then the ROUTER, and starts heartbeats.
 * @throws BindError when an endpoint is in use or invalid; StateDirError when the state dir
 *   is locked by another server; KeyFileError / AuthorizedClientsError when the key file or
 *   allow list is unusable (naming the file and line); an Error when CURVE is asked for
 *   without a state dir or the exec log cannot be opened
 */
export async function startAgentServer(options: AgentServerOptions = {}): Promise<AgentServer> {
  const base = options.config ?? DEFAULT_CONFIG;
  const config: ServerConfig = {
    ...base,
    heartbeatMs: options.heartbeatMs ?? base.heartbeatMs,
    maxAgents: options.maxAgents ?? base.maxAgents,
  };
  const serverId = options.serverId ?? `srv-${randomBytes(4).toString('hex')}`;
  const stats = new Stats();
  const startedAtMs = Date.now();
  const codec = { encode: encodeMessage, decode: decodeMessage };

  const log = options.log ?? ((line: string) => process.stderr.write(`descartes-server: ${line}\n`));
  if (options.stateDir !== undefined) {
    try {
      ensurePrivateDir(options.stateDir);
    } catch (e) {
      if (e instanceof UnsafePathError) throw new StateDirError(`state dir: ${e.message}`);
      throw e;
    }
  }
  let securityOptions: SecurityOptions;
  if (options.insecure === true) {
    securityOptions = { mode: 'none' };
  } else {
    if (options.stateDir === undefined) {
      throw new Error('a CURVE server needs a state dir for its key pair and allow list (or pass insecure)');
    }
    const { keyPair } = loadOrCreateKeyPair(serverKeyPath(options.stateDir), 'server');
    for (const key of options.allowClients ?? []) {
      allowClient(options.stateDir, key, clientKeyName(parseCurveKey(key, 'the client key'), 'console'));
    }
    securityOptions = { mode: 'curve', keyPair, stateDir: options.stateDir };
  }

  const cache = new ReplyCache();
  const journal =
    options.stateDir === undefined
      ? null
      : DedupeJournal.open(options.stateDir, {
          codec: { encode: (r: ReplyMessage) => encodeMessage(r), decode: decodeMessage },
        });
  let execLog: ExecLog | null = null;
  let publisher: Publisher | null = null;
  let commands: CommandSocket | null = null;
  let security: ServerSecurity | null = null;
  let queryPool: QueryPool | null = null;
  let records: AgentRecords | null = null;
  try {
    if (journal) {
      // A first start is not news; a journal that was there and is lost or damaged is.
      if (journal.epochChange !== null && !journal.startedWithoutJournal) {
        log(`dedupe epoch ${journal.epoch}: ${journal.epochChange}`);
      }
      for (const entry of journal.entries()) {
        cache.restore(
          entry.requestId,
          entry.reply
            ? { state: 'done', type: entry.type, reply: entry.reply }
            : { state: 'unknown', type: entry.type },
          entry.at,
        );
      }
    }
    execLog = options.execLog === undefined ? null : new ExecLog(options.execLog);
    security = await ServerSecurity.start(securityOptions, stats, log);
    const sec = security;
    publisher = await Publisher.bind(options.pub ?? DEFAULT_PUB, stats, encodeMessage, sec);
    const pub = publisher;
    records =
      options.stateDir === undefined
        ? null
        : AgentRecords.open(options.stateDir, { outputBytes: config.persistOutputBytes, log });
    const supervisor = new Supervisor({
      config,
      events: pub,
      stats,
      records,
      maxAgents: config.maxAgents,
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    });
    const queries = new QueryPool({
      concurrency: config.maxConcurrentQueries,
      maxWaiting: config.maxWaitingQueries,
    });
    queryPool = queries;
    const ctx: HandlerContext = {
      supervisor,
      stats,
      queries,
      config,
      serverId,
      pubEndpoint: routableEndpoint(pub.endpoint),
      startedAtMs,
      version: packageVersion(),
      security: sec.mode,
      dedupeEpoch: journal ? () => journal.epoch : () => null,
    };
    const handler = new RequestHandler({ ctx, cache, journal, execLog, codec });
    let accepting = true;
    const sock = await CommandSocket.bind(
      options.bind ?? DEFAULT_BIND,
      stats,
      (frame) => {
        if (!accepting) return;
        void handler.handle(frame.payload, frame.totalBytes).then(
          (bytes) => {
            if (bytes && accepting) sock.reply(frame.routingId, bytes);
          },
          (error: unknown) => {
            stats.increment('internal_errors');
            process.stderr.write(`descartes-server: request handler failed: ${String(error)}\n`);
          },
        );
      },
      sec,
    );
    commands = sock;
    let dropping = Promise.resolve();
    const onFatal =
      options.onFatal ??
      ((error: Error) => {
        log(`${error.message}; the server cannot go on safely`);
      });
    sec.onRevoke(() => {
      dropping = dropping.then(async () => {
        // Events first, each on its own: a revoked key must stop reading events even if the
        // command socket cannot be bound again.
        const failures: string[] = [];
        for (const [what, socket] of [
          ['event socket', pub],
          ['command socket', sock],
        ] as const) {
          try {
            await socket.dropConnections();
          } catch (error) {
            failures.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
          }
        }
        if (failures.length === 0) {
          log('dropped every connection so that revoked keys must handshake again (and are refused)');
          return;
        }
        // Another process may have taken the port in the gap; a deaf server that looks alive
        // helps nobody, so the owner decides (the CLI exits non-zero).
        onFatal(new Error(`could not rebind after a revoke (${failures.join('; ')})`));
      });
    });

    const heartbeat = setInterval(() => {
      pub.status(NIL_UUID, 'heartbeat', null, null, {
        server_id: serverId,
        active_agents: supervisor.activeCount,
        uptime_secs: Math.floor((Date.now() - startedAtMs) / 1000),
      });
    }, config.heartbeatMs);

    let closing: Promise<void> | null = null;
    const exec = execLog;
    return {
      bindEndpoint: localEndpoint(sock.endpoint),
      pubEndpoint: localEndpoint(pub.endpoint),
      boundCommandEndpoint: sock.endpoint,
      boundEventEndpoint: pub.endpoint,
      security: sec.mode,
      publicKey: sec.publicKey,
      serverId,
      stats: () => stats.snapshot(),
      close: () =>
        (closing ??= (async () => {
          clearInterval(heartbeat);
          await supervisor.shutdown(config.shutdownGraceMs);
          records?.close();
          accepting = false;
          await queries.close();
          await sock.close();
          await pub.close();
          await sec.close();
          exec?.close();
          journal?.close();
        })()),
    };
  } catch (error) {
    await commands?.close();
    await publisher?.close(0);
    await security?.close();
    await queryPool?.close();
    records?.close();
    execLog?.close();
    journal?.close();
    throw error;
  }
}
