/**
 * The client's transport over CurveZMQ against the real agent server (CURVE and a ZAP allow
 * list by default, plain with --insecure), with real keys: what an allowed key, a stranger's
 * key, a wrong pinned key and a plain/encrypted mismatch look like to Connection,
 * EventSubscriber and "Test connection", and that each says why in words.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type * as zmq from 'zeromq';
import { allowCommand } from '../../../shared/domain/curveKey';
import { generateCurveKeyPair } from '../../../shared/node/curveKeyPair';
import {
  Connection,
  type ConnectionOptions,
  type ConnectionState,
} from '../../../main/core/transport/connection';
import { clientAllowName } from '../../../main/core/security/clientKey';
import { testConnection } from '../../../main/core/transport/connectionTest';
import { probeMechanism } from '../../../main/core/transport/mechanismProbe';
import { EventSubscriber } from '../../../main/core/transport/eventSubscriber';
import { RequestError } from '../../../main/core/transport/requestError';
import { PortAllocator } from '../../helpers/ports';
import { startScriptedRouter } from '../../helpers/scriptedRouter';
import { runServerCli } from '../../helpers/serverCli';
import { startServerProcess, stopAllServers, type ServerProcess } from '../../helpers/serverProcess';
import { TEST_CLIENT_KEYS } from '../../helpers/testKeys';
import { waitUntil } from '../../helpers/wait';
import { startConnection, waitForState } from './connectionKit';
import { curveOf, serverKeyOf } from './curveKit';

const ports = new PortAllocator(26500, 26799);
const open: { close(): unknown }[] = [];
const STRANGER = generateCurveKeyPair();

afterEach(async () => {
  for (const c of open.splice(0)) await c.close();
});
afterAll(async () => {
  await stopAllServers();
});

let curveServer: ServerProcess | null = null;
let plainServer: ServerProcess | null = null;

/** One CURVE server (allowing the test key) for the tests that only read from it. */
async function sharedCurveServer(): Promise<ServerProcess> {
  curveServer ??= await startServerProcess({
    port: await ports.next(),
    pubPort: await ports.next(),
    args: ['--server-id', 'curve-test', '--heartbeat-ms', '200'],
  });
  return curveServer;
}

/** One --insecure server. */
async function sharedPlainServer(): Promise<ServerProcess> {
  plainServer ??= await startServerProcess({
    port: await ports.next(),
    pubPort: await ports.next(),
    insecure: true,
    args: ['--server-id', 'plain-test'],
  });
  return plainServer;
}

function connect(endpoint: string, opts: Partial<ConnectionOptions> = {}): Connection {
  return startConnection(open, endpoint, 300, opts);
}

const waitState = (c: Connection, state: ConnectionState, timeoutMs = 10_000): Promise<true> =>
  waitForState(c, state, timeoutMs);

const waitProblem = (c: Connection, timeoutMs = 10_000): Promise<string> =>
  waitUntil(() => c.snapshot().handshakeProblem ?? undefined, { timeoutMs, what: 'a handshake problem' });

async function requestError(c: Connection): Promise<RequestError> {
  const err = await c
    .request({ type: 'list_agents_request', request_id: randomUUID() })
    .catch((e: unknown) => e);
  if (!(err instanceof RequestError)) throw new Error(`expected a RequestError, got ${String(err)}`);
  return err;
}

