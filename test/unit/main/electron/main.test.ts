import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  CHANNEL_NAMES,
  channelOf,
  type AppInfo,
  type IpcResult,
  type ServerView,
} from '../../../../shared/ipc';
import { OWNER_LOCK_FILE } from '../../../../main/core/queue/ownerLock';
import { ProfileStore } from '../../../../main/core/services/profileStore';
import { contentSecurityPolicy } from '../../../../main/electron/appPage';
import { EMBEDDED_PROFILE_NAME } from '../../../../main/embeddedDefault';
import { buildServer } from '../../../../scripts/build';
import { electron, errorBoxes, messageBoxes, resetElectron, type FakeBrowserWindow } from './electronStandIn';

vi.mock('electron', async () => (await import('./electronStandIn')).electron);

const ROOT = join(import.meta.dirname, '..', '..', '..', '..');
const ENTRY_DIR = join(ROOT, 'main', 'electron');
/** Run from source, the entry finds the build output where the bundled one does: `<root>/dist`. */
const RENDERER_DIR = join(ROOT, 'dist', 'renderer');
const SERVER_BUNDLE = join(ROOT, 'dist', 'server', 'cli.cjs');
const APP_URL = 'app://console/';

async function until<T>(
  probe: () => T | undefined,
  what: string,
  timeoutMs = 20_000,
  errorsExpected = false,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (!errorsExpected && errorBoxes.length > 0)
      throw new Error(`${what}: the app showed ${JSON.stringify(errorBoxes)}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Runs the real entry module (main/electron/main.ts) against the stand-in. */
async function startEntry(): Promise<void> {
  vi.resetModules();
  await import('../../../../main/electron/main');
}

/**
 * The console's own embedded-server profile at `port`: the app starts its server there (when
 * free) instead of at 5555, keeping these tests in their port range. First-run creation of the
 * profile is ensureEmbeddedServer's, tested with it.
 */
function seedEmbeddedProfile(port: number): void {
  new ProfileStore(dir).add(
    { name: EMBEDDED_PROFILE_NAME, endpoint: `tcp://127.0.0.1:${port}`, security: { mode: 'plain' } },
    true,
  );
}

const windowOpened = (): Promise<FakeBrowserWindow> =>
  until(() => electron.BrowserWindow.instances[0], 'the window');

const call = <T>(win: FakeBrowserWindow, name: string, arg?: unknown) =>
  electron.ipcMain.invoke(channelOf(name as 'appInfo'), win.webContents.mainFrame, arg) as Promise<
    IpcResult<T>
  >;

/** The data dir of the current test. */
let dir = '';

