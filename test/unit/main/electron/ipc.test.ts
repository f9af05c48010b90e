import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserWindow } from 'electron';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CHANNEL_NAMES, channelOf, EVENT_CHANNEL, type IpcResult } from '../../../../shared/ipc';
import { createConsoleHandlers, type ConsoleHandlers } from '../../../../main/core/ipc';
import { openConsoleCore, type ConsoleCore } from '../../../../main/core/services/consoleCore';
import type { AppPage } from '../../../../main/electron/appPage';
import { registerIpc, type IpcRegistration } from '../../../../main/electron/ipc';
import type { FakeBrowserWindow } from './electronStandIn';
import { electron, FakeWebFrame, resetElectron } from './electronStandIn';

vi.mock('electron', async () => (await import('./electronStandIn')).electron);

const PAGE: AppPage = { kind: 'app', rendererDir: '/app/dist/renderer' };
const APP_URL = 'app://console/';

describe('IPC registrar', () => {
  let dir: string;
  let core: ConsoleCore;
  let handlers: ConsoleHandlers;
  let win: FakeBrowserWindow;
  let registration: IpcRegistration;

  const call = (name: string, arg?: unknown, frame: FakeWebFrame | null = win.webContents.mainFrame) =>
    electron.ipcMain.invoke(channelOf(name as 'appInfo'), frame, arg) as Promise<IpcResult<unknown>>;

  beforeEach(() => {
    resetElectron();
    dir = mkdtempSync(join(tmpdir(), 'descartes-ipc-'));
    core = openConsoleCore({ dataDir: dir });
    handlers = createConsoleHandlers(core, {
      info: { version: '9.9.9', host: 'electron', embeddedServer: null },
    });
    electron.BrowserWindow.nextUrl = APP_URL;
    win = new electron.BrowserWindow({});
    registration = registerIpc({ window: win as unknown as BrowserWindow, page: PAGE, handlers });
  });

  afterEach(async () => {
    registration.dispose();
    handlers.dispose();
    await core.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('registers exactly one handler per contract channel', () => {
    expect([...electron.ipcMain.handleCalls].sort()).toEqual(CHANNEL_NAMES.map(channelOf).sort());
  });

  it('serves calls from the window top frame showing the app origin (any path, query or hash)', async () => {
    const info = await call('appInfo');
    expect(info).toMatchObject({ ok: true, value: { host: 'electron', version: '9.9.9', dataDir: dir } });
    win.webContents.mainFrame.url = 'app://console/index.html?from=test';
    expect(await call('appInfo')).toMatchObject({ ok: true });
    win.webContents.mainFrame.url = `${APP_URL}#/agents`;
    const added = await call('addServer', {
      name: 'Lab',
      endpoint: 'tcp://127.0.0.1:1',
      security: { mode: 'plain' },
    });
    expect(added).toMatchObject({
      ok: true,
      value: { name: 'Lab', endpoint: 'tcp://127.0.0.1:1', security: { mode: 'plain' } },
    });
    const listed = await call('listServers');
    expect(listed.ok && (listed.value as unknown[]).length).toBe(1);
  });

  it('rejects bad input with invalid_input naming the field', async () => {
    const bad = await call('addServer', {
      name: 'Lab',
      endpoint: 'http://nope',
      security: { mode: 'plain' },
    });
    expect(bad).toMatchObject({ ok: false, error: { code: 'invalid_input' } });
    if (!bad.ok) expect(bad.error.message).toMatch(/endpoint/);
    const missing = await call('health', {});
    expect(missing).toMatchObject({ ok: false, error: { code: 'invalid_input' } });
    if (!missing.ok) expect(missing.error.message).toMatch(/serverId/);
    const extra = await call('appInfo', { sneaky: true });
    expect(extra).toMatchObject({ ok: false, error: { code: 'invalid_input' } });
  });

  it.each([
    ['a sub-frame of the window', () => new FakeWebFrame(APP_URL, 1, 99, win.webContents.mainFrame)],
    ['another window', () => new electron.BrowserWindow({}).webContents.mainFrame],
    ['a frame that is gone', () => null],
  ])('refuses %s with forbidden and runs nothing', async (_label, frame) => {
    const result = await call(
      'addServer',
      { name: 'Evil', endpoint: 'tcp://127.0.0.1:2', security: { mode: 'plain' } },
      frame(),
    );
    expect(result).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(core.registry.list()).toEqual([]);
  });

  it.each([
    ['a remote page', 'https://evil.example/index.html'],
    ['another local file', 'file:///tmp/evil.html'],
    ['the renderer as a file', 'file:///app/dist/renderer/index.html'],
    ['another host of the app scheme', 'app://evil/'],
    ['the app origin with user info', 'app://user@console/'],
  ])('refuses the top frame when it shows %s', async (_label, url) => {
    win.webContents.mainFrame.url = url;
    const result = await call('addServer', {
      name: 'Evil',
      endpoint: 'tcp://127.0.0.1:2',
      security: { mode: 'plain' },
    });
    expect(result).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(core.registry.list()).toEqual([]);
  });

  it('pushes event batches to the window on EVENT_CHANNEL until it closes', () => {
    const batch = [{ name: 'resync' as const, payload: { serverId: 's', reason: 'test' } }];
    registration.client.push(batch);
    expect(win.webContents.sent).toEqual([{ channel: EVENT_CHANNEL, args: [batch] }]);
    win.close();
    registration.client.push(batch);
    expect(win.webContents.sent).toHaveLength(1);
  });

  it('removes its handlers and closes the client when the window closes', async () => {
    const closed = vi.fn();
    registration.client.onClose(closed);
    await call('appInfo');
    expect(handlers.clientCount()).toBe(1);
    win.close();
    expect(closed).toHaveBeenCalledTimes(1);
    expect(electron.ipcMain.handlers.size).toBe(0);
    expect(handlers.clientCount()).toBe(0);
    // A window created later can register again (Electron refuses a second handler per channel).
    const next = new electron.BrowserWindow({});
    const again = registerIpc({ window: next as unknown as BrowserWindow, page: PAGE, handlers });
    expect(electron.ipcMain.handlers.size).toBe(CHANNEL_NAMES.length);
    again.dispose();
  });
});