describe('Connection over CURVE', () => {
  it('an allowed key with the right pinned server key: online, encrypted, no problem', async () => {
    const server = await sharedCurveServer();
    const c = connect(server.bind, { curve: curveOf(server) });
    await waitState(c, 'online');
    expect(c.encrypted).toBe(true);
    const snap = c.snapshot();
    expect(snap.handshakeProblem).toBeNull();
    expect(snap.lastError).toBeNull();
    expect(snap.info?.serverId).toBe('curve-test');
    expect(snap.info?.metadata.security).toBe('curve');
    const reply = await c.request({ type: 'list_agents_request', request_id: randomUUID() });
    expect(reply.success).toBe(true);
  });

  it("a stranger's key: key_not_allowed, offline at once, and every failure names the allow line", async () => {
    const server = await sharedCurveServer();
    const c = connect(server.bind, { curve: curveOf(server, STRANGER) });
    expect(await waitProblem(c)).toBe('key_not_allowed');
    await waitState(c, 'offline');
    const line = allowCommand(STRANGER.publicKey, clientAllowName(STRANGER.publicKey));
    expect(c.snapshot().lastError).toBe(
      `the server at ${server.bind} refused this console's key; run on the server: ${line}`,
    );
    const err = await requestError(c);
    expect(err.code).toBe('offline');
    expect(err.message).toContain("refused this console's key; run on the server: npm run server -- allow '");
    expect(err.message).toContain(STRANGER.publicKey);
    // The health check, too, fails with the reason, not a bare timeout.
    const health = await c.healthCheck(500).catch((e: unknown) => e);
    expect(health).toBeInstanceOf(RequestError);
    expect((health as RequestError).message).toContain("refused this console's key");
    // It keeps trying with new sockets (libzmq gives up on a refused one) and stays refused.
    await waitUntil(() => (c.snapshot().reconnectAttempt >= 2 ? true : undefined), {
      what: 'two reconnects',
    });
    expect(c.snapshot().handshakeProblem).toBe('key_not_allowed');
  });

  it('a request in flight when the key is refused fails saying so, with its outcome unknown', async () => {
    const server = await sharedCurveServer();
    const c = new Connection({
      endpoint: server.bind,
      curve: curveOf(server, STRANGER),
      // No health check gets in the way: the request below is what waits for the handshake.
      heartbeatIntervalMs: 60_000,
    });
    open.push(c);
    c.start();
    const err = await requestError(c);
    expect(['connection_lost', 'offline']).toContain(err.code);
    expect(err.message).toContain("refused this console's key");
  });

  it('a wrong pinned server key: server_key_mismatch with the pinned fingerprint and what to check', async () => {
    const server = await sharedCurveServer();
    const wrong = generateCurveKeyPair().publicKey;
    const c = connect(server.bind, { curve: { serverKey: wrong, keyPair: TEST_CLIENT_KEYS } });
    expect(await waitProblem(c)).toBe('server_key_mismatch');
    await waitState(c, 'offline');
    expect(c.snapshot().lastError).toMatch(
      /did not prove it holds the pinned server key \(fingerprint [0-9a-f]{4}(:[0-9a-f]{4}){3}\); check the key with `npm run server -- key`/,
    );
    expect((await requestError(c)).message).toContain('did not prove it holds the pinned server key');
  });

  it('plain console against an encrypted server: server_is_encrypted; and never online', async () => {
    const server = await sharedCurveServer();
    const c = connect(server.bind);
    expect(await waitProblem(c)).toBe('server_is_encrypted');
    expect(c.snapshot().lastError).toContain('requires encryption; pin its public key');
    expect(c.snapshot().lastHeardAt).toBeNull();
  });

  it('encrypted console against a plain server: server_is_plain', async () => {
    const server = await sharedPlainServer();
    const c = connect(server.bind, {
      curve: { serverKey: generateCurveKeyPair().publicKey, keyPair: TEST_CLIENT_KEYS },
    });
    expect(await waitProblem(c)).toBe('server_is_plain');
    expect(c.snapshot().lastError).toContain('is not encrypted (started with --insecure');
  });

  it('recovers by itself once the server allows the key: the problem clears, online', async () => {
    const port = await ports.next();
    const server = await startServerProcess({ port, pubPort: await ports.next() });
    const c = connect(server.bind, { curve: curveOf(server, STRANGER) });
    expect(await waitProblem(c)).toBe('key_not_allowed');
    const allowed = await runServerCli([
      'allow',
      STRANGER.publicKey,
      '--name',
      'late',
      '--state-dir',
      server.stateDir,
    ]);
    expect(allowed.code).toBe(0);
    await waitState(c, 'online', 20_000);
    expect(c.snapshot().handshakeProblem).toBeNull();
    expect(c.snapshot().lastError).toBeNull();
    await server.stop();
  });
});

