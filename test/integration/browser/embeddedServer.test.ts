import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateCurveKeyPair } from '../../../shared/node/curveKeyPair';
import { openConsoleCore, type ConsoleCore } from '../../../main/core/services/consoleCore';
import { testConnection } from '../../../main/core/transport/connectionTest';
import { EventSubscriber } from '../../../main/core/transport/eventSubscriber';
import { EMBEDDED_PROFILE_NAME, ensureEmbeddedServer } from '../../../main/embeddedDefault';
import {
  embeddedServerCommand,
  startEmbeddedServer,
  type EmbeddedServer,
} from '../../../main/embeddedServer';
import { isPortFree, occupyPort } from '../../helpers/ports';
import { createTempDir, type TempDir } from '../../helpers/tempDir';
import { useCleanups } from '../../helpers/useCleanups';
import { waitUntil } from '../../helpers/wait';

/** A client key for servers started on their own (no console core behind them). */
const CLIENT = generateCurveKeyPair().publicKey;
const cleanups = useCleanups();

async function tempDir(): Promise<TempDir> {
  const dir = await createTempDir('descartes-embedded-');
  cleanups.push(() => dir.remove());
  return dir;
}

function track(server: EmbeddedServer): EmbeddedServer {
  cleanups.push(() => server.stop());
  return server;
}

/**
 * ensureEmbeddedServer for `core` with its data dir `dataDir` and its own client key; the server
 * it starts, if any, is stopped after the test.
 */
async function ensureTracked(
  core: ConsoleCore,
  dataDir: string,
  defaultPort?: number,
): ReturnType<typeof ensureEmbeddedServer> {
  const ensured = await ensureEmbeddedServer(core.registry, {
    dataDir,
    clientPublicKey: core.clientKey.info.publicKey,
    defaultPort,
  });
  if (ensured !== null) track(ensured.server);
  return ensured;
}

/** Resolves once `core` reports profile `id` online. */
const online = (core: ConsoleCore, id: string): Promise<true> =>
  waitUntil(() => (core.registry.status(id).state === 'online' ? true : undefined), {
    what: 'the embedded server to be online',
    timeoutMs: 15_000,
  });

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('embedded agent server', () => {
  it('runs from source as node --import tsx server/cli.ts', () => {
    const cmd = embeddedServerCommand();
    expect(cmd.command).toBe(process.execPath);
    expect(cmd.args.slice(0, 2)).toEqual(['--import', 'tsx']);
    expect(cmd.args[2]).toMatch(/server[/\\]cli\.ts$/);
    expect(() => embeddedServerCommand({ bundledScript: '/nonexistent/cli.cjs' })).toThrow('missing');
  });

  it('starts on the preferred ports with its state dir, and stop() ends it and frees them', async () => {
    const dir = await tempDir();
    const server = track(
      await startEmbeddedServer({ dataDir: dir.path, clientPublicKey: CLIENT, preferredPort: 32300 }),
    );
    expect(server.endpoint).toBe('tcp://127.0.0.1:32300');
    expect(server.pubEndpoint).toBe('tcp://127.0.0.1:32301');
    expect(server.serverId.length).toBeGreaterThan(0);
    expect(existsSync(join(dir.path, 'embedded-server'))).toBe(true);
    expect(await isPortFree(32300)).toBe(false);
    expect(alive(server.pid)).toBe(true);
    await server.stop();
    expect(alive(server.pid)).toBe(false);
    await waitUntil(async () => ((await isPortFree(32300)) && (await isPortFree(32301)) ? true : undefined), {
      what: 'the ports to be released',
    });
  });

  it('moves to the next free pair when its port is taken', async () => {
    const dir = await tempDir();
    const held = await occupyPort(32310);
    cleanups.push(() => held.release());
    const server = track(
      await startEmbeddedServer({ dataDir: dir.path, clientPublicKey: CLIENT, preferredPort: 32310 }),
    );
    expect(server.endpoint).toBe('tcp://127.0.0.1:32311');
  });

  it('adds the "Local agent server" profile on first run and moves it when its port is taken later', async () => {
    const dir = await tempDir();
    const core = openConsoleCore({ dataDir: dir.path });
    const first = await ensureTracked(core, dir.path, 32320);
    expect(first).not.toBeNull();
    if (first === null) return;
    expect(first.created).toBe(true);
    expect(first.profile).toMatchObject({
      name: EMBEDDED_PROFILE_NAME,
      embedded: true,
      endpoint: 'tcp://127.0.0.1:32320',
    });
    await online(core, first.profile.id);
    await core.dispose(0);
    await first.server.stop();

    // Next start: its old port is taken by another program (here another agent server).
    const other = await tempDir();
    const squatter = track(
      await startEmbeddedServer({ dataDir: other.path, clientPublicKey: CLIENT, preferredPort: 32320 }),
    );
    expect(squatter.endpoint).toBe('tcp://127.0.0.1:32320');
    const core2 = openConsoleCore({ dataDir: dir.path });
    cleanups.push(() => core2.dispose(0));
    const second = await ensureTracked(core2, dir.path, 32320);
    expect(second).not.toBeNull();
    if (second === null) return;
    expect(second.created).toBe(false);
    expect(second.profile.id).toBe(first.profile.id);
    expect(second.profile.endpoint).toBe('tcp://127.0.0.1:32322');
    expect(core2.registry.list()).toHaveLength(1);
  });

  it('starts nothing when only other servers are configured', async () => {
    const dir = await tempDir();
    const core = openConsoleCore({ dataDir: dir.path });
    cleanups.push(() => core.dispose(0));
    core.registry.add({ name: 'remote', endpoint: 'tcp://127.0.0.1:32339', security: { mode: 'plain' } });
    expect(await ensureTracked(core, dir.path, 32330)).toBeNull();
    expect(await isPortFree(32330)).toBe(true);
  });
});