describe('Electron entry', () => {
  // Under Electron the embedded server is the bundle, run by utilityProcess.fork (the stand-in runs it with Node).
  beforeAll(async () => {
    await buildServer(ROOT);
  }, 60_000);

  beforeEach(() => {
    resetElectron();
    electron.BrowserWindow.nextUrl = APP_URL;
    dir = mkdtempSync(join(tmpdir(), 'descartes-entry-'));
    vi.stubEnv('DESCARTES_DATA_DIR', dir);
    vi.stubEnv('DESCARTES_RENDERER_URL', '');
  });

  afterEach(async () => {
    // A test that failed half-way must not leave the core or an embedded server running.
    if (electron.app.exitCodes.length === 0 && electron.app.listenerCount('before-quit') > 0) {
      electron.app.beforeQuit();
      await until(() => electron.app.exitCodes[0], 'app.exit on cleanup', 10_000, true);
    }
    vi.unstubAllEnvs();
    rmSync(dir, { recursive: true, force: true });
  });

  it('quits without opening anything when another instance holds the lock', async () => {
    electron.app.lockGranted = false;
    await startEntry();
    await new Promise((r) => setTimeout(r, 50));
    expect(electron.app.quitCalls).toBe(1);
    expect(electron.app.whenReadyCalls).toBe(0);
    expect(electron.BrowserWindow.instances).toHaveLength(0);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('opens the core in the data dir, a secure window and the IPC, and flushes on quit', async () => {
    new ProfileStore(dir).add({ name: 'Lab', endpoint: 'tcp://127.0.0.1:1', security: { mode: 'plain' } });
    await startEntry();
    const win = await windowOpened();
    expect((win.options.webPreferences as { preload: string }).preload).toBe(join(ENTRY_DIR, 'preload.cjs'));
    expect(win.loaded).toEqual([{ kind: 'url', target: APP_URL }]);
    expect(electron.ipcMain.handlers.size).toBe(CHANNEL_NAMES.length);
    // A server was configured: no embedded one.
    expect(electron.utilityProcess.forks).toEqual([]);

    const info = await call<AppInfo>(win, 'appInfo');
    expect(info).toMatchObject({ ok: true, value: { host: 'electron', dataDir: dir, embeddedServer: null } });
    const servers = await call<ServerView[]>(win, 'listServers');
    expect(servers.ok && servers.value.map((s) => s.profile.name)).toEqual(['Lab']);

    // A second launch focuses this window.
    electron.app.emit('second-instance', {}, [], '/');
    expect(win.focused).toBe(1);

    expect(existsSync(join(dir, OWNER_LOCK_FILE))).toBe(true);
    const quit = electron.app.beforeQuit();
    expect(quit.defaultPrevented).toBe(true);
    await until(() => electron.app.exitCodes[0], 'app.exit');
    expect(electron.app.exitCodes).toEqual([0]);
    // The queue was closed and its owner lock released.
    expect(existsSync(join(dir, OWNER_LOCK_FILE))).toBe(false);
  });

  it('registers app: as privileged before ready and serves only the renderer folder over it', async () => {
    new ProfileStore(dir).add({ name: 'Lab', endpoint: 'tcp://127.0.0.1:1', security: { mode: 'plain' } });
    await startEntry();
    // The stand-in throws when a scheme is made privileged after ready: this ran while loading.
    expect(electron.protocol.privileged).toEqual([
      { scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true } },
    ]);
    await windowOpened();
    expect([...electron.protocol.handlers.keys()]).toEqual(['app']);
    const csp = contentSecurityPolicy({ kind: 'app', rendererDir: RENDERER_DIR });
    const index = join(RENDERER_DIR, 'index.html');
    const expected = existsSync(index) ? readFileSync(index, 'utf8') : null;
    const page = await electron.protocol.request(APP_URL);
    expect(page.status).toBe(expected === null ? 404 : 200);
    if (expected !== null) expect(await page.text()).toBe(expected);
    expect(page.headers.get('content-security-policy')).toBe(csp);
    // The repository around the renderer folder is out of reach.
    for (const url of ['app://console/../../package.json', 'app://console/..%2f..%2fpackage.json']) {
      const res = await electron.protocol.request(url);
      expect(res.status).toBeGreaterThanOrEqual(403);
      expect(await res.text()).not.toContain('descartes-console');
    }
  });

  it('reports a data dir it cannot own and exits with 1', async () => {
    // Another live process (pid 1 always exists) owns the queue.
    writeFileSync(join(dir, OWNER_LOCK_FILE), '1\n');
    await startEntry();
    await until(() => electron.app.exitCodes[0], 'app.exit', 5000, true);
    expect(electron.app.exitCodes).toEqual([1]);
    expect(errorBoxes[0]?.title).toBe('Descartes Console cannot start');
    expect(errorBoxes[0]?.content).toContain(dir);
    expect(electron.BrowserWindow.instances).toHaveLength(0);
  });

  it('starts the embedded agent server in a utility process, connects it and stops it on quit', async () => {
    seedEmbeddedProfile(24720);
    await startEntry();
    const win = await windowOpened();
    const info = await call<AppInfo>(win, 'appInfo');
    if (!info.ok) throw new Error(info.error.message);
    const embedded = info.value.embeddedServer;
    expect(embedded?.endpoint).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    const servers = await call<ServerView[]>(win, 'listServers');
    expect(servers.ok && servers.value.map((s) => [s.profile.id, s.profile.embedded])).toEqual([
      [embedded?.serverId, true],
    ]);
    // The registry connects to it: the server answers a health check.
    const health = await call<{ status: string }>(win, 'health', { serverId: embedded?.serverId });
    expect(health).toMatchObject({ ok: true });

    // It runs as the server bundle in a utility process, not as ELECTRON_RUN_AS_NODE (the fuse forbids that).
    const [fork, ...more] = electron.utilityProcess.forks;
    if (fork === undefined) throw new Error('no utility process was forked');
    expect(more).toEqual([]);
    expect(fork.modulePath).toBe(SERVER_BUNDLE);
    expect(fork.options).toMatchObject({ cwd: dir, stdio: 'pipe', serviceName: 'Descartes agent server' });
    expect(fork.options.env?.ELECTRON_RUN_AS_NODE).toBeUndefined();
    expect(fork.args).toEqual(
      expect.arrayContaining(['--bind', embedded?.endpoint, '--state-dir', join(dir, 'embedded-server')]),
    );
    expect(fork.pid).toBeGreaterThan(0);

    electron.app.beforeQuit();
    await until(() => electron.app.exitCodes[0], 'app.exit', 10_000);
    // Stopped on quit: the utility process has exited, and its port is free again.
    expect(fork.pid).toBeUndefined();
    const port = Number(embedded?.endpoint.split(':').at(-1));
    const { isPortFree } = await import('../../../../main/embeddedServer');
    expect(await isPortFree(port)).toBe(true);
    // Stopping it on quit is not a crash.
    expect(messageBoxes).toEqual([]);
  }, 40_000);

  it('says so when the embedded server dies on its own, shows it offline at once and restarts it', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      seedEmbeddedProfile(24730);
      await startEntry();
      const win = await windowOpened();
      const embeddedStatus = async (): Promise<ServerView['status']> => {
        const servers = await call<ServerView[]>(win, 'listServers');
        if (!servers.ok || servers.value[0] === undefined) throw new Error('no servers listed');
        return servers.value[0].status;
      };
      const untilStatus = async (test: (s: ServerView['status']) => boolean, what: string) => {
        const deadline = Date.now() + 20_000;
        for (;;) {
          const s = await embeddedStatus();
          if (test(s)) return s;
          if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(s)}`);
          await new Promise((r) => setTimeout(r, 20));
        }
      };
      const online = await untilStatus((s) => s.state === 'online', 'online');
      // While it runs there is nothing to restart: refused, saying why.
      const refused = await call<null>(win, 'restartEmbeddedServer', { serverId: online.serverId });
      expect(refused).toMatchObject({ ok: false, error: { code: 'conflict' } });
      expect(!refused.ok && refused.error.message).toMatch(/is running \(pid \d+\)/);
      const fork = await until(
        () =>
          electron.utilityProcess.forks[0]?.pid === undefined ? undefined : electron.utilityProcess.forks[0],
        'the utility process',
      );
      process.kill(fork.pid ?? 0, 'SIGKILL');
      const box = await until(() => messageBoxes[0], 'the crash report');
      expect(box).toMatchObject({ type: 'error', title: 'The local agent server stopped' });
      expect(box.message).toMatch(/exit code 9\b/);
      expect(
        logged.mock.calls.some(([m]) => String(m).startsWith('descartes: the local agent server stopped')),
      ).toBe(true);
      // The console itself keeps running, and the server shows offline with the reason: no
      // health check had to go unanswered (they are 5 s apart).
      expect(electron.app.exitCodes).toEqual([]);
      const lost = await untilStatus((s) => s.state === 'offline', 'offline');
      expect(lost.lastError).toBe('the embedded server exited (exit code 9)');

      const restarted = await call<null>(win, 'restartEmbeddedServer', { serverId: online.serverId });
      expect(restarted).toEqual({ ok: true, value: null });
      const [, again, ...more] = electron.utilityProcess.forks;
      expect(more).toEqual([]);
      // Same ports, state dir and allow list as the first start.
      expect(again?.args).toEqual(fork.args);
      await untilStatus((s) => s.state === 'online', 'online after the restart');
    } finally {
      logged.mockRestore();
    }
  }, 40_000);
});