describe('EventSubscriber over CURVE', () => {
  it('receives the status stream with the allowed key, and reports a refused key', async () => {
    const server = await sharedCurveServer();
    const allowed = new EventSubscriber({ curve: curveOf(server) });
    const refused = new EventSubscriber({ curve: curveOf(server, STRANGER), retryInitialMs: 100 });
    open.push(allowed, refused);
    const heartbeats: string[] = [];
    allowed.onStatus((u) => heartbeats.push(u.update_type));
    const refusedStatus: string[] = [];
    refused.onStatus((u) => refusedStatus.push(u.update_type));
    const problems: (string | null)[] = [];
    refused.onHandshakeProblem((p) => problems.push(p));
    allowed.connect(server.pub);
    refused.connect(server.pub);
    await waitUntil(() => (heartbeats.includes('heartbeat') ? true : undefined), { what: 'a heartbeat' });
    await waitUntil(() => refused.handshakeProblem ?? undefined, { what: 'the refusal' });
    expect(refused.handshakeProblem).toBe('key_not_allowed');
    expect(problems).toEqual(['key_not_allowed']);
    expect(allowed.handshakeProblem).toBeNull();
    // Heartbeats go out every 200 ms: the refused subscriber, retrying, still hears none.
    await new Promise((r) => setTimeout(r, 600));
    expect(refusedStatus).toEqual([]);
  });
});

