import { pageSecurityPolicy } from '../../shared/node/pageSecurityPolicy';

/** The scheme the built renderer is served under (`protocol.handle`), instead of `file://`. */
export const APP_SCHEME = 'app';
/** The one host of {@link APP_SCHEME}: the app's origin is `app://console`. */
export const APP_HOST = 'console';
/** The app's origin: the only one whose frames may navigate, and call the console API. */
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;

/**
 * The one page the console window may show: the built renderer, served from its folder under
 * `app://console/`, or (development only) the Vite dev server on the loopback interface.
 */
export type AppPage =
  | {
      readonly kind: 'app';
      /** Absolute path of the built renderer (`dist/renderer`, inside `app.asar` when packaged). */
      readonly rendererDir: string;
    }
  | { readonly kind: 'dev'; /** e.g. `http://127.0.0.1:5173/`. */ readonly url: string };

/** The URL the window loads for `page`. */
export function appUrlOf(page: AppPage): string {
  switch (page.kind) {
    case 'app':
      return `${APP_ORIGIN}/`;
    case 'dev':
      return new URL(page.url).href;
    default:
      return assertNever(page);
  }
}

/**
 * Whether `url` belongs to the app's page: the same origin (scheme, host and port) as
 * {@link appUrlOf}, without credentials. Path, query and hash are free: everything that origin
 * serves is the app's own code. THE one rule the navigation guards and the IPC sender check
 * share. Anything unparsable is not ours.
 */
export function isAppUrl(url: string, page: AppPage): boolean {
  const target = parse(url);
  if (target === null || target.username !== '' || target.password !== '') return false;
  return originOf(target) === originOf(new URL(appUrlOf(page)));
}

/**
 * `scheme://host[:port]`. Not `URL.origin`: WHATWG URL gives `"null"` for schemes it does not
 * know (like `app:`), which Chromium treats as standard once registered as privileged.
 */
function originOf(url: URL): string {
  return `${url.protocol}//${url.host}`;
}

/**
 * A dev-server URL accepted from the environment: http on the loopback interface only, so an
 * environment variable cannot point the privileged window at a remote site.
 * @throws Error naming the rule the URL breaks
 */
export function devPageOf(url: string): AppPage {
  const parsed = parse(url);
  if (parsed === null) throw new Error(`DESCARTES_RENDERER_URL is not a URL: "${url}"`);
  if (parsed.protocol !== 'http:' || !['127.0.0.1', 'localhost', '[::1]'].includes(parsed.hostname)) {
    throw new Error(`DESCARTES_RENDERER_URL must be http://127.0.0.1:<port>/ (or localhost), got "${url}"`);
  }
  return { kind: 'dev', url: parsed.href };
}

/**
 * The Content-Security-Policy of the app's pages: {@link pageSecurityPolicy}, plus what the Vite
 * dev server needs (inline `<style>` tags and its HMR WebSocket) when `page` is the dev server.
 */
export function contentSecurityPolicy(page: AppPage): string {
  if (page.kind !== 'dev') return pageSecurityPolicy();
  return pageSecurityPolicy({ inlineStyleTags: true, webSockets: [`ws://${new URL(page.url).host}`] });
}

/** Longest external URL handed to the OS browser. */
const MAX_EXTERNAL_URL = 2048;

/**
 * Whether `url` may be opened in the operating system's browser: http(s) only, a host, no
 * embedded credentials, no control characters, at most 2048 characters. Everything else
 * (file:, javascript:, custom schemes that launch programs) is refused.
 */
export function isSafeExternalUrl(url: string): boolean {
  // eslint-disable-next-line no-control-regex -- rejecting control characters is the point
  if (url.length > MAX_EXTERNAL_URL || /[\u0000-\u001f\u007f\s]/.test(url)) return false;
  const parsed = parse(url);
  if (parsed === null) return false;
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return false;
  return parsed.hostname !== '' && parsed.username === '' && parsed.password === '';
}

function parse(url: string): URL | null {
  try {
    return new URL(url);
  } catch {
    return null;
  }
}

function assertNever(value: never): never {
  throw new Error(`unexpected page ${JSON.stringify(value)}`);
}
