import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  CHANNEL_NAMES,
  channelOf,
  type AppInfo,
  type IpcResult,
  type ServerView,
} from '../../../../shared/ipc';
import { OWNER_LOCK_FILE } from '../../../../main/core/queue/ownerLock';
import { ProfileStore } from '../../../../main/core/services/profileStore';
import { electron, errorBoxes, resetElectron, type FakeBrowserWindow } from './electronStandIn';

vi.mock('electron', async () => (await import('./electronStandIn')).electron);

const ENTRY_DIR = join(import.meta.dirname, '..', '..', '..', '..', 'main', 'electron');
/** Where the entry looks for the renderer: next to its own folder (dist/renderer when bundled). */
const APP_URL = pathToFileURL(join(ENTRY_DIR, '..', 'renderer', 'index.html')).href;

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

const windowOpened = (): Promise<FakeBrowserWindow> =>
  until(() => electron.BrowserWindow.instances[0], 'the window');

const call = <T>(win: FakeBrowserWindow, name: string, arg?: unknown) =>
  electron.ipcMain.invoke(channelOf(name as 'appInfo'), win.webContents.mainFrame, arg) as Promise<
    IpcResult<T>
  >;

describe('Electron entry', () => {
  let dir: string;

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
    expect(win.loaded).toEqual([{ kind: 'file', target: join(ENTRY_DIR, '..', 'renderer', 'index.html') }]);
    expect(electron.ipcMain.handlers.size).toBe(CHANNEL_NAMES.length);

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

  it('with nothing configured, starts the embedded agent server, connects it and stops it on quit', async () => {
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

    electron.app.beforeQuit();
    await until(() => electron.app.exitCodes[0], 'app.exit', 10_000);
    // Its port is free again once the server is stopped.
    const port = Number(embedded?.endpoint.split(':').at(-1));
    const { isPortFree } = await import('../../../../main/embeddedServer');
    expect(await isPortFree(port)).toBe(true);
  }, 40_000);
});
