import { lstat, readFile } from 'node:fs/promises';
import { isAbsolute, join, relative } from 'node:path';
import type { Protocol } from 'electron';
import { APP_HOST, APP_SCHEME, contentSecurityPolicy, type AppPage } from './appPage';
import { contentTypeOf } from '../../shared/node/contentType';

/**
 * Registers `app:` as a privileged scheme: standard (relative URLs, an origin, so `'self'` in
 * the CSP and the IPC origin check mean `app://console`), secure (like https: no mixed-content
 * downgrade) and allowed to `fetch`. Electron accepts this only once and only before the app
 * is ready, so the entry calls it while loading.
 */
export function registerAppScheme(protocol: Pick<Protocol, 'registerSchemesAsPrivileged'>): void {
  protocol.registerSchemesAsPrivileged([
    { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
  ]);
}

/**
 * Serves `page.rendererDir` under `app://console/` for the default session (the window's).
 * Every response, errors included, carries the app's Content-Security-Policy header
 * ({@link contentSecurityPolicy}, the one definition), so the page gets it from its first byte
 * and not only from a webRequest hook.
 */
export function serveAppProtocol(
  protocol: Pick<Protocol, 'handle'>,
  page: Extract<AppPage, { kind: 'app' }>,
): void {
  const csp = contentSecurityPolicy(page);
  protocol.handle(APP_SCHEME, (request) => appResponse(page.rendererDir, request, csp));
}

/** Where a request for the app's origin leads: a file to send, or the status to refuse it with. */
export type AppPathResolution =
  | { readonly ok: true; /** Absolute path inside the renderer folder. */ readonly file: string }
  | { readonly ok: false; readonly status: 400 | 403 | 404 };

/**
 * Maps an `app://console/…` URL to a file inside `rootDir`, refusing everything that could
 * leave it. The URL parser already folds `.`/`..` segments (`%2e` included); on top of that a
 * decoded segment may not be `.`/`..` nor hold `/`, `\\`, `:` or NUL (encoded slashes, Windows
 * separators, drive letters and alternate data streams), so no request names a path outside
 * the folder whatever the platform. `/` and any path ending in `/` mean its `index.html`.
 * - 400: not a URL, or a segment that is not valid percent-encoding
 * - 403: a segment that tries to climb out or smuggle a separator
 * - 404: another scheme, host, port or user info (not the app's origin)
 */
export function resolveAppPath(rootDir: string, url: string): AppPathResolution {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { ok: false, status: 400 };
  }
  if (
    parsed.protocol !== `${APP_SCHEME}:` ||
    parsed.host !== APP_HOST ||
    parsed.username !== '' ||
    parsed.password !== ''
  ) {
    return { ok: false, status: 404 };
  }
  const raw = parsed.pathname.split('/').slice(1);
  if (raw.length === 0 || raw.at(-1) === '') raw.splice(-1, 1, 'index.html');
  const segments: string[] = [];
  for (const encoded of raw) {
    let segment: string;
    try {
      segment = decodeURIComponent(encoded);
    } catch {
      return { ok: false, status: 400 };
    }
    if (segment === '' || segment === '.' || segment === '..' || /[/\\:\0]/.test(segment)) {
      return { ok: false, status: 403 };
    }
    segments.push(segment);
  }
  const file = join(rootDir, ...segments);
  const inside = relative(rootDir, file);
  // Belt and braces: the checks above already make this impossible.
  if (inside === '' || inside.startsWith('..') || isAbsolute(inside)) return { ok: false, status: 403 };
  return { ok: true, file };
}

const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  500: 'Internal Server Error',
};

/**
 * Answers one request for the app's origin from `rootDir`: GET and HEAD only, regular files only
 * (no directories, no symbolic links that could point elsewhere), `nosniff` so a file is never
 * run as another type than its extension says, and the CSP on every response.
 */
export async function appResponse(rootDir: string, request: Request, csp: string): Promise<Response> {
  const headers = { 'Content-Security-Policy': csp, 'X-Content-Type-Options': 'nosniff' };
  const refuse = (status: number): Response =>
    new Response(request.method === 'HEAD' ? null : `${status} ${STATUS_TEXT[status] ?? ''}\n`, {
      status,
      headers: { ...headers, 'Content-Type': 'text/plain; charset=utf-8' },
    });
  if (request.method !== 'GET' && request.method !== 'HEAD') return refuse(405);
  const target = resolveAppPath(rootDir, request.url);
  if (!target.ok) return refuse(target.status);
  let body: Buffer;
  try {
    // lstat: a symbolic link is not followed (it could lead out of the folder).
    if (!(await lstat(target.file)).isFile()) return refuse(404);
    body = await readFile(target.file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return refuse(code === 'ENOENT' || code === 'ENOTDIR' ? 404 : 500);
  }
  return new Response(request.method === 'HEAD' ? null : new Uint8Array(body), {
    status: 200,
    headers: {
      ...headers,
      'Content-Type': contentTypeOf(target.file),
      // The files change only with the app; revalidating costs nothing from disk.
      'Cache-Control': 'no-cache',
    },
  });
}
