import { pathToFileURL } from 'node:url';

/**
 * The one page the console window may show: the built renderer on disk, or (development
 * only) the Vite dev server on the loopback interface.
 */
export type AppPage =
  | { readonly kind: 'file'; /** Absolute path of `dist/renderer/index.html`. */ readonly indexHtml: string }
  | { readonly kind: 'dev'; /** e.g. `http://127.0.0.1:5173/`. */ readonly url: string };

/** The URL the window loads for `page`. */
export function appUrlOf(page: AppPage): string {
  switch (page.kind) {
    case 'file':
      return pathToFileURL(page.indexHtml).href;
    case 'dev':
      return new URL(page.url).href;
    default:
      return assertNever(page);
  }
}

/**
 * Whether `url` is the app's own page (the hash, which the renderer uses for its views, is
 * ignored; the query is not). Anything unparsable is not ours.
 */
export function isAppUrl(url: string, page: AppPage): boolean {
  const target = parse(url);
  if (target === null) return false;
  const own = new URL(appUrlOf(page));
  target.hash = '';
  own.hash = '';
  if (page.kind === 'dev') return target.origin === own.origin && target.protocol === own.protocol;
  return target.href === own.href;
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
 * The Content-Security-Policy of the app's pages. Scripts, styles, fonts and images come from
 * the app itself only (inline style attributes excepted); no plugins, frames, forms, or base-URL
 * tricks. The dev server also needs inline `<style>` tags (Vite injects them) and its HMR
 * WebSocket.
 */
export function contentSecurityPolicy(page: AppPage): string {
  const dev = page.kind === 'dev' ? new URL(page.url) : null;
  const directives = [
    "default-src 'none'",
    "script-src 'self'",
    dev === null ? "style-src 'self'" : "style-src 'self' 'unsafe-inline'",
    // Style attributes only (Vue's `:style` and its pre-stringified static markup); no <style> tags.
    "style-src-attr 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    dev === null ? "connect-src 'self'" : `connect-src 'self' ws://${dev.host}`,
    "object-src 'none'",
    "frame-src 'none'",
    "worker-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ];
  return directives.join('; ');
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