describe('testConnection', () => {
  const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

  it('ok over CURVE, with the server id and the security it reports', async () => {
    const server = await sharedCurveServer();
    const before = timers();
    const result = await testConnection({
      endpoint: server.bind,
      security: { mode: 'curve', serverKey: serverKeyOf(server) },
      clientKeyPair: TEST_CLIENT_KEYS,
    });
    expect(result).toMatchObject({ outcome: 'ok', remoteServerId: 'curve-test', serverSecurity: 'curve' });
    expect(result.message).toMatch(
      /^Connected to tcp:\/\/127\.0\.0\.1:\d+, encrypted; the server proved it holds the pinned key/,
    );
    expect(timers()).toBe(before);
  });

  it('ok in plain mode against an --insecure server, warning that it is not encrypted', async () => {
    const server = await sharedPlainServer();
    const result = await testConnection({
      endpoint: server.bind,
      security: { mode: 'plain' },
      clientKeyPair: TEST_CLIENT_KEYS,
    });
    expect(result).toMatchObject({ outcome: 'ok', remoteServerId: 'plain-test', serverSecurity: 'none' });
    expect(result.message).toContain('without encryption');
  });

  it('names each handshake problem, with what to do', async () => {
    const curve = await sharedCurveServer();
    const plain = await sharedPlainServer();
    const key = serverKeyOf(curve);
    const cases = [
      {
        endpoint: curve.bind,
        security: { mode: 'curve', serverKey: key } as const,
        keyPair: STRANGER,
        outcome: 'key_not_allowed',
        says: `run on the server: ${allowCommand(STRANGER.publicKey, clientAllowName(STRANGER.publicKey))}`,
      },
      {
        endpoint: curve.bind,
        security: { mode: 'curve', serverKey: generateCurveKeyPair().publicKey } as const,
        keyPair: TEST_CLIENT_KEYS,
        outcome: 'server_key_mismatch',
        says: 'did not prove it holds the pinned server key',
      },
      {
        endpoint: curve.bind,
        security: { mode: 'plain' } as const,
        keyPair: TEST_CLIENT_KEYS,
        outcome: 'server_is_encrypted',
        says: 'requires encryption; pin its public key',
      },
      {
        endpoint: plain.bind,
        security: { mode: 'curve', serverKey: key } as const,
        keyPair: TEST_CLIENT_KEYS,
        outcome: 'server_is_plain',
        says: 'is not encrypted',
      },
    ];
    const before = timers();
    for (const c of cases) {
      const result = await testConnection({
        endpoint: c.endpoint,
        security: c.security,
        clientKeyPair: c.keyPair,
        timeoutMs: 10_000,
      });
      expect(result.outcome, c.outcome).toBe(c.outcome);
      expect(result.message).toContain(c.says);
      expect(result.message).toMatch(/^The server at /);
      expect(result.remoteServerId).toBeNull();
      // A refusal is reported when it happens, not when the time is up.
      expect(result.elapsedMs).toBeLessThan(10_000);
    }
    expect(timers()).toBe(before);
  });

  it('tells a plain server from a wrong key every time, although libzmq often reports only EPIPE', async () => {
    const plain = await sharedPlainServer();
    const curve = await sharedCurveServer();
    const wrongKey = generateCurveKeyPair().publicKey;
    const outcomes: string[] = [];
    for (let i = 0; i < 8; i++) {
      const toPlain = await testConnection({
        endpoint: plain.bind,
        security: { mode: 'curve', serverKey: wrongKey },
        clientKeyPair: TEST_CLIENT_KEYS,
      });
      const toCurve = await testConnection({
        endpoint: curve.bind,
        security: { mode: 'curve', serverKey: wrongKey },
        clientKeyPair: TEST_CLIENT_KEYS,
      });
      outcomes.push(toPlain.outcome, toCurve.outcome);
    }
    expect(new Set(outcomes.filter((_, i) => i % 2 === 0))).toEqual(new Set(['server_is_plain']));
    expect(new Set(outcomes.filter((_, i) => i % 2 === 1))).toEqual(new Set(['server_key_mismatch']));
  });

  it('probeMechanism reads the greeting: CURVE, NULL, or null for what is not ZMTP', async () => {
    const curve = await sharedCurveServer();
    const plain = await sharedPlainServer();
    expect(await probeMechanism(curve.bind)).toBe('CURVE');
    expect(await probeMechanism(plain.bind)).toBe('NULL');
    expect(await probeMechanism(`tcp://127.0.0.1:${await ports.next()}`, 500)).toBeNull();
    expect(await probeMechanism('ipc:///tmp/x')).toBeNull();
  });

  /** "Test connection" in plain mode with the test key and a 0.5 s limit, to a local port. */
  const testPlainPort = (port: number): ReturnType<typeof testConnection> =>
    testConnection({
      endpoint: `tcp://127.0.0.1:${port}`,
      security: { mode: 'plain' },
      clientKeyPair: TEST_CLIENT_KEYS,
      timeoutMs: 500,
    });

  it('unreachable: nothing listens', async () => {
    const port = await ports.next();
    const result = await testPlainPort(port);
    expect(result.outcome).toBe('unreachable');
    expect(result.message).toContain(`Nothing accepted a connection at tcp://127.0.0.1:${port} within 0.5 s`);
  });

  it('no_reply: a ZeroMQ peer that never answers, and a TCP listener that does not speak ZMTP', async () => {
    const silentPort = await ports.next();
    const router: zmq.Router = await startScriptedRouter(silentPort, () => undefined);
    open.push(router);
    const silent = await testPlainPort(silentPort);
    expect(silent.outcome).toBe('no_reply');
    expect(silent.message).toContain('no answer to a health check within 0.5 s');

    const tcpPort = await ports.next();
    const accepted: Socket[] = [];
    const tcp: Server = createServer((sock) => {
      accepted.push(sock);
      sock.on('error', () => undefined);
      sock.end('HTTP/1.1 400 Bad Request\r\n\r\n');
    });
    await new Promise<void>((resolve) => tcp.listen(tcpPort, '127.0.0.1', resolve));
    try {
      const http = await testPlainPort(tcpPort);
      expect(http.outcome).toBe('no_reply');
      expect(http.message).toContain('did not speak ZeroMQ correctly');
    } finally {
      for (const sock of accepted) sock.destroy();
      tcp.close();
    }
  });
});
