import { beforeEach, describe, expect, it, vi } from 'vitest';
import {
  appUrlOf,
  contentSecurityPolicy,
  devPageOf,
  isAppUrl,
  isSafeExternalUrl,
  type AppPage,
} from '../../../../main/electron/appPage';
import { parseCsp } from '../../../helpers/csp';
import { createMainWindow } from '../../../../main/electron/window';
import type { FakeBrowserWindow } from './electronStandIn';
import { electron, FakeEvent, resetElectron, shellCalls } from './electronStandIn';

vi.mock('electron', async () => (await import('./electronStandIn')).electron);

const PAGE: AppPage = { kind: 'app', rendererDir: '/app/dist/renderer' };
const APP_URL = 'app://console/';

function open(page: AppPage = PAGE): FakeBrowserWindow {
  createMainWindow({ preloadPath: '/app/dist/electron/preload.cjs', page });
  const win = electron.BrowserWindow.instances.at(-1);
  if (win === undefined) throw new Error('no window was created');
  return win;
}

describe('window factory', () => {
  beforeEach(() => {
    resetElectron();
  });

  it('uses exactly the secure web preferences', () => {
    const win = open();
    expect(win.options.webPreferences).toStrictEqual({
      preload: '/app/dist/electron/preload.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
      navigateOnDragDrop: false,
    });
    expect(win.options.show).toBe(false);
  });

  it('loads the app page and shows the window once it is ready', () => {
    const win = open();
    // Never file://: the renderer comes from the app's own privileged scheme.
    expect(win.loaded).toEqual([{ kind: 'url', target: 'app://console/' }]);
    expect(win.shown).toBe(0);
    win.emit('ready-to-show');
    expect(win.shown).toBe(1);
  });

  it('sets one strict CSP header on responses, replacing any the server sent', () => {
    const win = open();
    const listener = win.webContents.session.headersListener;
    if (listener === null) throw new Error('no onHeadersReceived listener');
    let headers: Record<string, string | string[]> | undefined;
    listener(
      { url: APP_URL, responseHeaders: { 'content-security-policy': ['default-src *'], 'X-Other': ['1'] } },
      (response) => {
        headers = response.responseHeaders;
      },
    );
    expect(headers?.['X-Other']).toEqual(['1']);
    const csps = Object.entries(headers ?? {}).filter(([k]) => k.toLowerCase() === 'content-security-policy');
    expect(csps).toHaveLength(1);
    const csp = String((csps[0]?.[1] as string[])[0]);
    expect(csp).toBe(contentSecurityPolicy(PAGE));
    const directives = parseCsp(csp);
    expect(directives.get('default-src')).toEqual(["'none'"]);
    expect(directives.get('script-src')).toEqual(["'self'"]);
    expect(directives.get('object-src')).toEqual(["'none'"]);
    expect(directives.get('frame-ancestors')).toEqual(["'none'"]);
    expect(directives.get('base-uri')).toEqual(["'none'"]);
    expect(directives.get('style-src')).toEqual(["'self'"]);
    // Only style attributes may be inline; never scripts, eval, or other origins.
    expect(directives.get('style-src-attr')).toEqual(["'unsafe-inline'"]);
    expect(csp.replace("style-src-attr 'unsafe-inline'", '')).not.toMatch(
      /unsafe-inline|unsafe-eval|\*|http:|https:|ws:/,
    );
  });

  it('lets the dev server page have inline styles and its HMR socket, nothing more', () => {
    const csp = parseCsp(contentSecurityPolicy({ kind: 'dev', url: 'http://127.0.0.1:5173/' }));
    expect(csp.get('script-src')).toEqual(["'self'"]);
    expect(csp.get('style-src')).toEqual(["'self'", "'unsafe-inline'"]);
    expect(csp.get('connect-src')).toEqual(["'self'", 'ws://127.0.0.1:5173']);
  });

  it.each(['will-navigate', 'will-redirect'])(
    '%s: stays on the app, sends http(s) links to the OS browser',
    (name) => {
      const win = open();
      for (const url of [`${APP_URL}#/queue`, 'app://console/index.html?x=1']) {
        const inApp = new FakeEvent(url);
        win.webContents.emit(name, inApp);
        expect(inApp.defaultPrevented).toBe(false);
      }
      // Another host of the same scheme is another origin.
      const otherHost = new FakeEvent('app://evil/');
      win.webContents.emit(name, otherHost);
      expect(otherHost.defaultPrevented).toBe(true);
      const external = new FakeEvent('https://docs.example.org/guide');
      win.webContents.emit(name, external);
      expect(external.defaultPrevented).toBe(true);
      for (const url of ['file:///etc/passwd', 'file:///app/dist/renderer/index.html']) {
        const local = new FakeEvent(url);
        win.webContents.emit(name, local);
        expect(local.defaultPrevented).toBe(true);
      }
      expect(shellCalls).toEqual(['https://docs.example.org/guide']);
    },
  );

  it('denies every new window and opens only validated http(s) URLs externally', () => {
    const win = open();
    const handler = win.webContents.windowOpenHandler;
    if (handler === null) throw new Error('no window open handler');
    for (const url of [
      'https://example.org/a',
      'javascript:alert(1)',
      'file:///etc/passwd',
      'http://u:p@example.org/',
      APP_URL,
    ]) {
      expect(handler({ url })).toEqual({ action: 'deny' });
    }
    expect(shellCalls).toEqual(['https://example.org/a']);
  });

  it('refuses webviews', () => {
    const win = open();
    const event = new FakeEvent();
    win.webContents.emit('will-attach-webview', event, {}, {});
    expect(event.defaultPrevented).toBe(true);
  });

  it('grants notifications and denies every other permission', () => {
    const win = open();
    const { permissionRequestHandler: request, permissionCheckHandler: check } = win.webContents.session;
    if (request === null || check === null) throw new Error('permission handlers missing');
    const answers: Record<string, boolean> = {};
    for (const p of [
      'notifications',
      'media',
      'geolocation',
      'openExternal',
      'clipboard-read',
      'fullscreen',
    ]) {
      request(win.webContents, p, (granted) => {
        answers[p] = granted;
      });
      expect(check(win.webContents, p)).toBe(p === 'notifications');
    }
    expect(answers).toEqual({
      notifications: true,
      media: false,
      geolocation: false,
      openExternal: false,
      'clipboard-read': false,
      fullscreen: false,
    });
  });
});