describe('embedded agent server security', () => {
  it("pins the server's key in its profile and admits only the console's key, on both sockets", async () => {
    const dir = await tempDir();
    const core = openConsoleCore({ dataDir: dir.path });
    cleanups.push(() => core.dispose(0));
    const embedded = await ensureTracked(core, dir.path, 32340);
    if (embedded === null) throw new Error('no embedded server');
    expect(embedded.profile.security).toEqual({ mode: 'curve', serverKey: embedded.server.publicKey });
    const stateDir = join(dir.path, 'embedded-server');
    if (process.platform !== 'win32') {
      expect(statSync(stateDir).mode & 0o777).toBe(0o700);
      expect(statSync(join(stateDir, 'server.key')).mode & 0o777).toBe(0o600);
    }
    await online(core, embedded.profile.id);
    expect(core.registry.status(embedded.profile.id).handshakeProblem).toBeNull();
    // The console also gets the event stream (the PUB socket is CURVE too).
    await waitUntil(() => core.registry.status(embedded.profile.id).pubEndpoint ?? undefined, {
      what: 'the console to subscribe to events',
    });

    const stranger = generateCurveKeyPair();
    const security = embedded.profile.security;
    const asStranger = await testConnection({
      endpoint: embedded.server.endpoint,
      security,
      clientKeyPair: stranger,
    });
    expect(asStranger.outcome).toBe('key_not_allowed');
    const asPlain = await testConnection({
      endpoint: embedded.server.endpoint,
      security: { mode: 'plain' },
      clientKeyPair: stranger,
    });
    expect(asPlain.outcome).toBe('server_is_encrypted');
    const asConsole = await testConnection({
      endpoint: embedded.server.endpoint,
      security,
      clientKeyPair: core.clientKey.keyPair,
    });
    expect(asConsole).toMatchObject({
      outcome: 'ok',
      serverSecurity: 'curve',
      remoteServerId: embedded.server.serverId,
    });

    // Nobody else reads its events either.
    if (security.mode !== 'curve') throw new Error('pinned');
    const events = new EventSubscriber({ curve: { serverKey: security.serverKey, keyPair: stranger } });
    cleanups.push(async () => {
      events.close();
      await Promise.resolve();
    });
    events.connect(embedded.server.pubEndpoint);
    await waitUntil(() => events.handshakeProblem ?? undefined, {
      what: 'the PUB socket to refuse the stranger',
    });
    expect(events.handshakeProblem).toBe('key_not_allowed');
  });

  it('turns an embedded profile saved plain by an older version into a pinned one, same id and endpoint', async () => {
    const dir = await tempDir();
    const id = '6b1f2a3c-4d5e-4f60-8a7b-9c0d1e2f3a4b';
    writeFileSync(
      join(dir.path, 'servers.json'),
      JSON.stringify({
        version: 1,
        servers: [
          {
            id,
            embedded: true,
            name: EMBEDDED_PROFILE_NAME,
            endpoint: 'tcp://127.0.0.1:32344',
            heartbeatIntervalMs: null,
          },
        ],
      }),
    );
    const core = openConsoleCore({ dataDir: dir.path });
    cleanups.push(() => core.dispose(0));
    expect(core.registry.list()[0]?.security).toEqual({ mode: 'plain' });
    const embedded = await ensureTracked(core, dir.path);
    if (embedded === null) throw new Error('no embedded server');
    expect(embedded.created).toBe(false);
    expect(embedded.profile).toMatchObject({
      id,
      endpoint: 'tcp://127.0.0.1:32344',
      security: { mode: 'curve', serverKey: embedded.server.publicKey },
    });
    await online(core, id);
    const saved = JSON.parse(readFileSync(join(dir.path, 'servers.json'), 'utf8')) as {
      version: number;
      servers: { security: unknown }[];
    };
    expect(saved.version).toBe(2);
    expect(saved.servers[0]?.security).toEqual({ mode: 'curve', serverKey: embedded.server.publicKey });

    // Next start: same state dir, same key: the profile is left as it is.
    await embedded.server.stop();
    const again = await ensureTracked(core, dir.path);
    if (again === null) throw new Error('no embedded server');
    expect(again.server.publicKey).toBe(embedded.server.publicKey);
    expect(again.profile).toBe(core.registry.list()[0]);
  });
});
