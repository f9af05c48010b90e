import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openConsoleCore } from '../../../main/core/services/consoleCore';
import { EMBEDDED_PROFILE_NAME, ensureEmbeddedServer } from '../../../main/embeddedDefault';
import {
  embeddedServerCommand,
  startEmbeddedServer,
  type EmbeddedServer,
} from '../../../main/embeddedServer';
import { isPortFree, occupyPort } from '../../helpers/ports';
import { createTempDir, type TempDir } from '../../helpers/tempDir';
import { waitUntil } from '../../helpers/wait';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function tempDir(): Promise<TempDir> {
  const dir = await createTempDir('descartes-embedded-');
  cleanups.push(() => dir.remove());
  return dir;
}

function track(server: EmbeddedServer): EmbeddedServer {
  cleanups.push(() => server.stop());
  return server;
}

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
    const server = track(await startEmbeddedServer({ dataDir: dir.path, preferredPort: 32300 }));
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
    const server = track(await startEmbeddedServer({ dataDir: dir.path, preferredPort: 32310 }));
    expect(server.endpoint).toBe('tcp://127.0.0.1:32311');
  });

  it('adds the "Local agent server" profile on first run and moves it when its port is taken later', async () => {
    const dir = await tempDir();
    const core = openConsoleCore({ dataDir: dir.path });
    const first = await ensureEmbeddedServer(core.registry, { dataDir: dir.path, defaultPort: 32320 });
    expect(first).not.toBeNull();
    if (first === null) return;
    track(first.server);
    expect(first.created).toBe(true);
    expect(first.profile).toMatchObject({
      name: EMBEDDED_PROFILE_NAME,
      embedded: true,
      endpoint: 'tcp://127.0.0.1:32320',
    });
    await waitUntil(() => (core.registry.status(first.profile.id).state === 'online' ? true : undefined), {
      what: 'the embedded server to be online',
      timeoutMs: 15_000,
    });
    await core.dispose(0);
    await first.server.stop();

    // Next start: its old port is taken by another program (here another agent server).
    const other = await tempDir();
    const squatter = track(await startEmbeddedServer({ dataDir: other.path, preferredPort: 32320 }));
    expect(squatter.endpoint).toBe('tcp://127.0.0.1:32320');
    const core2 = openConsoleCore({ dataDir: dir.path });
    cleanups.push(() => core2.dispose(0));
    const second = await ensureEmbeddedServer(core2.registry, { dataDir: dir.path, defaultPort: 32320 });
    expect(second).not.toBeNull();
    if (second === null) return;
    track(second.server);
    expect(second.created).toBe(false);
    expect(second.profile.id).toBe(first.profile.id);
    expect(second.profile.endpoint).toBe('tcp://127.0.0.1:32322');
    expect(core2.registry.list()).toHaveLength(1);
  });

  it('starts nothing when only other servers are configured', async () => {
    const dir = await tempDir();
    const core = openConsoleCore({ dataDir: dir.path });
    cleanups.push(() => core.dispose(0));
    core.registry.add({ name: 'remote', endpoint: 'tcp://127.0.0.1:32339' });
    expect(await ensureEmbeddedServer(core.registry, { dataDir: dir.path, defaultPort: 32330 })).toBeNull();
    expect(await isPortFree(32330)).toBe(true);
  });
});