describe('app page rules', () => {
  it('matches exactly the app://console origin, whatever the path, query or hash', () => {
    expect(appUrlOf(PAGE)).toBe(APP_URL);
    for (const url of [
      APP_URL,
      'app://console',
      `${APP_URL}#/agents/1`,
      'app://console/index.html?x=1',
      'app://console/assets/index.js',
    ]) {
      expect(isAppUrl(url, PAGE)).toBe(true);
    }
    for (const url of [
      'app://evil/',
      'app://console.evil/',
      'app://console:8080/',
      'app://Console/', // Chromium lowercases a standard scheme's host; anything else is not its URL
      'app://user:pw@console/',
      'apps://console/',
      'http://console/',
      'file:///app/dist/renderer/index.html',
      'not a url',
    ]) {
      expect(isAppUrl(url, PAGE)).toBe(false);
    }
    const dev = devPageOf('http://127.0.0.1:5173');
    expect(isAppUrl('http://127.0.0.1:5173/src/main.ts', dev)).toBe(true);
    expect(isAppUrl('http://127.0.0.1:5174/', dev)).toBe(false);
  });

  it('accepts a dev server on loopback only', () => {
    expect(() => devPageOf('https://evil.example:5173/')).toThrow(
      /DESCARTES_RENDERER_URL must be http:\/\/127\.0\.0\.1/,
    );
    expect(() => devPageOf('http://192.168.1.2:5173/')).toThrow(/127\.0\.0\.1/);
    expect(() => devPageOf('::')).toThrow(/not a URL/);
  });

  it.each([
    ['https://example.org/x?y=1', true],
    ['http://example.org', true],
    ['javascript:alert(1)', false],
    ['file:///etc/passwd', false],
    ['vscode://open', false],
    ['https://user:pw@example.org/', false],
    ['https://example.org/\nnext', false],
    [`https://example.org/${'a'.repeat(2100)}`, false],
  ])('external URL %s is safe: %s', (url, safe) => {
    expect(isSafeExternalUrl(url)).toBe(safe);
  });
});
