import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { contentSecurityPolicy, type AppPage } from '../../../../main/electron/appPage';
import { registerAppScheme, resolveAppPath, serveAppProtocol } from '../../../../main/electron/appProtocol';
import { electron, resetElectron } from './electronStandIn';
import { contentTypeOf } from '../../../../shared/node/contentType';

vi.mock('electron', async () => (await import('./electronStandIn')).electron);

/**
 * A renderer folder next to a secret the protocol must never serve:
 *   <work>/secret.txt, <work>/renderer/{index.html, assets/…, link-to-secret → ../secret.txt}
 */
const work = mkdtempSync(join(tmpdir(), 'descartes-app-protocol-'));
const root = join(work, 'renderer');
const SECRET = 'the secret outside the renderer folder';
const INDEX = '<!doctype html><title>console</title><script type="module" src="./assets/app.js"></script>';
mkdirSync(join(root, 'assets'), { recursive: true });
writeFileSync(join(work, 'secret.txt'), SECRET);
writeFileSync(join(root, 'index.html'), INDEX);
writeFileSync(join(root, 'assets', 'app.js'), 'console.log(1);');
writeFileSync(join(root, 'assets', 'app.css'), 'body{}');
writeFileSync(join(root, 'assets', 'font.woff2'), 'w2');
writeFileSync(join(root, 'assets', 'logo.SVG'), '<svg/>');
writeFileSync(join(root, 'assets', 'blob.bin'), 'x');
symlinkSync(join(work, 'secret.txt'), join(root, 'link-to-secret.txt'));

const PAGE: Extract<AppPage, { kind: 'app' }> = { kind: 'app', rendererDir: root };
const CSP = contentSecurityPolicy(PAGE);

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

async function get(url: string, init?: RequestInit): Promise<{ res: Response; body: string }> {
  const res = await electron.protocol.request(url, init);
  return { res, body: await res.text() };
}

describe('app:// protocol', () => {
  beforeEach(() => {
    resetElectron();
  });

  it('registers app: as a standard, secure, fetch-capable scheme, and only before ready', async () => {
    registerAppScheme(electron.protocol);
    expect(electron.protocol.privileged).toEqual([
      { scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true } },
    ]);
    await electron.app.whenReady();
    expect(() => {
      registerAppScheme(electron.protocol);
    }).toThrow(/before app is ready/);
  });

  describe('serving the renderer folder', () => {
    beforeEach(async () => {
      await electron.app.whenReady();
      serveAppProtocol(electron.protocol, PAGE);
    });

    it.each(['app://console/', 'app://console', 'app://console/index.html', 'app://console/#/queue'])(
      '%s is index.html as text/html with the CSP header',
      async (url) => {
        const { res, body } = await get(url);
        expect(res.status).toBe(200);
        expect(body).toBe(INDEX);
        expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
        expect(res.headers.get('content-security-policy')).toBe(CSP);
        expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      },
    );

    it.each([
      ['assets/app.js', 'text/javascript; charset=utf-8', 'console.log(1);'],
      ['assets/app.css', 'text/css; charset=utf-8', 'body{}'],
      ['assets/font.woff2', 'font/woff2', 'w2'],
      ['assets/logo.SVG', 'image/svg+xml', '<svg/>'],
      ['assets/blob.bin', 'application/octet-stream', 'x'],
      ['assets/app.js?v=2', 'text/javascript; charset=utf-8', 'console.log(1);'],
      ['assets/%61pp.js', 'text/javascript; charset=utf-8', 'console.log(1);'],
    ])('%s is served as %s', async (path, type, content) => {
      const { res, body } = await get(`app://console/${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(type);
      expect(res.headers.get('content-security-policy')).toBe(CSP);
      expect(body).toBe(content);
    });

    // Nothing there to serve: 404.
    const missing: [string, string][] = [
      ['a missing file', 'app://console/nope.js'],
      ['a folder', 'app://console/assets'],
      ['a folder without index.html', 'app://console/assets/'],
      ['a symbolic link that leads out of the folder', 'app://console/link-to-secret.txt'],
      // The URL parser folds these to /secret.txt: inside the folder, where there is no such file.
      ['..', 'app://console/../secret.txt'],
      ['%2e%2e', 'app://console/%2e%2e/secret.txt'],
      ['.%2E', 'app://console/assets/.%2E/../secret.txt'],
      ['another host', 'app://evil/index.html'],
      ['a port', 'app://console:8080/index.html'],
    ];
    // A path that tries to leave the folder: refused with 403.
    const refused: [string, string][] = [
      ['an encoded slash climbing out', 'app://console/..%2fsecret.txt'],
      ['an encoded slash and encoded dots', 'app://console/%2e%2e%2fsecret.txt'],
      ['a folder, then an encoded climb', 'app://console/assets%2f..%2f..%2fsecret.txt'],
      ['an encoded backslash', 'app://console/..%5csecret.txt'],
      ['an encoded absolute path', `app://console/${encodeURIComponent(join(work, 'secret.txt'))}`],
      ['an empty segment (absolute path)', `app://console/${join(work, 'secret.txt')}`],
      ['a drive letter', 'app://console/C:%5cWindows%5cwin.ini'],
      ['an alternate data stream', 'app://console/index.html::$DATA'],
      ['a NUL byte', 'app://console/index.html%00.js'],
      ['an encoded dot-dot alone', 'app://console/assets/%2e%2e%2f'],
    ];
    it.each([
      ...missing.map(([label, url]) => [label, url, 404] as const),
      ...refused.map(([label, url]) => [label, url, 403] as const),
    ])('%s is %i with the CSP header', async (_label, url, status) => {
      const { res, body } = await get(url);
      expect(res.status).toBe(status);
      expect(body).not.toContain(SECRET);
      expect(res.headers.get('content-security-policy')).toBe(CSP);
    });

    it('answers malformed percent-encoding with 400', async () => {
      expect((await get('app://console/%E0%A4%A.js')).res.status).toBe(400);
    });

    it('allows GET and HEAD only; HEAD has the headers and no body', async () => {
      const head = await get('app://console/assets/app.js', { method: 'HEAD' });
      expect(head.res.status).toBe(200);
      expect(head.res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
      expect(head.body).toBe('');
      const post = await get('app://console/index.html', { method: 'POST', body: 'x' });
      expect(post.res.status).toBe(405);
      expect(post.res.headers.get('content-security-policy')).toBe(CSP);
    });

    it('is handled once per session', () => {
      expect(() => {
        serveAppProtocol(electron.protocol, PAGE);
      }).toThrow(/Failed to register protocol/);
    });
  });
});

describe('resolveAppPath', () => {
  it('maps the app origin to files inside the folder', () => {
    expect(resolveAppPath(root, 'app://console/')).toEqual({ ok: true, file: join(root, 'index.html') });
    expect(resolveAppPath(root, 'app://console/assets/')).toEqual({
      ok: true,
      file: join(root, 'assets', 'index.html'),
    });
    expect(resolveAppPath(root, 'app://console/a%20b/c.js')).toEqual({
      ok: true,
      file: join(root, 'a b', 'c.js'),
    });
  });

  it('refuses what is not a URL of the app origin', () => {
    expect(resolveAppPath(root, 'not a url')).toEqual({ ok: false, status: 400 });
    expect(resolveAppPath(root, 'file:///etc/passwd')).toEqual({ ok: false, status: 404 });
    expect(resolveAppPath(root, 'https://console/index.html')).toEqual({ ok: false, status: 404 });
    // A Request cannot carry user info at all; the resolver refuses it anyway.
    expect(resolveAppPath(root, 'app://me@console/index.html')).toEqual({ ok: false, status: 404 });
  });
});

describe('contentTypeOf (shared with the browser host)', () => {
  it.each([
    ['a/index.HTML', 'text/html; charset=utf-8'],
    ['x.mjs', 'text/javascript; charset=utf-8'],
    ['x.wasm', 'application/wasm'],
    ['x.png', 'image/png'],
    // Anything unknown is a download, never rendered.
    ['Makefile', 'application/octet-stream'],
  ])('serves %s as %s', (file, type) => {
    expect(contentTypeOf(file)).toBe(type);
  });
});
